/**
 * One emulated Responses WebSocket connection (PROTOCOL.md §1 "Connection semantics"): lanes
 * named by `stream_id` (FIFO within, concurrent across), at most 16 responses in flight, a
 * connection-local cache holding each lane's latest response, eviction after a failed same-lane
 * continuation, `response.steer`, and the connection age limit.
 */
import type { WebSocket } from 'ws';
import type { ResponseCreateEvent, ResponseInputItem } from '../../protocol/responses';
import type { EmulatorClock } from '../clock';
import type { FaultQueue } from '../faults';
import { newId } from '../ids';
import type { LatencyModel } from '../latency';
import { contextTokens } from './items';
import { promptTokens, streamResponse, type EventSink, type Steering } from './engine';
import { modelRefusal } from '../models';
import { refuseContext } from './reasoning';
import { imageRefusal, responsesImageRules } from '../images';

export interface StoredResponse {
  id: string;
  context: readonly ResponseInputItem[];
}

export interface ResponsesConnectionOptions {
  ws: WebSocket;
  clock: EmulatorClock;
  latency: LatencyModel;
  faults: FaultQueue;
  /** Responses created with `store: true`, kept beyond the connection (server-wide). */
  stored: Map<string, StoredResponse>;
  connectionLimitMs: number;
  onRequest?: (event: ResponseCreateEvent) => void;
  onClose?: () => void;
}

type ErrorBody = { type: string; code: string | null; message: string; param: string | null; headers?: Record<string, string> };

export const maxInFlight = 16;
export const maxNamedLanes = 32;
/** Creates waiting beyond this many on one connection are refused: a flood must not grow memory. */
export const maxQueued = 256;
const streamIdPattern = /^[A-Za-z0-9_.-]{1,256}$/;
const defaultLane = '';

interface Active {
  responseId: string;
  lane: string;
  steering: Steering;
  emit: (event: Record<string, unknown>) => void;
}

export class ResponsesConnection {
  #options: ResponsesConnectionOptions;
  readonly #openedAt: number;
  /** Each lane's latest response: the whole connection-local cache. */
  #latest = new Map<string, StoredResponse>();
  #lanes = new Map<string, Promise<void>>();
  #namedLanes = new Set<string>();
  #running = 0;
  #queued = 0;
  #waiting: Array<() => void> = [];
  #active = new Map<string, Active>();
  #completed = new Set<string>();
  #expired = false;
  #open = true;

  constructor(options: ResponsesConnectionOptions) {
    this.#options = options;
    this.#openedAt = options.clock.now();
    options.ws.on('message', (data, isBinary) => this.#onMessage(isBinary ? null : data.toString()));
    options.ws.on('close', () => {
      this.#open = false;
      this.#latest.clear();
      options.onClose?.();
    });
  }

  /** Fault `evict_cache`: forget every cached response, as a server restart would. */
  evictCache(): void {
    this.#latest.clear();
  }

  /** Fault `expire_connection`: behave as if the connection had reached its age limit. */
  expire(): void {
    this.#expired = true;
  }

  #onMessage(raw: string | null): void {
    if (raw === null) {
      this.#sendError(400, { type: 'invalid_request_error', code: 'invalid_message', message: 'Binary frames are not supported; send JSON text frames.', param: null });
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      this.#sendError(400, { type: 'invalid_request_error', code: 'invalid_json', message: 'The message could not be parsed as JSON.', param: null });
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.#sendError(400, { type: 'invalid_request_error', code: 'invalid_message', message: 'Each message must be a JSON object with a "type".', param: null });
      return;
    }
    const type = (message as { type?: unknown }).type;
    if (type === 'response.create') this.#onCreate(message as ResponseCreateEvent);
    else if (type === 'response.steer') this.#onSteer(message as Record<string, unknown>);
    else {
      this.#sendError(400, {
        type: 'invalid_request_error',
        code: 'unknown_event_type',
        message: `Unsupported event type ${JSON.stringify(type ?? null)}; expected 'response.create' or 'response.steer'.`,
        param: 'type',
      });
    }
  }

  #onCreate(create: ResponseCreateEvent): void {
    this.#options.onRequest?.(create);
    const streamId = create.stream_id;
    if (streamId !== undefined && (typeof streamId !== 'string' || !streamIdPattern.test(streamId))) {
      this.#sendError(400, { type: 'invalid_request_error', code: 'invalid_stream_id', message: "Invalid 'stream_id': use 1 to 256 characters from A-Z, a-z, 0-9, '_', '.' and '-'.", param: 'stream_id' });
      return;
    }
    if (this.#expired || this.#options.clock.now() - this.#openedAt >= this.#options.connectionLimitMs) {
      this.#expired = true;
      const minutes = Math.round(this.#options.connectionLimitMs / 60_000);
      this.#sendError(400, {
        type: 'invalid_request_error',
        code: 'websocket_connection_limit_reached',
        message: `Responses websocket connection limit reached (${minutes} minutes). Create a new websocket connection to continue.`,
        param: null,
      });
      return;
    }
    if (streamId !== undefined && !this.#namedLanes.has(streamId)) {
      if (this.#namedLanes.size >= maxNamedLanes) {
        this.#sendError(
          400,
          { type: 'invalid_request_error', code: 'websocket_stream_limit_reached', message: `This connection already uses ${maxNamedLanes} stream_ids, the limit. Reuse one or open a new connection.`, param: 'stream_id' },
          streamId,
        );
        return;
      }
      this.#namedLanes.add(streamId);
    }
    if (this.#queued >= maxQueued) {
      this.#sendError(429, { type: 'requests', code: 'websocket_queue_full', message: `More than ${maxQueued} responses are waiting on this connection; wait for some to finish.`, param: null }, streamId);
      return;
    }
    const lane = streamId ?? defaultLane;
    this.#queued += 1;
    const previous = this.#lanes.get(lane) ?? Promise.resolve();
    const next = previous.then(() => this.#run(create, lane)).catch(() => undefined);
    this.#lanes.set(lane, next);
  }

  async #run(create: ResponseCreateEvent, lane: string): Promise<void> {
    await this.#acquireSlot();
    this.#queued -= 1;
    try {
      await this.#respond(create, lane);
    } finally {
      this.#releaseSlot();
    }
  }

  async #respond(create: ResponseCreateEvent, lane: string): Promise<void> {
    const streamId = create.stream_id;
    if (!this.#open) return;
    const refusal = validate(create);
    if (refusal !== null) {
      this.#sendError(400, refusal, streamId);
      return;
    }
    const fault = this.#options.faults.take('responses');
    if (fault?.kind === 'rate_limit') {
      this.#sendError(
        429,
        {
          type: 'requests',
          code: 'rate_limit_exceeded',
          message: `Rate limit reached for requests. Please try again in ${fault.retryAfterS}s.`,
          param: null,
          headers: rateLimitHeaders(fault.retryAfterS),
        },
        streamId,
      );
      return;
    }

    const previousId = create.previous_response_id ?? null;
    let cached: readonly ResponseInputItem[] = [];
    let parentLane: string | null = null;
    if (previousId !== null) {
      const found = this.#lookup(previousId);
      if (found === null) {
        this.#sendError(
          400,
          { type: 'invalid_request_error', code: 'previous_response_not_found', message: `Previous response with id '${previousId}' not found.`, param: 'previous_response_id' },
          streamId,
        );
        return;
      }
      cached = found.context;
      parentLane = found.lane;
    }
    const input = normaliseInput(create.input);
    const context = [...cached, ...input];
    const inputRefusal = refuseContext(cached, input, create.store ?? true, this.#options.stored);
    if (inputRefusal !== null) {
      this.#sendError(inputRefusal.status, inputRefusal.error, streamId);
      return;
    }
    const steering: Steering = { pending: null };
    const sink = this.#sink(streamId, (event) => {
      if (event.type === 'response.created') {
        const responseId = (event.response as { id: string }).id;
        this.#active.set(responseId, { responseId, lane, steering, emit: sink.emit });
      }
    });

    const result = await streamResponse(
      { create, context, previousId, cachedTokens: previousId === null ? 0 : contextTokens(cached) + promptTokens(create), overHttp: false, latency: this.#options.latency, fault, steering },
      sink,
    );
    for (const [id, active] of this.#active) if (active.steering === steering) this.#active.delete(id);

    if (result.status === 'failed') {
      // A failed same-lane continuation evicts its parent; a failed cross-lane fork keeps it.
      if (previousId !== null && parentLane === lane && this.#latest.get(lane)?.id === previousId) this.#latest.delete(lane);
      return;
    }
    if (result.status === 'dropped') return;
    const { response, remembered } = result;
    this.#completed.add(response.id);
    const entry = { id: response.id, context: remembered };
    this.#latest.set(lane, entry);
    if (create.store ?? true) this.#options.stored.set(response.id, entry);

    if (steering.pending !== null) {
      // The steered response ended `incomplete`; its successor continues with the new input.
      const successor: ResponseCreateEvent = { ...create, previous_response_id: response.id, input: steering.pending };
      await this.#respond(successor, lane);
    }
  }

  #lookup(id: string): { context: readonly ResponseInputItem[]; lane: string | null } | null {
    for (const [lane, entry] of this.#latest) if (entry.id === id) return { context: entry.context, lane };
    const stored = this.#options.stored.get(id);
    return stored === undefined ? null : { context: stored.context, lane: null };
  }

  #onSteer(steer: Record<string, unknown>): void {
    const targetId = typeof steer.previous_response_id === 'string' ? steer.previous_response_id : '';
    const steerRecord = { id: newId('steer'), previous_response_id: targetId };
    const active = this.#active.get(targetId);
    const input = normaliseInput(steer.input as ResponseCreateEvent['input']);
    if (active === undefined || input.length === 0) {
      const code = input.length === 0 ? 'invalid_input' : this.#completed.has(targetId) ? 'response_already_completed' : 'response_not_found';
      const message =
        code === 'invalid_input' ? 'Steering input must contain at least one message.' : code === 'response_already_completed' ? `Response '${targetId}' has already completed.` : `No response with id '${targetId}' is active on this connection.`;
      this.#send({ type: 'response.steer.failed', sequence_number: 0, steer: steerRecord, error: { code, message } });
      return;
    }
    active.steering.pending = [...(active.steering.pending ?? []), ...input];
    active.emit({ type: 'response.steer.accepted', steer: steerRecord });
  }

  #sink(streamId: string | undefined, observe: (event: Record<string, unknown>) => void): EventSink {
    let sequence = 0;
    const { ws } = this.#options;
    const isOpen = (): boolean => this.#open;
    return {
      emit: (event) => {
        observe(event);
        this.#send({ ...event, sequence_number: sequence++, ...(streamId === undefined ? {} : { stream_id: streamId }) });
      },
      raw: (text) => {
        if (isOpen()) ws.send(text);
      },
      drop: (closeCode) => {
        if (closeCode === undefined || closeCode === 1006) ws.terminate();
        else ws.close(closeCode, 'emulator dropped the connection');
      },
      get open() {
        return isOpen();
      },
    };
  }

  async #acquireSlot(): Promise<void> {
    if (this.#running < maxInFlight) {
      this.#running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #releaseSlot(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#running -= 1;
  }

  #send(event: Record<string, unknown>): void {
    if (this.#open) this.#options.ws.send(JSON.stringify(event));
  }

  #sendError(status: number, error: ErrorBody, streamId?: string): void {
    this.#send({ type: 'error', status, ...(streamId === undefined ? {} : { stream_id: streamId }), error });
  }
}

export function validate(create: Partial<ResponseCreateEvent>): ErrorBody | null {
  if (typeof create.model !== 'string' || create.model.length === 0) {
    return { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'model'.", param: 'model' };
  }
  const unserved = modelRefusal(create.model);
  if (unserved !== null) return { ...unserved, param: 'model' };
  if (create.background === true) {
    return { type: 'invalid_request_error', code: 'unsupported_parameter', message: "'background' is not supported over WebSocket.", param: 'background' };
  }
  if (create.input !== undefined && create.input !== null && typeof create.input !== 'string' && !Array.isArray(create.input)) {
    return { type: 'invalid_request_error', code: 'invalid_type', message: "Invalid type for 'input': expected a string or an array of input items.", param: 'input' };
  }
  if (Array.isArray(create.input) && create.input.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))) {
    return { type: 'invalid_request_error', code: 'invalid_type', message: "Invalid 'input': every item must be an object.", param: 'input' };
  }
  const image = Array.isArray(create.input) ? inputImageRefusal(create.input) : null;
  if (image !== null) return image;
  if (create.previous_response_id !== undefined && create.previous_response_id !== null && typeof create.previous_response_id !== 'string') {
    return { type: 'invalid_request_error', code: 'invalid_type', message: "Invalid type for 'previous_response_id': expected a string.", param: 'previous_response_id' };
  }
  // The spec's ContextManagementParam: `compact_threshold` is an integer of at least 1000.
  const thresholdIndex = create.context_management?.findIndex((entry) => entry.compact_threshold !== undefined && entry.compact_threshold !== null && !(Number.isInteger(entry.compact_threshold) && entry.compact_threshold >= 1000)) ?? -1;
  if (thresholdIndex >= 0) {
    const got = create.context_management?.[thresholdIndex]?.compact_threshold;
    return {
      type: 'invalid_request_error',
      code: 'integer_below_min_value',
      message: `Invalid 'context_management[${thresholdIndex}].compact_threshold': integer below minimum value. Expected a value >= 1000, but got ${String(got)} instead.`,
      param: `context_management[${thresholdIndex}].compact_threshold`,
    };
  }
  if (create.tools !== undefined && create.tools !== null && !Array.isArray(create.tools)) {
    return { type: 'invalid_request_error', code: 'invalid_type', message: "Invalid type for 'tools': expected an array.", param: 'tools' };
  }
  return null;
}

/** The first `input_image` part of a message the service would refuse. */
function inputImageRefusal(input: readonly unknown[]): ErrorBody | null {
  for (const [index, item] of input.entries()) {
    const content = (item as { content?: unknown }).content;
    if (!Array.isArray(content)) continue;
    for (const [partIndex, part] of content.entries()) {
      if ((part as { type?: unknown } | null)?.type !== 'input_image') continue;
      const refusal = imageRefusal(part as Record<string, unknown>, `input[${index}].content[${partIndex}]`, responsesImageRules);
      if (refusal !== null) return refusal;
    }
  }
  return null;
}

export function normaliseInput(input: ResponseCreateEvent['input']): ResponseInputItem[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return Array.isArray(input) ? [...input] : [];
}

export function rateLimitHeaders(retryAfterS: number): Record<string, string> {
  return {
    'retry-after': String(retryAfterS),
    'x-ratelimit-limit-requests': '500',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': `${retryAfterS}s`,
  };
}
