/**
 * RealtimeSession: the voice socket. Mic frames go out as `input_audio_buffer.append`; the
 * assistant's audio goes to the PlayoutBuffer; transcripts stream both ways; tool calls run once
 * and go back with exactly one `response.create`; and when the user talks over the assistant,
 * playback stops at once and the model's memory is cut where the user stopped hearing it.
 */
import type { Problem } from '../contract';
import { toPcm24k } from '../audio/encoding';
import { MicStream } from '../audio/micStream';
import { fromBase64 } from '../audio/pcm';
import type { PlayoutBuffer } from '../audio/playout';
import type { MicSource } from '../audio/ports';
import { parseRealtimeFrame, realtimeSocketUrl, type ParsedRealtimeFrame, type RealtimeClientEvent, type RealtimeEvent, type RealtimeSessionCreateRequest } from '../protocol/realtime';
import { isRecoverableClose, reopenWithBackoff } from '../transport/reconnect';
import { Socket, SocketError, type SocketState, type WebSocketFactory } from '../transport/socket';
import { ToolCalls, type ToolRunner } from '../responses/tools';
import { sessionConfig, type VoiceSettings } from './settings';
import { RealtimeRequestError, ServerEventWaiters } from './waiters';

export type VoiceState = 'connecting' | 'idle' | 'listening' | 'thinking' | 'speaking' | 'offline' | 'error';

/** Inspector and UI events; the names are the ones the UI shows. */
export type RealtimeSessionEvent =
  | { type: 'state'; state: VoiceState }
  | { type: 'socket'; state: SocketState }
  | { type: 'mic.level'; dbfs: number }
  | { type: 'vad'; speaking: boolean }
  | { type: 'commit'; itemId: string | null; audioMs: number }
  | { type: 'ptt.dropped'; audioMs: number; hint: string }
  | { type: 'transcript.user'; itemId: string; text: string; final: boolean }
  | { type: 'transcript.assistant'; itemId: string; delta: string }
  | { type: 'transcript.assistant.done'; itemId: string; text: string }
  | { type: 'response'; phase: 'created' | 'done'; responseId: string; status?: string; usage?: VoiceUsage }
  | { type: 'barge_in'; itemId: string; reason: 'speech' | 'hotkey'; playedMs: number; generatedMs: number; audioEndMs: number; heardText: string }
  | { type: 'truncated'; itemId: string; audioEndMs: number }
  | { type: 'tool'; callId: string; name: string; status: 'started' | 'done' | 'failed'; durationMs?: number }
  | { type: 'reconnect'; attempt: number; delayMs: number; code: number | null }
  | { type: 'recovered'; gapMs: number; itemsReplayed: number }
  /** A server frame of a known type with missing or wrong fields: skipped, for the inspector. */
  | { type: 'frame.rejected'; problem: Problem }
  | { type: 'problem'; problem: Problem };

/** Tokens of one voice response, split as the Realtime API bills them. */
export interface VoiceUsage {
  textIn: number;
  audioIn: number;
  cachedIn: number;
  textOut: number;
  audioOut: number;
}

export interface RealtimeSessionOptions {
  baseUrl: string;
  apiKey: string;
  settings: VoiceSettings;
  createWebSocket: WebSocketFactory;
  mic: MicSource;
  playout: PlayoutBuffer;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  runTool?: ToolRunner;
  onEvent?: (event: RealtimeSessionEvent) => void;
  /** Says a server error in the user's terms where the host knows better (e.g. a model they cannot use). */
  describeError?: (error: { code: string | null; message: string; model: string }) => Problem | null;
}


/** Releases shorter than this are dropped: the server refuses to commit under 100 ms. */
export const minimumTurnMs = 100;

interface HistoryEntry {
  role: 'user' | 'assistant';
  itemId: string;
  text: string;
}

interface AssistantItem {
  text: string;
  /** Set on barge-in: deltas after it are not played and not remembered. */
  cut: boolean;
}


export class RealtimeSession {
  #options: RealtimeSessionOptions;
  #settings: VoiceSettings;
  #socket: Socket | null = null;
  readonly #waiters = new ServerEventWaiters('parley_voice_update');
  #mic: MicStream;
  #responseActive = false;
  #responseRequested = false;
  #deferredCreate = false;
  #pendingCalls: Array<{ callId: string; name: string; arguments: string }> = [];
  #tools = new ToolCalls();
  #assistant = new Map<string, AssistantItem>();
  #history: HistoryEntry[] = [];
  #state: VoiceState = 'offline';
  /** Responses outside the conversation (voice previews), whose words are not turns. */
  #outOfBand = new Set<string>();
  #closed = false;
  #recovering = false;
  /** Typed turns sent so far, for their item ids. */
  #typed = 0;

  constructor(options: RealtimeSessionOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#mic = new MicStream({
      mic: options.mic,
      playout: options.playout,
      frameMs: options.settings.frameMs,
      encoding: options.settings.encoding,
      // Echo safety with speakers while voice detection listens (headphones: full duplex).
      echoGate: () => this.#settings.echo === 'speakers' && this.#settings.turnMode !== 'push_to_talk',
      send: (audio) => this.#send({ type: 'input_audio_buffer.append', audio }),
      onLevel: (dbfs) => this.#emit({ type: 'mic.level', dbfs }),
      onProblem: (problem) => {
        this.#emit({ type: 'problem', problem });
        this.#setState('error');
      },
    });
  }

  get state(): VoiceState {
    return this.#state;
  }

  get settings(): VoiceSettings {
    return this.#settings;
  }

  /** The conversation as heard: user transcripts and assistant text up to where it was cut. */
  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  /** Opens the socket, configures the session, and starts listening in the VAD modes. */
  async connect(): Promise<void> {
    this.#setState('connecting');
    try {
      await this.#open();
    } catch (error) {
      this.#setState('error');
      throw error;
    }
    if (this.#settings.turnMode !== 'push_to_talk') await this.#startMic();
    // A microphone that failed as it started has already said so and left the error state.
    if (this.#state === 'connecting') this.#setState(this.#settings.turnMode === 'push_to_talk' ? 'idle' : 'listening');
  }

  /**
   * Applies new settings with a `session.update`; the turn mode may change mid-session. A new
   * voice goes in an update of its own, since the server refuses it once the model has spoken
   * (PROTOCOL.md §2): then only the voice waits for the next conversation and this rejects with a
   * `RealtimeRequestError` saying so. A refused settings update changes nothing and rejects too.
   */
  async updateSettings(settings: Partial<VoiceSettings>): Promise<void> {
    const previous = this.#settings;
    this.#settings = { ...previous, ...settings };
    this.#mic.reconfigure(this.#settings.frameMs, this.#settings.encoding);
    const applied = this.#update(liveConfig(this.#settings));
    const voice = this.#settings.voice === previous.voice ? Promise.resolve() : this.#update({ type: 'realtime', audio: { output: { voice: this.#settings.voice } } });
    const [config, voiceChange] = await Promise.allSettled([applied, voice]);
    if (config.status === 'rejected' && config.reason instanceof RealtimeRequestError) {
      // The server kept the previous settings; so does the session (the wanted voice aside).
      this.#settings = { ...previous, voice: this.#settings.voice };
      this.#mic.reconfigure(previous.frameMs, previous.encoding);
      throw config.reason;
    }
    // A socket that closed meanwhile is no refusal: the reopened session is configured with these settings.
    if (this.#settings.turnMode === 'push_to_talk' && this.#mic.running && !this.#mic.capturing) await this.#mic.stop();
    if (this.#settings.turnMode !== 'push_to_talk' && !this.#mic.running) await this.#startMic();
    // A refused voice stays wanted: the next conversation (a new server session) opens with it.
    if (voiceChange.status === 'rejected' && voiceChange.reason instanceof RealtimeRequestError) throw voiceChange.reason;
  }

  /** Push-to-talk pressed (hotkey or button): interrupts playback, then captures. */
  async press(): Promise<void> {
    if (this.#options.playout.playing) this.bargeIn('hotkey');
    if (this.#settings.turnMode !== 'push_to_talk') return;
    this.#send({ type: 'input_audio_buffer.clear' });
    this.#mic.beginCapture();
    await this.#startMic();
    this.#setState('listening');
  }

  /** Push-to-talk released: commits the turn and asks for a response, unless it was too short. */
  async release(): Promise<void> {
    if (this.#settings.turnMode !== 'push_to_talk' || !this.#mic.capturing) return;
    await this.#mic.stop();
    const audioMs = this.#mic.endCapture() ?? 0;
    if (audioMs < minimumTurnMs) {
      this.#send({ type: 'input_audio_buffer.clear' });
      this.#emit({ type: 'ptt.dropped', audioMs, hint: `Hold the key while you speak: ${Math.round(audioMs)} ms is too short to send.` });
      this.#setState('idle');
      return;
    }
    this.#send({ type: 'input_audio_buffer.commit' });
    this.#emit({ type: 'commit', itemId: null, audioMs });
    this.#requestResponse();
  }

  /** Mute keeps the meter moving but sends no audio: nothing said while muted reaches the model. */
  setMuted(muted: boolean): void {
    this.#mic.setMuted(muted);
  }

  get muted(): boolean {
    return this.#mic.muted;
  }

  /**
   * Adds a note to the conversation (a finished background task) and has the assistant speak about
   * it: a system message, then one response.
   */
  addNote(text: string): void {
    this.#send({ type: 'conversation.item.create', item: { type: 'message', role: 'system', content: [{ type: 'input_text', text }] } });
    this.#requestResponse();
  }

  /**
   * Speaks a short sample in `voice` without changing the session's voice: an out-of-band
   * response (`conversation: 'none'`), so nothing joins the conversation.
   */
  previewVoice(voice: string): void {
    this.#send({
      type: 'response.create',
      response: {
        conversation: 'none',
        output_modalities: ['audio'],
        audio: { output: { voice } },
        instructions: `Say, in one short friendly sentence, that this is the ${voice} voice.`,
        metadata: { purpose: 'voice-preview' },
      },
    });
  }

  /** Replaces the tools the voice model may call (the registry changed). */
  setTools(tools: VoiceSettings['tools']): void {
    this.#settings = { ...this.#settings, tools };
    this.#update({ type: 'realtime', tools }).catch((error: unknown) => {
      if (error instanceof RealtimeRequestError) this.#emit({ type: 'problem', problem: error.problem });
    });
  }

  /** Sends typed text as a user turn of the voice conversation. */
  sendText(text: string): void {
    // Remembered before the server confirms it, under an id of ours: text sent as the socket
    // closes is replayed by the recovery instead of lost, and the server's echo updates the entry.
    const itemId = `parley_text_${(this.#typed += 1)}`;
    this.#remember({ role: 'user', itemId, text });
    this.#send({ type: 'conversation.item.create', item: { id: itemId, type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    this.#requestResponse();
  }

  /**
   * Barge-in: stops playback within one chunk, cancels the response when the server will not,
   * and truncates the assistant item at what was really heard (PROTOCOL.md §4 client 11).
   */
  bargeIn(reason: 'speech' | 'hotkey'): void {
    const stopped = this.#options.playout.stop();
    if (stopped === null) return;
    const serverCancels = reason === 'speech' && this.#settings.turnMode !== 'push_to_talk';
    if (this.#responseActive && !serverCancels) this.#send({ type: 'response.cancel' });
    const item = this.#assistant.get(stopped.itemId);
    if (item !== undefined) item.cut = true;
    // Integer, inclusive, never 0 and never beyond what was generated (PROTOCOL.md §2 "Truncate").
    const audioEndMs = Math.max(1, Math.floor(Math.min(stopped.playedMs, stopped.generatedMs)));
    this.#send({ type: 'conversation.item.truncate', item_id: stopped.itemId, content_index: 0, audio_end_ms: audioEndMs });
    const heardText = heardPart(item?.text ?? '', audioEndMs / Math.max(1, stopped.generatedMs));
    this.#remember({ role: 'assistant', itemId: stopped.itemId, text: heardText });
    this.#emit({ type: 'barge_in', itemId: stopped.itemId, reason, playedMs: stopped.playedMs, generatedMs: stopped.generatedMs, audioEndMs, heardText });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#mic.stop();
    this.#options.playout.stop();
    this.#socket?.close();
    this.#setState('offline');
  }

  // Connection ---------------------------------------------------------------------------------

  async #open(): Promise<void> {
    const url = realtimeSocketUrl(this.#options.baseUrl, this.#settings.model);
    const socket = new Socket({
      url,
      headers: { Authorization: `Bearer ${this.#options.apiKey}` },
      createWebSocket: this.#options.createWebSocket,
      now: this.#options.now,
      onMessage: (text) => this.#onFrame(text),
      onStateChange: (state) => {
        this.#emit({ type: 'socket', state });
        if (state.status === 'closed' && this.#socket === socket) void this.#onClosed(state);
      },
    });
    this.#socket = socket;
    const created = this.#waiters.created();
    await socket.connect();
    await created;
    await this.#update(sessionConfig(this.#settings));
  }

  /**
   * One `session.update`, tagged so that its own answer settles it (see ServerEventWaiters). With
   * no open socket there is nothing to wait for: the session opens with the current settings.
   */
  #update(session: RealtimeSessionCreateRequest): Promise<void> {
    const socket = this.#socket;
    if (socket === null || socket.state.status !== 'open') return Promise.resolve();
    const { eventId, answered } = this.#waiters.update();
    socket.send({ type: 'session.update', event_id: eventId, session } satisfies RealtimeClientEvent);
    return answered;
  }

  async #onClosed(state: Extract<SocketState, { status: 'closed' }>): Promise<void> {
    this.#waiters.rejectAll(new SocketError(state.problem ?? { code: 'connection_failed', message: `The voice connection closed (code ${state.code}).`, hint: 'It reconnects on its own.' }));
    this.#responseActive = this.#responseRequested = false;
    if (this.#closed) return;
    this.#options.playout.stop();
    if (!isRecoverableClose(state.code)) {
      this.#setState(state.code === 3000 ? 'error' : 'offline');
      if (state.problem !== null) this.#emit({ type: 'problem', problem: state.problem });
      return;
    }
    await this.#recover(state.code);
  }

  /** Reopens after an expiry or a recoverable close, then replays the settings and the conversation. */
  async #recover(code: number | null): Promise<void> {
    if (this.#recovering) return;
    this.#recovering = true;
    const startedAt = this.#options.now();
    this.#setState('connecting');
    try {
      await reopenWithBackoff(() => this.#open(), {
        sleep: this.#options.sleep,
        random: this.#options.random ?? Math.random,
        onAttempt: (attempt, delayMs) => this.#emit({ type: 'reconnect', attempt, delayMs, code }),
        stopped: () => this.#closed,
      });
      // Replayed under their own ids: the server's echo then updates the entry instead of adding
      // a copy, so a second recovery does not send every message twice.
      for (const entry of this.#history) {
        this.#send({
          type: 'conversation.item.create',
          item:
            entry.role === 'user'
              ? { id: entry.itemId, type: 'message', role: 'user', content: [{ type: 'input_text', text: entry.text }] }
              : { id: entry.itemId, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: entry.text }] },
        });
      }
      this.#emit({ type: 'recovered', gapMs: this.#options.now() - startedAt, itemsReplayed: this.#history.length });
      this.#setState(this.#settings.turnMode === 'push_to_talk' ? 'idle' : 'listening');
    } catch (error) {
      this.#setState('error');
      this.#emit({ type: 'problem', problem: error instanceof SocketError ? error.problem : { code: 'connection_failed', message: `The voice connection could not be restored: ${(error as Error).message}`, hint: 'Check your connection; Parley keeps trying when you talk.' } });
    } finally {
      this.#recovering = false;
    }
  }

  #send(event: RealtimeClientEvent): void {
    const socket = this.#socket;
    if (socket === null || socket.state.status !== 'open') return;
    socket.send(event);
  }

  // Microphone ---------------------------------------------------------------------------------

  /** Starts the mic; a device that will not open has already said why (and set the error state). */
  async #startMic(): Promise<void> {
    await this.#mic.start();
  }

  // Responses ----------------------------------------------------------------------------------

  /** One `response.create` at a time on the default conversation (PROTOCOL.md §4 client 1). */
  #requestResponse(): void {
    if (this.#responseActive || this.#responseRequested) {
      this.#deferredCreate = true;
      return;
    }
    this.#responseRequested = true;
    this.#send({ type: 'response.create' });
    this.#setState('thinking');
  }

  #onFrame(text: string): void {
    const parsed = parseRealtimeFrame(text);
    switch (parsed.kind) {
      case 'unreadable':
        this.#emit({ type: 'problem', problem: { code: 'malformed_frame', message: `The voice server sent a frame Parley could not read: ${parsed.reason}.`, hint: 'It was skipped.' } });
        return;
      case 'unknown':
        return;
      case 'invalid':
        this.#onInvalid(parsed);
        return;
      case 'event':
        if (this.#waiters.offer(parsed.event)) return;
        this.#onEvent(parsed.event);
    }
  }

  /**
   * A known event with missing or wrong fields (PROTOCOL.md §4 client 19): skipped and reported,
   * and whatever waited on it settles instead of waiting forever.
   */
  #onInvalid(frame: Extract<ParsedRealtimeFrame, { kind: 'invalid' }>): void {
    const problem: Problem = { code: 'malformed_frame', message: `The voice server sent a ${frame.type} event Parley could not use (${frame.reason}).`, hint: 'It was skipped.' };
    this.#emit({ type: 'frame.rejected', problem });
    if (this.#waiters.offerInvalid(frame, problem)) return;
    switch (frame.type) {
      case 'response.done':
        if (frame.responseId !== null && this.#outOfBand.has(frame.responseId)) return;
        // The reply ended, even if how is unreadable: the turn is over.
        this.#responseActive = this.#responseRequested = false;
        void this.#afterResponse();
        return;
      case 'error':
        // An unreadable error may have refused the response.create still waiting: free its slot.
        if (this.#responseRequested && !this.#responseActive) {
          this.#responseRequested = false;
          this.#settle();
        }
        return;
      default:
        return;
    }
  }

  #onEvent(event: RealtimeEvent): void {
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.#emit({ type: 'vad', speaking: true });
        if (this.#options.playout.playing) this.bargeIn('speech');
        this.#setState('listening');
        return;
      case 'input_audio_buffer.speech_stopped':
        this.#emit({ type: 'vad', speaking: false });
        return;
      case 'input_audio_buffer.committed':
        this.#emit({ type: 'commit', itemId: event.item_id, audioMs: 0 });
        this.#setState('thinking');
        return;
      case 'conversation.item.input_audio_transcription.delta':
        this.#emit({ type: 'transcript.user', itemId: event.item_id, text: event.delta ?? '', final: false });
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.#remember({ role: 'user', itemId: event.item_id, text: event.transcript });
        this.#emit({ type: 'transcript.user', itemId: event.item_id, text: event.transcript, final: true });
        return;
      case 'conversation.item.added':
        if ('content' in event.item) {
          const text = event.item.content.map((part) => part.text ?? '').join('');
          if (text !== '' && event.item.id) this.#remember({ role: 'user', itemId: event.item.id, text });
        }
        return;
      case 'response.created':
        // An out-of-band response (a voice preview) is not the conversation's: it blocks nothing
        // and its words are not a turn.
        if (isOutOfBand(event.response)) {
          if (event.response.id) this.#outOfBand.add(event.response.id);
          return;
        }
        this.#responseActive = true;
        this.#responseRequested = false;
        this.#emit({ type: 'response', phase: 'created', responseId: event.response.id ?? '' });
        return;
      case 'response.output_audio.delta': {
        const item = this.#assistantItem(event.item_id);
        if (item.cut) return;
        const bytes = fromBase64(event.delta);
        if (bytes === null) return;
        this.#options.playout.enqueue(event.item_id, toPcm24k(bytes, this.#settings.encoding));
        if (this.#state !== 'speaking') this.#setState('speaking');
        return;
      }
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta': {
        if (this.#outOfBand.has(event.response_id)) return;
        const item = this.#assistantItem(event.item_id);
        item.text += event.delta;
        if (!item.cut) this.#emit({ type: 'transcript.assistant', itemId: event.item_id, delta: event.delta });
        return;
      }
      case 'response.output_audio_transcript.done':
      case 'response.output_text.done': {
        if (this.#outOfBand.has(event.response_id)) return;
        const item = this.#assistantItem(event.item_id);
        const text = 'transcript' in event ? event.transcript : event.text;
        if (!item.cut) {
          item.text = text;
          this.#remember({ role: 'assistant', itemId: event.item_id, text });
          this.#emit({ type: 'transcript.assistant.done', itemId: event.item_id, text });
        }
        return;
      }
      case 'response.output_item.done':
        if ('arguments' in event.item && event.item.call_id && event.item.name) {
          this.#pendingCalls.push({ callId: event.item.call_id, name: event.item.name, arguments: event.item.arguments });
        }
        return;
      case 'response.done': {
        const outOfBand = isOutOfBand(event.response);
        if (!outOfBand) {
          this.#responseActive = false;
          this.#responseRequested = false;
        }
        const usage = event.response.usage;
        const tokens: VoiceUsage | undefined =
          usage == null
            ? undefined
            : {
                textIn: usage.input_token_details?.text_tokens ?? 0,
                audioIn: usage.input_token_details?.audio_tokens ?? 0,
                cachedIn: usage.input_token_details?.cached_tokens ?? 0,
                textOut: usage.output_token_details?.text_tokens ?? 0,
                audioOut: usage.output_token_details?.audio_tokens ?? 0,
              };
        this.#emit({ type: 'response', phase: 'done', responseId: event.response.id ?? '', status: event.response.status ?? 'completed', ...(tokens === undefined ? {} : { usage: tokens }) });
        const failure = event.response.status === 'failed' ? event.response.status_details?.error : undefined;
        if (failure !== undefined) {
          // A failed reply says why only here (e.g. model_not_found, openai-realtime-console#561): tell the user.
          const message = failure.message ?? 'The reply failed.';
          this.#emit({ type: 'problem', problem: this.#describe(failure.code ?? null, message) ?? { code: 'server_error', message: `The voice server could not answer: ${message}`, hint: 'Try again.' } });
        }
        if (outOfBand) return;
        void this.#afterResponse();
        return;
      }
      case 'error':
        this.#onError(event);
        return;
      default:
        return;
    }
  }

  async #afterResponse(): Promise<void> {
    const calls = this.#pendingCalls.splice(0);
    if (calls.length > 0) {
      for (const call of calls) {
        const startedAt = this.#options.now();
        this.#emit({ type: 'tool', callId: call.callId, name: call.name, status: 'started' });
        const outcome = await this.#tools.run({ type: 'function_call', id: call.callId, call_id: call.callId, name: call.name, arguments: call.arguments }, this.#options.runTool);
        this.#emit({ type: 'tool', callId: call.callId, name: call.name, status: outcome.ok ? 'done' : 'failed', durationMs: this.#options.now() - startedAt });
        this.#send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.callId, output: outcome.output } });
      }
      this.#requestResponse();
      return;
    }
    if (this.#deferredCreate) {
      this.#deferredCreate = false;
      this.#requestResponse();
      return;
    }
    if (!this.#options.playout.playing) this.#settle();
  }

  /** Back to waiting for the user once the reply has finished playing. */
  #settle(): void {
    if (!this.#responseActive && !this.#responseRequested) this.#setState(this.#settings.turnMode === 'push_to_talk' ? 'idle' : 'listening');
  }

  /** Called by the host when the PlayoutBuffer has played everything. */
  playbackDrained(): void {
    if (!this.#responseActive) this.#settle();
  }

  #describe(code: string | null, message: string): Problem | null {
    return this.#options.describeError?.({ code, message, model: this.#settings.model }) ?? null;
  }

  #onError(event: Extract<RealtimeEvent, { type: 'error' }>): void {
    const { code, message } = event.error;
    switch (code) {
      case 'conversation_already_has_active_response':
        // Defer, never drop (PROTOCOL.md §4 client 12): it goes out after response.done.
        this.#responseRequested = false;
        this.#deferredCreate = true;
        return;
      case 'response_cancel_not_active':
      case 'input_audio_buffer_commit_empty':
        return;
      case 'session_expired':
        // The close (1001) that follows triggers recovery.
        return;
      default:
        // A refused response.create (a rate limit, say) frees its slot and the voice with it.
        if (this.#responseRequested && !this.#responseActive) {
          this.#responseRequested = false;
          this.#settle();
        }
        this.#emit({
          type: 'problem',
          problem: this.#describe(code ?? null, message) ?? { code: code === 'invalid_api_key' ? 'unauthorized' : 'server_error', message: `The voice server reported: ${message}`, hint: code === 'invalid_api_key' ? 'Check OPENAI_API_KEY.' : 'Try again.' },
        });
    }
  }

  #assistantItem(itemId: string): AssistantItem {
    let item = this.#assistant.get(itemId);
    if (item === undefined) {
      item = { text: '', cut: false };
      this.#assistant.set(itemId, item);
    }
    return item;
  }

  #remember(entry: HistoryEntry): void {
    const existing = this.#history.findIndex((candidate) => candidate.itemId === entry.itemId);
    if (existing >= 0) this.#history[existing] = entry;
    else this.#history.push(entry);
  }

  #setState(state: VoiceState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit({ type: 'state', state });
  }

  #emit(event: RealtimeSessionEvent): void {
    this.#options.onEvent?.(event);
  }
}

function isOutOfBand(response: { conversation_id?: string | null | undefined }): boolean {
  return response.conversation_id === null;
}

/** The settings for a live `session.update`: everything but the voice, which changes on its own. */
function liveConfig(settings: VoiceSettings): RealtimeSessionCreateRequest {
  const config = sessionConfig(settings);
  const output = { ...config.audio?.output };
  delete output.voice;
  return { ...config, audio: { ...config.audio, output } };
}

/** The words heard before the cut, by the share of audio played (the server deletes the rest). */
export function heardPart(text: string, fraction: number): string {
  const words = text.split(/(\s+)/);
  const wordCount = words.filter((word) => word.trim() !== '').length;
  let keep = Math.round(Math.min(1, Math.max(0, fraction)) * wordCount);
  let out = '';
  for (const word of words) {
    if (word.trim() === '') {
      if (keep > 0) out += word;
      continue;
    }
    if (keep === 0) break;
    out += word;
    keep -= 1;
  }
  return out.trimEnd();
}
