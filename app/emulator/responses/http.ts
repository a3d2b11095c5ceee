/**
 * `POST /v1/responses` (SSE when `stream: true`, JSON otherwise) and `POST /v1/responses/compact`,
 * so the same work can be compared over HTTP and over the WebSocket. HTTP has no connection
 * cache: `previous_response_id` only finds responses created with `store: true`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResponseCreateEvent, ResponseInputItem } from '../../protocol/responses';
import { estimateTokens } from '../brain';
import type { FaultQueue } from '../faults';
import { newId } from '../ids';
import { pause, type LatencyModel } from '../latency';
import { normaliseInput, rateLimitHeaders, validate, type StoredResponse } from './connection';
import { promptTokens, streamResponse, usage, type EventSink } from './engine';
import { refuseContext } from './reasoning';
import { contextTokens, encodeCompaction, toBrainMessages } from './items';

export interface HttpContext {
  latency: LatencyModel;
  faults: FaultQueue;
  stored: Map<string, StoredResponse>;
  maxBodyBytes: number;
  onRequest?: (event: ResponseCreateEvent) => void;
}

/**
 * The prefixes recent HTTP requests sent, per instructions-and-tools: a request's cached input is
 * its prompt plus the longest run of leading items it shares with one of them. Only the latency
 * model reads it; what the response says is the same either way.
 */
class PromptCache {
  static readonly remembered = 8;
  readonly #byPrompt = new Map<string, string[][]>();

  cachedTokens(create: ResponseCreateEvent, items: readonly ResponseInputItem[]): number {
    const key = JSON.stringify([create.instructions ?? null, create.tools ?? null]);
    const sent = items.map((item) => JSON.stringify(item));
    const earlier = this.#byPrompt.get(key);
    let shared = -1;
    for (const prefix of earlier ?? []) {
      let length = 0;
      while (length < prefix.length && length < sent.length && prefix[length] === sent[length]) length += 1;
      shared = Math.max(shared, length);
    }
    this.#byPrompt.set(key, [...(earlier ?? []).slice(-(PromptCache.remembered - 1)), sent]);
    return shared < 0 ? 0 : promptTokens(create) + contextTokens(items.slice(0, shared));
  }
}

const promptCaches = new WeakMap<HttpContext, PromptCache>();

function promptCacheOf(context: HttpContext): PromptCache {
  let cache = promptCaches.get(context);
  if (cache === undefined) {
    cache = new PromptCache();
    promptCaches.set(context, cache);
  }
  return cache;
}

type ErrorBody = { type: string; code: string | null; message: string; param: string | null };

export async function handleCreate(request: IncomingMessage, response: ServerResponse, context: HttpContext): Promise<void> {
  const body = await readJson(request, context.maxBodyBytes);
  if (!body.ok) return sendError(response, body.status, body.error);
  const create = body.value as unknown as ResponseCreateEvent;
  context.onRequest?.(create);
  const refusal = validateHttp(create);
  if (refusal !== null) return sendError(response, 400, refusal);

  const fault = context.faults.take('responses');
  if (fault?.kind === 'rate_limit') {
    await pause(context.latency.rttMs + context.latency.httpSetupMs);
    response.writeHead(429, { 'Content-Type': 'application/json', ...rateLimitHeaders(fault.retryAfterS) });
    response.end(JSON.stringify({ error: { type: 'requests', code: 'rate_limit_exceeded', message: `Rate limit reached for requests. Please try again in ${fault.retryAfterS}s.`, param: null } }));
    return;
  }
  const previousId = create.previous_response_id ?? null;
  let cached: readonly ResponseInputItem[] = [];
  if (previousId !== null) {
    const stored = context.stored.get(previousId);
    if (stored === undefined) {
      return sendError(response, 400, { type: 'invalid_request_error', code: 'previous_response_not_found', message: `Previous response with id '${previousId}' not found.`, param: 'previous_response_id' });
    }
    cached = stored.context;
  }
  const full = [...cached, ...normaliseInput(create.input)];
  const inputRefusal = refuseContext(cached, normaliseInput(create.input), create.store ?? true, context.stored);
  if (inputRefusal !== null) return sendError(response, inputRefusal.status, inputRefusal.error);
  // Over HTTP the server caches nothing per connection; prompt caching, when the latency model
  // has it, saves the prefix an earlier request sent. Without it every request pays in full.
  const cachedTokens = context.latency.httpPromptCaching === true ? promptCacheOf(context).cachedTokens(create, full) : 0;
  const engine = { create, context: full, previousId, cachedTokens, overHttp: true, latency: context.latency, fault };

  if (create.stream === true) {
    response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    let sequence = 0;
    let open = true;
    response.on('close', () => (open = false));
    const sink: EventSink = {
      emit: (event) => {
        const payload = { ...event, sequence_number: sequence++ };
        response.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(payload)}\n\n`);
      },
      raw: (text) => response.write(`data: ${text}\n\n`),
      drop: () => response.destroy(),
      get open() {
        return open && !response.destroyed;
      },
    };
    const result = await streamResponse(engine, sink);
    if (result.status === 'completed' && (create.store ?? true)) context.stored.set(result.response.id, { id: result.response.id, context: result.remembered });
    if (!response.destroyed) response.end();
    return;
  }

  let final: Record<string, unknown> | null = null;
  let errorEvent: Record<string, unknown> | null = null;
  const collector: EventSink = {
    emit: (event) => {
      if (event.type === 'error') errorEvent = event;
      if (event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.failed') final = event.response as Record<string, unknown>;
    },
    raw: () => undefined,
    drop: () => response.destroy(),
    get open() {
      return !response.destroyed;
    },
  };
  const result = await streamResponse(engine, collector);
  if (result.status === 'dropped' || response.destroyed) return;
  if (result.status === 'failed') {
    const error = (errorEvent as { error?: ErrorBody } | null)?.error ?? { type: 'server_error', code: 'server_error', message: 'The response failed.', param: null };
    return sendError(response, 500, error);
  }
  if (create.store ?? true) context.stored.set(result.response.id, { id: result.response.id, context: result.remembered });
  response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(final));
}

/** `POST /v1/responses/compact`: all user messages, then one compaction item standing for the rest. */
export async function handleCompact(request: IncomingMessage, response: ServerResponse, context: HttpContext): Promise<void> {
  const body = await readJson(request, context.maxBodyBytes);
  if (!body.ok) return sendError(response, body.status, body.error);
  const params = body.value as { model?: unknown; input?: unknown; previous_response_id?: unknown };
  if (typeof params.model !== 'string' || params.model === '') {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'model'.", param: 'model' });
  }
  let items: ResponseInputItem[] = [];
  if (typeof params.previous_response_id === 'string') {
    const stored = context.stored.get(params.previous_response_id);
    if (stored === undefined) {
      return sendError(response, 400, { type: 'invalid_request_error', code: 'previous_response_not_found', message: `Previous response with id '${params.previous_response_id}' not found.`, param: 'previous_response_id' });
    }
    items = [...stored.context];
  }
  if (params.input !== undefined && typeof params.input !== 'string' && !Array.isArray(params.input)) {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'invalid_type', message: "Invalid type for 'input': expected a string or an array of input items.", param: 'input' });
  }
  items.push(...normaliseInput(params.input as ResponseCreateEvent['input']));
  // The endpoint takes no `store`: a reasoning item without its encrypted content must be one the server stored.
  const inputRefusal = refuseContext([], items, true, context.stored);
  if (inputRefusal !== null) return sendError(response, inputRefusal.status, inputRefusal.error);
  await pause(context.latency.httpSetupMs + context.latency.rttMs + contextTokens(items) * context.latency.uncachedInputTokenMs);

  // User messages come back in full item form, whichever shorthand the request used.
  const userMessages = toBrainMessages(items)
    .filter((message) => message.role === 'user' && 'text' in message)
    .map((message) => ({ id: newId('msg'), type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text: (message as { text: string }).text }] }));
  // The user messages travel in clear beside the compaction item, so it stands for the rest only.
  const rest = toBrainMessages(items).filter((message) => message.role !== 'user');
  const compaction = { id: newId('cmp'), type: 'compaction', encrypted_content: encodeCompaction(rest) };
  const output = [...userMessages, compaction];
  const inputTokens = contextTokens(items);
  response.writeHead(200, { 'Content-Type': 'application/json' }).end(
    JSON.stringify({
      id: newId('resp'),
      object: 'response.compaction',
      created_at: Math.floor(Date.now() / 1000),
      output,
      usage: usage(inputTokens, 0, estimateTokens(compaction.encrypted_content)),
    }),
  );
}

function validateHttp(create: ResponseCreateEvent): ErrorBody | null {
  if (create.background === true) {
    return { type: 'invalid_request_error', code: 'unsupported_parameter', message: 'The emulator does not run background responses; omit "background".', param: 'background' };
  }
  return validate(create);
}

type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; status: number; error: ErrorBody };

export async function readJson(request: IncomingMessage, maxBytes: number): Promise<JsonBody> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      return { ok: false, status: 413, error: { type: 'invalid_request_error', code: 'request_too_large', message: `The request body exceeds ${maxBytes} bytes.`, param: null } };
    }
    parts.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // fall through
  }
  return {
    ok: false,
    status: 400,
    error: { type: 'invalid_request_error', code: 'invalid_json', message: 'We could not parse the JSON body of your request.', param: null },
  };
}

export function sendError(response: ServerResponse, status: number, error: ErrorBody): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error }));
}
