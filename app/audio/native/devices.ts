/**
 * Input and output devices, from PulseAudio (`pactl`, which PipeWire's pulse server answers too)
 * or, without it, from ALSA's hints (`arecord -L` / `aplay -L`).
 *
 * A device id is an ALSA PCM name, so the speaker (which opens ALSA in-process) and `arecord` can
 * use it as is: PulseAudio devices are `pulse:<sink or source name>` through the ALSA pulse plugin
 * (libasound2-plugins), and sox turns that prefix into `-t pulseaudio <name>`.
 */
import type { AudioDevice, AudioDevices } from '../ports';
import { runCommand, type Env, type Spawn } from './processes';

export type DeviceRef = { kind: 'default' } | { kind: 'pulse'; name: string } | { kind: 'alsa'; name: string };

const pulsePrefix = 'pulse:';

export function pulseDeviceId(name: string): string {
  return `${pulsePrefix}${name}`;
}

/** What a device id names; no id (or "default") is the system default. */
export function parseDeviceId(id: string | undefined): DeviceRef {
  if (id === undefined || id === '' || id === 'default') return { kind: 'default' };
  if (id.startsWith(pulsePrefix) && id.length > pulsePrefix.length) return { kind: 'pulse', name: unquote(id.slice(pulsePrefix.length)) };
  return { kind: 'alsa', name: id };
}

function unquote(name: string): string {
  const bare = name.startsWith('DEVICE=') ? name.slice('DEVICE='.length) : name;
  return bare.length >= 2 && bare.startsWith('"') && bare.endsWith('"') ? bare.slice(1, -1) : bare;
}

export interface AudioDevicesOptions {
  spawn: Spawn;
  env?: Env;
  timeoutMs?: number;
}

export function createAudioDevices(options: AudioDevicesOptions): AudioDevices {
  const list = async (direction: 'input' | 'output'): Promise<AudioDevice[]> => {
    return (await pulseDevices(options, direction)) ?? (await alsaDevices(options, direction)) ?? [];
  };
  return { inputs: () => list('input'), outputs: () => list('output') };
}

/** Null when no PulseAudio server answers (or pactl is not installed). */
export async function pulseDevices(options: AudioDevicesOptions, direction: 'input' | 'output'): Promise<AudioDevice[] | null> {
  const env = { ...(options.env ?? process.env), LC_ALL: 'C' };
  const run = (args: string[]) => runCommand(options.spawn, 'pactl', args, { env, timeoutMs: options.timeoutMs ?? 3000 });
  const [info, listing] = await Promise.all([run(['info']), run(['list', direction === 'input' ? 'sources' : 'sinks'])]);
  if (info.status !== 'exited' || info.code !== 0 || listing.status !== 'exited' || listing.code !== 0) return null;
  const defaults = parsePactlInfo(info.stdout);
  const defaultName = direction === 'input' ? defaults.defaultSource : defaults.defaultSink;
  const entries = parsePactlList(listing.stdout);
  // Real microphones first; a sink's monitor (what it plays) is an input too, but rarely the one wanted.
  const ordered = [...entries.filter((entry) => entry.monitorOf === null), ...entries.filter((entry) => entry.monitorOf !== null)];
  return ordered.map((entry) => ({ id: pulseDeviceId(entry.name), label: entry.description || entry.name, isDefault: entry.name === defaultName }));
}

async function alsaDevices(options: AudioDevicesOptions, direction: 'input' | 'output'): Promise<AudioDevice[] | null> {
  const outcome = await runCommand(options.spawn, direction === 'input' ? 'arecord' : 'aplay', ['-L'], { env: options.env ?? process.env, timeoutMs: options.timeoutMs ?? 3000 });
  if (outcome.status !== 'exited' || outcome.code !== 0) return null;
  return parseAlsaHints(outcome.stdout)
    .filter((hint) => /^(default$|sysdefault:|plughw:)/.test(hint.name))
    .map((hint) => ({ id: hint.name, label: hint.description || hint.name, isDefault: hint.name === 'default' }));
}

export interface PulseEntry {
  name: string;
  description: string;
  /** For a source that monitors a sink: that sink's name. */
  monitorOf: string | null;
  /** The device's latency as the server reports it ("Latency: X usec, configured Y usec"), in ms. */
  latencyMs: number | null;
  configuredLatencyMs: number | null;
  /** For a filter sink (an echo canceller, an equaliser): the device it plays into (`device.master_device`). */
  masterDevice: string | null;
}

/** Parses `LC_ALL=C pactl list sinks|sources`: one block per device, top-level fields one tab in. */
export function parsePactlList(text: string): PulseEntry[] {
  const entries: PulseEntry[] = [];
  let current: PulseEntry | null = null;
  for (const line of text.split('\n')) {
    if (/^(Sink|Source) #\d+/.test(line)) {
      current = { name: '', description: '', monitorOf: null, latencyMs: null, configuredLatencyMs: null, masterDevice: null };
      entries.push(current);
      continue;
    }
    const master = /^\t\tdevice\.master_device = "(.*)"$/.exec(line);
    if (current !== null && master !== null) current.masterDevice = master[1] as string;
    const field = /^\t([A-Za-z ]+): (.*)$/.exec(line);
    if (current === null || field === null) continue;
    const [, key, value] = field as unknown as [string, string, string];
    if (key === 'Name') current.name = value.trim();
    else if (key === 'Description') current.description = value.trim();
    else if (key === 'Monitor of Sink') current.monitorOf = value.trim() === 'n/a' ? null : value.trim();
    else if (key === 'Latency') {
      const latency = /(\d+) usec, configured (\d+) usec/.exec(value);
      if (latency !== null) {
        current.latencyMs = Number(latency[1]) / 1000;
        current.configuredLatencyMs = Number(latency[2]) / 1000;
      }
    }
  }
  return entries.filter((entry) => entry.name !== '');
}

export function parsePactlInfo(text: string): { defaultSink: string | null; defaultSource: string | null } {
  const field = (key: string): string | null => {
    const match = new RegExp(`^${key}: (.+)$`, 'm').exec(text);
    return match?.[1]?.trim() ?? null;
  };
  return { defaultSink: field('Default Sink'), defaultSource: field('Default Source') };
}

/** Parses `aplay -L` / `arecord -L`: a name at the margin, its description indented below it. */
export function parseAlsaHints(text: string): { name: string; description: string }[] {
  const hints: { name: string; description: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) hints.push({ name: line.trim(), description: '' });
    else {
      const last = hints.at(-1);
      if (last !== undefined) last.description = last.description === '' ? line.trim() : `${last.description}, ${line.trim()}`;
    }
  }
  return hints;
}
