/**
 * The residual's coherence with the far end: what tells an echo that moved under the filter
 * (still a linear function of what the speaker played) from a user talking over it.
 */
import { describe, expect, it } from 'vitest';
import { ResidualCoherence } from '../../../app/audio/echoCoherence';
import { HalfSpectrumFft } from '../../../app/audio/halfSpectrum';
import { convolve, roomResponse, speechLike, toPcm } from './echoSignals';

const block = 256;
const partitions = 8;

/** Feeds `residual` block by block against `far`, framed as the echo filter frames its far end; returns the fraction after each block. */
function fractions(far: Int16Array, residual: Int16Array, strongest: number): number[] {
  const coherence = new ResidualCoherence(block);
  const fft = new HalfSpectrumFft(2 * block);
  const spectra: Float64Array[] = [];
  const window = new Float64Array(2 * block);
  const out: number[] = [];
  for (let start = 0; start + block <= far.length; start += block) {
    window.copyWithin(0, block);
    for (let index = 0; index < block; index += 1) window[block + index] = far[start + index]! / 32768;
    const spectrum = fft.halfSpectrum();
    fft.forward(window, spectrum);
    spectra.unshift(spectrum);
    if (spectra.length > partitions) spectra.pop();
    const part = Float64Array.from(residual.subarray(start, start + block), (value) => value / 32768);
    out.push(coherence.push(part, { partitions, strongestPartition: strongest, farSpectrum: (age) => spectra[age] ?? fft.halfSpectrum() }));
  }
  return out;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('residual coherence with the far end', () => {
  const far = speechLike(4000, { seed: 5, levelDbfs: -14 });
  // 2 blocks and 40 samples late: the echo's direct path sits in partition 2, a little past it.
  const delayed = toPcm(convolve(far, roomResponse({ delayMs: ((2 * block + 40) * 1000) / 24_000, gainDb: -12, reverbMs: 40 })));

  it('finds most of a residual that is the far end through a room to be echo', () => {
    expect(median(fractions(far, delayed, 2).slice(20))).toBeGreaterThan(0.6);
  });

  it('finds the same when the echo sits a block off the partition it is told (a jump of up to a block)', () => {
    expect(median(fractions(far, delayed, 3).slice(20))).toBeGreaterThan(0.6);
    expect(median(fractions(far, delayed, 1).slice(20))).toBeGreaterThan(0.6);
  });

  it('finds little of a voice that has nothing to do with the far end', () => {
    const voice = speechLike(4000, { seed: 77, levelDbfs: -20, pitchHz: 210 });
    expect(median(fractions(far, voice, 2).slice(20))).toBeLessThan(0.3);
  });

  it('says nothing of an echo whose partition it is not told, far from the one it is', () => {
    expect(median(fractions(far, delayed, 6).slice(20))).toBeLessThan(0.3);
  });
});
