/**
 * The adaptive part of the echo canceller: a partitioned-block frequency-domain adaptive filter
 * (MDF) that learns the path from the speaker's signal to the microphone and subtracts its
 * estimate of the echo, block by block.
 *
 * - Blocks of `blockSize` samples, FFTs of twice that (overlap-save), the echo tail split into
 *   `partitions` blocks so a 300 ms tail costs a few small FFTs per block, not one huge one.
 * - The step is normalised per frequency by the far end's smoothed power (NLMS in each bin) and
 *   shared between partitions in proportion to their weight (proportionate MDF): a laptop's echo
 *   path is a delay and a decay, so most of the filter is near zero and the taps that matter get
 *   most of the step, which is what makes it converge in well under a second.
 * - The gradient constraint (keeping each partition a linear, not circular, convolution) is applied
 *   to two partitions per block in turn, as speexdsp's "alternatively unconstrained" MDF does: the
 *   full constraint would cost two FFTs per partition per block for no audible difference.
 * - Double talk freezes adaptation: a Geigel test (the mic louder than anything the speaker played
 *   in the tail) until the filter has converged, then the normalised cross-correlation between the
 *   echo estimate and the mic (near 1 with echo alone, lower when the near end speaks). Once
 *   converged, a freeze never ends in relearning by itself: only an output louder than the mic
 *   (the echo path moved) does.
 *
 * Samples are floats in [-1, 1].
 */
import { HalfSpectrumFft } from './halfSpectrum';

/** The part of the step spread evenly over the partitions; the rest follows their weight. */
const UNIFORM_SHARE = 0.2;

export interface EchoFilterOptions {
  blockSize?: number;
  /** Echo tail covered, in blocks. */
  partitions?: number;
  /** Overall step (0 < step ≤ 1). */
  step?: number;
  sampleRate: number;
}

export interface EchoFilterBlockResult {
  /** The mic block with the echo estimate subtracted. */
  output: Float64Array;
  /** The echo estimate that was subtracted. */
  echo: Float64Array;
  /** Whether the filter held its weights this block (near-end speech, or no far end). */
  frozen: boolean;
  doubleTalk: boolean;
  /** Whether anything the speaker played within the tail could be in this block. */
  farActive: boolean;
}

export class EchoFilter {
  readonly blockSize: number;
  readonly partitions: number;
  readonly #fftSize: number;
  readonly #bins: number;
  readonly #fft: HalfSpectrumFft;
  readonly #step: number;
  readonly #sampleRate: number;
  /** Far-end spectra, newest first after rotation: #farSpectra[(#head + k) % K] is k blocks old. */
  readonly #farSpectra: Float64Array[];
  #head = 0;
  readonly #weights: Float64Array[];
  /** Scratch: the normaliser per bin. */
  readonly #farPower: Float64Array;
  readonly #farTime: Float64Array;
  /** Peak of each recent far-end block, for the Geigel test over the tail. */
  readonly #farPeaks: Float64Array;
  #constrainNext = 0;
  /** Each partition's learnt energy (sum of |W|² over its bins), as of the last adaptation. */
  readonly #partitionEnergy: Float64Array;
  /** |X|² per bin of each far-end spectrum, in the same ring as `#farSpectra`. */
  readonly #farPowers: Float64Array[];
  readonly #shares: Float64Array;
  // Scratch buffers, reused every block.
  readonly #timeIn: Float64Array;
  readonly #echoSpectrum: Float64Array;
  readonly #errorSpectrum: Float64Array;
  // Smoothed block statistics for the double-talk detector.
  #micPower = 0;
  #echoPower = 0;
  #errorPower = 0;
  #echoMicCorrelation = 0;
  #convergedErle = 0;
  #hangover = 0;
  #frozenFor = 0;
  /** Blocks in a row that left more than the mic held (the echo path moved). */
  #movedFor = 0;
  #converged = false;

  constructor(options: EchoFilterOptions) {
    this.blockSize = options.blockSize ?? 256;
    this.partitions = options.partitions ?? 29;
    this.#step = options.step ?? 1;
    this.#sampleRate = options.sampleRate;
    this.#fftSize = this.blockSize * 2;
    this.#bins = this.blockSize + 1;
    this.#fft = new HalfSpectrumFft(this.#fftSize);
    const spectrum = () => this.#fft.halfSpectrum();
    this.#farSpectra = Array.from({ length: this.partitions }, spectrum);
    this.#weights = Array.from({ length: this.partitions }, spectrum);
    this.#farPower = new Float64Array(this.#bins);
    this.#farTime = new Float64Array(this.#fftSize);
    this.#farPeaks = new Float64Array(this.partitions + 1);
    this.#partitionEnergy = new Float64Array(this.partitions);
    this.#farPowers = Array.from({ length: this.partitions }, () => new Float64Array(this.#bins));
    this.#shares = new Float64Array(this.partitions);
    this.#timeIn = new Float64Array(this.#fftSize);
    this.#echoSpectrum = spectrum();
    this.#errorSpectrum = spectrum();
  }

  /** Milliseconds of echo the filter can model. */
  get tailMs(): number {
    return (this.partitions * this.blockSize * 1000) / this.#sampleRate;
  }

  /** The partition holding most of what was learnt (where the echo's direct path is). */
  get strongestPartition(): number {
    let best = 0;
    for (let part = 1; part < this.partitions; part += 1) if (this.#partitionEnergy[part]! > this.#partitionEnergy[best]!) best = part;
    return best;
  }

  /** The far end's spectrum over the two blocks ending `age` blocks ago (read only; the next block overwrites one). */
  farSpectrum(age: number): Float64Array {
    return this.#farSpectra[(this.#head + age) % this.partitions]!;
  }

  /** The filter's own estimate of its echo reduction (mic power over output power, far end only). */
  get erleDb(): number {
    return this.#convergedErle;
  }

  reset(): void {
    for (const array of [...this.#farSpectra, ...this.#farPowers, ...this.#weights, this.#farPower, this.#farTime, this.#farPeaks, this.#partitionEnergy]) array.fill(0);
    this.#micPower = this.#echoPower = this.#errorPower = this.#echoMicCorrelation = this.#convergedErle = 0;
    this.#relearn();
  }

  /**
   * The reference moved by `deltaBlocks` (the echo now comes that many blocks later, negative:
   * sooner): what was learnt moves with it instead of being thrown away, and the far-end history
   * is rebuilt from `history` (the reference at its new alignment, `history[age]` one block each,
   * newest first, `partitions + 1` of them).
   */
  realign(deltaBlocks: number, history: Float64Array[]): void {
    const k = this.partitions;
    const shifted = Array.from({ length: k }, (_, index) => {
      const from = index - deltaBlocks;
      return from >= 0 && from < k ? this.#weights[from]!.slice() : new Float64Array(this.#bins * 2);
    });
    for (let index = 0; index < k; index += 1) this.#weights[index]!.set(shifted[index]!);
    const n = this.blockSize;
    for (let age = 0; age < k; age += 1) {
      this.#timeIn.set(history[age + 1]!, 0);
      this.#timeIn.set(history[age]!, n);
      this.#fft.forward(this.#timeIn, this.#farSpectra[(this.#head + age) % k]!);
      powerOf(this.#farSpectra[(this.#head + age) % k]!, this.#farPowers[(this.#head + age) % k]!);
    }
    for (let part = 0; part < k; part += 1) {
      let sum = 0;
      const w = this.#weights[part]!;
      for (let index = 0; index < w.length; index += 1) sum += w[index]! * w[index]!;
      this.#partitionEnergy[part] = sum;
    }
    this.#farTime.set(history[1]!, 0);
    this.#farTime.set(history[0]!, n);
    for (let age = 0; age < this.#farPeaks.length; age += 1) this.#farPeaks[age] = Math.max(...history[age]!.map(Math.abs));
    this.#hangover = this.#frozenFor = this.#movedFor = 0;
  }

  /**
   * The echo's power per bin as the room's energy decay predicts it: the far end's power in each
   * partition weighted by how much energy the filter learnt there, averaged over the bins. Unlike
   * the echo estimate itself it also covers the bins the filter has not learnt yet (speech excites
   * a few harmonics at a time, and a new reply brings new ones), so the suppressor can turn down
   * the echo there too.
   */
  echoPowerEnvelope(into: Float64Array): void {
    into.fill(0);
    const bins = this.#bins;
    for (let k = 0; k < this.partitions; k += 1) {
      const weight = this.#partitionEnergy[k]! / bins;
      if (weight === 0) continue;
      const p = this.#farPowers[(this.#head + k) % this.partitions]!;
      for (let bin = 0; bin < bins; bin += 1) into[bin] = into[bin]! + weight * p[bin]!;
    }
  }

  /**
   * One block: `mic` and `far` are `blockSize` samples, `far` lined up so the echo comes after it.
   * `hold` keeps the weights this block whatever the double-talk detector says (the caller is
   * not sure the reference is lined up yet).
   */
  process(mic: Float64Array, far: Float64Array, hold = false): EchoFilterBlockResult {
    const n = this.blockSize;
    const bins = this.#bins;
    // Far-end spectrum of the last two blocks (overlap-save).
    this.#farTime.copyWithin(0, n);
    this.#farTime.set(far, n);
    this.#head = (this.#head + this.partitions - 1) % this.partitions;
    const newest = this.#farSpectra[this.#head]!;
    this.#fft.forward(this.#farTime, newest);
    powerOf(newest, this.#farPowers[this.#head]!);
    let farPeak = 0;
    for (let index = 0; index < n; index += 1) farPeak = Math.max(farPeak, Math.abs(far[index]!));
    this.#farPeaks.copyWithin(1, 0);
    this.#farPeaks[0] = farPeak;

    // Echo estimate: the sum over partitions of weights × far-end spectra.
    const echoSpectrum = this.#echoSpectrum;
    echoSpectrum.fill(0);
    for (let k = 0; k < this.partitions; k += 1) {
      const x = this.#farSpectra[(this.#head + k) % this.partitions]!;
      const w = this.#weights[k]!;
      for (let index = 0; index < 2 * bins; index += 2) {
        const xr = x[index]!;
        const xi = x[index + 1]!;
        const wr = w[index]!;
        const wi = w[index + 1]!;
        echoSpectrum[index] = echoSpectrum[index]! + wr * xr - wi * xi;
        echoSpectrum[index + 1] = echoSpectrum[index + 1]! + wr * xi + wi * xr;
      }
    }
    const echoTime = this.#fft.inverse(echoSpectrum);
    const output = new Float64Array(n);
    const echoEstimate = new Float64Array(n);
    let micEnergy = 0;
    let echoEnergy = 0;
    let errorEnergy = 0;
    let cross = 0;
    let micPeak = 0;
    for (let index = 0; index < n; index += 1) {
      const echo = echoTime[2 * (n + index)]!;
      const d = mic[index]!;
      const e = d - echo;
      output[index] = e;
      echoEstimate[index] = echo;
      micEnergy += d * d;
      echoEnergy += echo * echo;
      errorEnergy += e * e;
      cross += echo * d;
      micPeak = Math.max(micPeak, Math.abs(d));
    }

    const farActive = this.#farPeaks.some((peak) => peak > 1e-3);
    const smooth = 0.3;
    this.#micPower += smooth * (micEnergy / n - this.#micPower);
    this.#echoPower += smooth * (echoEnergy / n - this.#echoPower);
    this.#errorPower += smooth * (errorEnergy / n - this.#errorPower);
    this.#echoMicCorrelation += smooth * (cross / n - this.#echoMicCorrelation);
    const blockErleDb = 10 * Math.log10((micEnergy + 1e-12) / (errorEnergy + 1e-12));
    const doubleTalk = farActive && this.#detectDoubleTalk(micPeak, blockErleDb, micEnergy / n);
    const frozen = !farActive || doubleTalk || hold;
    if (!frozen) {
      this.#adapt(output);
      if (this.#micPower > 1e-9) {
        const erle = 10 * Math.log10(this.#micPower / Math.max(this.#errorPower, 1e-12));
        this.#convergedErle += 0.1 * (erle - this.#convergedErle);
        // A filter that removes a quarter of the echo is trustworthy enough for the correlation test.
        if (this.#convergedErle > 6) this.#converged = true;
      }
    }
    return { output, echo: echoEstimate, frozen, doubleTalk, farActive };
  }

  #detectDoubleTalk(micPeak: number, blockErleDb: number, blockMicPower: number): boolean {
    const blocksPerSecond = this.#sampleRate / this.blockSize;
    let suspect: boolean;
    if (!this.#converged) {
      // Geigel: no echo is louder than the loudest the speaker played within the tail.
      let farPeak = 0;
      for (const peak of this.#farPeaks) farPeak = Math.max(farPeak, peak);
      suspect = micPeak > farPeak;
    } else {
      // With echo alone and a filter that leaves a fraction r of the echo, E[ŷd] ≈ (1 − r)·E[d²];
      // near-end speech as loud as the echo halves that. Measured against what this filter can
      // explain, not against a perfect one: a filter still learning is not mistaken for the user
      // and frozen before it gets better (on the real loop that held it near 10 dB for seconds).
      const correlation = this.#micPower > 1e-10 ? this.#echoMicCorrelation / this.#micPower : 1;
      const explained = 1 - 10 ** (-this.#convergedErle / 10);
      suspect = correlation < 0.6 * explained;
      // A loud block the filter suddenly cancels far less well than it has been: the near end too.
      if (blockMicPower > this.#micPower && blockErleDb < this.#convergedErle - 12) suspect = true;
      // Near-end speech leaves less than the mic held (the echo is still removed); a moved echo
      // path leaves more (the old estimate adds to the new echo): that is no double talk.
      if (this.#errorPower > this.#micPower) this.#movedFor += 1;
      else this.#movedFor = 0;
      if (this.#movedFor > blocksPerSecond * 0.15) {
        this.#relearn();
        return false;
      }
    }
    if (suspect) this.#hangover = Math.round(blocksPerSecond * 0.2);
    else if (this.#hangover > 0) this.#hangover -= 1;
    const doubleTalk = suspect || this.#hangover > 0;
    this.#frozenFor = doubleTalk ? this.#frozenFor + 1 : 0;
    // Before convergence only the Geigel test judges, and an echo louder than what the speaker
    // played keeps it suspecting for good: after longer than any barge-in, learn anyway. Once
    // converged a moved path shows itself (more left than the mic held, above), and a long freeze
    // is the user speaking: relearning then, two seconds into the words, adapted to the user's
    // voice and moved the bulk delay by 50 ms (the replay of the loop did the same mid-barge-in).
    if (!this.#converged && this.#frozenFor > blocksPerSecond * 2) {
      this.#relearn();
      return false;
    }
    return doubleTalk;
  }

  #relearn(): void {
    this.#converged = false;
    this.#convergedErle = 0;
    this.#frozenFor = this.#hangover = this.#movedFor = 0;
  }

  #adapt(error: Float64Array): void {
    const n = this.blockSize;
    const bins = this.#bins;
    this.#timeIn.fill(0, 0, n);
    this.#timeIn.set(error, n);
    this.#fft.forward(this.#timeIn, this.#errorSpectrum);
    // Proportionate shares: some spread evenly, the rest by each partition's weight (its energy
    // as the last update left it, summed in that update's own loop).
    const k = this.partitions;
    const energy = this.#partitionEnergy;
    const shares = this.#shares;
    let total = 0;
    for (let part = 0; part < k; part += 1) {
      shares[part] = Math.sqrt(energy[part]!);
      total += shares[part]!;
    }
    for (let part = 0; part < k; part += 1) shares[part] = UNIFORM_SHARE / k + (total > 0 ? ((1 - UNIFORM_SHARE) * shares[part]!) / total : (1 - UNIFORM_SHARE) / k);
    // The NLMS normaliser per bin: the far end's power in each partition, weighted by its share,
    // so a sound that starts after silence gets a step that fits it, not one sized for silence.
    const power = this.#farPower;
    power.fill(0);
    for (let part = 0; part < k; part += 1) {
      const p = this.#farPowers[(this.#head + part) % k]!;
      const share = shares[part]!;
      for (let bin = 0; bin < bins; bin += 1) power[bin] = power[bin]! + share * p[bin]!;
    }
    // Regularisation: a bin's power never counts for less than this floor.
    const floor = this.#fftSize * this.blockSize * 1e-5;
    for (let bin = 0; bin < bins; bin += 1) power[bin] = this.#step / (power[bin]! + floor);
    const e = this.#errorSpectrum;
    for (let part = 0; part < k; part += 1) {
      const share = shares[part]!;
      const x = this.#farSpectra[(this.#head + part) % k]!;
      const w = this.#weights[part]!;
      let sum = 0;
      for (let bin = 0; bin < bins; bin += 1) {
        const index = 2 * bin;
        const scale = share * power[bin]!;
        const xr = x[index]!;
        const xi = x[index + 1]!;
        const er = e[index]!;
        const ei = e[index + 1]!;
        // conj(X) · E
        const wr = w[index]! + scale * (xr * er + xi * ei);
        const wi = w[index + 1]! + scale * (xr * ei - xi * er);
        w[index] = wr;
        w[index + 1] = wi;
        sum += wr * wr + wi * wi;
      }
      energy[part] = sum;
    }
    for (let count = 0; count < 2; count += 1) {
      const w = this.#weights[this.#constrainNext]!;
      this.#constrain(w);
      let sum = 0;
      for (let index = 0; index < 2 * bins; index += 1) sum += w[index]! * w[index]!;
      energy[this.#constrainNext] = sum;
      this.#constrainNext = (this.#constrainNext + 1) % this.partitions;
    }
  }

  /** Keeps a partition's impulse response within its first half (a linear convolution). */
  #constrain(weights: Float64Array): void {
    const time = this.#fft.inverse(weights);
    const n = this.blockSize;
    for (let index = 0; index < n; index += 1) this.#timeIn[index] = time[2 * index]!;
    this.#timeIn.fill(0, n);
    this.#fft.forward(this.#timeIn, weights);
  }
}

/** |X|² per bin of a half spectrum. */
function powerOf(spectrum: Float64Array, into: Float64Array): void {
  for (let bin = 0; bin < into.length; bin += 1) into[bin] = spectrum[2 * bin]! * spectrum[2 * bin]! + spectrum[2 * bin + 1]! * spectrum[2 * bin + 1]!;
}
