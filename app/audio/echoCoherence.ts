/**
 * How much of what the adaptive filter leaves is still the speaker's echo, judged by coherence
 * with the far end rather than by level.
 *
 * The level tests cannot tell the two things that make the filter leave a lot apart: the user
 * speaking over the echo, and the echo moving under the filter (on the loop, 10 ms jumps when the
 * sound server refills a buffer after an underrun). Both leave a block far louder than the filter
 * has been leaving. Only the second is still a linear function of what the speaker played: per
 * frequency bin, the residual's cross-spectrum with the far end near the echo's delay explains
 * most of its power, while the user's voice is explained only by chance.
 *
 * The estimate is the magnitude-squared coherence between the residual and the far end, each bin
 * smoothed over a few blocks, at the filter's strongest partition and its two neighbours (a jump
 * of up to a block lands in one of them), weighted by the residual's power: the fraction of the
 * residual's power that a per-bin linear fit on the far end explains (near 1: echo; near the
 * estimator's floor, about (1 − α)/(1 + α), for a voice that has nothing to do with it).
 * WebRTC's first canceller judged double talk on the same kind of coherence between the far end
 * and the mic (its `cohxd`, in aec_core.cc); here it is taken on the residual, since that is what
 * the speech detector hears.
 */
import { HalfSpectrumFft } from './halfSpectrum';

/**
 * Smoothing of each bin's spectra from block to block: about five blocks (53 ms) of memory. The
 * canceller smooths the levels it weighs beside the coherence by the same.
 */
export const COHERENCE_SMOOTHING = 0.7;
/** The bins judged: 280 Hz to 4.7 kHz at 24 kHz (where both the echo and a voice carry power). */
const FIRST_BIN = 6;
const LAST_BIN = 100;
/** How many partitions each side of the strongest one are tried. */
const NEIGHBOURS = 1;

/** The far end as the echo filter holds it: the spectra of its partitions and where the echo sits. */
export interface FarEndSpectra {
  readonly partitions: number;
  /** The partition holding the echo's direct path. */
  readonly strongestPartition: number;
  /** The spectrum over the two blocks ending `age` blocks ago (same size and framing as the residual's here). */
  farSpectrum(age: number): Float64Array;
}

export class ResidualCoherence {
  readonly #n: number;
  readonly #fft: HalfSpectrumFft;
  readonly #time: Float64Array;
  readonly #spectrum: Float64Array;
  /** Smoothed residual power per bin. */
  readonly #residualPower: Float64Array;
  /** Per lag slot (−1, 0, +1 around the strongest partition): far-end power, cross-spectrum (re, im). */
  readonly #farPower: Float64Array[];
  readonly #cross: Float64Array[];
  #centre = -1;

  constructor(blockSize: number) {
    this.#n = blockSize;
    this.#fft = new HalfSpectrumFft(2 * blockSize);
    this.#time = new Float64Array(2 * blockSize);
    this.#spectrum = this.#fft.halfSpectrum();
    const bins = LAST_BIN - FIRST_BIN + 1;
    this.#residualPower = new Float64Array(bins);
    this.#farPower = Array.from({ length: 2 * NEIGHBOURS + 1 }, () => new Float64Array(bins));
    this.#cross = Array.from({ length: 2 * NEIGHBOURS + 1 }, () => new Float64Array(2 * bins));
  }

  reset(): void {
    this.#time.fill(0);
    this.#residualPower.fill(0);
    for (const array of [...this.#farPower, ...this.#cross]) array.fill(0);
    this.#centre = -1;
  }

  /** One block of the filter's output; returns the fraction (0–1) of its recent power the far end explains. */
  push(residual: Float64Array, far: FarEndSpectra): number {
    const strongest = far.strongestPartition;
    const n = this.#n;
    this.#time.copyWithin(0, n);
    this.#time.set(residual, n);
    this.#fft.forward(this.#time, this.#spectrum);
    if (strongest !== this.#centre) {
      // Another lag: what was smoothed at the old one says nothing about the new.
      for (const array of [...this.#farPower, ...this.#cross]) array.fill(0);
      this.#centre = strongest;
    }
    const keep = COHERENCE_SMOOTHING;
    const take = 1 - COHERENCE_SMOOTHING;
    const e = this.#spectrum;
    let residualTotal = 0;
    for (let bin = FIRST_BIN; bin <= LAST_BIN; bin += 1) {
      const slot = bin - FIRST_BIN;
      const power = e[2 * bin]! ** 2 + e[2 * bin + 1]! ** 2;
      this.#residualPower[slot] = keep * this.#residualPower[slot]! + take * power;
      residualTotal += this.#residualPower[slot]!;
    }
    let best = 0;
    for (let offset = -NEIGHBOURS; offset <= NEIGHBOURS; offset += 1) {
      const age = strongest + offset;
      if (age < 0 || age >= far.partitions) continue;
      const x = far.farSpectrum(age);
      const farPower = this.#farPower[offset + NEIGHBOURS]!;
      const cross = this.#cross[offset + NEIGHBOURS]!;
      let explained = 0;
      for (let bin = FIRST_BIN; bin <= LAST_BIN; bin += 1) {
        const slot = bin - FIRST_BIN;
        const xr = x[2 * bin]!;
        const xi = x[2 * bin + 1]!;
        const er = e[2 * bin]!;
        const ei = e[2 * bin + 1]!;
        farPower[slot] = keep * farPower[slot]! + take * (xr * xr + xi * xi);
        // conj(X) · E
        const re = (cross[2 * slot] = keep * cross[2 * slot]! + take * (xr * er + xi * ei));
        const im = (cross[2 * slot + 1] = keep * cross[2 * slot + 1]! + take * (xr * ei - xi * er));
        // |S_xe|² / S_xx: the residual power a per-bin linear fit on this far end explains.
        if (farPower[slot]! > 0) explained += (re * re + im * im) / farPower[slot]!;
      }
      best = Math.max(best, explained);
    }
    return residualTotal > 0 ? Math.min(1, best / residualTotal) : 0;
  }
}
