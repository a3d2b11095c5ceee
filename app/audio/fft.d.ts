/** Types for `fft.js` (pure JS radix-4 FFT), which ships none: only what Parley uses. */
declare module 'fft.js' {
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    createComplexArray(): number[];
    /** Fills the left half (bins 0..size/2) of `out`, interleaved re, im. */
    realTransform(out: ArrayLike<number> & { [index: number]: number }, data: ArrayLike<number>): void;
    /** Full complex inverse, divided by `size`. */
    inverseTransform(out: ArrayLike<number> & { [index: number]: number }, data: ArrayLike<number>): void;
    transform(out: ArrayLike<number> & { [index: number]: number }, data: ArrayLike<number>): void;
    completeSpectrum(spectrum: ArrayLike<number> & { [index: number]: number }): void;
  }
}
