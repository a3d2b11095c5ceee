/**
 * The system's audio as a source, through a private PulseAudio daemon: what the default output
 * ("ear", where a call would play) plays is heard, the microphone ("mouth") is not; a chosen output
 * is heard instead of the default; and where it cannot work, it says why.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../app/contract';
import { createSystemAudioSource, listSystemAudioSources } from '../../app/audio/native/systemAudio';
import { concatPcm16 } from '../../app/audio/pcm';
import { dominantFrequency, sineTone, soundSpans, startPulse, until, type Pulse } from '../support/pulse';

let pulse: Pulse;

beforeAll(async () => {
  pulse = await startPulse();
}, 30_000);

afterAll(async () => {
  await pulse?.close();
});

const span = { thresholdDbfs: -45, windowMs: 10 };

/** Starts `source`, plays a 770 Hz tone into "ear" and a 330 Hz one into "mouth", and returns the frequency of the one tone it heard. */
async function toneHeard(device?: string): Promise<{ hz: number[]; problems: Problem[] }> {
  const source = createSystemAudioSource({ spawn, platform: 'linux', env: pulse.env, ...(device === undefined ? {} : { device }) });
  const chunks: Int16Array[] = [];
  const problems: Problem[] = [];
  await source.start((pcm) => void chunks.push(pcm), (problem) => void problems.push(problem));
  await until(() => chunks.length > 0 || problems.length > 0, 10_000, 'the first chunk of system audio');
  await pulse.play(sineTone(400, 770), { sink: 'ear' });
  await pulse.play(sineTone(400, 330), { sink: 'mouth' });
  // Every tone has ended in what was captured once 200 ms of quiet follow the last sound.
  await until(() => {
    const samples = concatPcm16(chunks);
    const last = soundSpans(samples, span).at(-1);
    return last !== undefined && samples.length / 24 - last.endMs > 200;
  }, 10_000, 'the tone in the system audio');
  await source.stop();
  const samples = concatPcm16(chunks);
  const hz = soundSpans(samples, span).map((found) => Math.round(dominantFrequency(samples.subarray(Math.round((found.startMs + 50) * 24), Math.round((found.endMs - 50) * 24)))));
  return { hz, problems };
}

describe('the system audio source (PulseAudio monitor)', () => {
  it('hears what the default output plays, and not the microphone', async () => {
    const { hz, problems } = await toneHeard();
    expect(problems).toEqual([]);
    expect(hz).toHaveLength(1);
    expect(Math.abs((hz[0] ?? 0) - 770)).toBeLessThanOrEqual(3);
  }, 30_000);

  it('hears the output the user chose instead of the default', async () => {
    const { hz } = await toneHeard('pulse:mouth');
    expect(hz).toHaveLength(1);
    expect(Math.abs((hz[0] ?? 0) - 330)).toBeLessThanOrEqual(3);
  }, 30_000);

  it('says what to install when no sound server answers', async () => {
    const source = createSystemAudioSource({ spawn, platform: 'linux', env: { ...pulse.env, PULSE_SERVER: 'unix:/nonexistent/pulse/native' } });
    const problems: Problem[] = [];
    await source.start(() => undefined, (problem) => void problems.push(problem));
    expect(problems.map((problem) => problem.message)).toEqual(["Parley hears the system's audio through PulseAudio or PipeWire's pulse server, and none answered."]);
    expect(problems[0]?.hint).toMatch(/pulseaudio-utils/);
  });

  it('refuses an ALSA device by name, and says what to choose', async () => {
    const source = createSystemAudioSource({ spawn, platform: 'linux', env: pulse.env, device: 'hw:0,0' });
    const problems: Problem[] = [];
    await source.start(() => undefined, (problem) => void problems.push(problem));
    expect(problems[0]?.message).toMatch(/"hw:0,0" is an ALSA device/);
  });

  it.each([
    ['darwin', 'macOS'],
    ['win32', 'Windows'],
  ] as const)('on %s, says it is not built yet instead of capturing nothing', async (platform, name) => {
    const source = createSystemAudioSource({ spawn, platform });
    const problems: Problem[] = [];
    await source.start(() => undefined, (problem) => void problems.push(problem));
    expect(problems[0]?.message).toBe(`Hearing the system's audio is not built for ${name} yet, so the other side of a call cannot be transcribed.`);
  });

  it('lists every output as a source to choose, the default marked, and none on macOS', async () => {
    const listed = await listSystemAudioSources({ spawn, platform: 'linux', env: pulse.env });
    expect(listed.available).toBe(true);
    const devices = listed.available ? listed.devices : [];
    expect(devices.map((device) => [device.id, device.isDefault])).toEqual(expect.arrayContaining([['pulse:ear', true], ['pulse:mouth', false]]));
    expect(devices.find((device) => device.id === 'pulse:ear')?.label).toMatch(/^What .+ plays$/);
    expect(await listSystemAudioSources({ spawn, platform: 'darwin' })).toEqual({ available: false, reason: "Not available on this platform: hearing the system's audio is not built for macOS yet." });
  });
});
