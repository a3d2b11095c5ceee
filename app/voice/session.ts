/**
 * What every voice session is to the controller: the speech-to-speech `RealtimeSession` and the
 * transcription → agent → speech `PipelineSession` both implement `VoiceSession` and report
 * through one event union, so the controller never asks which one it holds.
 */
import type { Problem } from '../contract';
import type { RealtimeFunctionTool } from '../protocol/realtime';
import type { SocketState } from '../transport/socket';

export type VoiceState = 'connecting' | 'idle' | 'listening' | 'thinking' | 'speaking' | 'offline' | 'error';

/** Tokens of one voice response, split as the Realtime API bills them. */
export interface VoiceUsage {
  textIn: number;
  audioIn: number;
  cachedIn: number;
  textOut: number;
  audioOut: number;
}

/** Where the time of one turn went, from the end of the user's speech to the first reply audio. */
export interface VoiceTiming {
  itemId: string;
  speechEndToTranscriptMs: number | null;
  transcriptToFirstTokenMs: number | null;
  firstTokenToFirstAudioMs: number | null;
  totalMs: number | null;
}

/** Inspector and UI events of either session; the names are the ones the UI shows. */
export type VoiceSessionEvent =
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
  | { type: 'barge_in'; itemId: string; reason: BargeInReason; playedMs: number; generatedMs: number; audioEndMs: number; heardText: string }
  | { type: 'truncated'; itemId: string; audioEndMs: number }
  | { type: 'tool'; callId: string; name: string; status: 'started' | 'done' | 'failed'; durationMs?: number }
  | { type: 'reconnect'; attempt: number; delayMs: number; code: number | null }
  | { type: 'recovered'; gapMs: number; itemsReplayed: number }
  /** Pipeline mode times its own turns. */
  | { type: 'timing'; timing: VoiceTiming }
  /** A server frame of a known type with missing or wrong fields: skipped, for the inspector. */
  | { type: 'frame.rejected'; problem: Problem }
  | { type: 'problem'; problem: Problem };

/** Why playback was cut: the user started speaking, or pressed the key or Stop. */
export type BargeInReason = 'speech' | 'hotkey';

export interface VoiceSession {
  readonly state: VoiceState;
  readonly muted: boolean;
  /** Opens the socket, configures the session, and starts listening in the voice-detection modes. */
  connect(): Promise<void>;
  close(): Promise<void>;
  /** Push-to-talk pressed (hotkey or button): interrupts playback, then captures. */
  press(): Promise<void>;
  /** Push-to-talk released: sends the turn, unless it was too short. */
  release(): Promise<void>;
  /** Mute keeps the meter moving but sends no audio. */
  setMuted(muted: boolean): void;
  /** Typed text as a user turn. */
  /** `image`, a data URL, goes along as an `input_image` part (speech to speech) or to the agent (pipeline). */
  sendText(text: string, image?: string): void;
  /** A note (a finished background task) for the voice to speak about. */
  addNote(text: string): void;
  /** Speaks a short sample in `voice` without changing the setting or the conversation. */
  previewVoice(voice: string): void;
  /** Replaces the tools the voice model may call (the registry changed). */
  setTools(tools: RealtimeFunctionTool[]): void;
  /** Stops playback and keeps only what the user heard (see bargeIn.ts). */
  bargeIn(reason: BargeInReason): void;
  /** Called by the controller when the PlayoutBuffer has played everything. */
  playbackDrained(): void;
}
