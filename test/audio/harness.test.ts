import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePactlInfo, parsePactlList } from '../../app/audio/native/devices';
import { delayMs, dominantFrequency, sineTone, soundExtent, startPulse, type Pulse } from '../support/pulse';

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
});
