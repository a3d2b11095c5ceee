/**
 * The system's echo canceller on a private PulseAudio daemon: voice's "system" choice loads
 * module-echo-cancel on the devices the user chose, records and plays through the pair it makes,
 * and unloads it when voice lets go; where it cannot work, it says why.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Spawn } from '../../app/audio/native/processes';
import { createRequire } from 'node:module';
import { createSpeakerSink, type SpeakerClass } from '../../app/audio/native/speakerSink';
import { openSystemEchoDevices } from '../../app/audio/native/systemEchoCancel';
import { rate, sineTone, soundSpans, startPulse, type Pulse } from '../support/pulse';

const require = createRequire(import.meta.url);

let pulse: Pulse;

beforeAll(async () => {
  pulse = await startPulse();
}, 30_000);

afterAll(async () => {
  await pulse?.close();
});

const names = async (kind: 'sources' | 'sinks'): Promise<string[]> =>
  (await pulse.pactl('list', 'short', kind))
    .split('\n')
    .map((line) => line.split('\t')[1])
    .filter((name): name is string => name !== undefined);

describe('the system echo canceller', () => {
  it('sits on the chosen mic and speaker, gives voice its pair of devices, and is gone once closed', async () => {
    const opened = await openSystemEchoDevices({ spawn: spawn as unknown as Spawn, env: pulse.env }, { input: 'pulse:mouth.monitor', output: 'pulse:ear' });
    if ('unavailable' in opened) throw new Error(`module-echo-cancel did not load: ${opened.unavailable}`);
    expect(opened).toMatchObject({ input: 'pulse:parley_echo_cancel_source', output: 'pulse:parley_echo_cancel_sink' });
    expect(await names('sources')).toContain('parley_echo_cancel_source');
    expect(await names('sinks')).toContain('parley_echo_cancel_sink');
    const module = (await pulse.pactl('list', 'short', 'modules')).split('\n').find((line) => line.includes('module-echo-cancel'));
    expect(module).toMatch(/source_master=mouth\.monitor/);
    expect(module).toMatch(/sink_master=ear/);
    // It leaves the mic's volume alone (the server's default would turn it up and down for every
    // program), and its filter reaches echoes that come later than the devices' latencies say.
    expect(module).toMatch(/analog_gain_control=0 digital_gain_control=0 extended_filter=1/);
    await opened.close();
    expect(await names('sources')).not.toContain('parley_echo_cancel_source');
    expect(await pulse.pactl('list', 'short', 'modules')).not.toContain('module-echo-cancel');
  });

  it("a speaker on its sink sounds when the sink's latency says, so a barge-in truncates at what was heard", async () => {
    const opened = await openSystemEchoDevices({ spawn: spawn as unknown as Spawn, env: pulse.env }, { input: 'pulse:mouth.monitor', output: 'pulse:ear' });
    if ('unavailable' in opened) throw new Error(`module-echo-cancel did not load: ${opened.unavailable}`);
    const ear = pulse.record('ear.monitor');
    const sink = createSpeakerSink({ loadSpeaker: () => require('speaker') as SpeakerClass, spawn, device: opened.output ?? undefined });
    try {
      await ear.started();
      await sink.open();
      const writtenAt = performance.now();
      sink.write(sineTone(300, 440));
      await ear.waitFor((samples) => soundSpans(samples, { thresholdDbfs: -40, windowMs: 2 }).length > 0, 5000, 'the tone');
      const samples = await ear.stop();
      const firstSoundMs = ear.timeOf(Math.round(((soundSpans(samples, { thresholdDbfs: -40, windowMs: 2 })[0]?.startMs ?? 0) * rate) / 1000)) - writtenAt;
      // The canceller's sink reports the latency its stream asked for (125 ms), while it passes
      // a write straight on: that figure made every truncation 125 ms short. The recording's clock
      // is good to about one 10 ms fragment.
      expect(Math.abs(firstSoundMs - sink.latencyMs)).toBeLessThanOrEqual(30);
    } finally {
      await sink.close();
      await opened.close();
    }
  });

  it('refuses an ALSA device in words, loading nothing', async () => {
    const opened = await openSystemEchoDevices({ spawn: spawn as unknown as Spawn, env: pulse.env }, { input: 'hw:0,0', output: null });
    expect(opened).toEqual({ unavailable: 'It works only on PulseAudio or PipeWire devices, and "hw:0,0" is an ALSA device' });
    expect(await pulse.pactl('list', 'short', 'modules')).not.toContain('module-echo-cancel');
  });

  it('says so when the sound server cannot load it', async () => {
    const opened = await openSystemEchoDevices({ spawn: spawn as unknown as Spawn, env: pulse.env }, { input: 'pulse:no_such_mic', output: null });
    expect(opened).toMatchObject({ unavailable: expect.stringMatching(/^The sound server could not load its echo canceller \(.+\)$/) });
  });
});
