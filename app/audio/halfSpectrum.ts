/**
 * Real FFTs of `size` samples kept as half spectra: bins 0..size/2, interleaved re, im, the only
 * bins a real signal needs (the rest are their mirror, conjugated). The echo filter and the
 * echo suppressor both work on these; the scratch buffers are reused on every call.
 */
import FFT from 'fft.js';

export class HalfSpectrumFft {
  readonly size: number;
  /** How many complex bins a half spectrum holds: size / 2 + 1. */
  readonly bins: number;
  readonly #fft: FFT;
  readonly #spectrum: number[];
  readonly #full: number[];
  readonly #time: number[];

  constructor(size: number) {
    this.size = size;
    this.bins = size / 2 + 1;
    this.#fft = new FFT(size);
    this.#spectrum = this.#fft.createComplexArray();
    this.#full = this.#fft.createComplexArray();
    this.#time = this.#fft.createComplexArray();
  }

  /** A zeroed half spectrum of this size. */
  halfSpectrum(): Float64Array {
    return new Float64Array(2 * this.bins);
  }

  /** The half spectrum of `time` (`size` real samples) into `into`. */
  forward(time: ArrayLike<number>, into: Float64Array): void {
    this.#fft.realTransform(this.#spectrum, time);
    for (let index = 0; index < 2 * this.bins; index += 1) into[index] = this.#spectrum[index]!;
  }

  /**
   * The signal whose half spectrum is `spectrum`, interleaved (real parts at even indices, the
   * imaginary ones next to them are zero up to rounding). The array is reused: read it before the
   * next call.
   */
  inverse(spectrum: ArrayLike<number>): readonly number[] {
    const full = this.#full;
    for (let index = 0; index < 2 * this.bins; index += 1) full[index] = spectrum[index]!;
    for (let bin = this.bins; bin < this.size; bin += 1) {
      const mirror = this.size - bin;
      full[2 * bin] = spectrum[2 * mirror]!;
      full[2 * bin + 1] = -spectrum[2 * mirror + 1]!;
    }
    this.#fft.inverseTransform(this.#time, full);
    return this.#time;
  }
}
