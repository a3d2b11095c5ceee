/**
 * The system's echo canceller, where there is one: PulseAudio's `module-echo-cancel` (PipeWire's
 * pulse server offers the same module). It cancels inside the sound server, so Parley must record
 * from its source and play into its sink (the module needs the speaker's signal as reference);
 * the mic and speaker devices change, and nothing runs in Parley's process.
 *
 * Costs: it exists only on Linux with a pulse server, loading it moves the user's default devices
 * through a virtual pair while it is loaded, and its delay handling is the server's (it measures
 * its own latency; see `npm run bench -- echo` for how it compares with the built-in canceller).
 */
import type { SystemEchoDevices } from '../ports';
import { parseDeviceId } from './devices';
import { runCommand, type Env, type Spawn } from './processes';

export interface SystemEchoCanceller {
  /** Device ids (ALSA names through the pulse plugin) for the mic and the speaker. */
  source: string;
  sink: string;
  /** The module index when Parley loaded it (so it unloads it), or null when it was already loaded. */
  moduleId: string | null;
}

export interface SystemEchoCancelOptions {
  spawn: Spawn;
  env?: Env;
  /** The mic and speaker it should sit on (pulse names); the server's defaults when absent. */
  sourceMaster?: string;
  sinkMaster?: string;
  /** `webrtc` (WebRTC's AEC, when the server is built with it) or `speex`. */
  method?: 'webrtc' | 'speex';
  timeoutMs?: number;
}

const sourceName = 'parley_echo_cancel_source';
const sinkName = 'parley_echo_cancel_sink';

/** Parses `pactl list modules short`: index, name, arguments per line (tab-separated). */
export function parseModules(text: string): Array<{ id: string; name: string; args: string }> {
  return text
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields) => fields.length >= 2 && /^\d+$/.test(fields[0] ?? ''))
    .map((fields) => ({ id: fields[0] as string, name: fields[1] as string, args: fields[2] ?? '' }));
}

/** An echo canceller already loaded (by the user or an earlier run), or null. */
export async function findSystemEchoCanceller(options: SystemEchoCancelOptions): Promise<SystemEchoCanceller | null> {
  const outcome = await runCommand(options.spawn, 'pactl', ['list', 'modules', 'short'], { env: { ...(options.env ?? process.env), LC_ALL: 'C' }, timeoutMs: options.timeoutMs ?? 3000 });
  if (outcome.status !== 'exited' || outcome.code !== 0) return null;
  const loaded = parseModules(outcome.stdout).find((module) => module.name === 'module-echo-cancel');
  if (loaded === undefined) return null;
  const named = (key: string, fallback: string) => new RegExp(`(?:^|\\s)${key}=([^\\s]+)`).exec(loaded.args)?.[1] ?? fallback;
  // Without names the module calls its pair after the masters; the defaults it sets say which.
  return { source: `pulse:${named('source_name', sourceName)}`, sink: `pulse:${named('sink_name', sinkName)}`, moduleId: null };
}

/**
 * Finds or loads the system canceller. Null, with the reason, when there is no pulse server or
 * the server has no such module (macOS, Windows, ALSA alone, a server built without it).
 */
export async function openSystemEchoCanceller(options: SystemEchoCancelOptions): Promise<SystemEchoCanceller | { unavailable: string }> {
  const existing = await findSystemEchoCanceller(options);
  if (existing !== null) return existing;
  const args = [
    'load-module',
    'module-echo-cancel',
    `aec_method=${options.method ?? 'webrtc'}`,
    // PulseAudio's webrtc canceller turns analog gain control on by default (DEFAULT_ANALOG_GAIN_CONTROL
    // in src/modules/echo-cancel/webrtc.cc): it moves the mic's own volume, for every program,
    // and on the loop it raised the output 10.8 dB over its input, which no echo figure survives.
    // Its extended filter covers echoes that come later than the devices' latencies say (a
    // Bluetooth speaker's buffering, the loop's pipe): on the loop it took the canceller from
    // 1.5 to 12 dB and from 11 self-interruptions in 20 replies to 2.
    ...((options.method ?? 'webrtc') === 'webrtc' ? ['aec_args="analog_gain_control=0 digital_gain_control=0 extended_filter=1"'] : []),
    `source_name=${sourceName}`,
    `sink_name=${sinkName}`,
    ...(options.sourceMaster === undefined ? [] : [`source_master=${options.sourceMaster}`]),
    ...(options.sinkMaster === undefined ? [] : [`sink_master=${options.sinkMaster}`]),
  ];
  const outcome = await runCommand(options.spawn, 'pactl', args, { env: { ...(options.env ?? process.env), LC_ALL: 'C' }, timeoutMs: options.timeoutMs ?? 5000 });
  if (outcome.status === 'missing') return { unavailable: 'pactl is not installed, so there is no PulseAudio or PipeWire server to ask' };
  if (outcome.status !== 'exited') return { unavailable: 'The sound server did not answer' };
  if (outcome.code !== 0) return { unavailable: `The sound server could not load its echo canceller (${outcome.stderr.trim() || `pactl exited ${outcome.code}`})` };
  return { source: `pulse:${sourceName}`, sink: `pulse:${sinkName}`, moduleId: outcome.stdout.trim() };
}

/** Unloads the module if Parley loaded it. */
export async function closeSystemEchoCanceller(canceller: SystemEchoCanceller, options: SystemEchoCancelOptions): Promise<void> {
  if (canceller.moduleId === null) return;
  await runCommand(options.spawn, 'pactl', ['unload-module', canceller.moduleId], { env: options.env ?? process.env, timeoutMs: options.timeoutMs ?? 3000 });
}

/**
 * Opens the system canceller on the user's chosen devices (ids from the device list; null is the
 * default). Only PulseAudio devices can be its masters: an ALSA device is refused in words.
 */
export async function openSystemEchoDevices(options: SystemEchoCancelOptions, chosen: { input: string | null; output: string | null }): Promise<SystemEchoDevices | { unavailable: string }> {
  const input = parseDeviceId(chosen.input ?? undefined);
  const output = parseDeviceId(chosen.output ?? undefined);
  const alsa = [input, output].find((ref) => ref.kind === 'alsa');
  if (alsa?.kind === 'alsa') return { unavailable: `It works only on PulseAudio or PipeWire devices, and "${alsa.name}" is an ALSA device` };
  const opened = await openSystemEchoCanceller({
    ...options,
    ...(input.kind === 'pulse' ? { sourceMaster: input.name } : {}),
    ...(output.kind === 'pulse' ? { sinkMaster: output.name } : {}),
  });
  if ('unavailable' in opened) return opened;
  return { input: opened.source, output: opened.sink, close: () => closeSystemEchoCanceller(opened, options) };
}
