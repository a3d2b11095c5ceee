/**
 * The audio boundary: what the sessions need from a microphone and a speaker. Native adapters
 * live in `native/`; tests use the same ports with real devices through PulseAudio.
 */
import type { Problem } from '../contract';

/** PCM16 little-endian mono throughout; rates are stated where they vary. */
export interface MicSource {
  /** The device rate the chunks arrive at (resampled to 24 kHz before sending). */
  readonly sampleRate: number;
  /** What to check when the source has delivered only silence for long (a platform's own advice). */
  readonly silenceHint?: string;
  /**
   * Starts capture. Chunks arrive as the device delivers them (any size); `onError` reports a
   * device that is missing, busy or stops, in words a user can act on.
   */
  start(onChunk: (pcm: Int16Array) => void, onError: (problem: Problem) => void): Promise<void>;
  stop(): Promise<void>;
}

export interface SpeakerSink {
  /** The rate written samples are played at (24 kHz for Realtime audio). */
  readonly sampleRate: number;
  /** Milliseconds between a write and its sound reaching the listener (device and OS buffers). */
  readonly latencyMs: number;
  open(): Promise<void>;
  /** Queues samples for playback without blocking. */
  write(pcm: Int16Array): void;
  /** Discards everything written and not yet played, as fast as the device allows. */
  flush(): void;
  close(): Promise<void>;
}

export interface AudioDevice {
  id: string;
  label: string;
  isDefault: boolean;
}

export interface AudioDevices {
  inputs(): Promise<AudioDevice[]>;
  outputs(): Promise<AudioDevice[]>;
  /** What meeting mode can hear of the system's audio (app/audio/native/systemAudio.ts). */
  systemAudio?(): Promise<SystemAudioSources>;
}

/** The sources of the system's audio there are to choose from, or why there are none here. */
export type SystemAudioSources = { available: true; devices: AudioDevice[] } | { available: false; reason: string };

/**
 * Local voice activity detection on the mic (after echo cancellation): says when the user starts
 * speaking, a round trip sooner than the server's `speech_started`. The server's VAD still decides
 * turns; this only stops playback.
 */
export interface SpeechDetector {
  /** One frame of PCM16 mono at 24 kHz whose first sample was captured at `capturedAt` (playout clock). */
  push(pcm: Int16Array, capturedAt: number): void;
  /** Speech began at `at` (capture time of its first frame). Returns the unsubscribe function. */
  onSpeechStart(listener: (at: number) => void): () => void;
  /** Forget state (the next speech is new). */
  reset(): void;
  close(): Promise<void>;
}

/**
 * The sound server's echo canceller as voice uses it: the device ids to record from (`input`) and
 * play into (`output`) while it runs, and `close` to let them go (unloading it if Parley loaded it).
 */
export interface SystemEchoDevices {
  input: string;
  output: string;
  close(): Promise<void>;
}
