/**
 * One emulated Responses WebSocket connection: parses client frames, keeps the connection-local
 * cache of responses, and streams each response with the real event sequence (PROTOCOL.md §1).
 */
import type { WebSocket } from 'ws';
import type { Response, ResponseCreateEvent, ResponseInputItem, ResponseOutputItem } from '../protocol/responses';
import { deltas, estimateTokens, reply } from './brain';
import type { FaultQueue } from './faults';
import { newId } from './ids';

export interface ResponsesConnectionOptions {
  ws: WebSocket;
  /** Responses kept beyond the connection when created with `store: true`. */
  stored: Map<string, readonly ResponseInputItem[]>;
  faults: FaultQueue;
  /** Pause between streamed deltas; 0 streams as fast as the socket takes them. */
  deltaIntervalMs: number;
  onRequest?: (event: ResponseCreateEvent) => void;
}

type ErrorBody = { type: string; code: string | null; message: string; param: string | null };

export class ResponsesConnection {
  #options: ResponsesConnectionOptions;
  /** Connection-local cache: response id → the full context after that response. */
  #cache = new Map<string, readonly ResponseInputItem[]>();
  #lane: Promise<void> = Promise.resolve();
  #open = true;

  constructor(options: ResponsesConnectionOptions) {
    this.#options = options;
    options.ws.on('message', (data) => this.#onMessage(data.toString()));
    options.ws.on('close', () => {
      this.#open = false;
      this.#cache.clear();
    });
  }

  #onMessage(raw: string): void {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      this.#sendError(400, { type: 'invalid_request_error', code: 'invalid_json', message: 'The message could not be parsed as JSON.', param: null });
      return;
    }
    const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    if (type !== 'response.create') {
      this.#sendError(400, {
        type: 'invalid_request_error',
        code: 'unknown_event_type',
        message: `Unsupported event type ${JSON.stringify(type ?? null)}; expected 'response.create'.`,
        param: 'type',
      });
      return;
    }
    const create = message as ResponseCreateEvent;
    this.#options.onRequest?.(create);
    // Requests on one lane run in order and never overlap.
    this.#lane = this.#lane.then(() => this.#respond(create)).catch(() => undefined);
  }

  async #respond(create: ResponseCreateEvent): Promise<void> {
    const refusal = validate(create);
    if (refusal !== null) {
      this.#sendError(400, refusal);
      return;
    }
    let context: readonly ResponseInputItem[] = [];
    const previousId = create.previous_response_id ?? null;
    if (previousId !== null) {
      const cached = this.#cache.get(previousId) ?? this.#options.stored.get(previousId);
      if (cached === undefined) {
        this.#sendError(400, {
          type: 'invalid_request_error',
          code: 'previous_response_not_found',
          message: `Previous response with id '${previousId}' not found.`,
          param: 'previous_response_id',
        });
        return;
      }
      context = cached;
    }
    const input = typeof create.input === 'string' ? [{ role: 'user' as const, content: create.input }] : (create.input ?? []);
    context = [...context, ...input];
    await this.#stream(create, context, previousId);
  }

  async #stream(create: ResponseCreateEvent, context: readonly ResponseInputItem[], previousId: string | null): Promise<void> {
    const fault = this.#options.faults.take();
    let sequence = 0;
    const emit = (event: Record<string, unknown>): void => {
      if (!this.#open) return;
      this.#options.ws.send(JSON.stringify({ ...event, sequence_number: sequence++ }));
    };
    if (fault?.kind === 'malformed_frame') this.#options.ws.send('{"type":"response.created", this is not JSON');

    const generate = create.generate ?? true;
    const text = generate ? reply(context) : '';
    const response = baseResponse(create, previousId);
    emit({ type: 'response.created', response: { ...response } });
    if (!generate) {
      // Warmup: a chainable id with no output (PROTOCOL.md §1, "Warmup").
      this.#remember(response.id, create, context);
      emit({ type: 'response.completed', response: { ...response, status: 'completed', usage: usage(context, '') } });
      return;
    }
    emit({ type: 'response.in_progress', response: { ...response } });

    const itemId = newId('msg');
    emit({ type: 'response.output_item.added', output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
    const emptyPart = { type: 'output_text', annotations: [], logprobs: [], text: '' };
    emit({ type: 'response.content_part.added', item_id: itemId, output_index: 0, content_index: 0, part: emptyPart });

    const pieces = deltas(text);
    for (const [index, delta] of pieces.entries()) {
      if (fault?.kind === 'drop_socket' && index === fault.afterDeltas) {
        this.#options.ws.terminate();
        return;
      }
      if (fault?.kind === 'error_mid_stream' && index === fault.afterDeltas) {
        emit({ type: 'error', error: { type: 'server_error', code: 'server_error', message: 'The emulator was told to fail this response.', param: null } });
        emit({ type: 'response.failed', response: { ...response, status: 'failed', error: { code: 'server_error', message: 'The emulator was told to fail this response.' } } });
        this.#evict(previousId);
        return;
      }
      emit({ type: 'response.output_text.delta', item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [], obfuscation: 'x'.repeat(16 - (delta.length % 16)) });
      await pause(this.#options.deltaIntervalMs);
      if (!this.#open) return;
    }

    const part = { ...emptyPart, text };
    const message: ResponseOutputItem = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] as never };
    emit({ type: 'response.output_text.done', item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
    emit({ type: 'response.content_part.done', item_id: itemId, output_index: 0, content_index: 0, part });
    emit({ type: 'response.output_item.done', output_index: 0, item: message });
    this.#remember(response.id, create, [...context, message as ResponseInputItem]);
    emit({ type: 'response.completed', response: { ...response, status: 'completed', output: [message], usage: usage(context, text) } });
  }

  #remember(id: string, create: ResponseCreateEvent, context: readonly ResponseInputItem[]): void {
    this.#cache.set(id, context);
    if (create.store ?? true) this.#options.stored.set(id, context);
  }

  /** A failed same-lane continuation evicts the response it referenced (PROTOCOL.md §1). */
  #evict(previousId: string | null): void {
    if (previousId !== null) this.#cache.delete(previousId);
  }

  #sendError(status: number, error: ErrorBody): void {
    if (this.#open) this.#options.ws.send(JSON.stringify({ type: 'error', status, error }));
  }
}

function validate(create: ResponseCreateEvent): ErrorBody | null {
  if (typeof create.model !== 'string' || create.model.length === 0) {
    return { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'model'.", param: 'model' };
  }
  if (create.background === true) {
    return { type: 'invalid_request_error', code: 'unsupported_parameter', message: 'background is not supported over WebSocket.', param: 'background' };
  }
  if (create.input !== undefined && typeof create.input !== 'string' && !Array.isArray(create.input)) {
    return { type: 'invalid_request_error', code: 'invalid_type', message: "Invalid type for 'input': expected a string or an array of items.", param: 'input' };
  }
  return null;
}

/** `output_text` is the SDK's client-side convenience, never on the wire. */
type WireResponse = Omit<Response, 'output_text'> & { store: boolean };

function baseResponse(create: ResponseCreateEvent, previousId: string | null): WireResponse {
  return {
    id: newId('resp'),
    access_programs: null,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: create.instructions ?? null,
    max_output_tokens: create.max_output_tokens ?? null,
    model: create.model ?? '',
    output: [],
    parallel_tool_calls: create.parallel_tool_calls ?? true,
    previous_response_id: previousId,
    store: create.store ?? true,
    temperature: create.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: create.tool_choice ?? 'auto',
    tools: create.tools ?? [],
    top_p: create.top_p ?? 1,
    truncation: 'disabled',
    metadata: create.metadata ?? {},
  };
}

function usage(context: readonly ResponseInputItem[], text: string): Response['usage'] {
  const input = estimateTokens(JSON.stringify(context));
  const output = text === '' ? 0 : estimateTokens(text);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
