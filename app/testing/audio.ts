/**
 * Stand-ins for the audio devices behind the `MicSource`/`SpeakerSink` ports, for tests that run
 * on any machine (the real-device loop lives in test/audio): the mic plays what the test scripts,
 * the sink records what would have reached the speaker.
 */
import type { Problem } from '../contract';
import { PlayoutBuffer, type PlayoutOptions } from '../audio/playout';
import type { EchoCanceller } from '../audio/echoCanceller';
import type { MicSource, SpeakerSink, SpeechDetector } from '../audio/ports';

/** 24 kHz mono PCM16: samples per millisecond. */
const perMs = 24;

export class ScriptedMic implements MicSource {
  readonly sampleRate = 24_000;
  running = false;
  #onChunk: ((pcm: Int16Array) => void) | null = null;
  #onError: ((problem: Problem) => void) | null = null;
  #failWith: Problem | null = null;

  /** The next `start` throws this problem, as a missing or busy device does. */
  failNextStart(problem: Problem): void {
    this.#failWith = problem;
  }

  async start(onChunk: (pcm: Int16Array) => void, onError?: (problem: Problem) => void): Promise<void> {
    if (this.#failWith !== null) {
      const problem = this.#failWith;
      this.#failWith = null;
      throw Object.assign(new Error(problem.message), { problem });
    }
    this.#onChunk = onChunk;
    this.#onError = onError ?? null;
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.#onChunk = this.#onError = null;
  }

  /** A loud 220 Hz tone the emulator's VAD hears as speech. */
  speak(ms: number): void {
    this.#emit(tone(ms, 220, 9000));
  }

  /** A faint tone (about -44 dBFS): the speaker's echo as a mic picks it up, quieter than the reply plays. */
  faint(ms: number): void {
    this.#emit(tone(ms, 220, 300));
  }

  silence(ms: number): void {
    this.#emit(new Int16Array(Math.round(ms * perMs)));
  }

  /** The device fails while running (unplugged, taken by another program). */
  fail(problem: Problem): void {
    this.#onError?.(problem);
  }

  #emit(pcm: Int16Array): void {
    // Devices deliver small chunks; 20 ms pieces exercise the framer.
    for (let offset = 0; offset < pcm.length; offset += 20 * perMs) this.#onChunk?.(pcm.subarray(offset, offset + 20 * perMs));
  }
}

export function tone(ms: number, hz: number, amplitude: number): Int16Array {
  const samples = new Int16Array(Math.round(ms * perMs));
  for (let index = 0; index < samples.length; index += 1) samples[index] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * index) / 24_000));
  return samples;
}

/** `ms` of silence at 24 kHz: audio whose content does not matter, only its length. */
export function silence(ms: number): Int16Array {
  return new Int16Array(Math.round(ms * perMs));
}

/** A speaker that keeps every write; `latencyMs` stands for the device and OS buffers. */
export class RecordingSink implements SpeakerSink {
  readonly sampleRate = 24_000;
  readonly latencyMs: number;
  written: Int16Array[] = [];
  flushes = 0;
  opened = false;

  readonly #onFlush: () => void;

  /** `onFlush` runs inside each flush: a device that takes time to drop what it holds. */
  constructor(options: { latencyMs?: number; onFlush?: () => void } = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.#onFlush = options.onFlush ?? (() => undefined);
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  write(pcm: Int16Array): void {
    this.written.push(pcm);
  }

  flush(): void {
    this.flushes += 1;
    this.#onFlush();
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  /** Samples per write, in order. */
  get writeSizes(): number[] {
    return this.written.map((part) => part.length);
  }

  get writtenMs(): number {
    return this.written.reduce((sum, part) => sum + part.length, 0) / perMs;
  }
}

/**
 * An echo canceller that removes everything (a perfect one, in a room that only ever carries the
 * speaker's echo) and remembers the far end it was given; `passNext` lets the mic through instead.
 */
export class SilencingCanceller implements EchoCanceller {
  readonly latencyMs = 0;
  readonly erleDb = 30;
  readonly doubleTalk = false;
  readonly outputIsEcho = false;
  farEnd: Array<{ samples: number; startsAt: number }> = [];
  cuts: number[] = [];
  passNext = false;
  played(pcm: Int16Array, startsAt: number): void {
    this.farEnd.push({ samples: pcm.length, startsAt });
  }
  cut(at: number): void {
    this.cuts.push(at);
  }
  process(mic: Int16Array): Int16Array {
    return this.passNext ? mic : new Int16Array(mic.length);
  }
  reset(): void {}
}

/** A local speech detector that says "speech" when the test does, and counts the frames it was given. */
export class ManualDetector implements SpeechDetector {
  frames = 0;
  /** The loudest sample it was given: 0 while it heard only silence (a gated or cancelled mic). */
  peak = 0;
  closed = false;
  #listeners = new Set<(at: number) => void>();
  push(pcm: Int16Array): void {
    this.frames += 1;
    for (const sample of pcm) this.peak = Math.max(this.peak, Math.abs(sample));
  }
  onSpeechStart(listener: (at: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  speak(at: number): void {
    for (const listener of this.#listeners) listener(at);
  }
  reset(): void {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A PlayoutBuffer wired the way the host wires it: when everything queued has played, the voice
 * session it is attached to hears so (and goes back to idle or listening).
 */
export function drainingPlayout(options: Omit<PlayoutOptions, 'onEvent'>): { playout: PlayoutBuffer; attach(session: { playbackDrained(): void }): void } {
  let attached: { playbackDrained(): void } | null = null;
  const playout = new PlayoutBuffer({
    ...options,
    onEvent: (event) => {
      if (event.type === 'playout.drained') attached?.playbackDrained();
    },
  });
  return { playout, attach: (session) => void (attached = session) };
}
