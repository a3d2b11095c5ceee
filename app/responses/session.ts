/**
 * ResponsesSession: the agent socket, built to stay fast, correct and alive for hours.
 *
 * The ledger is the truth; the server's connection-local cache is an optimisation. Each request
 * continues its lane's chain with only new items while that chain is alive on the current socket
 * and the settings are unchanged, and resends the ledger's window otherwise. The session warms
 * sockets with `generate: false`, rolls over before the connection limit, compacts long ledgers,
 * runs the tool loop exactly once per `call_id`, and recovers from a lost cache, an aged socket,
 * rate limits and dropped connections without losing the user's input.
 */
import type { Problem } from '../contract';
import {
  parseServerFrame,
  readWireError,
  type ResponseCreateEvent,
  type ResponseInputItem,
  type ResponseOutputItem,
  type ResponsesServerEvent,
  type WireError,
} from '../protocol/responses';
import { SseParser } from '../protocol/sse';
import { realTimer, SilenceDeadline, type SetTimer } from '../transport/deadline';
import { backoffDelayMs, defaultBackoff, isRecoverableClose, retryAfterMs } from '../transport/reconnect';
import { Socket, SocketError, type SocketState, type WebSocketFactory } from '../transport/socket';
import { costUsd } from './cost';
import { estimateTokens, Ledger } from './ledger';
import { isReasoningModel, reasoningInclude } from './reasoning';
import { chainKey, reasoningParams, warmupWorthTokens, type SessionSettings } from './settings';
import { ToolCalls, type ToolRunner } from './tools';

export type TransportKind = 'websocket' | 'http';

export interface ResponsesSessionOptions {
  /** API root, e.g. `https://api.openai.com/v1`; the socket URL and HTTP endpoints derive from it. */
  baseUrl: string;
  apiKey: string;
  settings: SessionSettings;
  transport?: TransportKind;
  createWebSocket: WebSocketFactory;
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  runTool?: ToolRunner;
  onEvent?: (event: ResponsesSessionEvent) => void;
  /** Says a server error in the user's terms where the host knows better (e.g. a model they cannot use). */
  describeError?: (error: { code: string | null; message: string; model: string }) => Problem | null;
  /**
   * How long a request may go without a single event before it counts as stalled (the socket may
   * still answer pings). Default 90 s: a reasoning model's first event can take tens of seconds.
   */
  stallTimeoutMs?: number;
  /** Schedules a callback; returns its cancel. Default: the global setTimeout. */
  setTimer?: SetTimer;
}

export interface RequestMetrics {
  lane: string;
  responseId: string | null;
  chained: boolean;
  inputItems: number;
  bytesUp: number;
  /** What the request would have sent as a full resend; equal to `bytesUp` when it was one. */
  fullResendBytes: number;
  bytesDown: number;
  timeToFirstByteMs: number | null;
  timeToFirstTextMs: number | null;
  totalMs: number;
  usage: { input: number; cached: number; output: number } | null;
  costUsd: number | null;
}

/** Inspector events; their names are the ones the UI shows. */
export type ResponsesSessionEvent =
  | { type: 'socket'; socketId: number; state: SocketState }
  | { type: 'warmup'; socketId: number; durationMs: number; items: number; responseId: string }
  | { type: 'compaction'; mode: 'server' | 'endpoint'; tokensBefore: number; tokensAfter: number }
  | { type: 'reconnect'; attempt: number; delayMs: number; code: number | null }
  | { type: 'rehydration'; lane: string; reason: 'previous_response_not_found' | 'websocket_connection_limit_reached' | 'reconnect' | 'resume'; items: number }
  | { type: 'rollover'; fromSocketId: number; toSocketId: number; ageMs: number; gapMs: number }
  | { type: 'rate_limited'; lane: string; retryAfterMs: number }
  | { type: 'stalled'; lane: string; silentMs: number; retrying: boolean }
  | { type: 'request'; metrics: RequestMetrics }
  | { type: 'tool'; lane: string; callId: string; name: string; status: 'started' | 'done' | 'failed'; durationMs?: number }
  | { type: 'frame.rejected'; problem: Problem };

export interface TurnHandlers {
  /** Stops the turn's tool loop at the next step: no more tools run, no more requests are sent. */
  signal?: AbortSignal;
  onTextDelta?: (delta: string) => void;
  /** A retried response streams again from the start: drop what was shown of the failed attempt. */
  onRestart?: () => void;
  /** The service asked to wait (a rate limit): the request goes again after `retryAfterMs`. */
  onWait?: (wait: { reason: 'rate_limited'; retryAfterMs: number }) => void;
  /** Names the turn, so `forgetTurn` can take it back while it is the lane's latest. */
  turnId?: string;
}

/** Why `forgetTurn` could not take a turn back, or that it did. */
export type ForgetOutcome = 'forgotten' | 'running' | 'not_latest' | 'compacted';

export interface TurnSummary {
  requests: number;
  toolCalls: number;
  chained: boolean;
  inputItemsSent: number;
  bytesSent: number;
  fullResendBytes: number;
  bytesReceived: number;
  timeToFirstByteMs: number | null;
  timeToFirstDeltaMs: number | null;
  totalMs: number;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

export type TurnOutcome =
  | { status: 'completed' | 'incomplete'; text: string; responseId: string; metrics: TurnSummary }
  | { status: 'failed'; text: string; problem: Problem; metrics: TurnSummary | null };

const defaultLane = '';
const maxRateLimitRetries = 3;
export const defaultStallTimeoutMs = 90_000;

interface Lane {
  name: string;
  ledger: Ledger;
  /** The response this lane's chain ends in, valid on `socket` while the ledger has not moved on. */
  head: { responseId: string; socket: Socket; ledgerLength: number; key: string } | null;
  queue: Promise<unknown>;
  active: ActiveRequest | null;
  /** Its ledger came from a saved conversation and has not been sent yet. */
  resumed: boolean;
  /** The turn that ran (or runs) last, and the ledger's length when it began. */
  lastTurn: { id: string | null; mark: number; running: boolean } | null;
  /**
   * The stall deadline of the lane's request in flight, one per lane and reused: each request
   * starts it, every event it hears restarts the count, and its end pauses it (see `#request`).
   */
  deadline: SilenceDeadline;
}

interface ActiveRequest {
  lane: Lane;
  /** The socket the request went out on; null over HTTP. */
  socket: Socket | null;
  sentAt: number;
  bytesUp: number;
  bytesDown: number;
  firstByteAt: number | null;
  firstTextAt: number | null;
  created: boolean;
  text: string;
  problem: Problem | null;
  wireError: WireError | null;
  onTextDelta: ((delta: string) => void) | undefined;
  settle: (result: RequestResult) => void;
}

type RequestResult =
  | { kind: 'response'; status: 'completed' | 'incomplete'; responseId: string; output: ResponseOutputItem[]; usage: RequestMetrics['usage'] }
  | { kind: 'failed'; problem: Problem; wireError: WireError | null; disconnected: { code: number } | null; ended?: 'stalled' | 'cancelled' };

/** Why a socket was taken out of use: the close reason the inspector's log shows. */
export type RetireReason = 'rolled over' | 'connection limit reached' | 'reply stalled' | 'reply cancelled';

interface CurrentSocket {
  id: number;
  socket: Socket;
  openedAt: number;
}

export class ResponsesSession {
  #options: ResponsesSessionOptions;
  #settings: SessionSettings;
  /** `chainKey(#settings)`, kept with the settings: it serialises the tools, and every request needs it. */
  #chainKey: string;
  #lanes = new Map<string, Lane>();
  #current: CurrentSocket | null = null;
  #connecting: Promise<CurrentSocket> | null = null;
  #socketCount = 0;
  #tools = new ToolCalls();
  /**
   * Sockets taken out of use (rolled over, at the connection limit, a stalled or cancelled reply),
   * each closed once its last request has finished, with why it was retired as the close reason.
   */
  #retired = new Map<Socket, RetireReason>();
  #closed = false;

  constructor(options: ResponsesSessionOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#chainKey = chainKey(options.settings);
  }

  get transport(): TransportKind {
    return this.#options.transport ?? 'websocket';
  }

  get chainHead(): string | null {
    return this.#lane(defaultLane).head?.responseId ?? null;
  }

  get ledger(): Ledger {
    return this.#lane(defaultLane).ledger;
  }

  get meters(): { bytesSent: number; bytesReceived: number } {
    return this.#current?.socket.meters ?? { bytesSent: 0, bytesReceived: 0 };
  }

  /** Requests waiting for their response right now, across lanes. */
  get lanesInFlight(): number {
    let count = 0;
    for (const lane of this.#lanes.values()) if (lane.active !== null) count += 1;
    return count;
  }

  /** Socket age and id, for the inspector's "time until rollover". */
  get socketInfo(): { id: number; openedAt: number } | null {
    return this.#current === null ? null : { id: this.#current.id, openedAt: this.#current.openedAt };
  }

  /** Changes settings; the next request resends the window if the chain key changed. */
  updateSettings(settings: Partial<SessionSettings>): void {
    this.#settings = { ...this.#settings, ...settings };
    this.#chainKey = chainKey(this.#settings);
  }

  /** Opens (and warms) the socket now, so the first turn does not pay for it. */
  async connect(): Promise<void> {
    if (this.transport === 'websocket') await this.#ensureSocket();
  }

  /** Runs one user turn, tool loop included. Turns on one lane queue; lanes run in parallel. */
  runTurn(input: readonly ResponseInputItem[], handlers: TurnHandlers = {}, laneName = defaultLane): Promise<TurnOutcome> {
    const lane = this.#lane(laneName);
    const turn = lane.queue.then(async () => {
      const record = { id: handlers.turnId ?? null, mark: lane.ledger.length, running: true };
      lane.lastTurn = record;
      try {
        return await this.#runTurn(lane, [...input], handlers);
      } finally {
        record.running = false;
      }
    });
    lane.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Takes up a conversation saved earlier: its ledger's window becomes the lane's, and the next
   * turn resends it with no `previous_response_id`, as after `previous_response_not_found`.
   */
  resume(saved: { offset: number; entries: ReadonlyArray<{ item: ResponseInputItem; stored: boolean }> }, laneName = defaultLane): void {
    const lane = this.#lane(laneName);
    lane.ledger.restore(saved.offset, saved.entries);
    lane.head = null;
    lane.lastTurn = null;
    lane.resumed = saved.entries.length > 0;
  }

  /** Forgets a lane's conversation; the next turn starts a new chain. */
  reset(laneName = defaultLane): void {
    const lane = this.#lane(laneName);
    lane.ledger.clear();
    lane.head = null;
    lane.resumed = false;
    lane.lastTurn = null;
  }

  /**
   * Takes the lane's latest turn (named by `TurnHandlers.turnId`) out of the ledger: its input,
   * its outputs and its tool results, so a regenerated or edited turn is not seen twice. The next
   * request resends the window, since the server's chain still ends in the forgotten turn.
   */
  forgetTurn(turnId: string, laneName = defaultLane): ForgetOutcome {
    const lane = this.#lane(laneName);
    const last = lane.lastTurn;
    if (last === null || last.id !== turnId) return 'not_latest';
    if (last.running) return 'running';
    if (!lane.ledger.dropFrom(last.mark)) return 'compacted';
    lane.head = null;
    lane.lastTurn = null;
    return 'forgotten';
  }

  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) lane.deadline.stop();
    this.#current?.socket.close();
  }

  #lane(name: string): Lane {
    let lane = this.#lanes.get(name);
    if (lane === undefined) {
      const created: Lane = {
        name,
        ledger: new Ledger(),
        head: null,
        queue: Promise.resolve(),
        active: null,
        resumed: false,
        lastTurn: null,
        deadline: new SilenceDeadline({
          ms: this.#stallTimeoutMs,
          now: this.#options.now,
          setTimer: this.#options.setTimer ?? realTimer,
          onExpired: () => {
            const active = created.active;
            if (active === null) return;
            this.#abandon(active.socket, 'reply stalled');
            active.settle({ kind: 'failed', problem: stalledProblem(this.#stallTimeoutMs), wireError: null, disconnected: null, ended: 'stalled' });
          },
        }),
      };
      this.#lanes.set(name, created);
      lane = created;
    }
    return lane;
  }

  #emit(event: ResponsesSessionEvent): void {
    this.#options.onEvent?.(event);
  }

  async #runTurn(lane: Lane, input: ResponseInputItem[], handlers: TurnHandlers): Promise<TurnOutcome> {
    const summary = emptySummary();
    const startedAt = this.#options.now();
    let pending = input;
    let text = '';
    for (let step = 0; ; step += 1) {
      if (step > this.#settings.maxToolSteps) {
        return {
          status: 'failed',
          text,
          problem: { code: 'server_error', message: `The agent used more than ${this.#settings.maxToolSteps} tool steps without answering.`, hint: 'Ask again more specifically.' },
          metrics: finish(summary, startedAt, this.#options.now()),
        };
      }
      if (handlers.signal?.aborted) return cancelled(text, summary.requests === 0 ? null : finish(summary, startedAt, this.#options.now()));
      const result = await this.#respond(lane, pending, handlers, summary);
      if (result.kind === 'failed' && (step > 0 || !result.refused)) {
        // The tools ran, so their outputs are part of the conversation: without them every later
        // resend carries calls with no output, which the service refuses (Roo-Code#12248). And
        // what the user said stays said, unless the server refused that very input.
        lane.ledger.append(pending);
        lane.head = null;
      }
      if (result.kind === 'failed') return { status: 'failed', text: result.text, problem: result.problem, metrics: summary.requests === 0 ? null : finish(summary, startedAt, this.#options.now()) };
      text = result.text;
      const calls = result.output.filter((item): item is Extract<ResponseOutputItem, { type: 'function_call' }> => item.type === 'function_call');
      if (calls.length === 0) return { status: result.status, text, responseId: result.responseId, metrics: finish(summary, startedAt, this.#options.now()) };
      pending = [];
      for (const call of calls) {
        if (handlers.signal?.aborted) break;
        summary.toolCalls += 1;
        pending.push(await this.#runTool(lane, call));
      }
      if (handlers.signal?.aborted) {
        // The answered calls' outputs still belong in the ledger, so the next turn is consistent.
        lane.ledger.append(pending);
        for (const call of calls.slice(pending.length)) lane.ledger.append([{ type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ error: 'Cancelled by the user.' }) }]);
        lane.head = null;
        return cancelled(text, finish(summary, startedAt, this.#options.now()));
      }
    }
  }

  async #runTool(lane: Lane, call: Extract<ResponseOutputItem, { type: 'function_call' }>): Promise<ResponseInputItem> {
    const startedAt = this.#options.now();
    this.#emit({ type: 'tool', lane: lane.name, callId: call.call_id, name: call.name, status: 'started' });
    const outcome = await this.#tools.run(call, this.#options.runTool);
    this.#emit({ type: 'tool', lane: lane.name, callId: call.call_id, name: call.name, status: outcome.ok ? 'done' : 'failed', durationMs: this.#options.now() - startedAt });
    return { type: 'function_call_output', call_id: call.call_id, output: outcome.output };
  }

  /**
   * One model response for `pending`, with every recovery the protocol allows: a single
   * rehydration for a lost cache or an aged socket, waits on 429, and reconnects.
   */
  async #respond(
    lane: Lane,
    pending: ResponseInputItem[],
    handlers: TurnHandlers,
    summary: TurnSummary,
  ): Promise<{ kind: 'response'; status: 'completed' | 'incomplete'; responseId: string; output: ResponseOutputItem[]; text: string } | { kind: 'failed'; problem: Problem; text: string; refused?: boolean }> {
    // Each recovery at most once per response, so nothing loops; but a lost cache and an aged
    // socket are different causes, and the resend after one may well meet the other.
    let rehydrated = false;
    let renewed = false;
    let rateLimited = 0;
    let reconnected = false;
    let stallRetried = false;
    if (lane.resumed) {
      lane.resumed = false;
      this.#emit({ type: 'rehydration', lane: lane.name, reason: 'resume', items: this.#resendWindow(lane).length + pending.length });
    }
    for (;;) {
      // Most requests have nothing to prepare: no wait then, not even a resolved promise's.
      const preparing = this.#mustPrepare(lane, pending) ? this.#prepare(lane, pending) : null;
      if (preparing !== null) {
        try {
          await preparing;
        } catch (error) {
          return { kind: 'failed', problem: problemOf(error), text: '' };
        }
      }
      const { result, request, metrics } = await this.#request(lane, pending, handlers.onTextDelta, true, handlers.signal);
      if (metrics !== null) {
        accumulate(summary, metrics);
        this.#emit({ type: 'request', metrics });
      }
      if (result.kind === 'response') {
        lane.ledger.append(pending);
        const fold = lane.ledger.append(result.output as ResponseInputItem[], { stored: this.#settings.store });
        if (fold !== null) this.#emit({ type: 'compaction', mode: 'server', ...fold });
        lane.head =
          this.transport === 'websocket' && this.#current !== null
            ? { responseId: result.responseId, socket: this.#current.socket, ledgerLength: lane.ledger.length, key: this.#chainKey }
            : null;
        // The output is authoritative; deltas may be absent (a replayed or non-streamed response).
        return { ...result, text: outputText(result.output) ?? request?.text ?? '' };
      }

      if (result.ended === 'cancelled') return { kind: 'failed', problem: result.problem, text: request?.text ?? '' };
      if (result.ended === 'stalled') {
        // Nothing of a response that never finished has run (tools run only after completion), so
        // one resend on a fresh socket is safe; a second stall is reported.
        this.#emit({ type: 'stalled', lane: lane.name, silentMs: this.#stallTimeoutMs, retrying: !stallRetried });
        if (stallRetried) return { kind: 'failed', problem: result.problem, text: request?.text ?? '' };
        stallRetried = true;
        handlers.onRestart?.();
        continue;
      }
      const code = result.wireError?.code ?? null;
      const chained = metrics?.chained ?? false;
      // A failed continuation evicts its parent on the server (PROTOCOL.md §1): never chain to it again.
      if (chained) lane.head = null;
      if (code === 'previous_response_not_found' && chained && !rehydrated) {
        rehydrated = true;
        this.#emit({ type: 'rehydration', lane: lane.name, reason: 'previous_response_not_found', items: this.#resendWindow(lane).length + pending.length });
        continue;
      }
      if (code === 'websocket_connection_limit_reached' && !renewed) {
        renewed = true;
        this.#abandon(this.#current?.socket ?? null, 'connection limit reached');
        this.#emit({ type: 'rehydration', lane: lane.name, reason: 'websocket_connection_limit_reached', items: this.#resendWindow(lane).length + pending.length });
        continue;
      }
      const waitMs = result.wireError?.status === 429 ? (retryAfterMs(result.wireError.headers, Date.now()) ?? 1000) : null;
      if (waitMs !== null && rateLimited < maxRateLimitRetries) {
        rateLimited += 1;
        this.#emit({ type: 'rate_limited', lane: lane.name, retryAfterMs: waitMs });
        handlers.onWait?.({ reason: 'rate_limited', retryAfterMs: waitMs });
        await this.#options.sleep(waitMs);
        continue;
      }
      if (result.disconnected !== null && isRecoverableClose(result.disconnected.code) && !reconnected && !this.#closed) {
        // The request never finished; our tools run once per call_id, so resending is safe. The
        // new socket has no cache: the ledger goes again in full.
        reconnected = true;
        handlers.onRestart?.();
        try {
          await this.#reconnect(result.disconnected.code);
        } catch (error) {
          return { kind: 'failed', problem: problemOf(error), text: request?.text ?? '' };
        }
        this.#emit({ type: 'rehydration', lane: lane.name, reason: 'reconnect', items: this.#resendWindow(lane).length + pending.length });
        continue;
      }
      return { kind: 'failed', problem: result.problem, text: request?.text ?? '', refused: refusesInput(result.wireError) };
    }
  }

  /**
   * Whether `#prepare` has anything to do: no open socket (or the session closed, which it
   * reports), a socket due for rollover, or a ledger to compact with the endpoint.
   */
  #mustPrepare(lane: Lane, pending: readonly ResponseInputItem[]): boolean {
    if (this.transport === 'websocket') {
      const current = this.#current;
      if (this.#closed || current === null || current.socket.state.status !== 'open' || this.#rolloverDue(current)) return true;
    }
    return this.#endpointCompactionDue(lane, pending);
  }

  /** Before a request: roll over an old socket; between turns, compact a long ledger. */
  async #prepare(lane: Lane, pending: readonly ResponseInputItem[]): Promise<void> {
    if (this.transport === 'websocket') {
      const current = await this.#ensureSocket();
      if (this.#rolloverDue(current)) await this.#rollover(current, this.#options.now() - current.openedAt);
    }
    if (this.#endpointCompactionDue(lane, pending)) await this.#compactWithEndpoint(lane);
  }

  #rolloverDue(current: { openedAt: number }): boolean {
    return this.#options.now() - current.openedAt >= this.#settings.rolloverAfterMs;
  }

  /**
   * Endpoint compaction is due when the ledger is long, but not inside a tool loop: there the
   * window ends in calls whose outputs are still pending, and compacting a call without its
   * output is refused like any other request carrying one.
   */
  #endpointCompactionDue(lane: Lane, pending: readonly ResponseInputItem[]): boolean {
    const { mode, thresholdTokens } = this.#settings.compaction;
    return mode === 'endpoint' && !pending.some((item) => item.type === 'function_call_output') && lane.ledger.shouldCompact(thresholdTokens);
  }

  async #compactWithEndpoint(lane: Lane): Promise<void> {
    const url = `${this.#options.baseUrl}/responses/compact`;
    let response: Response;
    try {
      response = await this.#options.fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.#options.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: this.#settings.model, instructions: this.#settings.instructions, input: this.#resendWindow(lane) }),
      });
    } catch (error) {
      throw new SocketError(unreachable(this.#options.baseUrl, error, ' to compact the conversation'));
    }
    if (!response.ok) throw new SocketError(this.#serverProblem(await httpError(response)));
    const compacted = (await response.json().catch(() => null)) as { output?: unknown } | null;
    // Each item becomes part of every later request: anything but an object with a type is refused here.
    if (!Array.isArray(compacted?.output) || !compacted.output.every((item) => typeof item === 'object' && item !== null && typeof (item as { type?: unknown }).type === 'string')) {
      throw new SocketError({ code: 'malformed_frame', message: 'The server answered the compaction with something other than a compacted conversation.', hint: 'Send your message again; if it keeps happening, set Compaction to "server" in Settings.' });
    }
    // Unpruned, as the guide asks: the compacted window is the new chain's base input.
    const fold = lane.ledger.replaceWindow(compacted.output as ResponseInputItem[]);
    lane.head = null;
    this.#emit({ type: 'compaction', mode: 'endpoint', ...fold });
  }

  #serverProblem(error: { code: string | null; message: string; status: number | null }): Problem {
    return this.#options.describeError?.({ code: error.code, message: error.message, model: this.#settings.model }) ?? serverProblem(error);
  }

  /** The lane's window as a full resend may carry it to the current model and storage. */
  #resendWindow(lane: Lane): ResponseInputItem[] {
    return lane.ledger.resendWindow(this.#resendRules());
  }

  #resendRules(): { store: boolean; reasoning: boolean } {
    return { store: this.#settings.store, reasoning: isReasoningModel(this.#settings.model) };
  }

  /** Sends one `response.create` (or HTTP POST) and waits for its terminal event. */
  async #request(
    lane: Lane,
    pending: ResponseInputItem[],
    onTextDelta: ((delta: string) => void) | undefined,
    generate = true,
    signal?: AbortSignal,
  ): Promise<{ result: RequestResult; request: ActiveRequest | null; metrics: RequestMetrics | null }> {
    const key = this.#chainKey;
    const current = this.#current;
    const head = lane.head;
    const chained =
      this.transport === 'websocket' && head !== null && current !== null && head.socket === current.socket && head.key === key && head.ledgerLength === lane.ledger.length;
    const fullInput = (): ResponseInputItem[] => [...this.#resendWindow(lane), ...pending];
    const input = chained ? pending : fullInput();
    const { mode, thresholdTokens } = this.#settings.compaction;
    const include = reasoningInclude(this.#settings.model, this.#settings.store);
    const create: ResponseCreateEvent = {
      type: 'response.create',
      model: this.#settings.model,
      instructions: this.#settings.instructions,
      store: this.#settings.store,
      ...(include === null ? {} : { include }),
      ...reasoningParams(this.#settings),
      input,
      ...(this.#settings.tools.length > 0 ? { tools: this.#settings.tools } : {}),
      ...(chained && head !== null ? { previous_response_id: head.responseId } : {}),
      ...(lane.name === defaultLane ? {} : { stream_id: lane.name }),
      ...(generate ? {} : { generate: false }),
      ...(mode === 'server' && generate ? { context_management: [{ type: 'compaction', compact_threshold: thresholdTokens }] } : {}),
    };

    const request = await new Promise<{ request: ActiveRequest; result: RequestResult }>((resolve) => {
      const { deadline } = lane;
      const stopListening = (): void => signal?.removeEventListener('abort', onAbort);
      const onAbort = (): void => {
        // The service has no cancel for a Responses request: leave its socket, which still
        // streams the reply on this lane, and let the next request start on a fresh one.
        this.#abandon(active.socket, 'reply cancelled');
        active.settle({ kind: 'failed', problem: cancelledProblem, wireError: null, disconnected: null, ended: 'cancelled' });
      };
      const active: ActiveRequest = {
        lane,
        socket: this.transport === 'websocket' ? (current?.socket ?? null) : null,
        sentAt: this.#options.now(),
        bytesUp: 0,
        bytesDown: 0,
        firstByteAt: null,
        firstTextAt: null,
        created: false,
        text: '',
        problem: null,
        wireError: null,
        onTextDelta,
        settle: (result) => {
          if (lane.active !== active) return;
          lane.active = null;
          // Paused, not stopped, on a WebSocket: the next request (the tool loop's, the next turn's)
          // takes up the timer still set instead of setting a new one (a timer set and cleared per
          // request was 5% of a turn's CPU). The open socket keeps the process alive anyway; over
          // HTTP nothing else does, so there the timer goes.
          if (this.transport === 'websocket') deadline.pause();
          else deadline.stop();
          stopListening();
          this.#closeRetiredIfIdle();
          resolve({ request: active, result });
        },
      };
      lane.active = active;
      deadline.start();
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.transport === 'http') {
        void this.#postOverHttp(active, create);
        return;
      }
      try {
        if (current === null) throw new SocketError(notConnected());
        active.bytesUp = current.socket.send(create);
      } catch (error) {
        active.settle({ kind: 'failed', problem: problemOf(error), wireError: null, disconnected: null });
      }
    });

    const { result } = request;
    const active = request.request;
    const usage = result.kind === 'response' ? result.usage : null;
    const metrics: RequestMetrics = {
      lane: lane.name,
      responseId: result.kind === 'response' ? result.responseId : null,
      chained,
      inputItems: input.length,
      bytesUp: active.bytesUp,
      // Derived from what went out; a request that never went out has nothing to compare.
      fullResendBytes: chained && head !== null && active.bytesUp > 0 ? fullResendSize(active.bytesUp, head.responseId, lane.ledger.resendBytes(this.#resendRules()), pending.length) : active.bytesUp,
      bytesDown: active.bytesDown,
      timeToFirstByteMs: active.firstByteAt === null ? null : active.firstByteAt - active.sentAt,
      timeToFirstTextMs: active.firstTextAt === null ? null : active.firstTextAt - active.sentAt,
      totalMs: this.#options.now() - active.sentAt,
      usage,
      costUsd: usage === null ? null : costUsd(this.#settings.model, usage),
    };
    return { result, request: active, metrics };
  }

  async #postOverHttp(active: ActiveRequest, create: ResponseCreateEvent): Promise<void> {
    const { type: _type, ...body } = create;
    const payload = JSON.stringify({ ...body, stream: true });
    active.bytesUp = Buffer.byteLength(payload);
    let response: Response;
    try {
      response = await this.#options.fetch(`${this.#options.baseUrl}/responses`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.#options.apiKey}`, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: payload,
      });
    } catch (error) {
      active.settle({ kind: 'failed', problem: unreachable(this.#options.baseUrl, error), wireError: null, disconnected: null });
      return;
    }
    if (!response.ok || response.body === null) {
      const problem = this.#serverProblem(await httpError(response));
      const headers = Object.fromEntries(response.headers.entries());
      active.settle({ kind: 'failed', problem, wireError: { code: null, type: null, message: problem.message, param: null, status: response.status, streamId: null, headers }, disconnected: null });
      return;
    }
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        active.bytesDown += chunk.byteLength;
        active.firstByteAt ??= this.#options.now();
        active.lane.deadline.heard();
        for (const data of parser.push(decoder.decode(chunk, { stream: true }))) this.#onText(data, active);
        if (active.lane.active !== active) return;
      }
    } catch (error) {
      // A connection cut mid-stream rejects the read: without this the turn would wait out the
      // stall deadline twice, and the rejection would go unhandled (the caller does not await).
      active.settle({ kind: 'failed', problem: { code: 'connection_failed', message: `The connection closed before the reply finished (${(error as Error)?.message ?? String(error)}).`, hint: 'Send your message again.' }, wireError: null, disconnected: null });
      return;
    }
    if (active.lane.active === active) {
      active.settle({ kind: 'failed', problem: { code: 'connection_failed', message: 'The server ended the stream before the response finished.', hint: 'Send your message again.' }, wireError: null, disconnected: null });
    }
  }

  // Sockets ------------------------------------------------------------------------------------

  #ensureSocket(): Promise<CurrentSocket> {
    if (this.#closed) return Promise.reject(new SocketError({ code: 'connection_failed', message: 'The session is closed.', hint: 'Restart Parley.' }));
    if (this.#current !== null && this.#current.socket.state.status === 'open') return Promise.resolve(this.#current);
    this.#connecting ??= this.#openWarmSocket().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #openWarmSocket(): Promise<CurrentSocket> {
    const opened = await this.#openSocket();
    this.#current = opened;
    await this.#warm(opened);
    return opened;
  }

  async #openSocket(): Promise<CurrentSocket> {
    const id = ++this.#socketCount;
    const url = responsesSocketUrl(this.#options.baseUrl);
    let socket: Socket | null = null;
    const created = new Socket({
      url,
      headers: { Authorization: `Bearer ${this.#options.apiKey}` },
      createWebSocket: this.#options.createWebSocket,
      now: this.#options.now,
      onMessage: (text, bytes) => this.#onFrame(text, bytes, socket),
      onStateChange: (state) => {
        if (state.status === 'closed' && socket !== null) this.#onClosed(socket, state);
        this.#emit({ type: 'socket', socketId: id, state });
      },
    });
    socket = created;
    await created.connect();
    return { id, socket: created, openedAt: this.#options.now() };
  }

  /** Warmup: `generate: false` with instructions, tools and the window, so the next turn is chained. */
  async #warm(target: CurrentSocket): Promise<void> {
    const lane = this.#lane(defaultLane);
    if (this.#settings.warmup === 'off' || lane.active !== null) return;
    if (this.#settings.warmup === 'auto' && lane.ledger.entries.length === 0) {
      const prompt = estimateTokens(this.#settings.instructions) + (this.#settings.tools.length > 0 ? estimateTokens(this.#settings.tools) : 0);
      if (prompt < warmupWorthTokens) return;
    }
    const startedAt = this.#options.now();
    const { result } = await this.#request(lane, [], undefined, false);
    if (result.kind !== 'response') return;
    lane.head = { responseId: result.responseId, socket: target.socket, ledgerLength: lane.ledger.length, key: this.#chainKey };
    this.#emit({ type: 'warmup', socketId: target.id, durationMs: this.#options.now() - startedAt, items: this.#resendWindow(lane).length, responseId: result.responseId });
  }

  /** Opens and warms a new socket, moves the chain to it, and closes the old one once it is idle. */
  async #rollover(old: CurrentSocket, ageMs: number): Promise<void> {
    const startedAt = this.#options.now();
    const next = await this.#openSocket();
    this.#current = next;
    await this.#warm(next);
    this.#emit({ type: 'rollover', fromSocketId: old.id, toSocketId: next.id, ageMs, gapMs: this.#options.now() - startedAt });
    this.#closeWhenIdle(old.socket, 'rolled over');
  }

  /**
   * Stops sending on a socket (it hit the connection limit, or its lane is stuck with a reply we
   * gave up on); the next request opens another, and this one is closed once idle.
   */
  #abandon(socket: Socket | null, reason: RetireReason): void {
    if (socket === null) return;
    if (this.#current?.socket === socket) this.#current = null;
    this.#closeWhenIdle(socket, reason);
  }

  get #stallTimeoutMs(): number {
    return this.#options.stallTimeoutMs ?? defaultStallTimeoutMs;
  }

  #closeWhenIdle(socket: Socket, reason: RetireReason): void {
    // A socket retired twice keeps its first reason: that is why it stopped being used.
    if (!this.#retired.has(socket)) this.#retired.set(socket, reason);
    this.#closeRetiredIfIdle();
  }

  #closeRetiredIfIdle(): void {
    if (this.#retired.size === 0) return;
    for (const [socket, reason] of this.#retired) {
      const busy = [...this.#lanes.values()].some((lane) => lane.active?.socket === socket);
      if (busy) continue;
      this.#retired.delete(socket);
      socket.close(1000, reason);
    }
  }

  async #reconnect(code: number): Promise<void> {
    for (let attempt = 1; attempt <= defaultBackoff.maxAttempts; attempt += 1) {
      const delayMs = backoffDelayMs(attempt, (this.#options.random ?? Math.random)());
      this.#emit({ type: 'reconnect', attempt, delayMs, code });
      await this.#options.sleep(delayMs);
      try {
        this.#current = null;
        await this.#ensureSocket();
        return;
      } catch (error) {
        const problem = problemOf(error);
        if (problem.code === 'unauthorized' || attempt === defaultBackoff.maxAttempts) throw error;
      }
    }
  }

  #onClosed(socket: Socket, state: Extract<SocketState, { status: 'closed' }>): void {
    this.#retired.delete(socket);
    for (const lane of this.#lanes.values()) {
      if (lane.head?.socket === socket) lane.head = null;
      const active = lane.active;
      if (active === null || active.socket !== socket) continue;
      active.settle({
        kind: 'failed',
        problem: state.problem ?? { code: 'connection_failed', message: 'The connection closed before the reply finished.', hint: 'Send your message again.' },
        wireError: null,
        disconnected: { code: state.code },
      });
    }
  }

  // Events -------------------------------------------------------------------------------------

  #onFrame(text: string, bytes: number, from: Socket | null): void {
    const parsed = parseServerFrame(text);
    if (parsed.ok) {
      // The frames of a reply, dozens per turn, each for one request: delivered without collecting
      // the targets first. Only an error with no lane and no default request may go to several.
      const named = (parsed.event as { stream_id?: unknown }).stream_id;
      const active = typeof named === 'string' ? this.#lanes.get(named)?.active : this.#lanes.get(defaultLane)?.active;
      if (active) {
        // A late frame from a socket the request did not go out on belongs to nobody.
        if (active.socket === from) this.#deliver(active, parsed.event, bytes);
        return;
      }
      if (typeof named === 'string' || parsed.event.type !== 'error') return;
    }
    const streamId = parsed.ok ? (parsed.event as { stream_id?: unknown }).stream_id : parsed.lane.kind === 'named' ? parsed.lane.streamId : undefined;
    const targets: ActiveRequest[] = [];
    if (typeof streamId === 'string') {
      const active = this.#lanes.get(streamId)?.active;
      if (active) targets.push(active);
    } else if (!parsed.ok && parsed.lane.kind === 'unreadable') {
      // A rejected frame whose lane cannot be read may belong to any request in flight.
      for (const lane of this.#lanes.values()) if (lane.active) targets.push(lane.active);
    } else {
      const main = this.#lanes.get(defaultLane)?.active;
      if (main) targets.push(main);
      // An error with no lane is connection-scoped (PROTOCOL.md §4 client 8): every waiting request gets it.
      else if ((parsed.ok ? parsed.event.type : parsed.type) === 'error') for (const lane of this.#lanes.values()) if (lane.active && !lane.active.created) targets.push(lane.active);
    }
    // A late frame from a socket the request did not go out on belongs to nobody.
    const mine = targets.filter((active) => active.socket === from);
    if (!parsed.ok) {
      // Skipping a broken terminal event would leave its request waiting for ever: end it instead.
      const ended = mine.filter((active) => parsed.ends === 'always' || (parsed.ends === 'before-created' && !active.created));
      for (const active of ended) {
        active.bytesDown += bytes;
        active.firstByteAt ??= this.#options.now();
        active.settle({
          kind: 'failed',
          problem: { code: 'malformed_frame', message: `The server ended the reply with a frame Parley could not read: ${parsed.reason}.`, hint: 'Send your message again; if it keeps happening, the server or a proxy in between is sending replies Parley does not understand.' },
          wireError: null,
          disconnected: null,
        });
      }
      if (ended.length === 0) {
        this.#emit({
          type: 'frame.rejected',
          problem: { code: 'malformed_frame', message: `The server sent a frame Parley could not read: ${parsed.reason}.`, hint: 'It was skipped. If replies look incomplete, send your message again.' },
        });
      }
      return;
    }
    for (const active of mine) this.#deliver(active, parsed.event, bytes);
  }

  #deliver(active: ActiveRequest, event: ResponsesServerEvent, bytes: number): void {
    active.bytesDown += bytes;
    active.firstByteAt ??= this.#options.now();
    // Every event restarts the stall count; it only notes the time (no timer per delta).
    active.lane.deadline.heard();
    this.#onEvent(active, event);
  }

  #onText(data: string, active: ActiveRequest): void {
    const parsed = parseServerFrame(data);
    if (!parsed.ok) {
      if (parsed.ends === 'always' || (parsed.ends === 'before-created' && !active.created)) {
        active.settle({
          kind: 'failed',
          problem: { code: 'malformed_frame', message: `The server ended the reply with an event Parley could not read: ${parsed.reason}.`, hint: 'Send your message again; if it keeps happening, the server or a proxy in between is sending replies Parley does not understand.' },
          wireError: null,
          disconnected: null,
        });
      } else {
        this.#emit({ type: 'frame.rejected', problem: { code: 'malformed_frame', message: `The server sent an event Parley could not read: ${parsed.reason}.`, hint: 'It was skipped.' } });
      }
      return;
    }
    try {
      this.#onEvent(active, parsed.event);
    } catch (error) {
      // Over HTTP nothing else would catch it: the stream reader would reject unseen and the turn wait for ever.
      active.settle({
        kind: 'failed',
        problem: { code: 'internal', message: `Parley failed while handling the server's "${parsed.event.type}" event (${(error as Error)?.message ?? String(error)}).`, hint: 'Send your message again; if it keeps happening, restart Parley.' },
        wireError: null,
        disconnected: null,
      });
    }
  }

  #onEvent(active: ActiveRequest, event: ResponsesServerEvent): void {
    switch (event.type) {
      case 'response.created':
        active.created = true;
        return;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        active.firstTextAt ??= this.#options.now();
        active.text += event.delta;
        active.onTextDelta?.(event.delta);
        return;
      case 'response.completed':
      case 'response.incomplete': {
        const usage = event.response.usage;
        active.settle({
          kind: 'response',
          status: event.type === 'response.completed' ? 'completed' : 'incomplete',
          responseId: event.response.id,
          output: event.response.output,
          usage: usage ? { input: usage.input_tokens, cached: usage.input_tokens_details?.cached_tokens ?? 0, output: usage.output_tokens } : null,
        });
        return;
      }
      case 'response.failed': {
        const error = event.response.error;
        active.settle({
          kind: 'failed',
          problem: active.problem ?? this.#serverProblem({ code: error?.code ?? null, message: error?.message ?? 'The response failed.', status: null }),
          wireError: active.wireError ?? { code: error?.code ?? null, type: null, message: error?.message ?? '', param: null, status: null, streamId: null },
          disconnected: null,
        });
        return;
      }
      case 'error': {
        const wireError = readWireError(event as unknown as { type: 'error' } & Record<string, unknown>);
        // A request error replaces `response.created`; an in-stream one precedes `response.failed`.
        if (!active.created) active.settle({ kind: 'failed', problem: this.#serverProblem(wireError), wireError, disconnected: null });
        else {
          active.problem = this.#serverProblem(wireError);
          active.wireError = wireError;
        }
        return;
      }
      default:
        return;
    }
  }
}

/** The Responses WebSocket URL for an API root: `http`→`ws`, else `wss` (SDK internal-base.ts:110-112). */
export function responsesSocketUrl(baseUrl: string): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/responses`);
  url.protocol = url.protocol === 'http:' || url.protocol === 'ws:' ? 'ws:' : 'wss:';
  return url.toString();
}

/**
 * The size of a chained request had it been sent unchained, with the whole window: what was sent,
 * without its `previous_response_id` field, with the window's items before the new ones. Nothing is
 * serialised again (the ledger keeps the window's size), so it costs the same at turn 1 and 1,000.
 */
function fullResendSize(sentBytes: number, previousResponseId: string, windowBytes: number, pendingItems: number): number {
  const chainField = Buffer.byteLength(`,"previous_response_id":${JSON.stringify(previousResponseId)}`);
  const windowItems = windowBytes - 2;
  const separator = windowItems > 0 && pendingItems > 0 ? 1 : 0;
  return sentBytes - chainField + windowItems + separator;
}

const cancelledProblem: Problem = { code: 'busy', message: 'Cancelled: the agent stopped before finishing.', hint: 'Ask again when you are ready.' };

function cancelled(text: string, metrics: TurnSummary | null): TurnOutcome {
  return { status: 'failed', text, problem: cancelledProblem, metrics };
}

/** The server turned the request down for what it carried (so resending it would fail again). */
function refusesInput(error: WireError | null): boolean {
  if (error === null || error.status === null) return false;
  return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

function stalledProblem(silentMs: number): Problem {
  return {
    code: 'connection_failed',
    message: `The server stopped answering: nothing arrived for ${Math.round(silentMs / 1000)} s, and a second try stalled too.`,
    hint: 'Send your message again in a moment; if it keeps happening, check your network or status.openai.com.',
  };
}

function outputText(output: readonly ResponseOutputItem[]): string | null {
  const parts = output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : part.refusal));
  return parts.length === 0 ? null : parts.join('');
}

function emptySummary(): TurnSummary {
  return {
    requests: 0,
    toolCalls: 0,
    chained: false,
    inputItemsSent: 0,
    bytesSent: 0,
    fullResendBytes: 0,
    bytesReceived: 0,
    timeToFirstByteMs: null,
    timeToFirstDeltaMs: null,
    totalMs: 0,
    inputTokens: 0,
    cachedTokens: 0,
    outputTokens: 0,
    costUsd: null,
  };
}

function accumulate(summary: TurnSummary, metrics: RequestMetrics): void {
  const first = summary.requests === 0;
  summary.requests += 1;
  if (first) {
    summary.chained = metrics.chained;
    summary.timeToFirstByteMs = metrics.timeToFirstByteMs;
  }
  summary.inputItemsSent += metrics.inputItems;
  summary.bytesSent += metrics.bytesUp;
  summary.fullResendBytes += metrics.fullResendBytes;
  summary.bytesReceived += metrics.bytesDown;
  if (summary.timeToFirstDeltaMs === null && metrics.timeToFirstTextMs !== null) {
    summary.timeToFirstDeltaMs = metrics.timeToFirstTextMs;
  }
  if (metrics.usage !== null) {
    summary.inputTokens += metrics.usage.input;
    summary.cachedTokens += metrics.usage.cached;
    summary.outputTokens += metrics.usage.output;
  }
  if (metrics.costUsd !== null) summary.costUsd = (summary.costUsd ?? 0) + metrics.costUsd;
}

function finish(summary: TurnSummary, startedAt: number, now: number): TurnSummary {
  return { ...summary, totalMs: now - startedAt };
}

function serverProblem(error: { code: string | null; message: string; status: number | null }): Problem {
  if (error.status === 401 || error.code === 'invalid_api_key') {
    return { code: 'unauthorized', message: `The server rejected the API key: ${error.message}`, hint: 'Check OPENAI_API_KEY: it may be mistyped or revoked.' };
  }
  const hint =
    error.status === 429 || error.code === 'insufficient_quota' || error.code === 'rate_limit_exceeded'
      ? 'You are rate limited or out of quota: wait a moment, or check your plan and billing.'
      : error.status !== null && error.status >= 500
        ? 'The service had a problem. Send your message again in a moment.'
        : 'Send your message again; if it keeps failing, start a new conversation.';
  return { code: 'server_error', message: `The server could not answer: ${error.message}`, hint };
}

async function httpError(response: Response): Promise<{ code: string | null; message: string; status: number }> {
  let message = `HTTP ${response.status}`;
  let code: string | null = null;
  try {
    const body = (await response.json()) as { error?: { message?: string; code?: string | null } };
    if (body.error?.message) message = body.error.message;
    if (typeof body.error?.code === 'string') code = body.error.code;
  } catch {
    // keep the status line
  }
  return { code: response.status === 401 ? 'invalid_api_key' : code, message, status: response.status };
}

/** A request that never reached the server; fetch's own "fetch failed" says why only in its cause. */
function unreachable(baseUrl: string, error: unknown, purpose = ''): Problem {
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: { message?: unknown } })?.cause?.message;
  const reason = typeof cause === 'string' && cause !== '' ? `${message} (${cause})` : message;
  return { code: 'connection_failed', message: `Could not reach ${baseUrl}${purpose}: ${reason}.`, hint: 'Check your network and OPENAI_BASE_URL, then send your message again.' };
}

function notConnected(): Problem {
  return { code: 'connection_failed', message: 'Not connected.', hint: 'Wait for the connection indicator to show connected, then try again.' };
}

function problemOf(error: unknown): Problem {
  if (error instanceof SocketError) return error.problem;
  return { code: 'internal', message: `Unexpected error: ${(error as Error)?.message ?? String(error)}`, hint: 'Try again; if it persists, restart Parley.' };
}
