/**
 * RealtimeSession: the voice socket. Mic frames go out as `input_audio_buffer.append`; the
 * assistant's audio goes to the PlayoutBuffer; transcripts stream both ways; tool calls run once
 * and go back with exactly one `response.create`; and when the user talks over the assistant,
 * playback stops at once and the model's memory is cut where the user stopped hearing it.
 */
import type { Problem } from '../contract';
import { toPcm24k } from '../audio/encoding';
import { fromBase64 } from '../audio/pcm';
import { realtimeSocketUrl, type RealtimeEvent, type RealtimeSessionCreateRequest } from '../protocol/realtime';
import { ToolCalls, type ToolRunner } from '../responses/tools';
import { realTimer, SilenceDeadline } from '../transport/deadline';
import { clientCancels, heardPart, truncationPoint } from './bargeIn';
export { heardPart } from './bargeIn';
export { minimumTurnMs } from './pushToTalk';
import type { InvalidFrame } from './realtimeConnection';
import { ResponseSlot } from './responseSlot';
import type { BargeInReason, VoiceSession, VoiceSessionEvent, VoiceUsage } from './session';
import { VoiceSessionBase, voiceReplyDeadlineMs, type VoiceSessionIo } from './sessionBase';
import { sessionConfig, type VoiceSettings } from './settings';
import { RealtimeRequestError } from './waiters';

export type { VoiceState, VoiceUsage } from './session';
/** The speech-to-speech session's events: the voice event union. */
export type RealtimeSessionEvent = VoiceSessionEvent;

export interface RealtimeSessionOptions extends VoiceSessionIo {
  settings: VoiceSettings;
  runTool?: ToolRunner;
  /** Says a server error in the user's terms where the host knows better (e.g. a model they cannot use). */
  describeError?: (error: { code: string | null; message: string; model: string }) => Problem | null;
  /** What was said before this session (a resumed conversation's text): the model hears it first. */
  earlier?: ReadonlyArray<{ role: 'user' | 'assistant'; text: string }>;
}

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

export class RealtimeSession extends VoiceSessionBase implements VoiceSession {
  #options: RealtimeSessionOptions;
  #settings: VoiceSettings;
  readonly #responses = new ResponseSlot('parley_voice_response');
  #pendingCalls: Array<{ callId: string; name: string; arguments: string }> = [];
  #tools = new ToolCalls();
  #assistant = new Map<string, AssistantItem>();
  /** By item id, in the order first heard: a later word for an item replaces it in place. */
  #history = new Map<string, HistoryEntry>();
  /** Responses outside the conversation (voice previews), whose words are not turns. */
  #outOfBand = new Set<string>();
  /** Their audio items: played, but never in the conversation, so never truncated or remembered. */
  #outOfBandItems = new Set<string>();
  /** A reply cancelled before any of it played: its late audio is dropped, not played. */
  #silenced: string | null = null;
  /** Typed turns sent so far, for their item ids. */
  #typed = 0;
  /** A reply in flight that hears nothing from the server for this long is given up (see #replyStalled). */
  readonly #replyDeadline: SilenceDeadline;

  constructor(options: RealtimeSessionOptions) {
    super(options, { label: 'voice', updatePrefix: 'parley_voice_update', recoveryHint: 'Check your connection; Parley keeps trying when you talk.', frameMs: options.settings.frameMs, encoding: options.settings.encoding });
    this.#options = options;
    this.#settings = options.settings;
    this.#replyDeadline = new SilenceDeadline({
      ms: options.replyDeadlineMs ?? voiceReplyDeadlineMs,
      now: options.now,
      setTimer: options.setTimer ?? realTimer,
      onExpired: (silentMs) => this.#replyStalled(silentMs),
    });
    (options.earlier ?? []).forEach((entry, index) => this.#remember({ ...entry, itemId: `parley_earlier_${index + 1}` }));
  }

  override async close(): Promise<void> {
    this.#replyDeadline.stop();
    await super.close();
  }

  /** Opens the session; a conversation taken up again goes in before the first turn. */
  override async connect(): Promise<void> {
    await super.connect();
    if (this.#history.size > 0) this.replay();
  }

  get settings(): VoiceSettings {
    return this.#settings;
  }

  /** The conversation as heard: user transcripts and assistant text up to where it was cut. */
  get history(): readonly HistoryEntry[] {
    return [...this.#history.values()];
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
    this.mic.reconfigure(this.#settings.frameMs, this.#settings.encoding);
    const applied = this.connection.update(liveConfig(this.#settings));
    const voice = this.#settings.voice === previous.voice ? Promise.resolve() : this.connection.update({ type: 'realtime', audio: { output: { voice: this.#settings.voice } } });
    const [config, voiceChange] = await Promise.allSettled([applied, voice]);
    if (config.status === 'rejected' && config.reason instanceof RealtimeRequestError) {
      // The server kept the previous settings; so does the session (the wanted voice aside).
      this.#settings = { ...previous, voice: this.#settings.voice };
      this.mic.reconfigure(previous.frameMs, previous.encoding);
      throw config.reason;
    }
    // A socket that closed meanwhile is no refusal: the reopened session is configured with these settings.
    await this.followTurnMode();
    // A refused voice stays wanted: the next conversation (a new server session) opens with it.
    if (voiceChange.status === 'rejected' && voiceChange.reason instanceof RealtimeRequestError) throw voiceChange.reason;
  }

  /** Push-to-talk pressed (hotkey or button): interrupts the reply, heard or still coming, then captures. */
  async press(): Promise<void> {
    this.bargeIn('hotkey');
    await this.ptt.press();
  }

  /** A reply on its way but not yet heard: cancel it, and drop its audio still in flight. */
  #cancelUnheard(): void {
    const slot = this.#responses.state;
    const inFlight = slot.state === 'deferred' ? slot.behind : slot;
    if (inFlight.state !== 'active') return;
    this.connection.send({ type: 'response.cancel' });
    this.#silenced = inFlight.responseId;
  }

  /** Push-to-talk released: commits the turn and asks for a response, unless it was too short. */
  async release(): Promise<void> {
    if ((await this.ptt.release()) !== null) this.#requestResponse();
  }

  /**
   * Adds a note to the conversation (a finished background task) and has the assistant speak about
   * it: a system message, then one response.
   */
  addNote(text: string): void {
    this.connection.send({ type: 'conversation.item.create', item: { type: 'message', role: 'system', content: [{ type: 'input_text', text }] } });
    this.#requestResponse();
  }

  /**
   * Speaks a short sample in `voice` without changing the session's voice: an out-of-band
   * response (`conversation: 'none'`), so nothing joins the conversation.
   */
  previewVoice(voice: string): void {
    this.connection.send({
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
    this.connection.update({ type: 'realtime', tools }).catch((error: unknown) => {
      if (error instanceof RealtimeRequestError) this.emit({ type: 'problem', problem: error.problem });
    });
  }

  /** Sends typed text as a user turn of the voice conversation. */
  sendText(text: string, image?: string): void {
    // Remembered before the server confirms it, under an id of ours: text sent as the socket
    // closes is replayed by the recovery instead of lost, and the server's echo updates the entry.
    const itemId = `parley_text_${(this.#typed += 1)}`;
    this.#remember({ role: 'user', itemId, text });
    // A screenshot is sent once and not remembered: a recovery replays the words without it.
    const picture = image === undefined ? [] : [{ type: 'input_image' as const, image_url: image, detail: 'auto' as const }];
    this.connection.send({ type: 'conversation.item.create', item: { id: itemId, type: 'message', role: 'user', content: [{ type: 'input_text', text }, ...picture] } });
    this.#requestResponse();
  }

  /**
   * Barge-in: stops playback within one chunk, cancels the response when the server will not,
   * and truncates the assistant item at what was really heard (PROTOCOL.md §4 client 11).
   */
  bargeIn(reason: BargeInReason): void {
    const stopped = this.#options.playout.stop();
    if (stopped === null) {
      // Nothing heard, so nothing to truncate; but a reply still coming must not start over the user.
      if (clientCancels(reason, this.#settings.turnMode)) this.#cancelUnheard();
      return;
    }
    // A voice preview is heard, not part of the conversation: truncating it is refused as "not found".
    if (this.#outOfBandItems.has(stopped.itemId)) return;
    if (this.#responses.active && clientCancels(reason, this.#settings.turnMode)) this.connection.send({ type: 'response.cancel' });
    const item = this.#assistant.get(stopped.itemId);
    if (item !== undefined) item.cut = true;
    const audioEndMs = truncationPoint(stopped.playedMs, stopped.generatedMs);
    this.connection.send({ type: 'conversation.item.truncate', item_id: stopped.itemId, content_index: 0, audio_end_ms: audioEndMs });
    const heardText = heardPart(item?.text ?? '', audioEndMs / Math.max(1, stopped.generatedMs));
    this.#remember({ role: 'assistant', itemId: stopped.itemId, text: heardText });
    this.emit({ type: 'barge_in', itemId: stopped.itemId, reason, playedMs: stopped.playedMs, generatedMs: stopped.generatedMs, audioEndMs, heardText });
  }

  protected socketUrl(): string {
    return realtimeSocketUrl(this.#options.baseUrl, this.#settings.model);
  }

  protected sessionConfig(): RealtimeSessionCreateRequest {
    return sessionConfig(this.#settings);
  }

  protected pushToTalk(): boolean {
    return this.#settings.turnMode === 'push_to_talk';
  }

  protected echo(): VoiceSettings['echo'] {
    return this.#settings.echo;
  }

  protected onLost(): void {
    this.#responses.lost();
    this.#options.playout.stop();
  }

  /** After a reopen: the conversation replayed under the items' own ids. */
  protected replay(): number {
    // The server's echo then updates the entry instead of adding a copy, so a second recovery
    // does not send every message twice.
    for (const entry of this.#history.values()) {
      this.connection.send({
        type: 'conversation.item.create',
        item:
          entry.role === 'user'
            ? { id: entry.itemId, type: 'message', role: 'user', content: [{ type: 'input_text', text: entry.text }] }
            : { id: entry.itemId, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: entry.text }] },
      });
    }
    return this.#history.size;
  }

  // Responses ----------------------------------------------------------------------------------

  /** One `response.create` at a time on the default conversation (see ResponseSlot). */
  #requestResponse(): void {
    const eventId = this.#responses.request();
    if (eventId === null) return;
    this.connection.send({ type: 'response.create', event_id: eventId });
    this.#replyDeadline.start();
    this.setState('thinking');
  }

  /**
   * A reply in flight heard nothing from the server for the whole deadline on a socket that still
   * answers pings: the server lost it. It is cancelled (what it still sends is neither played nor
   * shown), the user is told, and a reply wanted behind it goes now, so the voice never waits
   * forever. With nothing in flight (the reply ended) the deadline just lapses.
   */
  #replyStalled(silentMs: number): void {
    const slot = this.#responses.state;
    const inFlight = slot.state === 'deferred' ? slot.behind : slot;
    if (inFlight.state === 'idle') return;
    if (inFlight.state === 'active') {
      this.connection.send({ type: 'response.cancel' });
      this.#silenced = inFlight.responseId;
    }
    this.#pendingCalls = [];
    const deferred = this.#responses.done();
    this.emit({
      type: 'problem',
      problem: { code: 'server_error', message: `The voice reply stalled: nothing came from the voice server for ${Math.round(silentMs / 1000)} s, so Parley gave up on it.`, hint: 'Say it again, or type it; the connection stays open.' },
    });
    if (deferred) this.#requestResponse();
    else this.#settle();
  }

  /** A known event with missing or wrong fields that no waiter claimed. */
  protected onInvalidFrame(frame: InvalidFrame): void {
    this.#replyDeadline.heard();
    switch (frame.type) {
      case 'response.done':
        if (frame.responseId !== null && this.#outOfBand.has(frame.responseId)) return;
        // The reply ended, even if how is unreadable: the turn is over.
        void this.#afterResponse(this.#responses.done());
        return;
      case 'error':
        // An unreadable error may have refused the response.create still waiting: free its slot.
        this.#afterRefusal(this.#responses.refused(frame.clientEventId ?? null));
        return;
      default:
        return;
    }
  }

  protected onServerEvent(event: RealtimeEvent): void {
    // Only notes the time: any event on the socket shows the server is still at work.
    this.#replyDeadline.heard();
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.emit({ type: 'vad', speaking: true });
        if (this.#options.playout.playing) this.bargeIn('speech');
        this.setState('listening');
        return;
      case 'input_audio_buffer.speech_stopped':
        this.emit({ type: 'vad', speaking: false });
        return;
      case 'input_audio_buffer.committed':
        this.emit({ type: 'commit', itemId: event.item_id, audioMs: 0 });
        this.setState('thinking');
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.#remember({ role: 'user', itemId: event.item_id, text: event.transcript });
        this.emit({ type: 'transcript.user', itemId: event.item_id, text: event.transcript, final: true });
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
        this.#responses.created(event.response.id ?? null);
        // A reply the server's VAD started is waited on like one we asked for.
        this.#replyDeadline.start();
        this.emit({ type: 'response', phase: 'created', responseId: event.response.id ?? '' });
        return;
      case 'response.output_audio.delta': {
        if (event.response_id !== undefined && this.#outOfBand.has(event.response_id)) this.#outOfBandItems.add(event.item_id);
        const item = this.#itemOf(event.item_id, event.response_id);
        if (item.cut) return;
        const bytes = fromBase64(event.delta);
        if (bytes === null) return;
        this.#options.playout.enqueue(event.item_id, toPcm24k(bytes, this.#settings.encoding));
        if (this.state !== 'speaking') this.setState('speaking');
        return;
      }
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta': {
        if (this.#outOfBand.has(event.response_id)) return;
        const item = this.#itemOf(event.item_id, event.response_id);
        item.text += event.delta;
        if (!item.cut) this.emit({ type: 'transcript.assistant', itemId: event.item_id, delta: event.delta });
        return;
      }
      case 'response.output_audio_transcript.done':
      case 'response.output_text.done': {
        if (this.#outOfBand.has(event.response_id)) return;
        const item = this.#itemOf(event.item_id, event.response_id);
        const text = 'transcript' in event ? event.transcript : event.text;
        if (!item.cut) {
          item.text = text;
          this.#remember({ role: 'assistant', itemId: event.item_id, text });
          this.emit({ type: 'transcript.assistant.done', itemId: event.item_id, text });
        }
        return;
      }
      case 'response.output_item.done':
        if ('arguments' in event.item && event.item.call_id && event.item.name) {
          this.#pendingCalls.push({ callId: event.item.call_id, name: event.item.name, arguments: event.item.arguments });
        }
        return;
      case 'response.done': {
        if (event.response.id === this.#silenced) this.#silenced = null;
        const outOfBand = isOutOfBand(event.response);
        const deferred = outOfBand ? false : this.#responses.done();
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
        this.emit({ type: 'response', phase: 'done', responseId: event.response.id ?? '', status: event.response.status ?? 'completed', ...(tokens === undefined ? {} : { usage: tokens }) });
        // A failed reply without its details still failed: the user is told, in general words.
        const failure = event.response.status === 'failed' ? (event.response.status_details?.error ?? {}) : undefined;
        if (failure !== undefined) {
          // A failed reply says why only here (e.g. model_not_found, openai-realtime-console#561): tell the user.
          const message = failure.message ?? 'The reply failed.';
          this.emit({ type: 'problem', problem: this.#describe(failure.code ?? null, message) ?? { code: 'server_error', message: `The voice server could not answer: ${message}`, hint: 'Try again.' } });
        }
        if (outOfBand) return;
        void this.#afterResponse(deferred);
        return;
      }
      case 'error':
        this.#onError(event);
        return;
      default:
        return;
    }
  }

  /** The reply ended: tool outputs go back with one response, or a deferred request goes now. */
  async #afterResponse(deferred: boolean): Promise<void> {
    const calls = this.#pendingCalls.splice(0);
    if (calls.length > 0) {
      for (const call of calls) {
        const startedAt = this.#options.now();
        this.emit({ type: 'tool', callId: call.callId, name: call.name, status: 'started' });
        const outcome = await this.#tools.run({ type: 'function_call', id: call.callId, call_id: call.callId, name: call.name, arguments: call.arguments }, this.#options.runTool);
        this.emit({ type: 'tool', callId: call.callId, name: call.name, status: outcome.ok ? 'done' : 'failed', durationMs: this.#options.now() - startedAt });
        this.connection.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.callId, output: outcome.output } });
      }
      this.#requestResponse();
      return;
    }
    if (deferred) {
      this.#requestResponse();
      return;
    }
    if (!this.#options.playout.playing) this.#settle();
  }

  /** A refused `response.create` frees its slot and the voice with it; one deferred behind it goes now. */
  #afterRefusal(refusal: { freed: boolean; deferred: boolean }): void {
    if (refusal.deferred) this.#requestResponse();
    else if (refusal.freed) this.#settle();
  }

  /** Back to waiting for the user once the reply has finished playing. */
  #settle(): void {
    if (this.#responses.idle) this.setState(this.idleState());
  }

  /** Called by the host when the PlayoutBuffer has played everything. */
  playbackDrained(): void {
    this.#settle();
  }

  #describe(code: string | null, message: string): Problem | null {
    return this.#options.describeError?.({ code, message, model: this.#settings.model }) ?? null;
  }

  #onError(event: Extract<RealtimeEvent, { type: 'error' }>): void {
    const { code, message } = event.error;
    switch (code) {
      case 'conversation_already_has_active_response':
        // Defer, never drop (PROTOCOL.md §4 client 12): it goes out after response.done.
        if (this.#responses.alreadyActive()) this.#requestResponse();
        return;
      case 'response_cancel_not_active':
      case 'input_audio_buffer_commit_empty':
        return;
      case 'session_expired':
        // The close (1001) that follows triggers recovery.
        return;
      default:
        // A refused response.create (a rate limit, say) frees its slot and the voice with it.
        this.#afterRefusal(this.#responses.refused(event.error.event_id ?? null));
        this.emit({
          type: 'problem',
          problem: this.#describe(code ?? null, message) ?? { code: code === 'invalid_api_key' ? 'unauthorized' : 'server_error', message: `The voice server reported: ${message}`, hint: code === 'invalid_api_key' ? 'Check OPENAI_API_KEY.' : 'Try again.' },
        });
    }
  }

  /** The item an event is about; one of a reply given up before it was heard is cut from the start. */
  #itemOf(itemId: string, responseId: string | undefined): AssistantItem {
    const item = this.#assistantItem(itemId);
    if (this.#silenced !== null && responseId === this.#silenced) item.cut = true;
    return item;
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
    this.#history.set(entry.itemId, entry);
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
