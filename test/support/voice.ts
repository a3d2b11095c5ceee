/**
 * Test stand-ins for the audio devices of a voice session, for the app-level tests that run on
 * any machine (the real-device loop lives in test/audio). The mic plays what the test scripts; the
 * sink records what would have reached the speaker; time for playout can run faster than real.
 */
import type { Problem } from '../../app/contract';
import type { Scheduler } from '../../app/audio/playout';
import type { MicSource, SpeakerSink } from '../../app/audio/ports';

export class ScriptedMic implements MicSource {
  readonly sampleRate = 24_000;
  running = false;
  #onChunk: ((pcm: Int16Array) => void) | null = null;
  #failWith: Problem | null = null;

  failNextStart(problem: Problem): void {
    this.#failWith = problem;
  }

  async start(onChunk: (pcm: Int16Array) => void): Promise<void> {
    if (this.#failWith !== null) {
      const problem = this.#failWith;
      this.#failWith = null;
      throw Object.assign(new Error(problem.message), { problem });
    }
    this.#onChunk = onChunk;
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.#onChunk = null;
  }

  /** A loud 220 Hz tone the emulator's VAD hears as speech. */
  speak(ms: number): void {
    this.#emit(tone(ms, 220, 9000));
  }

  silence(ms: number): void {
    this.#emit(new Int16Array(Math.round(ms * 24)));
  }

  #emit(pcm: Int16Array): void {
    // Devices deliver small chunks; 20 ms pieces exercise the framer.
    for (let offset = 0; offset < pcm.length; offset += 480) this.#onChunk?.(pcm.subarray(offset, offset + 480));
  }
}

export function tone(ms: number, hz: number, amplitude: number): Int16Array {
  const samples = new Int16Array(Math.round(ms * 24));
  for (let index = 0; index < samples.length; index += 1) samples[index] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * index) / 24_000));
  return samples;
}

export class RecordingSink implements SpeakerSink {
  readonly sampleRate = 24_000;
  readonly latencyMs = 0;
  written: Int16Array[] = [];
  flushes = 0;
  async open(): Promise<void> {}
  write(pcm: Int16Array): void {
    this.written.push(pcm);
  }
  flush(): void {
    this.flushes += 1;
  }
  async close(): Promise<void> {}
  get writtenMs(): number {
    return this.written.reduce((sum, part) => sum + part.length, 0) / 24;
  }
}

/** Real timers with time running `speed` times faster, so seconds of playout take milliseconds. */
export function fastScheduler(speed: number): Scheduler {
  const origin = performance.now();
  return {
    now: () => (performance.now() - origin) * speed,
    after: (ms, fire) => {
      const handle = setTimeout(fire, ms / speed);
      return () => clearTimeout(handle);
    },
  };
}
