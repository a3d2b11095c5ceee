import { describe, expect, it } from 'vitest';
import { aLawFromLinear, decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw, linearFromALaw, linearFromMuLaw, muLawFromLinear } from '../../../app/audio/g711';

describe('G.711 μ-law', () => {
  it('matches the reference values: silence is 0xFF, full scale saturates at 0x80/0x00', () => {
    expect(muLawFromLinear(0)).toBe(0xff);
    expect(linearFromMuLaw(0xff)).toBe(0);
    expect(linearFromMuLaw(0x7f)).toBe(0);
    expect(muLawFromLinear(32767)).toBe(0x80);
    expect(muLawFromLinear(-32768)).toBe(0x00);
    expect(linearFromMuLaw(0x80)).toBe(32124);
    expect(linearFromMuLaw(0x00)).toBe(-32124);
    expect(muLawFromLinear(-1)).toBe(0x7f);
  });

  it('round-trips every byte exactly and every sample within the quantisation step', () => {
    for (let byte = 0; byte < 256; byte += 1) {
      if (byte === 0x7f) continue; // −0 and +0 both decode to 0, which encodes as +0 (0xFF)
      expect(muLawFromLinear(linearFromMuLaw(byte))).toBe(byte);
    }
    for (let sample = -32768; sample <= 32767; sample += 7) {
      const back = linearFromMuLaw(muLawFromLinear(sample));
      // Step size doubles per segment: 8 at the bottom, 1024 at the top; error is at most half a step plus the clip.
      const tolerance = Math.max(8, Math.abs(sample) / 16) + (Math.abs(sample) > 32124 ? 700 : 0);
      expect(Math.abs(back - sample)).toBeLessThanOrEqual(tolerance);
      expect(Math.sign(back) === Math.sign(sample) || back === 0 || Math.abs(sample) < 8).toBe(true);
    }
  });

  it('encodes and decodes arrays', () => {
    const samples = Int16Array.from([0, 1000, -1000, 20000, -20000]);
    const decoded = decodeMuLaw(encodeMuLaw(samples));
    expect(decoded).toHaveLength(5);
    decoded.forEach((value, index) => expect(Math.abs(value - (samples[index] ?? 0))).toBeLessThan(1300));
  });
});

describe('G.711 A-law', () => {
  it('matches the reference values: silence is 0xD5 (decoding to ±8), full scale 0xAA/0x2A', () => {
    expect(aLawFromLinear(0)).toBe(0xd5);
    expect(linearFromALaw(0xd5)).toBe(8);
    expect(linearFromALaw(0x55)).toBe(-8);
    expect(aLawFromLinear(32767)).toBe(0xaa);
    expect(aLawFromLinear(-32768)).toBe(0x2a);
    expect(linearFromALaw(0xaa)).toBe(32256);
    expect(linearFromALaw(0x2a)).toBe(-32256);
  });

  it('round-trips every byte exactly and every sample within the quantisation step', () => {
    for (let byte = 0; byte < 256; byte += 1) expect(aLawFromLinear(linearFromALaw(byte))).toBe(byte);
    for (let sample = -32768; sample <= 32767; sample += 7) {
      const back = linearFromALaw(aLawFromLinear(sample));
      const tolerance = Math.max(16, Math.abs(sample) / 16);
      expect(Math.abs(back - sample)).toBeLessThanOrEqual(tolerance);
    }
  });

  it('encodes and decodes arrays', () => {
    const samples = Int16Array.from([0, 1000, -1000, 20000, -20000]);
    const decoded = decodeALaw(encodeALaw(samples));
    decoded.forEach((value, index) => expect(Math.abs(value - (samples[index] ?? 0))).toBeLessThan(1300));
  });
});
