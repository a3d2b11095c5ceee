/**
 * PipelineSession: the second voice architecture. Speech goes to a Realtime *transcription*
 * session (`?intent=transcription`); each final transcript is an incremental turn on the
 * Responses agent (with its tools, warmup, compaction and rollover); the agent's text is spoken
 * sentence by sentence through `POST /v1/audio/speech` (streamed PCM) into the PlayoutBuffer.
 * Barge-in stops playback, aborts the turn and its pending speech, and keeps what was heard.
 */
import { transcriptionSocketUrl, type RealtimeEvent } from '../protocol/realtime';
import { userMessage } from '../protocol/responses';
import type { ResponseInputItem } from '../protocol/responses';
import type { TurnHandlers, TurnOutcome } from '../responses/session';
import { realTimer, SilenceDeadline } from '../transport/deadline';
import { heardOfSentences, interruptionNote } from './bargeIn';
import type { InvalidFrame, SessionBody } from './realtimeConnection';
import type { BargeInReason, VoiceSession, VoiceSessionEvent, VoiceTiming } from './session';
import { VoiceSessionBase, voiceReplyDeadlineMs, type VoiceSessionIo } from './sessionBase';
import { transcriptionSession } from './transcriber';
import { RealtimeRequestError } from './waiters';

export interface PipelineSettings {
  transcriptionModel: string;
  /** ISO-639-1 hint for the transcription model; null lets it detect. */
  language: string | null;
  speechModel: string;
  voice: string;
  /** How a turn ends: releasing push-to-talk, or the server's VAD hearing silence. */
  listen: 'push_to_talk' | 'server_vad';
  vad: { threshold: number; prefixPaddingMs: number; silenceDurationMs: number };
  echo: 'speakers' | 'headphones';
  frameMs: number;
}

export const defaultPipelineSettings: PipelineSettings = {
  transcriptionModel: 'gpt-4o-mini-transcribe',
  language: null,
  speechModel: 'gpt-4o-mini-tts',
  voice: 'marin',
  listen: 'push_to_talk',
  vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 },
  echo: 'speakers',
  frameMs: 40,
};

/** The brain: the ResponsesSession, or anything that runs a turn like it. */
export interface PipelineAgent {
  runTurn(input: readonly ResponseInputItem[], handlers?: TurnHandlers): Promise<TurnOutcome>;
}

/** Where the time of one turn went, from the end of the user's speech to the first reply audio. */
export type PipelineTiming = VoiceTiming;

/** The pipeline session's events: the voice event union. */
export type PipelineSessionEvent = VoiceSessionEvent;

export interface PipelineSessionOptions extends VoiceSessionIo {
  settings: PipelineSettings;
  agent: PipelineAgent;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
}

/** One reply: its text as it streams, what has been sent to speech, and its clock marks. */
interface Reply {
  itemId: string;
  controller: AbortController;
  text: string;
  /** Text not yet a whole sentence. */
  unspoken: string;
  /** Every sentence sent to speech, in order. */
  said: string[];
  /** After a retry restarted the stream: sentences already said, not to be said again. */
  repeats: string[];
  /** Sentences whose audio reached the PlayoutBuffer, with their share of the item's audio. */
  spoken: Array<{ text: string; startMs: number; durationMs: number }>;
  audioMs: number;
  speech: Promise<void>;
  cut: boolean;
  done: boolean;
  speechEndAt: number | null;
  transcriptAt: number;
  firstTokenAt: number | null;
  firstAudioAt: number | null;
  timed: boolean;
}


/** Whole sentences at the front of `text`, and the rest. */
export function splitSentences(text: string): { sentences: string[]; rest: string } {
  const sentences: string[] = [];
  const pattern = /[^.!?\n]*(?:[.!?]+(?=\s|$)|\n)/y;
  let offset = 0;
  for (;;) {
    pattern.lastIndex = offset;
    const match = pattern.exec(text);
    // A sentence is only whole once what follows it has arrived (so "3.5" is not split at the point).
    if (match === null || match[0] === '' || pattern.lastIndex >= text.length) break;
    const sentence = match[0].trim();
    if (sentence !== '') sentences.push(sentence);
    offset = pattern.lastIndex;
  }
  return { sentences, rest: text.slice(offset) };
}

export class PipelineSession extends VoiceSessionBase implements VoiceSession {
  #options: PipelineSessionOptions;
  #settings: PipelineSettings;
  /** The user is mid-utterance as far as the transcription socket knows (VAD started or committed). */
  #utterancePending = false;
  #speechEndAt: number | null = null;
  #reply: Reply | null = null;
  #replies = 0;
  /** What the agent should know before the next turn (what was really heard of a cut reply). */
  #notes: string[] = [];

  constructor(options: PipelineSessionOptions) {
    // The transcription session takes PCM16 at 24 kHz.
    super(options, { label: 'transcription', updatePrefix: 'parley_transcription_update', recoveryHint: 'Check your connection.', frameMs: options.settings.frameMs, encoding: 'pcm16' });
    this.#options = options;
    this.#settings = options.settings;
  }

  get settings(): PipelineSettings {
    return this.#settings;
  }

  /** Applies new settings; a refused update changes nothing and rejects with a `RealtimeRequestError`. */
  async updateSettings(settings: Partial<PipelineSettings>): Promise<void> {
    const previous = this.#settings;
    this.#settings = { ...previous, ...settings };
    this.mic.reconfigure(this.#settings.frameMs, 'pcm16');
    try {
      await this.connection.update(this.sessionConfig());
    } catch (error) {
      // A socket that closed meanwhile is no refusal: the reopened session is configured with these settings.
      if (!(error instanceof RealtimeRequestError)) return;
      this.#settings = previous;
      this.mic.reconfigure(previous.frameMs, 'pcm16');
      throw error;
    }
    await this.followTurnMode();
  }

  async press(): Promise<void> {
    if (this.#interruptible()) this.bargeIn('hotkey');
    await this.ptt.press();
  }

  async release(): Promise<void> {
    if ((await this.ptt.release()) === null) return;
    this.#speechEndAt = this.#options.now();
    this.#utterancePending = true;
    this.setState('thinking');
  }

  /** A note (a finished background task) for the agent to speak about. */
  addNote(text: string): void {
    this.#startReply([{ type: 'message', role: 'developer', content: [{ type: 'input_text', text }] }], null);
  }

  /** Typed text as a spoken turn. */
  sendText(text: string, image?: string): void {
    this.#startReply([userMessage(text, image)], null);
  }

  /** The agent's tools live on the Responses session; nothing to send here. */
  setTools(): void {}

  /** Speaks a sample sentence in `voice` without changing the setting. */
  previewVoice(voice: string): void {
    const itemId = `preview_${(this.#replies += 1)}`;
    void this.#fetchSpeech(`This is the ${voice} voice.`, voice, new AbortController().signal, (pcm) => this.#options.playout.enqueue(itemId, pcm)).catch((error: unknown) => this.#speechProblem(error));
  }

  /**
   * Barge-in: stops playback, aborts the agent turn and every pending speech request, and keeps
   * what the user actually heard, which the agent is told before its next turn.
   */
  bargeIn(reason: BargeInReason): void {
    const reply = this.#reply;
    const stopped = this.#options.playout.stop();
    if (reply === null || reply.cut || (reply.done && stopped === null)) return;
    reply.cut = true;
    reply.controller.abort();
    const report = (playedMs: number): string => {
      const heardText = heardOfSentences(reply.spoken, playedMs);
      this.emit({ type: 'barge_in', itemId: reply.itemId, reason, playedMs, generatedMs: reply.audioMs, audioEndMs: Math.floor(Math.min(playedMs, reply.audioMs)), heardText });
      return interruptionNote(heardText);
    };
    // Another item playing (a preview) means this reply was heard as far as the playout says.
    const ours = stopped !== null && stopped.itemId === reply.itemId ? stopped : null;
    this.#notes.push(report(ours === null ? this.#options.playout.playedMs(reply.itemId) : ours.playedMs));
  }

  /** Called by the host when the PlayoutBuffer has played everything. */
  playbackDrained(): void {
    if (this.#reply === null || this.#reply.done) this.setState(this.idleState());
  }

  override async close(): Promise<void> {
    // A closed session says nothing more of its reply (no end, no idle after offline).
    const reply = this.#reply;
    this.#reply = null;
    if (reply !== null) {
      reply.cut = true;
      reply.controller.abort();
    }
    await super.close();
  }

  // Transcription socket -----------------------------------------------------------------------

  protected socketUrl(): string {
    return transcriptionSocketUrl(this.#options.baseUrl);
  }

  protected pushToTalk(): boolean {
    return this.#settings.listen === 'push_to_talk';
  }

  protected echo(): PipelineSettings['echo'] {
    return this.#settings.echo;
  }

  /** The conversation lives on the Responses side: nothing to replay after a reopen. */
  protected replay(): number {
    return 0;
  }

  protected sessionConfig(): SessionBody {
    return transcriptionSession(this.#settings, this.#settings.listen === 'push_to_talk' ? null : this.#settings.vad);
  }

  /** The socket dropped: an utterance on its way is lost, and the user is told so. */
  protected async onLost(): Promise<void> {
    const lost = this.#utterancePending || this.mic.capturing;
    this.#utterancePending = false;
    if (this.mic.endCapture() !== null) await this.mic.stop();
    if (lost) {
      this.emit({
        type: 'problem',
        problem: { code: 'connection_failed', message: 'The transcription connection dropped while you were speaking, so that was lost.', hint: 'Say it again once voice is back (it reconnects on its own).' },
      });
    }
  }

  /** Something is playing or being prepared that the user can talk over. */
  #interruptible(): boolean {
    return this.#options.playout.playing || (this.#reply !== null && !this.#reply.done);
  }

  /** A known event with missing or wrong fields that no waiter claimed. */
  protected onInvalidFrame(frame: InvalidFrame): void {
    const endsUtterance = frame.type === 'conversation.item.input_audio_transcription.completed' || frame.type === 'conversation.item.input_audio_transcription.failed';
    if (endsUtterance && this.#utterancePending) {
      this.#utterancePending = false;
      this.emit({ type: 'problem', problem: { code: 'malformed_frame', message: 'What you said could not be read back from the transcription server.', hint: 'Say it again.' } });
      this.setState(this.idleState());
    }
  }

  protected onServerEvent(event: RealtimeEvent): void {
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.#utterancePending = true;
        this.emit({ type: 'vad', speaking: true });
        if (this.#interruptible()) this.bargeIn('speech');
        this.setState('listening');
        return;
      case 'input_audio_buffer.speech_stopped':
        this.#speechEndAt = this.#options.now();
        this.emit({ type: 'vad', speaking: false });
        return;
      case 'input_audio_buffer.committed':
        if (this.#settings.listen === 'server_vad') {
          this.emit({ type: 'commit', itemId: event.item_id, audioMs: 0 });
          this.setState('thinking');
        }
        return;
      case 'conversation.item.input_audio_transcription.completed': {
        this.#utterancePending = false;
        this.emit({ type: 'transcript.user', itemId: event.item_id, text: event.transcript, final: true });
        const speechEndAt = this.#speechEndAt;
        this.#speechEndAt = null;
        if (event.transcript.trim() !== '') this.#startReply([userMessage(event.transcript)], speechEndAt);
        else this.setState(this.idleState());
        return;
      }
      case 'conversation.item.input_audio_transcription.failed':
        this.#utterancePending = false;
        this.emit({ type: 'problem', problem: { code: 'server_error', message: `What you said could not be transcribed: ${event.error.message ?? 'unknown error'}.`, hint: 'Say it again.' } });
        this.setState(this.idleState());
        return;
      case 'error':
        if (event.error.code === 'input_audio_buffer_commit_empty') {
          this.#utterancePending = false;
          this.setState(this.idleState());
          return;
        }
        this.emit({ type: 'problem', problem: { code: event.error.code === 'invalid_api_key' ? 'unauthorized' : 'server_error', message: `The transcription server reported: ${event.error.message}`, hint: 'Try again.' } });
        return;
      default:
        return;
    }
  }

  // The agent and speech -----------------------------------------------------------------------

  #startReply(input: ResponseInputItem[], speechEndAt: number | null): void {
    const previous = this.#reply;
    if (previous !== null && !previous.done && !previous.cut) this.bargeIn('speech');
    const notes = this.#notes.splice(0).map((text): ResponseInputItem => ({ type: 'message', role: 'developer', content: [{ type: 'input_text', text }] }));
    const reply: Reply = {
      itemId: `pipeline_reply_${(this.#replies += 1)}`,
      controller: new AbortController(),
      text: '',
      unspoken: '',
      said: [],
      repeats: [],
      spoken: [],
      audioMs: 0,
      speech: Promise.resolve(),
      cut: false,
      done: false,
      speechEndAt,
      transcriptAt: this.#options.now(),
      firstTokenAt: null,
      firstAudioAt: null,
      timed: false,
    };
    this.#reply = reply;
    this.setState('thinking');
    void this.#runReply(reply, [...notes, ...input]);
  }

  async #runReply(reply: Reply, input: ResponseInputItem[]): Promise<void> {
    const outcome = await this.#options.agent
      .runTurn(input, {
        signal: reply.controller.signal,
        onTextDelta: (delta) => {
          if (reply.cut) return;
          reply.firstTokenAt ??= this.#options.now();
          reply.text += delta;
          this.emit({ type: 'transcript.assistant', itemId: reply.itemId, delta });
          const { sentences, rest } = splitSentences(reply.unspoken + delta);
          reply.unspoken = rest;
          for (const sentence of sentences) this.#say(reply, sentence);
        },
        onRestart: () => {
          // A retried response streams again from its start. What was said cannot be taken back,
          // so the retry's sentences that repeat it are not said twice; unsent text goes, and the
          // transcript ends with the retry's text.
          reply.repeats = [...reply.said];
          reply.text = '';
          reply.unspoken = '';
        },
      })
      .catch((error: unknown): TurnOutcome => ({ status: 'failed', text: reply.text, problem: { code: 'internal', message: `The agent failed: ${(error as Error).message}`, hint: 'Try again.' }, metrics: null }));
    if (!reply.cut) {
      const rest = reply.unspoken.trim();
      reply.unspoken = '';
      if (rest !== '') this.#say(reply, rest);
      if (outcome.status === 'failed' && !reply.controller.signal.aborted) this.emit({ type: 'problem', problem: outcome.problem });
      this.emit({ type: 'transcript.assistant.done', itemId: reply.itemId, text: reply.text });
    }
    await reply.speech;
    reply.done = true;
    this.#emitTiming(reply);
    if (!reply.cut && !this.#options.playout.playing) this.setState(this.idleState());
  }

  /** Says a sentence, unless a restarted stream is repeating what was already said. */
  #say(reply: Reply, sentence: string): void {
    if (reply.repeats[0] === sentence) {
      reply.repeats.shift();
      return;
    }
    reply.repeats = [];
    reply.said.push(sentence);
    this.#speak(reply, sentence);
  }

  /** Queues one sentence: fetched in order, each streamed into the PlayoutBuffer as it arrives. */
  #speak(reply: Reply, sentence: string): void {
    reply.speech = reply.speech.then(async () => {
      if (reply.cut) return;
      const startMs = reply.audioMs;
      const entry = { text: sentence, startMs, durationMs: 0 };
      reply.spoken.push(entry);
      try {
        await this.#fetchSpeech(sentence, this.#settings.voice, reply.controller.signal, (pcm) => {
          if (reply.cut) return;
          reply.firstAudioAt ??= this.#options.now();
          const ms = (pcm.length * 1000) / 24_000;
          reply.audioMs += ms;
          entry.durationMs += ms;
          this.#options.playout.enqueue(reply.itemId, pcm);
          if (this.state !== 'speaking') this.setState('speaking');
          this.#emitTiming(reply);
        });
      } catch (error) {
        if (!reply.cut) this.#speechProblem(error);
      }
    });
  }

  /**
   * One sentence's speech, streamed. A request that hears nothing for the reply deadline (no
   * headers, then no bytes) is aborted and reported, so the sentences behind it are not held up.
   */
  async #fetchSpeech(input: string, voice: string, signal: AbortSignal, onPcm: (pcm: Int16Array) => void): Promise<void> {
    const silent = new AbortController();
    const deadline = new SilenceDeadline({
      ms: this.#options.replyDeadlineMs ?? voiceReplyDeadlineMs,
      now: this.#options.now,
      setTimer: this.#options.setTimer ?? realTimer,
      onExpired: (silentMs) => silent.abort(new Error(`the speech server sent nothing for ${Math.round(silentMs / 1000)} s`)),
    });
    deadline.start();
    try {
      await this.#streamSpeech(input, voice, AbortSignal.any([signal, silent.signal]), (pcm) => {
        deadline.heard();
        onPcm(pcm);
      });
    } catch (error) {
      throw silent.signal.aborted ? silent.signal.reason : error;
    } finally {
      deadline.stop();
    }
  }

  async #streamSpeech(input: string, voice: string, signal: AbortSignal, onPcm: (pcm: Int16Array) => void): Promise<void> {
    const url = `${this.#options.baseUrl.replace(/\/+$/, '')}/audio/speech`;
    const response = await this.#options.fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.#options.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: this.#settings.speechModel, input, voice, response_format: 'pcm' }),
      signal,
    });
    if (!response.ok || response.body === null) {
      const body = await response.text().catch(() => '');
      const message = /"message"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? `HTTP ${response.status}`;
      throw new Error(message);
    }
    const reader = response.body.getReader();
    let carry: Uint8Array | null = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Chunks may split a sample: keep the odd byte for the next one.
      const bytes: Uint8Array = carry === null ? value : concatBytes(carry, value);
      const whole = bytes.byteLength - (bytes.byteLength % 2);
      carry = whole === bytes.byteLength ? null : bytes.slice(whole);
      if (whole > 0) onPcm(pcmOf(bytes.subarray(0, whole)));
    }
  }

  /** Speech that failed for a reply still running or a preview (an aborted reply is cut, and says nothing). */
  #speechProblem(error: unknown): void {
    this.emit({ type: 'problem', problem: { code: 'server_error', message: `Part of the reply could not be spoken: ${(error as Error).message}`, hint: 'The full text is in the transcript.' } });
  }

  #emitTiming(reply: Reply): void {
    if (reply.timed || (reply.firstAudioAt === null && !reply.done)) return;
    reply.timed = true;
    const span = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.round(to - from));
    this.emit({
      type: 'timing',
      timing: {
        itemId: reply.itemId,
        speechEndToTranscriptMs: span(reply.speechEndAt, reply.transcriptAt),
        transcriptToFirstTokenMs: span(reply.transcriptAt, reply.firstTokenAt),
        firstTokenToFirstAudioMs: span(reply.firstTokenAt, reply.firstAudioAt),
        totalMs: span(reply.speechEndAt ?? reply.transcriptAt, reply.firstAudioAt),
      },
    });
  }

}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** Little-endian PCM16 bytes as samples (copied, so alignment never matters). */
function pcmOf(bytes: Uint8Array): Int16Array {
  const samples = new Int16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let index = 0; index < samples.length; index += 1) samples[index] = view.getInt16(index * 2, true);
  return samples;
}
