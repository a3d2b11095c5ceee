/**
 * What both voice sessions are made of, in the spirit of openai-agents-js's `OpenAIRealtimeBase`:
 * one Realtime connection (realtimeConnection.ts), one microphone with its push-to-talk rules,
 * and the voice state with its events. A session adds its conversation: the speech-to-speech
 * model's (realtimeSession.ts) or the agent's with speech (pipeline.ts).
 */
import type { AudioEncoding } from '../audio/encoding';
import type { MicStream } from '../audio/micStream';
import type { PlayoutBuffer } from '../audio/playout';
import type { EchoCanceller } from '../audio/echoCanceller';
import type { MicSource, SpeechDetector } from '../audio/ports';
import type { RealtimeEvent } from '../protocol/realtime';
import type { SetTimer } from '../transport/deadline';
import type { SocketState, WebSocketFactory } from '../transport/socket';
import { voiceMic } from './microphone';
import { PushToTalk } from './pushToTalk';
import { RealtimeConnection, type InvalidFrame, type SessionBody } from './realtimeConnection';
import type { BargeInReason, VoiceSessionEvent, VoiceState } from './session';

/** The I/O every voice session is given. */
export interface VoiceSessionIo {
  baseUrl: string;
  apiKey: string;
  createWebSocket: WebSocketFactory;
  mic: MicSource;
  playout: PlayoutBuffer;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  onEvent?: (event: VoiceSessionEvent) => void;
  /** Echo cancellation on the mic (speakers): when given, the echo gate is not used. */
  echoCanceller?: EchoCanceller | null;
  /** Local speech detection: the user talking over playback barges in at once. */
  speechDetector?: SpeechDetector | null;
  /** Schedules the deadlines (a reply, a server answer); default the global setTimeout. */
  setTimer?: SetTimer;
  /**
   * How long a reply (or an answer to `session.update`) may go without a single event from the
   * server before Parley gives up on it. Default `voiceReplyDeadlineMs`.
   */
  replyDeadlineMs?: number;
}

/**
 * A speech-to-speech reply streams its first event within a second or two and then events many
 * times a second; half a minute of nothing on a socket whose pings are answered is a server that
 * lost the request (the heartbeat in app/transport/socket.ts catches a dead socket).
 */
export const voiceReplyDeadlineMs = 30_000;

export interface VoiceSessionSpec {
  label: 'voice' | 'transcription';
  updatePrefix: string;
  recoveryHint: string;
  frameMs: number;
  encoding: AudioEncoding;
}

export abstract class VoiceSessionBase {
  protected readonly io: VoiceSessionIo;
  protected readonly connection: RealtimeConnection;
  protected readonly mic: MicStream;
  protected readonly ptt: PushToTalk;
  #state: VoiceState = 'offline';

  constructor(io: VoiceSessionIo, spec: VoiceSessionSpec) {
    this.io = io;
    const emit = (event: VoiceSessionEvent): void => this.emit(event);
    const setState = (state: VoiceState): void => this.setState(state);
    this.connection = new RealtimeConnection({
      label: spec.label,
      updatePrefix: spec.updatePrefix,
      recoveryHint: spec.recoveryHint,
      url: () => this.socketUrl(),
      apiKey: io.apiKey,
      createWebSocket: io.createWebSocket,
      now: io.now,
      sleep: io.sleep,
      ...(io.random === undefined ? {} : { random: io.random }),
      ...(io.setTimer === undefined ? {} : { setTimer: io.setTimer }),
      answerDeadlineMs: io.replyDeadlineMs ?? voiceReplyDeadlineMs,
      host: {
        sessionConfig: () => this.sessionConfig(),
        onEvent: (event) => {
          // The user's words as they are transcribed read the same in both modes.
          if (event.type === 'conversation.item.input_audio_transcription.delta') this.emit({ type: 'transcript.user', itemId: event.item_id, text: event.delta ?? '', final: false });
          else this.onServerEvent(event);
        },
        onInvalid: (frame) => this.onInvalidFrame(frame),
        onLost: (state) => this.onLost(state),
        onRecovered: () => this.replay(),
        emit,
        setState,
        idleState: () => this.idleState(),
      },
    });
    this.mic = voiceMic({
      mic: io.mic,
      playout: io.playout,
      frameMs: spec.frameMs,
      encoding: spec.encoding,
      // Echo safety with speakers while voice detection listens (headphones: full duplex).
      echoGate: () => this.echo() === 'speakers' && !this.pushToTalk(),
      append: (audio) => this.connection.send({ type: 'input_audio_buffer.append', audio }),
      emit,
      setState,
      canceller: io.echoCanceller ?? null,
      detector: io.speechDetector ?? null,
      // Stops playback within a chunk, truncated at what was heard; the server's VAD still makes the turn.
      onLocalSpeech: () => this.bargeIn('speech'),
    });
    this.ptt = new PushToTalk({ mic: this.mic, enabled: () => this.pushToTalk(), send: (event) => this.connection.send(event), emit, setState });
  }

  get state(): VoiceState {
    return this.#state;
  }

  get muted(): boolean {
    return this.mic.muted;
  }

  /** Mute keeps the meter moving but sends no audio: nothing said while muted reaches the model. */
  setMuted(muted: boolean): void {
    this.mic.setMuted(muted);
  }

  /** Opens the socket, configures the session, and starts listening in the voice-detection modes. */
  async connect(): Promise<void> {
    this.setState('connecting');
    try {
      await this.connection.open();
    } catch (error) {
      this.setState('error');
      throw error;
    }
    await this.ptt.followTurnMode();
    // A microphone that failed as it started has already said so and left the error state.
    if (this.#state === 'connecting') this.setState(this.idleState());
  }

  /**
   * After settings that may change the turn mode: the mic follows it, and a session at rest shows
   * the new mode's resting state (idle for push-to-talk, listening for voice detection), as it
   * does after `connect`. A reply in progress or a held key keeps its state; the reply ends in the
   * new one.
   */
  protected async followTurnMode(): Promise<void> {
    await this.ptt.followTurnMode();
    if (!this.mic.capturing && (this.#state === 'idle' || this.#state === 'listening')) this.setState(this.idleState());
  }

  async close(): Promise<void> {
    this.connection.close();
    await this.mic.stop();
    this.io.playout.stop();
    this.setState('offline');
  }

  /** The socket's address for the current settings (the speech-to-speech model is in it). */
  abstract bargeIn(reason: BargeInReason): void;
  protected abstract socketUrl(): string;
  /** The `session.update` body for the current settings. */
  protected abstract sessionConfig(): SessionBody;
  protected abstract pushToTalk(): boolean;
  protected abstract echo(): 'speakers' | 'headphones';
  protected abstract onServerEvent(event: RealtimeEvent): void;
  protected abstract onInvalidFrame(frame: InvalidFrame): void;
  /** The socket closed under the session: forget what was in flight. */
  protected abstract onLost(state: Extract<SocketState, { status: 'closed' }>): Promise<void> | void;
  /** Reopened: replay what the new server session must know; returns how many items went. */
  protected abstract replay(): number;

  protected idleState(): VoiceState {
    return this.pushToTalk() ? 'idle' : 'listening';
  }

  protected setState(state: VoiceState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit({ type: 'state', state });
  }

  protected emit(event: VoiceSessionEvent): void {
    this.io.onEvent?.(event);
  }
}
