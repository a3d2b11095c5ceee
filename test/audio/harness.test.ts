import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePactlInfo, parsePactlList } from '../../app/audio/native/devices';
import { bestLag, delayMs, dominantFrequency, sineTone, soundExtent, startPulse, type Pulse } from '../support/pulse';

let pulse: Pulse;

beforeAll(async () => {
  pulse = await startPulse();
}, 30_000);

afterAll(async () => {
  await pulse?.close();
});

describe('the PulseAudio test loop itself', () => {
  it('is private to this process, with ear as the speaker and mouth.monitor as the microphone', async () => {
    expect(process.env.PULSE_SERVER).toBe(pulse.server);
    expect(pulse.server.startsWith(`unix:${pulse.runtimeDir}`)).toBe(true);
    expect(parsePactlInfo(await pulse.pactl('info'))).toEqual({ defaultSink: 'ear', defaultSource: 'mouth.monitor' });
  });

  it('keeps its sinks at a low latency, and silent when nothing plays', async () => {
    for (const sink of parsePactlList(await pulse.pactl('list', 'sinks'))) expect(sink.latencyMs).toBeLessThan(20);
    const quiet = await pulse.recordFor('ear.monitor', 500);
    expect(quiet).toHaveLength(12_000);
    expect(Math.max(...quiet.map(Math.abs))).toBe(0);
  });

  it('plays into the mouth what the mouth monitor records', async () => {
    const recording = pulse.record('mouth.monitor');
    await recording.started();
    const tone = sineTone(400, 1000);
    await pulse.play(tone);
    await recording.waitFor((samples) => soundExtent(samples) !== null && (soundExtent(samples)?.endMs ?? 0) < samples.length / 24 - 100, 5000, 'the tone');
    const heard = await recording.stop();
    const extent = soundExtent(heard);
    expect((extent?.endMs ?? 0) - (extent?.startMs ?? 0)).toBeCloseTo(400, -2);
    expect(dominantFrequency(heard.subarray(Math.round(((extent?.startMs ?? 0) + 50) * 24), Math.round(((extent?.endMs ?? 0) - 50) * 24)))).toBeCloseTo(1000, 0);
    const { correlation } = delayMs(tone, heard, { maxMs: heard.length / 24 });
    expect(correlation).toBeGreaterThan(0.9);
  });

  it('lines a reference up where it really sounded, not where its tail resembles the recording\'s head', () => {
    // An envelope whose last tenth is a sharp burst, heard 20 windows late with a little noise,
    // after a recording that opens on that same burst.
    const burst = [0.9, 0.1, 0.8, 0.2, 0.7, 0.1, 0.9, 0.3, 0.6, 0.1];
    const body = Array.from({ length: 90 }, (_, index) => 0.3 + 0.2 * Math.sin(index / 3));
    const reference = Float64Array.from([...body, ...burst]);
    const recorded = new Float64Array(200);
    recorded.set(burst, 0);
    reference.forEach((value, index) => (recorded[20 + index] = value + (index % 2 === 0 ? 0.08 : -0.08)));
    expect(bestLag(reference, recorded, 150).lag).toBe(20);
  });
});
