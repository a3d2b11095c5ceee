/**
 * The canceller's second stage: what the adaptive filter leaves of the echo (it is still learning,
 * the room moved, the speaker distorts) is suppressed per frequency. The residual's power in each
 * bin is the filter's echo estimate there times how much of it the filter is currently missing
 * (the "leak", learnt while only the far end plays), or, where larger, the echo's power envelope
 * (the far end's power through the room's learnt energy decay) times its own leak: on the real
 * loop a reply brings harmonics the filter has not learnt yet, where its estimate is near zero and
 * the echo went through untouched. Bins where the mic carries much more than that (the user
 * speaking) pass, bins that hold only residual echo are turned down, never below `floorDb`. Analysis and synthesis use square-root Hann windows with 50 % overlap, so the output
 * lags the input by one block.
 */
import { HalfSpectrumFft } from './halfSpectrum';

export interface EchoSuppressorOptions {
  blockSize: number;
  /** The most a bin is turned down, in dB (negative). */
  floorDb?: number;
  /**
   * How much louder than the estimated residual a bin must be to pass untouched (default 3:
   * replaying recorded loop audio, 2 left 4 dB more echo, and the user at the echo's level is
   * still 20 dB above the residual).
   */
  overSubtraction?: number;
}

export class EchoSuppressor {
  readonly #n: number;
  readonly #size: number;
  readonly #bins: number;
  readonly #fft: HalfSpectrumFft;
  readonly #window: Float64Array;
  readonly #floor: number;
  readonly #over: number;
  readonly #errorFrame: Float64Array;
  readonly #echoFrame: Float64Array;
  readonly #scratch: Float64Array;
  readonly #errorSpectrum: Float64Array;
  readonly #echoSpectrum: Float64Array;
  /** The error spectrum with each bin's gain applied. */
  readonly #suppressed: Float64Array;
  readonly #gains: Float64Array;
  readonly #overlap: Float64Array;
  /** Residual power over echo-estimate power, learnt while the far end plays alone. */
  #leak = 1;
  /** Residual power over the echo's power envelope (see `EchoFilter.echoPowerEnvelope`), learnt likewise. */
  #envelopeLeak = 0;
  /**
   * Both leaks as they were over the last few learning blocks, oldest first: the double-talk
   * detector needs a block or three to see the user, and what those blocks taught (the user's
   * voice taken for leaked echo) is undone when it does.
   */
  readonly #history: Array<[number, number]> = [];
  #learning = false;

  constructor(options: EchoSuppressorOptions) {
    this.#n = options.blockSize;
    this.#size = 2 * this.#n;
    this.#bins = this.#n + 1;
    this.#fft = new HalfSpectrumFft(this.#size);
    this.#window = new Float64Array(this.#size);
    for (let index = 0; index < this.#size; index += 1) this.#window[index] = Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * index) / this.#size));
    this.#floor = 10 ** ((options.floorDb ?? -30) / 20);
    this.#over = options.overSubtraction ?? 3;
    this.#errorFrame = new Float64Array(this.#size);
    this.#echoFrame = new Float64Array(this.#size);
    this.#scratch = new Float64Array(this.#size);
    this.#errorSpectrum = this.#fft.halfSpectrum();
    this.#echoSpectrum = this.#fft.halfSpectrum();
    this.#suppressed = this.#fft.halfSpectrum();
    this.#gains = new Float64Array(this.#bins).fill(1);
    this.#overlap = new Float64Array(this.#n);
  }

  reset(): void {
    for (const array of [this.#errorFrame, this.#echoFrame, this.#overlap]) array.fill(0);
    this.#gains.fill(1);
    this.#leak = 1;
    this.#envelopeLeak = 0;
    this.#history.length = 0;
    this.#learning = false;
  }

  /**
   * One block of the filter's output and its echo estimate; returns the block before it, with the
   * residual echo suppressed. `learn` says the far end plays alone (no double talk); `unsure` that
   * the filter may not be lined up with the echo (just after an onset or a move), so however well
   * it did before, the echo is taken as not removed at all.
   */
  process(error: Float64Array, echo: Float64Array, learn: boolean, envelope?: Float64Array, unsure = false): Float64Array {
    const n = this.#n;
    this.#errorFrame.copyWithin(0, n);
    this.#errorFrame.set(error, n);
    this.#echoFrame.copyWithin(0, n);
    this.#echoFrame.set(echo, n);
    this.#transform(this.#errorFrame, this.#errorSpectrum);
    this.#transform(this.#echoFrame, this.#echoSpectrum);
    let errorTotal = 0;
    let echoTotal = 0;
    for (let bin = 0; bin < this.#bins; bin += 1) {
      errorTotal += this.#errorSpectrum[2 * bin]! ** 2 + this.#errorSpectrum[2 * bin + 1]! ** 2;
      echoTotal += this.#echoSpectrum[2 * bin]! ** 2 + this.#echoSpectrum[2 * bin + 1]! ** 2;
    }
    if (learn) {
      this.#history.push([this.#leak, this.#envelopeLeak]);
      if (this.#history.length > ROLLBACK_BLOCKS) this.#history.shift();
    } else if (this.#learning && this.#history.length > 0) {
      [this.#leak, this.#envelopeLeak] = this.#history[0]!;
      this.#history.length = 0;
    }
    this.#learning = learn;
    if (learn && echoTotal > 1e-6 * this.#size) this.#leak = follow(this.#leak, Math.min(4, errorTotal / echoTotal));
    let envelopeTotal = 0;
    if (envelope !== undefined) for (let bin = 0; bin < this.#bins; bin += 1) envelopeTotal += envelope[bin]!;
    if (learn && envelopeTotal > 1e-6 * this.#size) this.#envelopeLeak = follow(this.#envelopeLeak, Math.min(4, errorTotal / envelopeTotal));
    const leak = unsure ? Math.max(this.#leak, UNSURE_LEAK) : this.#leak;
    const envelopeLeak = unsure ? Math.max(this.#envelopeLeak, UNSURE_LEAK) : this.#envelopeLeak;
    const suppressed = this.#suppressed;
    for (let bin = 0; bin < this.#bins; bin += 1) {
      const er = this.#errorSpectrum[2 * bin]!;
      const ei = this.#errorSpectrum[2 * bin + 1]!;
      const errorPower = er * er + ei * ei;
      const fromEstimate = leak * (this.#echoSpectrum[2 * bin]! ** 2 + this.#echoSpectrum[2 * bin + 1]! ** 2);
      const residual = this.#over * (envelope === undefined ? fromEstimate : Math.max(fromEstimate, envelopeLeak * envelope[bin]!));
      const target = errorPower > 0 ? Math.max(this.#floor, Math.sqrt(Math.max(0, 1 - residual / errorPower))) : this.#floor;
      // Down at once, back up over a few blocks: echo tails are not let through while gains recover.
      const previous = this.#gains[bin]!;
      const gain = target < previous ? target : previous + 0.5 * (target - previous);
      this.#gains[bin] = gain;
      suppressed[2 * bin] = er * gain;
      suppressed[2 * bin + 1] = ei * gain;
    }
    const time = this.#fft.inverse(suppressed);
    const out = new Float64Array(n);
    for (let index = 0; index < n; index += 1) out[index] = this.#overlap[index]! + time[2 * index]! * this.#window[index]!;
    for (let index = 0; index < n; index += 1) this.#overlap[index] = time[2 * (n + index)]! * this.#window[n + index]!;
    return out;
  }

  #transform(frame: Float64Array, into: Float64Array): void {
    for (let index = 0; index < this.#size; index += 1) this.#scratch[index] = frame[index]! * this.#window[index]!;
    this.#fft.forward(this.#scratch, into);
  }
}

/**
 * A leak estimate rises by at most `MAX_RISE` a block (14 dB in 100 ms) and falls over a few dozen
 * blocks. It once followed any rise half-way at once: the user's first block, before the
 * double-talk detector had caught up, was learnt as leak (×130 in one block on the loop), and then
 * held through the double talk, so the suppressor took 15–20 dB off the user's first half-second.
 * A real jump of the echo path is the canceller's to flag (`unsure`), which takes the leak as
 * whole at once.
 */
function follow(leak: number, ratio: number): number {
  return ratio > leak ? Math.min(ratio, Math.max(leak, LEAK_FLOOR) * MAX_RISE) : leak + RELEASE * (ratio - leak);
}
const MAX_RISE = 1.4;
/** How many learning blocks a detected double talk takes back. */
const ROLLBACK_BLOCKS = 4;
const LEAK_FLOOR = 1e-3;
const RELEASE = 0.02;
/**
 * The leak taken while the filter may be misaligned: more than the echo itself, since a misaligned
 * estimate adds to what it fails to remove (at 1 the suppressor took 12 dB off such a block, at 2
 * more than 20).
 */
const UNSURE_LEAK = 2;
