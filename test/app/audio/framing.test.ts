import { describe, expect, it } from 'vitest';
import { Framer } from '../../../app/audio/framing';

describe('Framer', () => {
  it('cuts chunks of any size into fixed 24 kHz frames, carrying the remainder', () => {
    const framer = new Framer(24_000, 40);
    expect(framer.push(new Int16Array(500))).toHaveLength(0);
    const frames = framer.push(new Int16Array(1500));
    expect(frames.map((frame) => frame.pcm.length)).toEqual([960, 960]);
    expect(framer.carriedMs).toBeCloseTo(80 / 24, 5);
  });

  it('resamples from the device rate, keeping duration', () => {
    const framer = new Framer(48_000, 20);
    const frames = framer.push(new Int16Array(48_000));
    expect(frames).toHaveLength(50);
    expect(frames.every((frame) => frame.pcm.length === 480)).toBe(true);
  });

  it('measures each frame level and refuses frame sizes outside 20–100 ms', () => {
    const tone = new Int16Array(960).map((_, index) => Math.round(16384 * Math.sin((2 * Math.PI * 440 * index) / 24_000)));
    const [frame] = new Framer(24_000).push(tone);
    expect(frame?.levelDbfs).toBeCloseTo(-9, 0);
    expect(new Framer(24_000).push(new Int16Array(960))[0]?.levelDbfs).toBe(-Infinity);
    expect(() => new Framer(24_000, 10)).toThrow(RangeError);
    expect(() => new Framer(24_000, 120)).toThrow(/20–100 ms/);
  });
});
