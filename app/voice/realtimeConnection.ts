/**
 * The Realtime socket layer both voice sessions stand on (the speech-to-speech socket and the
 * transcription socket): connect and wait for `session.created`, `session.update` answered by
 * its own `session.updated` or the `error` that refused it (waiters.ts), frames parsed once at
 * the edge (app/protocol/realtime.ts), and recovery with backoff after a recoverable close. The
 * session above it owns the conversation and never touches a socket.
 */
import type { Problem } from '../contract';
import { parseRealtimeFrame, type ParsedRealtimeFrame, type RealtimeClientEvent, type RealtimeEvent } from '../protocol/realtime';
import { realTimer, type SetTimer } from '../transport/deadline';
import { isRecoverableClose, reopenWithBackoff } from '../transport/reconnect';
import { Socket, SocketError, type SocketState, type WebSocketFactory } from '../transport/socket';
import type { VoiceSessionEvent, VoiceState } from './session';
import { ServerEventWaiters, UnansweredRequestError } from './waiters';

export type InvalidFrame = Extract<ParsedRealtimeFrame, { kind: 'invalid' }>;
type Closed = Extract<SocketState, { status: 'closed' }>;
/** The body of a `session.update`: a speech-to-speech or a transcription session. */
export type SessionBody = Extract<RealtimeClientEvent, { type: 'session.update' }>['session'];

/** The connection's lifecycle, as the session above it sees it. */
export type ConnectionLifecycle = { status: 'idle' } | { status: 'open'; socket: Socket } | { status: 'recovering'; since: number } | { status: 'closed' };

/** What the session above the socket answers for. */
export interface ConnectionHost {
  /** The `session.update` body for the current settings, sent after each `session.created`. */
  sessionConfig(): SessionBody;
  /** A parsed event no waiter claimed. */
  onEvent(event: RealtimeEvent): void;
  /** A known event with missing or wrong fields that no waiter claimed (already reported). */
  onInvalid(frame: InvalidFrame): void;
  /** The socket closed under the session (not by `close`): forget what was in flight. */
  onLost(state: Closed): Promise<void> | void;
  /** Reopened: replay what the new server session must know; returns how many items went. */
  onRecovered(): number;
  emit(event: VoiceSessionEvent): void;
  setState(state: VoiceState): void;
  /** Listening or idle, by the turn mode. */
  idleState(): VoiceState;
}

export interface RealtimeConnectionOptions {
  /** How messages name this socket: the `voice` or the `transcription` connection. */
  label: 'voice' | 'transcription';
  url: () => string;
  apiKey: string;
  createWebSocket: WebSocketFactory;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  setTimer?: SetTimer;
  /** How long `session.created` and each `session.update`'s answer may take before they fail. */
  answerDeadlineMs: number;
  /** Names the `session.update` event ids, e.g. `parley_voice_update`. */
  updatePrefix: string;
  /** The hint when recovery gave up. */
  recoveryHint: string;
  host: ConnectionHost;
}

export class RealtimeConnection {
  readonly #options: RealtimeConnectionOptions;
  readonly #waiters: ServerEventWaiters;
  #lifecycle: ConnectionLifecycle = { status: 'idle' };
  #socket: Socket | null = null;

  constructor(options: RealtimeConnectionOptions) {
    this.#options = options;
    this.#waiters = new ServerEventWaiters(options.updatePrefix, {
      ms: options.answerDeadlineMs,
      setTimer: options.setTimer ?? realTimer,
      unanswered: (what) => ({
        code: 'connection_failed',
        message: `The ${options.label} server did not answer ${what} within ${Math.round(options.answerDeadlineMs / 1000)} s.`,
        hint: options.recoveryHint,
      }),
    });
  }

  get lifecycle(): ConnectionLifecycle {
    return this.#lifecycle;
  }

  /** Opens the socket and configures the session; rejects when either fails. */
  async open(): Promise<void> {
    const socket = new Socket({
      url: this.#options.url(),
      headers: { Authorization: `Bearer ${this.#options.apiKey}` },
      createWebSocket: this.#options.createWebSocket,
      now: this.#options.now,
      onMessage: (text) => this.#onFrame(text),
      onStateChange: (state) => {
        this.#options.host.emit({ type: 'socket', state });
        if (state.status === 'closed' && this.#socket === socket) void this.#onClosed(state);
      },
    });
    this.#socket = socket;
    const created = this.#waiters.created();
    // When the socket never opens, nothing awaits `created`, and the close rejects it: that must
    // not surface as an unhandled rejection (a recovery's failed attempt is expected).
    created.catch(() => undefined);
    await socket.connect();
    try {
      await created;
      await this.update(this.#options.host.sessionConfig());
    } catch (error) {
      // A server that went quiet on a fresh socket is not one to keep: drop it, so whoever opened
      // it (the user's connect, or a recovery that tries again) decides what comes next.
      if (error instanceof UnansweredRequestError && this.#socket === socket) {
        this.#socket = null;
        socket.close();
      }
      throw error;
    }
    // Closed while this socket was opening (a recovery's attempt in flight): it must not stay open.
    if (this.#closedForGood()) {
      socket.close();
      return;
    }
    if (this.#lifecycle.status !== 'recovering') this.#lifecycle = { status: 'open', socket };
  }

  /** Sends on the open socket; with none open the event is dropped (recovery replays what matters). */
  send(event: RealtimeClientEvent): void {
    const socket = this.#socket;
    if (socket === null || socket.state.status !== 'open') return;
    socket.send(event);
  }

  /**
   * One `session.update`, tagged so that its own answer settles it (see ServerEventWaiters). With
   * no open socket there is nothing to wait for: the session opens with the current settings.
   */
  update(session: SessionBody): Promise<void> {
    const socket = this.#socket;
    if (socket === null || socket.state.status !== 'open') return Promise.resolve();
    const { eventId, answered } = this.#waiters.update();
    socket.send({ type: 'session.update', event_id: eventId, session } satisfies RealtimeClientEvent);
    return answered;
  }

  /** Closes for good: no recovery follows. */
  close(): void {
    this.#lifecycle = { status: 'closed' };
    this.#socket?.close();
  }

  /** Read through a method: the lifecycle changes across awaits, which narrowing cannot see. */
  #closedForGood(): boolean {
    return this.#lifecycle.status === 'closed';
  }

  #onFrame(text: string): void {
    const { host, label } = this.#options;
    const parsed = parseRealtimeFrame(text);
    switch (parsed.kind) {
      case 'unreadable':
        host.emit({ type: 'problem', problem: { code: 'malformed_frame', message: `The ${label} server sent a frame Parley could not read: ${parsed.reason}.`, hint: 'It was skipped.' } });
        return;
      case 'unknown':
        return;
      case 'invalid': {
        // A known event with missing or wrong fields (PROTOCOL.md §4 client 19): skipped and
        // reported, and whatever waited on it settles instead of waiting forever.
        const problem: Problem = { code: 'malformed_frame', message: `The ${label} server sent a ${parsed.type} event Parley could not use (${parsed.reason}).`, hint: 'It was skipped.' };
        host.emit({ type: 'frame.rejected', problem });
        if (!this.#waiters.offerInvalid(parsed, problem)) host.onInvalid(parsed);
        return;
      }
      case 'event':
        if (!this.#waiters.offer(parsed.event)) host.onEvent(parsed.event);
    }
  }

  async #onClosed(state: Closed): Promise<void> {
    const { host, label } = this.#options;
    // A normal close is not retried (see below), so only a recoverable one may promise a reconnect.
    const hint = isRecoverableClose(state.code) ? 'It reconnects on its own.' : 'Voice is off now and does not reconnect by itself.';
    this.#waiters.rejectAll(new SocketError(state.problem ?? { code: 'connection_failed', message: `The ${label} connection closed (code ${state.code}).`, hint }));
    if (this.#closedForGood()) return;
    await host.onLost(state);
    if (!isRecoverableClose(state.code)) {
      this.#lifecycle = { status: 'closed' };
      host.setState(state.code === 3000 ? 'error' : 'offline');
      if (state.problem !== null) host.emit({ type: 'problem', problem: state.problem });
      return;
    }
    await this.#recover(state.code);
  }

  /** Reopens after an expiry or a recoverable close, then has the session replay what it must. */
  async #recover(code: number | null): Promise<void> {
    if (this.#lifecycle.status === 'recovering') return;
    const { host, label } = this.#options;
    const since = this.#options.now();
    this.#lifecycle = { status: 'recovering', since };
    host.setState('connecting');
    try {
      await reopenWithBackoff(() => this.open(), {
        sleep: this.#options.sleep,
        random: this.#options.random ?? Math.random,
        onAttempt: (attempt, delayMs) => host.emit({ type: 'reconnect', attempt, delayMs, code }),
        stopped: () => this.#closedForGood(),
      });
      if (this.#closedForGood()) return;
      if (this.#socket !== null) this.#lifecycle = { status: 'open', socket: this.#socket };
      const itemsReplayed = host.onRecovered();
      host.emit({ type: 'recovered', gapMs: this.#options.now() - since, itemsReplayed });
      host.setState(host.idleState());
    } catch (error) {
      if (this.#lifecycle.status === 'recovering') this.#lifecycle = { status: 'idle' };
      host.setState('error');
      host.emit({ type: 'problem', problem: error instanceof SocketError ? error.problem : { code: 'connection_failed', message: `The ${label} connection could not be restored: ${(error as Error).message}`, hint: this.#options.recoveryHint } });
    }
  }
}
