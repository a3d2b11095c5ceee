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
import { COHERENCE_SMOOTHING, ResidualCoherence } from './echoCoherence';
import { EchoSuppressor } from './echoSuppressor';
import { HalfSpectrumFft } from './halfSpectrum';

/** What the mic side needs from a canceller. PCM16 mono at 24 kHz. */
export interface EchoCanceller {
  /** Far-end audio that starts sounding at `startsAt` (ms, playout clock). */
  played(pcm: Int16Array, startsAt: number): void;
  /** Playback was cut at `at`: nothing scheduled after it sounds. */
  cut(at: number): void;
  /** One mic frame whose first sample was captured at `capturedAt`; returns it without the echo (same length). */
  process(mic: Int16Array, capturedAt: number): Int16Array;
  /** How much later than its input each output sample comes out, in ms. */
  readonly latencyMs: number;
  /** The canceller's estimate of how much echo it removes now, in dB. */
  readonly erleDb: number;
  /** Whether the near end seemed to speak over the far end in the last frame. */
  readonly doubleTalk: boolean;
  /**
   * Whether the last frame's output was mostly echo the canceller failed to remove (the echo moved
   * under it): whatever its level, none of it is the user.
   */
  readonly outputIsEcho: boolean;
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

/** A pause in the far end this long (blocks of 10.7 ms) makes its next onset be checked for a shift. */
const ONSET_PAUSE_BLOCKS = 20;
/** How much better than staying put a move of the whole search range must fit (less for shorter moves). */
const PITCH_PENALTY = 0.15;
/**
 * Blocks after an onset when the echo estimate is lined up with the mic: the reference reaches the
 * filter a few blocks before its echo does, so this leaves about 100 ms of echo to compare.
 */
const ONSET_CHECK_BLOCKS = 16;
/** Blocks after a move of the reference during which the suppressor takes the echo as not removed. */
const AFTER_MOVE_BLOCKS = 4;
/** How much better than the current alignment a new bulk delay's envelope must correlate. */
const CORRELATION_MARGIN = 0.15;
/** Estimates in a row (an eighth of a second apart) that must agree before the bulk delay moves. */
const CONFIRMATIONS = 3;
/**
 * A sudden small jump of the echo (on the loop: 9 samples later, or 26 sooner, from one block to the next) is
 * looked for over the newest `RECENT_BLOCKS` blocks within `RECENT_SAMPLES` samples, and taken
 * when the move fits at least `RECENT_FIT` and beats staying put by `RECENT_MARGIN`.
 */
const RECENT_BLOCKS = 4;
const RECENT_SAMPLES = 48;
const RECENT_FIT = 0.9;
const RECENT_MARGIN = 0.02;
/**
 * A window that still cancels this much (dB) has not lost the echo, however far below its best it
 * fell: the checks for a move run only under it (a synthetic room's 60 dB dipping to 45 ran them
 * on most blocks, for nothing).
 */
const JUMPED_BELOW_DB = 30;
/**
 * The filter lost the echo (it moved under it) when it leaves `UNEXPECTED_RATIO` times (9 dB) what
 * its ERLE says it leaves of the mic, at least `ECHO_ABOVE` of that is coherent with the far end,
 * and the mic is no louder than `VOICE_RISE` times (1.5 dB) the filter's echo estimate (a moved
 * echo is as loud as the estimate of where it was; a voice adds to it). The levels are smoothed as
 * the coherence is (`smoothed`).
 *
 * The coherence alone took a user's first words for echo on the loop: before its double-talk test
 * catches up, the filter adapts a block or two on the voice, and what that misadapted part leaves
 * is coherent with the far end; the level test keeps those blocks out. Tried instead, the mic
 * against the far end (the room's return loss, which a moved echo leaves alone) caught a synthetic
 * 10 ms jump better (3 frames louder than -50 dBFS reached the detector, against 11), but missed
 * 2 barge-ins in 8 runs of the loop test, where this missed 3 in 59.
 */
const UNEXPECTED_RATIO = 8;
const ECHO_ABOVE = 0.5;
const VOICE_RISE = 1.4;
const smoothed = (previous: number, value: number): number => COHERENCE_SMOOTHING * previous + (1 - COHERENCE_SMOOTHING) * value;
/**
 * The most the ERLE estimate falls in one block, in dB (23 dB a second). A user speaking over the
 * echo is not caught by the filter's double-talk test for the first few blocks, and their voice,
 * taken for echo left behind, pulled an unbounded estimate from 34 to 10 dB within 200 ms on the
 * loop, after which the detector's gate shut them out. The echo the filter really lost is
 * caught by its coherence with the far end instead (`outputIsEcho`), at once.
 */
const ERLE_FALL_DB = 0.25;

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
  /** Scratch: the echo's power envelope per bin, for the suppressor. */
  readonly #envelope: Float64Array;
  #micFill = 0;
  /** Absolute far-end index of the next mic sample to enter a block. */
  #nextIndex: number | null = null;
  #output: Float64Array;
  #outputLength: number;
  #doubleTalk = false;
  #outputIsEcho = false;
  readonly #coherence: ResidualCoherence;
  /** The mic's, the filter's output's and its echo estimate's power, smoothed as the coherence is. */
  #judgedMic = 0;
  #judgedResidual = 0;
  #judgedEcho = 0;
  #micPower = 0;
  #outPower = 0;
  readonly #delay = new DelayEstimator();
  readonly #shift = new ShiftDetector(256);
  /** The bulk delay taken out of the reference, so the filter's tail covers the room, not the pipes. */
  #delaySamples = 0;
  /** Blocks in a row whose reference was silent (a pause between replies). */
  #farQuietBlocks = 0;
  /** Blocks since the far end resumed after a pause, while its alignment is checked (null: not checking). */
  #sinceOnset: number | null = null;
  /**
   * Where the far end was last cut (absolute index), until the reference reaches it: the speaker's
   * stream was flushed there, and what plays next starts it again, so that is an onset to check
   * however short the pause (on the loop the echo came 9 ms sooner after a stop and a new reply).
   */
  #cutIndex: number | null = null;
  /** Blocks left in which the reference may not be lined up with the echo (after a move). */
  #unsureBlocks = 0;
  /** Blocks since the filter last saw double talk. */
  #sinceDoubleTalk = 0;

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
    this.#envelope = new Float64Array(blockSize + 1);
    this.#coherence = new ResidualCoherence(blockSize);
    // One block of silence primes the output, so every frame can be answered in full.
    this.#output = new Float64Array(blockSize * 4);
    this.#outputLength = blockSize;
  }

  /** Mic power over output power (filter and suppressor) while the far end plays alone, in dB. */
  get erleDb(): number {
    return this.#suppressor === null ? this.#filter.erleDb : 10 * Math.log10((this.#micPower + 1e-12) / (this.#outPower + 1e-12));
  }

  get doubleTalk(): boolean {
    return this.#doubleTalk;
  }

  get outputIsEcho(): boolean {
    return this.#outputIsEcho;
  }

  get latencyMs(): number {
    return ((this.#suppressor === null ? 1 : 2) * this.#filter.blockSize * 1000) / this.#rate;
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
    this.#cutIndex = this.#timeline.indexAt(at);
  }

  process(mic: Int16Array, capturedAt: number): Int16Array {
    const blockSize = this.#filter.blockSize;
    const frameStart = this.#timeline.indexAt(capturedAt);
    // The mic's samples come without gaps, so they keep their own count once it is anchored; the
    // capture times only re-anchor it after a real gap (the mic restarted). Following their
    // jitter and slow wander (milliseconds over half a minute, measured) would move the
    // reference under a filter that had learnt it, and a shift of 1 ms undoes any cancellation
    // above a few hundred hertz.
    if (this.#nextIndex === null || Math.abs(frameStart - this.#micFill - this.#nextIndex) > this.#rate / 4) this.#nextIndex = frameStart - this.#micFill;
    let doubleTalk = false;
    let outputIsEcho = false;
    for (let offset = 0; offset < mic.length; offset += 1) {
      this.#micBlock[this.#micFill] = mic[offset]! / 32768;
      this.#micFill += 1;
      if (this.#micFill < blockSize) continue;
      const referenceAt = this.#nextIndex + this.#leadSamples - this.#delaySamples;
      if (this.#cutIndex !== null && referenceAt >= this.#cutIndex) {
        this.#farQuietBlocks = Math.max(this.#farQuietBlocks, ONSET_PAUSE_BLOCKS);
        this.#cutIndex = null;
      }
      this.#timeline.read(referenceAt, this.#farBlock);
      const onset = this.#trackOnset();
      // Right after a pause the reference may sit a few milliseconds off (measured on the loop:
      // 1–13 ms at reply starts, the speaker's stream restarting and the sound server's buffers
      // refilling): what was learnt is held until the check below has lined it up again, since
      // learning the misaligned echo for a few blocks would undo seconds of convergence.
      const hold = onset !== null && onset <= ONSET_CHECK_BLOCKS && this.#shift.learnt;
      const result = this.#filter.process(this.#micBlock, this.#farBlock, hold);
      const micPower = meanSquare(this.#micBlock);
      const lost = this.#echoLost(micPower, result.output, result.echo, result.farActive);
      outputIsEcho ||= lost;
      let shift = this.#shift.push(this.#micBlock, result.echo, result.output);
      if (shift === 0 && onset === ONSET_CHECK_BLOCKS) {
        shift = this.#shift.checkOnset();
        this.#sinceOnset = null;
      }
      this.#sinceDoubleTalk = result.doubleTalk ? 0 : this.#sinceDoubleTalk + 1;
      // The echo itself moved: the reference follows it, and the room the filter learnt stays put.
      if (shift !== 0) this.#moveReference(this.#delaySamples + shift, false);
      else this.#followDelay(!result.frozen);
      doubleTalk ||= result.doubleTalk;
      if (this.#suppressor !== null) this.#filter.echoPowerEnvelope(this.#envelope);
      // Until an onset has been lined up again (and a few blocks after any move) the filter may
      // leave the echo whole, or worse: on the loop the first 40–80 ms of each reply came out as
      // loud as they went in, which held the ERLE over a session near 15 dB however well each
      // reply was cancelled after that. The suppressor takes that echo as not removed at all.
      if (shift !== 0) this.#unsureBlocks = Math.max(this.#unsureBlocks, AFTER_MOVE_BLOCKS);
      const unsure = (onset !== null && onset <= ONSET_CHECK_BLOCKS && this.#shift.learnt) || this.#unsureBlocks > 0 || lost;
      if (this.#unsureBlocks > 0) this.#unsureBlocks -= 1;
      const output = this.#suppressor?.process(result.output, result.echo, !result.frozen, this.#envelope, unsure) ?? result.output;
      if (!result.frozen) {
        const before = this.erleDb;
        this.#micPower += 0.05 * (micPower - this.#micPower);
        this.#outPower += 0.05 * (meanSquare(output) - this.#outPower);
        if (this.#shift.learnt && this.erleDb < before - ERLE_FALL_DB) this.#outPower = this.#micPower * 10 ** (-(before - ERLE_FALL_DB) / 10);
      }
      this.#append(output);
      this.#nextIndex += blockSize;
      this.#micFill = 0;
    }
    this.#doubleTalk = doubleTalk;
    this.#outputIsEcho = outputIsEcho;
    const out = new Int16Array(mic.length);
    for (let index = 0; index < out.length; index += 1) out[index] = Math.max(-32768, Math.min(32767, Math.round(this.#output[index]! * 32768)));
    this.#output.copyWithin(0, out.length, this.#outputLength);
    this.#outputLength -= out.length;
    return out;
  }

  /**
   * Whether a block's residual is echo the filter lost (it moved under the filter): the filter
   * left much more of the mic than its ERLE says it does, and most of that is coherent with the
   * far end. A user speaking over the echo leaves as much, but incoherent.
   */
  #echoLost(micPower: number, residual: Float64Array, echo: Float64Array, farActive: boolean): boolean {
    const fraction = this.#coherence.push(residual, this.#filter);
    // Smoothed, not per block: a block at a word's edge, where the mic is near silent and the
    // estimate's tail is not, says nothing.
    this.#judgedMic = smoothed(this.#judgedMic, micPower);
    this.#judgedResidual = smoothed(this.#judgedResidual, meanSquare(residual));
    this.#judgedEcho = smoothed(this.#judgedEcho, meanSquare(echo));
    if (!farActive || !this.#shift.learnt) return false;
    const expected = this.#judgedMic * 10 ** (-this.#filter.erleDb / 10);
    return this.#judgedResidual > UNEXPECTED_RATIO * expected && fraction >= ECHO_ABOVE && this.#judgedMic <= VOICE_RISE * this.#judgedEcho;
  }

  /**
   * Counts blocks since the far end resumed after at least `ONSET_PAUSE_BLOCKS` of silence; null
   * once the onset has been checked (or while it plays on).
   */
  #trackOnset(): number | null {
    let peak = 0;
    for (const value of this.#farBlock) peak = Math.max(peak, Math.abs(value));
    if (peak > 1e-3) {
      if (this.#farQuietBlocks >= ONSET_PAUSE_BLOCKS) this.#sinceOnset = 0;
      this.#farQuietBlocks = 0;
    } else this.#farQuietBlocks += 1;
    if (this.#sinceOnset !== null) this.#sinceOnset += 1;
    return this.#sinceOnset;
  }

  /** The bulk delay currently taken out of the reference, in ms. */
  get bulkDelayMs(): number {
    return (this.#delaySamples * 1000) / this.#rate;
  }

  /**
   * Tracks the delay between what was heard and what the mic got (device buffers, the sound
   * server, the room) from the two signals' envelopes; when it moves by more than a block the
   * reference moves with it, and what the filter learnt moves too.
   */
  #followDelay(adapting: boolean): void {
    const blockSize = this.#filter.blockSize;
    this.#timeline.read((this.#nextIndex ?? 0) + this.#leadSamples, this.#farBlock);
    const estimate = this.#delay.push(rmsOf(this.#micBlock), rmsOf(this.#farBlock), Math.round(this.#delaySamples / blockSize) + 2);
    if (estimate === null) return;
    // The envelopes also line up with the user's words, and with a reply's syllables half a
    // second off: on the loop the estimate jumped from 230 to 590–650 ms during barge-ins and
    // the next reply went through uncancelled. The user talking (now or within the last second)
    // says nothing about the echo's delay, and a filter that cancels well knows where the echo
    // is (its strongest partition): a move elsewhere is the envelopes' mistake.
    if (!adapting || this.#sinceDoubleTalk < this.#rate / blockSize) return;
    const windowErle = this.#shift.windowErleDb;
    const filterLag = Math.round(this.#delaySamples / blockSize) + this.#filter.strongestPartition;
    if (windowErle !== null && windowErle >= 10 && Math.abs(estimate - filterLag) > 2) return;
    // Two blocks early, so an echo that comes a little sooner still lands inside the filter.
    const target = Math.max(0, (estimate - 2) * blockSize);
    if (Math.abs(target - this.#delaySamples) <= 1.5 * blockSize) return;
    // Whole blocks only, so the filter's partitions move with it and keep their fine alignment.
    this.#moveReference(this.#delaySamples + Math.round((target - this.#delaySamples) / blockSize) * blockSize);
  }

  /**
   * Takes `delaySamples` out of the reference from the next block on, keeping what was learnt:
   * with `moveWeights` the learnt echo moves the other way by whole blocks (the bulk delay was
   * re-centred and the echo's place in the filter changes); without, it stays where it is (the
   * echo came later by just that much, so in the filter it sits where it did). A shift of 6 ms
   * once moved both ways, the filter's room a block early, and undid a second of cancellation.
   */
  #moveReference(delaySamples: number, moveWeights = true): void {
    const blockSize = this.#filter.blockSize;
    const deltaBlocks = moveWeights ? Math.round((this.#delaySamples - delaySamples) / blockSize) : 0;
    this.#delaySamples = delaySamples;
    this.#shift.reset();
    // The block just processed and the ones before it, read again at the new alignment.
    const newest = (this.#nextIndex ?? 0) + this.#leadSamples - this.#delaySamples;
    const history = Array.from({ length: this.#filter.partitions + 1 }, (_, age) => {
      const block = new Float64Array(blockSize);
      this.#timeline.read(newest - age * blockSize, block);
      return block;
    });
    this.#filter.realign(deltaBlocks, history);
  }

  reset(): void {
    this.#delay.reset();
    this.#shift.reset(true);
    this.#delaySamples = 0;
    this.#farQuietBlocks = 0;
    this.#sinceOnset = null;
    this.#sinceDoubleTalk = 0;
    this.#unsureBlocks = 0;
    this.#judgedMic = this.#judgedResidual = this.#judgedEcho = 0;
    this.#outputIsEcho = false;
    this.#coherence.reset();
    this.#cutIndex = null;
    this.#filter.reset();
    this.#suppressor?.reset();
    this.#micPower = this.#outPower = 0;
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

function meanSquare(block: Float64Array): number {
  let sum = 0;
  for (const value of block) sum += value * value;
  return sum / block.length;
}

function rmsOf(block: Float64Array): number {
  return Math.sqrt(meanSquare(block));
}

/**
 * The echo's bulk delay in blocks: the lag at which the mic's envelope best follows the far end's
 * (normalised cross-correlation over the last second), re-estimated eight times a second and
 * reported only when it is clear (a strong peak while the far end was playing, clearly above the
 * fit at the current alignment) and the same three times in a row. A short window matters: on a loaded machine the delay jumps by tens of milliseconds at
 * once (a sound server's buffer refilled after an underrun), and a window of several seconds would
 * keep pointing at the old delay for half its length.
 */
class DelayEstimator {
  readonly #span: number;
  readonly #maxLag: number;
  readonly #every: number;
  readonly #size: number;
  readonly #mic: Float64Array;
  readonly #far: Float64Array;
  #count = 0;
  #candidate: number | null = null;
  #confirmations = 0;

  constructor(spanBlocks = 96, maxLagBlocks = 70, everyBlocks = 12) {
    this.#span = spanBlocks;
    this.#maxLag = maxLagBlocks;
    this.#every = everyBlocks;
    this.#size = spanBlocks + maxLagBlocks;
    this.#mic = new Float64Array(this.#size);
    this.#far = new Float64Array(this.#size);
  }

  reset(): void {
    this.#mic.fill(0);
    this.#far.fill(0);
    this.#count = 0;
    this.#candidate = null;
    this.#confirmations = 0;
  }

  /** `currentLag`: the lag (blocks) the reference is lined up at now; a move must fit clearly better. */
  push(micLevel: number, farLevel: number, currentLag: number): number | null {
    const slot = this.#count % this.#size;
    this.#mic[slot] = micLevel;
    this.#far[slot] = farLevel;
    this.#count += 1;
    if (this.#count < this.#size || this.#count % this.#every !== 0) return null;
    const newest = this.#count - 1;
    const at = (series: Float64Array, age: number) => series[(newest - age) % this.#size]!;
    let best = { lag: 0, correlation: -1 };
    let current = -1;
    for (let lag = 0; lag <= this.#maxLag; lag += 1) {
      // The sums of one lag, reset together.
      let dot = 0, micSum = 0, farSum = 0, micSquares = 0, farSquares = 0, farActive = 0;
      for (let age = 0; age < this.#span; age += 1) {
        const m = at(this.#mic, age);
        const f = at(this.#far, age + lag);
        dot += m * f;
        micSum += m;
        farSum += f;
        micSquares += m * m;
        farSquares += f * f;
        if (f > 1e-3) farActive += 1;
      }
      if (farActive < this.#span / 3) continue;
      const covariance = dot - (micSum * farSum) / this.#span;
      const spread = Math.sqrt((micSquares - (micSum * micSum) / this.#span) * (farSquares - (farSum * farSum) / this.#span));
      const correlation = spread > 0 ? covariance / spread : 0;
      if (correlation > best.correlation) best = { lag, correlation };
      if (Math.abs(lag - currentLag) <= 1) current = Math.max(current, correlation);
    }
    if (best.correlation < 0.6 || (Math.abs(best.lag - currentLag) > 1 && best.correlation < current + CORRELATION_MARGIN)) {
      this.#candidate = null;
      this.#confirmations = 0;
      return null;
    }
    this.#confirmations = this.#candidate !== null && Math.abs(this.#candidate - best.lag) <= 1 ? this.#confirmations + 1 : 1;
    this.#candidate = best.lag;
    return this.#confirmations >= CONFIRMATIONS ? best.lag : null;
  }
}

/**
 * A small move of the echo path (a few milliseconds: the speaker's stream restarted after a pause,
 * a buffer refilled) that the envelope estimator cannot see: the filter's echo estimate still has
 * the right shape but arrives early or late, so what it leaves jumps up. When a filter that had
 * been cancelling well suddenly leaves much more, the estimate is cross-correlated with the mic
 * over ±16 ms; if it fits clearly better shifted, the reference moves by that many samples and
 * the filter keeps what it learnt. The user talking over the echo leaves more too, but there the
 * unshifted estimate still fits the echo best, and nothing moves.
 */
class ShiftDetector {
  readonly #blockSize: number;
  readonly #blocks: number;
  readonly #maxShift: number;
  readonly #mic: Float64Array;
  readonly #echo: Float64Array;
  #filled = 0;
  #micEnergy = 0;
  #errorEnergy = 0;
  #reachedDb = 0;
  #cooldown = 0;
  readonly #xcorrFft: HalfSpectrumFft;
  readonly #xcorrTime: Float64Array;
  readonly #micSpectrum: Float64Array;
  readonly #echoSpectrum: Float64Array;
  readonly #echoSquares: Float64Array;

  constructor(blockSize: number, blocks = 16, maxShift = 384) {
    this.#blockSize = blockSize;
    this.#blocks = blocks;
    this.#maxShift = maxShift;
    this.#mic = new Float64Array(blockSize * blocks);
    this.#echo = new Float64Array(blockSize * blocks);
    this.#xcorrFft = new HalfSpectrumFft(2 * blockSize * blocks);
    this.#xcorrTime = new Float64Array(this.#xcorrFft.size);
    this.#micSpectrum = this.#xcorrFft.halfSpectrum();
    this.#echoSpectrum = this.#xcorrFft.halfSpectrum();
    this.#echoSquares = new Float64Array(blockSize * blocks + 1);
  }

  /** Forgets the window (the reference moved); `all` also what the filter had reached. */
  reset(all = false): void {
    // The estimate before a move is off by that move: kept, it asked for the same move again at
    // the onset check (on the loop: +26 samples, then +27 more, then −26 back).
    this.#mic.fill(0);
    this.#echo.fill(0);
    this.#filled = 0;
    this.#micEnergy = this.#errorEnergy = 0;
    if (all) this.#reachedDb = 0;
  }

  /** What the filter removes over the window now, in dB (null while the mic is too quiet to judge). */
  get windowErleDb(): number | null {
    return this.#filled < this.#blocks || this.#micEnergy < 1e-6 ? null : 10 * Math.log10(this.#micEnergy / (this.#errorEnergy + 1e-12));
  }

  /** Whether the filter has cancelled well enough lately for its estimate to be worth lining up. */
  get learnt(): boolean {
    return this.#reachedDb >= 10;
  }

  /**
   * Right after the far end resumed: how many samples later its echo now comes, judged on the
   * window so far with a smaller margin than `push` asks, since a shift is likely just here.
   */
  checkOnset(): number {
    if (!this.learnt || this.#micEnergy < 1e-6 || this.#filled < this.#blocks / 2) return 0;
    const shift = this.#bestShift(0.05);
    if (shift !== 0) this.reset();
    return shift;
  }

  /** One block; returns how many samples later the echo now comes (0: no clear move). */
  push(mic: Float64Array, echo: Float64Array, error: Float64Array): number {
    const n = this.#blockSize;
    this.#mic.copyWithin(0, n);
    this.#echo.copyWithin(0, n);
    this.#mic.set(mic, this.#mic.length - n);
    this.#echo.set(echo, this.#echo.length - n);
    this.#filled = Math.min(this.#filled + 1, this.#blocks);
    const keep = 1 - 1 / this.#blocks;
    this.#micEnergy = keep * this.#micEnergy + meanSquare(mic);
    this.#errorEnergy = keep * this.#errorEnergy + meanSquare(error);
    // Too quiet to judge (the pauses between replies): what was reached is kept for the next one.
    if (this.#filled < this.#blocks || this.#micEnergy < 1e-6) return 0;
    const windowErleDb = 10 * Math.log10(this.#micEnergy / (this.#errorEnergy + 1e-12));
    // The best the filter has done lately, forgotten over about ten seconds of sound.
    this.#reachedDb = Math.max(windowErleDb, this.#reachedDb - 0.01);
    if (this.#cooldown > 0) this.#cooldown -= 1;
    if (this.#reachedDb < 15 || windowErleDb > Math.min(this.#reachedDb - 10, JUMPED_BELOW_DB)) return 0;
    // The newest blocks every block (cheap, and a jump shows there first); the window's wider
    // search only every few.
    let shift = this.#recentShift();
    if (shift === 0 && this.#cooldown === 0) {
      shift = this.#bestShift();
      // Nothing moved (the user is talking, or the room changed): look again a few blocks on.
      if (shift === 0) this.#cooldown = 4;
    }
    if (shift !== 0) this.reset();
    return shift;
  }

  /**
   * A jump of a fraction of a millisecond, judged on the newest blocks alone (the window's older
   * blocks still hold the echo where it was, and pulled the estimate: 12 samples for a jump of 9).
   */
  #recentShift(): number {
    // The mic's newest blocks but for their last few samples, which an echo that now comes sooner
    // would need the estimate's future to fit.
    const end = this.#mic.length - RECENT_SAMPLES;
    const from = this.#mic.length - RECENT_BLOCKS * this.#blockSize;
    const mic = this.#mic;
    const echo = this.#echo;
    let micSquares = 0;
    for (let index = from; index < end; index += 1) micSquares += mic[index]! * mic[index]!;
    // The estimate's energy under the span, slid one sample at a time from the soonest shift.
    let echoSquares = 0;
    for (let index = from + RECENT_SAMPLES; index < end + RECENT_SAMPLES; index += 1) echoSquares += echo[index]! * echo[index]!;
    let best = { shift: 0, fit: -1 };
    let stay = 0;
    for (let shift = -RECENT_SAMPLES; shift <= RECENT_SAMPLES; shift += 1) {
      if (shift > -RECENT_SAMPLES) {
        const entering = echo[from - shift]!;
        const leaving = echo[end - shift]!;
        echoSquares += entering * entering - leaving * leaving;
      }
      let dot = 0;
      for (let index = from; index < end; index += 1) dot += mic[index]! * echo[index - shift]!;
      const fit = micSquares > 0 && echoSquares > 0 ? dot / Math.sqrt(micSquares * echoSquares) : 0;
      if (shift === 0) stay = fit;
      if (fit > best.fit) best = { shift, fit };
    }
    return best.fit >= RECENT_FIT && best.fit - stay >= RECENT_MARGIN ? best.shift : 0;
  }

  #bestShift(margin = 0.2): number {
    const d = this.#mic;
    const y = this.#echo;
    const from = this.#maxShift;
    const to = d.length - this.#maxShift;
    let micSquares = 0;
    for (let index = from; index < to; index += 1) micSquares += d[index]! * d[index]!;
    // Every lag at once: the cross-correlation of the mic's middle with the whole estimate, by FFT
    // (a scan lag by lag cost more than the filter itself).
    const time = this.#xcorrTime;
    time.fill(0);
    time.set(d.subarray(from, to), from);
    this.#xcorrFft.forward(time, this.#micSpectrum);
    time.fill(0);
    time.set(y);
    this.#xcorrFft.forward(time, this.#echoSpectrum);
    const a = this.#micSpectrum;
    const b = this.#echoSpectrum;
    for (let index = 0; index < a.length; index += 2) {
      // D · conj(Y): its inverse at k is Σ d[i] y[i − k].
      const re = a[index]! * b[index]! + a[index + 1]! * b[index + 1]!;
      const im = a[index + 1]! * b[index]! - a[index]! * b[index + 1]!;
      a[index] = re;
      a[index + 1] = im;
    }
    const correlation = this.#xcorrFft.inverse(a);
    const size = this.#xcorrFft.size;
    // Running energy of the estimate over the samples each lag lines up with the mic's middle.
    const squares = this.#echoSquares;
    squares[0] = 0;
    for (let index = 0; index < y.length; index += 1) squares[index + 1] = squares[index]! + y[index]! * y[index]!;
    const fit = (shift: number): number => {
      const energy = squares[to - shift]! - squares[from - shift]!;
      const dot = correlation[2 * ((shift + size) % size)]!;
      return energy > 0 && micSquares > 0 ? dot / Math.sqrt(micSquares * energy) : 0;
    };
    const unshifted = fit(0);
    // A voiced echo also fits well a pitch period or two away (8–10 ms for a low voice): longer
    // moves must fit that much better, so the reference does not hop between harmonics (it did,
    // by ±270 samples and back, on the loop).
    const penalty = (shift: number) => (PITCH_PENALTY * Math.abs(shift)) / this.#maxShift;
    let best = { shift: 0, fit: unshifted, score: unshifted };
    for (let shift = -this.#maxShift; shift <= this.#maxShift; shift += 1) {
      const value = fit(shift);
      if (value - penalty(shift) > best.score) best = { shift, fit: value, score: value - penalty(shift) };
    }
    return best.fit > 0.5 && best.score > unshifted + margin ? best.shift : 0;
  }
}
