/**
 * Acoustic echo cancellation: the port the mic side uses, and Parley's own implementation.
 *
 * The canceller is told what the speaker played and when the listener heard it (the
 * PlayoutBuffer's far-end tap, on the playout clock), and when each mic frame was captured (on the
 * same clock), so it can line the two up itself: a laptop's echo arrives tens of milliseconds
 * after the sound left the speaker, and the adaptive filter (echoFilter.ts) learns the rest.
 *
 * Runs at 24 kHz, the rate both the playout and the mic frames already have: no resampling on
 * either path, and the filter's cost (a few 512-point FFTs per 10.7 ms block) is small enough at
 * that rate (see `npm run bench -- echo`).
 */
import { EchoFilter } from './echoFilter';
import { EchoSuppressor } from './echoSuppressor';

/** What the mic side needs from a canceller. PCM16 mono at 24 kHz. */
export interface EchoCanceller {
  /** Far-end audio that starts sounding at `startsAt` (ms, playout clock). */
  played(pcm: Int16Array, startsAt: number): void;
  /** Playback was cut at `at`: nothing scheduled after it sounds. */
  cut(at: number): void;
  /** One mic frame whose first sample was captured at `capturedAt`; returns it without the echo (same length). */
  process(mic: Int16Array, capturedAt: number): Int16Array;
  /** The canceller's estimate of how much echo it removes now, in dB. */
  readonly erleDb: number;
  /** Whether the near end seemed to speak over the far end in the last frame. */
  readonly doubleTalk: boolean;
  reset(): void;
}

export interface BuiltinEchoCancellerOptions {
  sampleRate?: number;
  /** Echo tail modelled, in ms (rounded up to whole blocks). */
  tailMs?: number;
  /**
   * How far the reference runs ahead of the mic's clock: the mic's capture times and the sink's
   * latency are estimates, so the filter's first taps cover an echo that seems to arrive early.
   */
  leadMs?: number;
  /** Whether the residual echo is suppressed after the filter (default true; off to measure the filter alone). */
  suppression?: boolean;
}

/** The far-end signal on a sample-indexed timeline, as it reached the listener. */
export class FarEndTimeline {
  readonly #rate: number;
  readonly #ring: Float64Array;
  /** Absolute sample index (playout clock × rate) one past the last sample written. */
  #end = 0;
  #started = false;

  constructor(sampleRate: number, historyMs = 4000) {
    this.#rate = sampleRate;
    let size = 1;
    while (size < (historyMs * sampleRate) / 1000) size *= 2;
    this.#ring = new Float64Array(size);
  }

  indexAt(ms: number): number {
    return Math.round((ms * this.#rate) / 1000);
  }

  write(pcm: Int16Array, startsAt: number): void {
    const start = this.indexAt(startsAt);
    const mask = this.#ring.length - 1;
    if (!this.#started) {
      this.#end = start;
      this.#started = true;
    }
    // Silence between the last write and this one (the ring still holds older audio there).
    for (let index = this.#end; index < start && index - this.#end < this.#ring.length; index += 1) this.#ring[index & mask] = 0;
    for (let offset = 0; offset < pcm.length; offset += 1) this.#ring[(start + offset) & mask] = pcm[offset]! / 32768;
    this.#end = Math.max(this.#end, start + pcm.length);
  }

  cut(at: number): void {
    const from = this.indexAt(at);
    if (from >= this.#end) return;
    const mask = this.#ring.length - 1;
    for (let index = Math.max(from, this.#end - this.#ring.length); index < this.#end; index += 1) this.#ring[index & mask] = 0;
    this.#end = from;
  }

  /** `into.length` samples from absolute index `start`; silence where nothing is known. */
  read(start: number, into: Float64Array): void {
    const mask = this.#ring.length - 1;
    const oldest = this.#end - this.#ring.length;
    for (let offset = 0; offset < into.length; offset += 1) {
      const index = start + offset;
      into[offset] = this.#started && index < this.#end && index >= oldest ? this.#ring[index & mask]! : 0;
    }
  }
}

/**
 * Parley's canceller: the frequency-domain adaptive filter behind a small FIFO, since mic frames
 * (20–100 ms) are not whole filter blocks, then the residual echo suppressor. The output lags
 * the mic by two blocks (21 ms): one for the FIFO, one for the suppressor's overlap-add.
 */
export class BuiltinEchoCanceller implements EchoCanceller {
  readonly #rate: number;
  readonly #leadSamples: number;
  readonly #filter: EchoFilter;
  readonly #suppressor: EchoSuppressor | null;
  readonly #timeline: FarEndTimeline;
  readonly #micBlock: Float64Array;
  readonly #farBlock: Float64Array;
  #micFill = 0;
  /** Absolute far-end index of the next mic sample to enter a block. */
  #nextIndex: number | null = null;
  #output: Float64Array;
  #outputLength: number;
  #doubleTalk = false;

  constructor(options: BuiltinEchoCancellerOptions = {}) {
    this.#rate = options.sampleRate ?? 24_000;
    const blockSize = 256;
    const tailMs = options.tailMs ?? 300;
    this.#filter = new EchoFilter({ sampleRate: this.#rate, blockSize, partitions: Math.ceil((tailMs * this.#rate) / 1000 / blockSize) });
    this.#suppressor = options.suppression === false ? null : new EchoSuppressor({ blockSize });
    this.#leadSamples = Math.round(((options.leadMs ?? 40) * this.#rate) / 1000);
    this.#timeline = new FarEndTimeline(this.#rate);
    this.#micBlock = new Float64Array(blockSize);
    this.#farBlock = new Float64Array(blockSize);
    // One block of silence primes the output, so every frame can be answered in full.
    this.#output = new Float64Array(blockSize * 4);
    this.#outputLength = blockSize;
  }

  get erleDb(): number {
    return this.#filter.erleDb;
  }

  get doubleTalk(): boolean {
    return this.#doubleTalk;
  }

  /** The longest echo delay (after the lead) the filter models, in ms. */
  get tailMs(): number {
    return this.#filter.tailMs - (this.#leadSamples * 1000) / this.#rate;
  }

  played(pcm: Int16Array, startsAt: number): void {
    this.#timeline.write(pcm, startsAt);
  }

  cut(at: number): void {
    this.#timeline.cut(at);
  }

  process(mic: Int16Array, capturedAt: number): Int16Array {
    const blockSize = this.#filter.blockSize;
    const frameStart = this.#timeline.indexAt(capturedAt);
    // Follow the capture clock, but ignore jitter of less than a block: a reference that jumps
    // about would look like an echo path that keeps moving.
    if (this.#nextIndex === null || Math.abs(frameStart - this.#micFill - this.#nextIndex) > blockSize) this.#nextIndex = frameStart - this.#micFill;
    let doubleTalk = false;
    for (let offset = 0; offset < mic.length; offset += 1) {
      this.#micBlock[this.#micFill] = mic[offset]! / 32768;
      this.#micFill += 1;
      if (this.#micFill < blockSize) continue;
      this.#timeline.read(this.#nextIndex + this.#leadSamples, this.#farBlock);
      const result = this.#filter.process(this.#micBlock, this.#farBlock);
      doubleTalk ||= result.doubleTalk;
      this.#append(this.#suppressor?.process(result.output, result.echo, !result.frozen) ?? result.output);
      this.#nextIndex += blockSize;
      this.#micFill = 0;
    }
    this.#doubleTalk = doubleTalk;
    const out = new Int16Array(mic.length);
    for (let index = 0; index < out.length; index += 1) out[index] = Math.max(-32768, Math.min(32767, Math.round(this.#output[index]! * 32768)));
    this.#output.copyWithin(0, out.length, this.#outputLength);
    this.#outputLength -= out.length;
    return out;
  }

  reset(): void {
    this.#filter.reset();
    this.#suppressor?.reset();
    this.#nextIndex = null;
    this.#micFill = 0;
    this.#output.fill(0);
    this.#outputLength = this.#filter.blockSize;
  }

  #append(block: Float64Array): void {
    if (this.#outputLength + block.length > this.#output.length) {
      const grown = new Float64Array((this.#outputLength + block.length) * 2);
      grown.set(this.#output.subarray(0, this.#outputLength));
      this.#output = grown;
    }
    this.#output.set(block, this.#outputLength);
    this.#outputLength += block.length;
  }
}
