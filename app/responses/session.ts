/**
 * ResponsesSession: the agent socket. Sends `response.create` with `store: false`, chains each
 * turn to the last one with `previous_response_id` and only the new items while the socket that
 * holds the cache is alive, and resends the whole ledger when it is not.
 */
import type { Problem, TurnMetrics } from '../contract';
import {
  parseServerFrame,
  readWireError,
  type ResponseCreateEvent,
  type ResponseInputItem,
  type ResponseOutputItem,
  type ResponsesServerEvent,
} from '../protocol/responses';
import { outputAsInput } from '../protocol/responses';
import { Socket, SocketError, type SocketState, type WebSocketFactory } from '../transport/socket';
import { Ledger } from './ledger';

export interface ResponsesSessionOptions {
  /** The WebSocket endpoint, e.g. `wss://api.openai.com/v1/responses`. */
  url: string;
  apiKey: string;
  model: string;
  instructions: string;
  store?: boolean;
  createWebSocket: WebSocketFactory;
  now: () => number;
  onEvent?: (event: ResponsesSessionEvent) => void;
}

export type ResponsesSessionEvent =
  | { type: 'socket'; state: SocketState }
  | { type: 'frame.rejected'; problem: Problem }
  | { type: 'rehydrated'; reason: string };

export interface TurnHandlers {
  onTextDelta?: (delta: string) => void;
}

export type TurnOutcome =
  | { status: 'completed' | 'incomplete'; text: string; responseId: string; metrics: Omit<TurnMetrics, 'turnId'> }
  | { status: 'failed'; text: string; problem: Problem; metrics: Omit<TurnMetrics, 'turnId'> | null };

interface Chain {
  responseId: string;
  socket: Socket;
  /** Ledger length the chain's last response already covers. */
  coveredItems: number;
}

interface ActiveRequest {
  chained: boolean;
  sentAt: number;
  bytesSent: number;
  inputItemsSent: number;
  created: boolean;
  responseId: string | null;
  text: string;
  firstDeltaAt: number | null;
  problem: Problem | null;
  handlers: TurnHandlers;
  settle: (result: RequestResult) => void;
}

type RequestResult =
  | { kind: 'response'; status: 'completed' | 'incomplete'; responseId: string; output: ResponseOutputItem[] }
  | { kind: 'failed'; problem: Problem; error: { code: string | null } | null };

export class ResponsesSession {
  #options: ResponsesSessionOptions;
  #ledger = new Ledger();
  #socket: Socket | null = null;
  #chain: Chain | null = null;
  #active: ActiveRequest | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #connecting: Promise<Socket> | null = null;
  #closed = false;

  constructor(options: ResponsesSessionOptions) {
    this.#options = options;
  }

  get chainHead(): string | null {
    return this.#chain?.responseId ?? null;
  }

  get ledgerLength(): number {
    return this.#ledger.length;
  }

  get meters(): { bytesSent: number; bytesReceived: number } {
    return this.#socket?.meters ?? { bytesSent: 0, bytesReceived: 0 };
  }

  /** Opens the socket now so the first turn does not pay for the handshake. */
  async connect(): Promise<void> {
    await this.#ensureSocket();
  }

  /** Runs one turn; turns queue behind each other, one response in flight at a time. */
  runTurn(input: readonly ResponseInputItem[], handlers: TurnHandlers = {}): Promise<TurnOutcome> {
    const turn = this.#queue.then(() => this.#runTurn(input, handlers));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** Forgets the conversation; the next turn starts a new chain. */
  reset(): void {
    this.#ledger.clear();
    this.#chain = null;
  }

  close(): void {
    this.#closed = true;
    this.#socket?.close();
  }

  async #runTurn(input: readonly ResponseInputItem[], handlers: TurnHandlers): Promise<TurnOutcome> {
    let socket: Socket;
    try {
      socket = await this.#ensureSocket();
    } catch (error) {
      return { status: 'failed', text: '', problem: problemOf(error), metrics: null };
    }

    let result = await this.#request(socket, input, handlers, this.#chainOn(socket));
    if (result.outcome.kind === 'failed' && result.outcome.error?.code === 'previous_response_not_found' && result.request.chained) {
      // The server lost the cached chain (PROTOCOL.md §1): resend the ledger once, never loop.
      this.#chain = null;
      this.#options.onEvent?.({ type: 'rehydrated', reason: 'previous_response_not_found' });
      result = await this.#request(socket, input, handlers, null);
    }

    const { request, outcome } = result;
    const metrics = {
      timeToFirstDeltaMs: request.firstDeltaAt === null ? null : request.firstDeltaAt - request.sentAt,
      totalMs: this.#options.now() - request.sentAt,
      bytesSent: request.bytesSent,
      inputItemsSent: request.inputItemsSent,
      chained: request.chained,
    };
    if (outcome.kind === 'failed') {
      // A same-lane failure evicts the referenced response on the server (PROTOCOL.md §1).
      if (request.chained) this.#chain = null;
      return { status: 'failed', text: request.text, problem: outcome.problem, metrics };
    }
    this.#ledger.append(input);
    this.#ledger.append(outcome.output.map(outputAsInput));
    this.#chain = { responseId: outcome.responseId, socket, coveredItems: this.#ledger.length };
    return { status: outcome.status, text: request.text, responseId: outcome.responseId, metrics };
  }

  #chainOn(socket: Socket): Chain | null {
    const chain = this.#chain;
    return chain !== null && chain.socket === socket && chain.coveredItems === this.#ledger.length ? chain : null;
  }

  #request(
    socket: Socket,
    input: readonly ResponseInputItem[],
    handlers: TurnHandlers,
    chain: Chain | null,
  ): Promise<{ request: ActiveRequest; outcome: RequestResult }> {
    const items = chain === null ? [...this.#ledger.items, ...input] : [...input];
    const event: ResponseCreateEvent = {
      type: 'response.create',
      model: this.#options.model,
      instructions: this.#options.instructions,
      store: this.#options.store ?? false,
      input: items,
      ...(chain === null ? {} : { previous_response_id: chain.responseId }),
    };
    return new Promise((resolve) => {
      const request: ActiveRequest = {
        chained: chain !== null,
        sentAt: this.#options.now(),
        bytesSent: 0,
        inputItemsSent: items.length,
        created: false,
        responseId: null,
        text: '',
        firstDeltaAt: null,
        problem: null,
        handlers,
        settle: (outcome) => {
          this.#active = null;
          resolve({ request, outcome });
        },
      };
      this.#active = request;
      try {
        request.bytesSent = socket.send(event);
      } catch (error) {
        request.settle({ kind: 'failed', problem: problemOf(error), error: null });
      }
    });
  }

  #ensureSocket(): Promise<Socket> {
    if (this.#closed) {
      return Promise.reject(new SocketError({ code: 'connection_failed', message: 'The session is closed.', hint: 'Restart Parley.' }));
    }
    if (this.#socket?.state.status === 'open') return Promise.resolve(this.#socket);
    this.#connecting ??= this.#openSocket().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #openSocket(): Promise<Socket> {
    const { url, apiKey, createWebSocket, now } = this.#options;
    const socket = new Socket({
      url,
      headers: { Authorization: `Bearer ${apiKey}` },
      createWebSocket,
      now,
      onMessage: (text) => this.#onFrame(text),
      onStateChange: (state) => {
        if (state.status === 'closed') this.#onClosed(socket, state);
        this.#options.onEvent?.({ type: 'socket', state });
      },
    });
    this.#socket = socket;
    await socket.connect();
    return socket;
  }

  #onClosed(socket: Socket, state: Extract<SocketState, { status: 'closed' }>): void {
    if (this.#chain?.socket === socket) this.#chain = null;
    if (this.#socket !== socket || this.#active === null) return;
    // Never replay: the request may have run on the server. Surface it instead.
    this.#active.settle({
      kind: 'failed',
      problem: state.problem ?? {
        code: 'connection_failed',
        message: 'The connection closed before the reply finished.',
        hint: 'Send your message again.',
      },
      error: null,
    });
  }

  #onFrame(text: string): void {
    const parsed = parseServerFrame(text);
    if (!parsed.ok) {
      this.#options.onEvent?.({
        type: 'frame.rejected',
        problem: {
          code: 'malformed_frame',
          message: `The server sent a frame Parley could not read: ${parsed.reason}.`,
          hint: 'It was skipped. If replies look incomplete, send your message again.',
        },
      });
      return;
    }
    const request = this.#active;
    if (request !== null) this.#onEvent(request, parsed.event);
  }

  #onEvent(request: ActiveRequest, event: ResponsesServerEvent): void {
    switch (event.type) {
      case 'response.created':
        request.created = true;
        request.responseId = event.response.id;
        return;
      case 'response.output_text.delta':
        request.firstDeltaAt ??= this.#options.now();
        request.text += event.delta;
        request.handlers.onTextDelta?.(event.delta);
        return;
      case 'response.completed':
      case 'response.incomplete':
        request.settle({
          kind: 'response',
          status: event.type === 'response.completed' ? 'completed' : 'incomplete',
          responseId: event.response.id,
          output: event.response.output,
        });
        return;
      case 'response.failed': {
        const fromResponse = event.response.error;
        request.settle({
          kind: 'failed',
          problem:
            request.problem ??
            serverProblem({ code: fromResponse?.code ?? null, message: fromResponse?.message ?? 'The response failed.', status: null }),
          error: { code: fromResponse?.code ?? null },
        });
        return;
      }
      case 'error': {
        const error = readWireError(event as unknown as { type: 'error' } & Record<string, unknown>);
        const problem = serverProblem(error);
        // A request error arrives instead of `response.created`; an in-stream one precedes `response.failed`.
        if (!request.created) request.settle({ kind: 'failed', problem, error: { code: error.code } });
        else request.problem = problem;
        return;
      }
      default:
        return;
    }
  }
}

function serverProblem(error: { code: string | null; message: string; status: number | null }): Problem {
  const status = error.status;
  const hint =
    status === 429 || error.code === 'insufficient_quota' || error.code === 'rate_limit_exceeded'
      ? 'You are rate limited or out of quota: wait a moment, or check your plan and billing.'
      : status !== null && status >= 500
        ? 'The service had a problem. Send your message again in a moment.'
        : 'Send your message again; if it keeps failing, start a new conversation.';
  return { code: 'server_error', message: `The server could not answer: ${error.message}`, hint };
}

function problemOf(error: unknown): Problem {
  if (error instanceof SocketError) return error.problem;
  return { code: 'internal', message: `Unexpected error: ${(error as Error)?.message ?? String(error)}`, hint: 'Try again; if it persists, restart Parley.' };
}
