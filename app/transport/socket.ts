/**
 * One `ws` connection as a state machine, with byte meters and failures explained in words a
 * user can act on. The WebSocket constructor is injected: only the composition root makes I/O.
 */
import type { ClientOptions, RawData, WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Problem } from '../contract';
import { ProblemError } from '../contract/problemError';

export type WebSocketFactory = (url: string, options: ClientOptions) => WebSocket;

export type SocketState =
  | { status: 'idle' }
  | { status: 'connecting'; startedAt: number }
  | { status: 'open'; openedAt: number }
  | { status: 'closed'; code: number; reason: string; problem: Problem | null };

export interface SocketMeters {
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  framesReceived: number;
}

/** The timer functions the heartbeat uses; injected so tests can drive them. */
export interface Timers {
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/**
 * Liveness: a ping every `intervalMs`; when nothing at all (pong or frame) arrives within
 * `timeoutMs` of a ping, the connection is dead and is dropped as an abnormal close (1006).
 */
export interface Heartbeat {
  intervalMs: number;
  timeoutMs: number;
}

// Client-side pings, as openai-agents-js does for Responses WebSocket mode (`pingIntervalMs`/`pingTimeoutMs`,
// "Responses websocket pong timeout", packages/agents-openai/src/responsesWebSocketConnection.ts @6d0c61a).
export const defaultHeartbeat: Heartbeat = { intervalMs: 15_000, timeoutMs: 10_000 };

export interface SocketOptions {
  url: string;
  headers: Record<string, string>;
  createWebSocket: WebSocketFactory;
  now: () => number;
  /** Frames larger than this close the socket with 1009 instead of being buffered. */
  maxPayloadBytes?: number;
  /**
   * Called once per frame. If it throws, the socket contains the error (it never reaches `ws`),
   * stops delivering frames and drops the connection with an `internal` problem in its closed
   * state, so whoever waits on this connection learns why and can start again on a fresh one.
   */
  onMessage: (text: string, bytes: number) => void;
  onStateChange?: (state: SocketState) => void;
  /** Defaults to `defaultHeartbeat`; `null` turns it off. */
  heartbeat?: Heartbeat | null;
  /** Defaults to the global timers, looked up when used. */
  timers?: Timers;
}

const normalClose = 1000;
const defaultMaxPayloadBytes = 16 * 1024 * 1024;
const globalTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class Socket {
  #options: SocketOptions;
  #ws: WebSocket | null = null;
  #state: SocketState = { status: 'idle' };
  #meters: SocketMeters = { bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0 };

  constructor(options: SocketOptions) {
    this.#options = options;
  }

  get state(): SocketState {
    return this.#state;
  }

  get meters(): Readonly<SocketMeters> {
    return this.#meters;
  }

  get url(): string {
    return this.#options.url;
  }

  /** Opens the connection; rejects with a `SocketError` carrying a user-facing problem. */
  connect(): Promise<void> {
    if (this.#state.status !== 'idle') throw new Error(`Socket.connect called in state ${this.#state.status}`);
    const { url, headers, createWebSocket, now, maxPayloadBytes, heartbeat: liveness = defaultHeartbeat, timers = globalTimers } = this.#options;
    this.#setState({ status: 'connecting', startedAt: now() });

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let failure: Problem | null = null;
      const ws = createWebSocket(url, { headers, maxPayload: maxPayloadBytes ?? defaultMaxPayloadBytes, perMessageDeflate: false });
      this.#ws = ws;
      /** Ends the connection at once, for a reason the closed state will carry. */
      const drop = (problem: Problem): void => {
        failure ??= problem;
        heartbeat.stop();
        ws.terminate();
      };
      const heartbeat = startHeartbeat(ws, liveness, timers, (waitedMs) => drop(serverSilent(url, waitedMs)));

      ws.on('open', () => {
        settled = true;
        this.#setState({ status: 'open', openedAt: now() });
        heartbeat.start();
        resolve();
      });
      ws.on('unexpected-response', (_request, response: IncomingMessage) => {
        failure = upgradeRefused(url, response.statusCode ?? 0);
        response.resume();
        ws.terminate();
      });
      ws.on('error', (error: NodeJS.ErrnoException) => {
        failure ??= frameProblem(error) ?? connectionProblem(url, error);
      });
      ws.on('pong', heartbeat.heard);
      ws.on('ping', heartbeat.heard);
      ws.on('message', (data: RawData) => {
        heartbeat.heard();
        // Frames already read when a handler failed belong to a connection we are dropping.
        if (failure !== null) return;
        const buffer = toBuffer(data);
        this.#meters.bytesReceived += buffer.byteLength;
        this.#meters.framesReceived += 1;
        try {
          this.#options.onMessage(buffer.toString('utf8'), buffer.byteLength);
        } catch (error) {
          drop(handlerFailed(error));
        }
      });
      ws.on('close', (code: number, reasonBuffer: Buffer) => {
        heartbeat.stop();
        const reason = reasonBuffer.toString('utf8');
        const problem = failure ?? closeProblem(code, reason);
        this.#ws = null;
        this.#setState({ status: 'closed', code, reason, problem });
        if (!settled) {
          settled = true;
          reject(new SocketError(problem ?? connectionProblem(url, new Error(`closed with code ${code}`))));
        }
      });
    });
  }

  /** Sends one JSON frame and returns its size in bytes. */
  send(message: unknown): number {
    const ws = this.#ws;
    if (this.#state.status !== 'open' || ws === null) throw new SocketError(notConnected(this.#options.url));
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    ws.send(text);
    this.#meters.bytesSent += bytes;
    this.#meters.framesSent += 1;
    return bytes;
  }

  close(code = normalClose, reason = 'client closing'): void {
    if (this.#ws === null) {
      if (this.#state.status === 'idle') this.#setState({ status: 'closed', code, reason, problem: null });
      return;
    }
    this.#ws.close(code, reason);
  }

  #setState(state: SocketState): void {
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}

export class SocketError extends ProblemError {
  override name = 'SocketError';
}

interface RunningHeartbeat {
  start(): void;
  /** Any sign of life from the server: a pong, a ping, a frame. */
  heard(): void;
  stop(): void;
}

function startHeartbeat(ws: WebSocket, heartbeat: Heartbeat | null, timers: Timers, onSilent: (waitedMs: number) => void): RunningHeartbeat {
  if (heartbeat === null) return { start: () => undefined, heard: () => undefined, stop: () => undefined };
  let pingTimer: unknown = null;
  let deadline: unknown = null;
  let stopped = false;
  const ping = (): void => {
    pingTimer = timers.setTimeout(ping, heartbeat.intervalMs);
    // A failed ping (the socket is already closing) shows up as the close that follows.
    ws.ping(undefined, undefined, () => undefined);
    deadline ??= timers.setTimeout(() => onSilent(heartbeat.timeoutMs), heartbeat.timeoutMs);
  };
  return {
    start() {
      if (!stopped) pingTimer = timers.setTimeout(ping, heartbeat.intervalMs);
    },
    heard() {
      if (deadline === null) return;
      timers.clearTimeout(deadline);
      deadline = null;
    },
    stop() {
      stopped = true;
      if (pingTimer !== null) timers.clearTimeout(pingTimer);
      if (deadline !== null) timers.clearTimeout(deadline);
      pingTimer = deadline = null;
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function upgradeRefused(url: string, status: number): Problem {
  if (status === 401 || status === 403) {
    return {
      code: 'unauthorized',
      message: `${hostOf(url)} rejected the API key (HTTP ${status}).`,
      hint: 'Check OPENAI_API_KEY: it may be mistyped, revoked, or for another organisation. Unset it to use the offline emulator.',
    };
  }
  return {
    code: 'connection_failed',
    message: `${hostOf(url)} answered HTTP ${status} instead of opening a WebSocket at ${url}.`,
    hint: 'Check that OPENAI_BASE_URL points at an API root that supports WebSocket mode, such as https://api.openai.com/v1.',
  };
}

function connectionProblem(url: string, error: NodeJS.ErrnoException): Problem {
  switch (error.code) {
    case 'ECONNREFUSED':
      return {
        code: 'connection_refused',
        message: `Nothing is accepting connections at ${hostOf(url)} (connection refused).`,
        hint: 'Check OPENAI_BASE_URL and that the server is running.',
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return {
        code: 'connection_failed',
        message: `The host ${hostOf(url)} could not be found.`,
        hint: 'Check OPENAI_BASE_URL and your network connection.',
      };
    default:
      return {
        code: 'connection_failed',
        message: `Could not connect to ${hostOf(url)}: ${error.message}.`,
        hint: 'Check your network connection and OPENAI_BASE_URL.',
      };
  }
}

/** `ws` fails a connection with a `WS_ERR_*` code when a frame breaks the protocol or our size limit. */
function frameProblem(error: NodeJS.ErrnoException): Problem | null {
  if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return {
      code: 'malformed_frame',
      message: 'The server sent a message larger than Parley accepts, so the connection was closed.',
      hint: 'Send your message again; the connection reopens on its own.',
    };
  }
  if (error.code?.startsWith('WS_ERR_')) {
    return {
      code: 'malformed_frame',
      message: `The server broke the WebSocket protocol (${error.message}), so the connection was closed.`,
      hint: 'Send your message again; the connection reopens on its own.',
    };
  }
  return null;
}

function serverSilent(url: string, waitedMs: number): Problem {
  return {
    code: 'connection_failed',
    message: `${hostOf(url)} stopped answering (no reply to a ping within ${waitedMs < 1000 ? `${waitedMs} ms` : `${Math.round(waitedMs / 1000)} s`}), so Parley dropped the connection.`,
    hint: 'It reconnects on its own. If this keeps happening, check your network connection.',
  };
}

function handlerFailed(error: unknown): Problem {
  return {
    code: 'internal',
    message: `Parley failed while handling a message from the server (${(error as Error)?.message ?? String(error)}), so it dropped the connection.`,
    hint: 'Send your message again; if it keeps happening, restart Parley.',
  };
}

function closeProblem(code: number, reason: string): Problem | null {
  if (code === normalClose) return null;
  const said = reason ? `: ${reason}` : '';
  return {
    code: 'connection_failed',
    message: `The connection closed unexpectedly (code ${code}${said}).`,
    hint: 'Send your message again; the connection reopens on its own.',
  };
}

function notConnected(url: string): Problem {
  return {
    code: 'connection_failed',
    message: `Not connected to ${hostOf(url)}.`,
    hint: 'Wait for the connection indicator to show connected, then try again.',
  };
}
