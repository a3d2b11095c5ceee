import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAudioDevices, parseAlsaHints, parseDeviceId, parsePactlInfo, parsePactlList, pulseDeviceId } from '../../app/audio/native/devices';
import { startPulse, type Pulse } from '../support/pulse';

let pulse: Pulse;

beforeAll(async () => {
  pulse = await startPulse();
}, 30_000);

afterAll(async () => {
  await pulse?.close();
});

describe('AudioDevices from PulseAudio', () => {
  it('lists the ear and mouth sinks as outputs, with labels and the default', async () => {
    const outputs = await createAudioDevices({ spawn }).outputs();
    expect(outputs).toEqual([
      { id: 'pulse:mouth', label: 'Mouth', isDefault: false },
      { id: 'pulse:ear', label: 'Ear', isDefault: true },
    ]);
  });

  it('lists their monitors as inputs, the default first among equals', async () => {
    const inputs = await createAudioDevices({ spawn }).inputs();
    expect(inputs).toEqual([
      { id: 'pulse:mouth.monitor', label: 'Monitor of Mouth', isDefault: true },
      { id: 'pulse:ear.monitor', label: 'Monitor of Ear', isDefault: false },
    ]);
  });

  it('follows the server when the default changes and a device appears', async () => {
    const module = (await pulse.pactl('load-module', 'module-null-sink', 'sink_name=headset', 'sink_properties=device.description=Headset')).trim();
    try {
      await pulse.pactl('set-default-sink', 'headset');
      const outputs = await createAudioDevices({ spawn }).outputs();
      expect(outputs.filter((device) => device.isDefault)).toEqual([{ id: 'pulse:headset', label: 'Headset', isDefault: true }]);
      expect(outputs.map((device) => device.id)).toEqual(['pulse:mouth', 'pulse:ear', 'pulse:headset']);
    } finally {
      await pulse.pactl('unload-module', module);
      await pulse.pactl('set-default-sink', 'ear');
    }
  });
});

describe('AudioDevices without pactl: ALSA hints', () => {
  let alsaOnly: string;
  beforeAll(async () => {
    // A PATH with aplay and arecord but no pactl.
    alsaOnly = await mkdtemp(join(tmpdir(), 'parley-alsa-only-'));
    await symlink('/usr/bin/aplay', join(alsaOnly, 'aplay'));
    await symlink('/usr/bin/arecord', join(alsaOnly, 'arecord'));
  });
  afterAll(async () => {
    await rm(alsaOnly, { recursive: true, force: true });
  });

  it('lists ALSA default as the default output and input', async () => {
    const devices = createAudioDevices({ spawn, env: { ...process.env, PATH: alsaOnly } });
    const outputs = await devices.outputs();
    const inputs = await devices.inputs();
    expect(outputs.find((device) => device.isDefault)).toEqual({ id: 'default', label: expect.stringMatching(/\S/), isDefault: true });
    expect(inputs.find((device) => device.isDefault)?.id).toBe('default');
    // Plugins such as "null", "jack" or "speexrate" are not devices a user picks.
    expect(outputs.every((device) => /^(default|sysdefault:|plughw:)/.test(device.id))).toBe(true);
  });

  it('lists nothing, without failing, when neither pactl nor ALSA tools exist', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'parley-no-tools-'));
    try {
      const devices = createAudioDevices({ spawn, env: { ...process.env, PATH: empty } });
      expect(await devices.outputs()).toEqual([]);
      expect(await devices.inputs()).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('parsers and ids', () => {
  it('reads pactl list blocks, monitors, latency and the device a filter sink plays into', () => {
    const text = [
      'Sink #3',
      '\tState: RUNNING',
      '\tName: alsa_output.pci-0000_00_1f.3.analog-stereo',
      '\tDescription: Built-in Audio Analog Stereo',
      '\tLatency: 21875 usec, configured 25000 usec',
      '\tProperties:',
      '\t\tdevice.description = "Built-in Audio Analog Stereo"',
      '',
      'Sink #7',
      '\tName: parley_echo_cancel_sink',
      '\tDescription: Echo-Cancel Sink',
      '\tLatency: 1441 usec, configured 125000 usec',
      '\tProperties:',
      '\t\tdevice.master_device = "alsa_output.pci-0000_00_1f.3.analog-stereo"',
      '',
      'Source #4',
      '\tName: alsa_output.pci-0000_00_1f.3.analog-stereo.monitor',
      '\tDescription: Monitor of Built-in Audio Analog Stereo',
      '\tMonitor of Sink: alsa_output.pci-0000_00_1f.3.analog-stereo',
      '',
      'Source #5',
      '\tName: alsa_input.pci-0000_00_1f.3.analog-stereo',
      '\tDescription: Built-in Audio Analog Stereo',
      '\tMonitor of Sink: n/a',
    ].join('\n');
    expect(parsePactlList(text)).toEqual([
      { name: 'alsa_output.pci-0000_00_1f.3.analog-stereo', description: 'Built-in Audio Analog Stereo', monitorOf: null, latencyMs: 21.875, configuredLatencyMs: 25, masterDevice: null },
      { name: 'parley_echo_cancel_sink', description: 'Echo-Cancel Sink', monitorOf: null, latencyMs: 1.441, configuredLatencyMs: 125, masterDevice: 'alsa_output.pci-0000_00_1f.3.analog-stereo' },
      { name: 'alsa_output.pci-0000_00_1f.3.analog-stereo.monitor', description: 'Monitor of Built-in Audio Analog Stereo', monitorOf: 'alsa_output.pci-0000_00_1f.3.analog-stereo', latencyMs: null, configuredLatencyMs: null, masterDevice: null },
      { name: 'alsa_input.pci-0000_00_1f.3.analog-stereo', description: 'Built-in Audio Analog Stereo', monitorOf: null, latencyMs: null, configuredLatencyMs: null, masterDevice: null },
    ]);
    expect(parsePactlInfo('Server Name: pulseaudio\nDefault Sink: ear\nDefault Source: mouth.monitor\n')).toEqual({ defaultSink: 'ear', defaultSource: 'mouth.monitor' });
  });

  it('reads aplay -L hints with multi-line descriptions', () => {
    const text = 'default\n    Default ALSA Output\nsysdefault:CARD=PCH\n    HDA Intel PCH, ALC3246 Analog\n    Default Audio Device\n';
    expect(parseAlsaHints(text)).toEqual([
      { name: 'default', description: 'Default ALSA Output' },
      { name: 'sysdefault:CARD=PCH', description: 'HDA Intel PCH, ALC3246 Analog, Default Audio Device' },
    ]);
  });

  it('round-trips device ids', () => {
    expect(parseDeviceId(undefined)).toEqual({ kind: 'default' });
    expect(parseDeviceId('default')).toEqual({ kind: 'default' });
    expect(parseDeviceId(pulseDeviceId('ear.monitor'))).toEqual({ kind: 'pulse', name: 'ear.monitor' });
    expect(parseDeviceId('pulse:DEVICE="ear"')).toEqual({ kind: 'pulse', name: 'ear' });
    expect(parseDeviceId('sysdefault:CARD=PCH')).toEqual({ kind: 'alsa', name: 'sysdefault:CARD=PCH' });
  });
});
