import { describe, expect, it } from 'vitest';
import { bytesPerMs, bytesToMs, fromPcm24k, msToBytes, toPcm24k } from '../../../app/audio/encoding';
import { concatPcm16, fromBase64, levelDbfs, pcm16FromBytes, pcm16ToBytes, resample, rms, toBase64, toDbfs } from '../../../app/audio/pcm';
import { parseWav } from '../../../app/audio/wav';

function sine(frequency: number, rate: number, ms: number, amplitude = 0.5): Int16Array {
  const count = Math.round((rate * ms) / 1000);
  return Int16Array.from({ length: count }, (_, index) => Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * index) / rate)));
}

/** Frequency from zero crossings (rising), over the middle of the signal to skip filter edges. */
function frequencyOf(samples: Int16Array, rate: number): number {
  const start = Math.floor(samples.length * 0.1);
  const end = Math.floor(samples.length * 0.9);
  let crossings = 0;
  let first = -1;
  let last = -1;
  for (let index = start + 1; index < end; index += 1) {
    if ((samples[index - 1] ?? 0) < 0 && (samples[index] ?? 0) >= 0) {
      if (first < 0) first = index;
      last = index;
      crossings += 1;
    }
  }
  return ((crossings - 1) * rate) / (last - first);
}

describe('PCM16 bytes', () => {
  it('reads little-endian samples as a view without copying, and copies only when misaligned', () => {
    // A buffer of its own starts at offset 0, so it is aligned (a pooled Buffer.from may not be).
    const bytes = Buffer.from(new Uint8Array([0x01, 0x00, 0xff, 0x7f, 0x00, 0x80, 0xaa]).buffer);
    const samples = pcm16FromBytes(bytes);
    expect([...samples]).toEqual([1, 32767, -32768]);
    expect(samples.buffer).toBe(bytes.buffer);
    const misaligned = Buffer.from(new Uint8Array([0, 0x01, 0x00, 0xff, 0x7f, 0x00, 0x80, 0xaa]).buffer, 1);
    const copied = pcm16FromBytes(misaligned);
    expect([...copied]).toEqual([1, 32767, -32768]);
    expect(copied.buffer).not.toBe(misaligned.buffer);
    expect([...pcm16ToBytes(samples)]).toEqual([0x01, 0x00, 0xff, 0x7f, 0x00, 0x80]);
  });

  it('converts durations and bytes for each encoding', () => {
    expect(bytesPerMs('pcm16')).toBe(48);
    expect(bytesPerMs('pcmu')).toBe(8);
    expect(bytesPerMs('pcma')).toBe(8);
    expect(bytesToMs(4800, 'pcm16')).toBe(100);
    expect(bytesToMs(800, 'pcmu')).toBe(100);
    expect(msToBytes(20, 'pcm16')).toBe(960);
    expect(msToBytes(20, 'pcma')).toBe(160);
  });

  it('measures levels in dBFS', () => {
    expect(levelDbfs(new Int16Array(240))).toBe(-Infinity);
    expect(levelDbfs(sine(440, 24000, 100, 1))).toBeCloseTo(-3.01, 1);
    expect(levelDbfs(sine(440, 24000, 100, 0.1))).toBeCloseTo(-23.01, 1);
    expect(toDbfs(rms(Int16Array.from([16384, -16384])))).toBeCloseTo(-6.02, 1);
  });

  it('base64 round-trips and refuses text that is not base64', () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 251, 252, 253]);
    expect([...(fromBase64(toBase64(bytes)) ?? [])]).toEqual([...bytes]);
    expect(fromBase64('')?.length).toBe(0);
    expect(fromBase64('not base64!')).toBeNull();
    expect(fromBase64('abc')).toBeNull();
    expect(fromBase64('YWJj\n')).toBeNull();
  });

  it('refuses base64 that Node would decode leniently, whatever its length', () => {
    // Each is a multiple of four long, so only the decoded length or the alphabet can give it away.
    for (const text of ['YW-j', 'YW_j', 'YW\nj', 'YWJ ', 'YQ=a', 'YQ==YWJj', 'YW!j', 'YWé=', '====', 'Y===']) expect(fromBase64(text), JSON.stringify(text)).toBeNull();
    expect([...(fromBase64('YQ==') ?? [])]).toEqual([97]);
    expect([...(fromBase64('YWI=') ?? [])]).toEqual([97, 98]);
  });

  it('concatenates chunks', () => {
    expect([...concatPcm16([Int16Array.from([1, 2]), Int16Array.from([3])])]).toEqual([1, 2, 3]);
  });
});

describe('resampling', () => {
  it('keeps a sine at its frequency and the signal at its duration, up and down', () => {
    const original = sine(440, 24000, 500);
    const down = resample(original, 24000, 8000);
    expect(down).toHaveLength(4000);
    expect(frequencyOf(down, 8000)).toBeCloseTo(440, 0);
    const up = resample(sine(440, 22050, 500), 22050, 24000);
    expect(up).toHaveLength(12000);
    expect(frequencyOf(up, 24000)).toBeCloseTo(440, 0);
    expect(levelDbfs(up)).toBeCloseTo(levelDbfs(original), 0);
  });

  it('filters what 8 kHz cannot carry instead of folding it back as an alias', () => {
    const high = resample(sine(6000, 24000, 200), 24000, 8000);
    expect(levelDbfs(high)).toBeLessThan(levelDbfs(sine(6000, 24000, 200)) - 20);
  });

  it('G.711 at 8 kHz keeps speech-band audio and exact durations', () => {
    const voice = sine(300, 24000, 300, 0.3);
    for (const encoding of ['pcmu', 'pcma'] as const) {
      const wire = fromPcm24k(voice, encoding);
      expect(bytesToMs(wire.length, encoding)).toBe(300);
      const back = toPcm24k(wire, encoding);
      expect(back).toHaveLength(voice.length);
      expect(frequencyOf(back, 24000)).toBeCloseTo(300, 0);
      expect(levelDbfs(back)).toBeCloseTo(levelDbfs(voice), 0);
    }
  });
});

describe('WAVE', () => {
  it('reads PCM16 with a streamed (unknown) data size and mixes stereo down', () => {
    const frames = Int16Array.from([100, 300, -100, -300]);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0);
    header.writeUInt32LE(0x7ffff000, 4);
    header.write('WAVE', 8);
    header.write('fmt ', 12);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(2, 22);
    header.writeUInt32LE(22050, 24);
    header.writeUInt32LE(22050 * 4, 28);
    header.writeUInt16LE(4, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36);
    header.writeUInt32LE(0x7ffff000, 40);
    const wav = parseWav(Buffer.concat([header, pcm16ToBytes(frames)]));
    expect(wav.sampleRate).toBe(22050);
    expect(wav.channels).toBe(2);
    expect([...wav.samples]).toEqual([200, -200]);
    expect(() => parseWav(Buffer.from('not a wave file'))).toThrow(/RIFF/);
  });
});
