/**
 * The system's audio as a `MicSource`. On Linux it is the monitor of an output device: PulseAudio
 * and PipeWire's pulse server both give every sink a `<sink>.monitor` source that carries what the
 * sink plays, and the recorder (soxMic.ts) captures it like a microphone. macOS has its own source
 * (macSystemAudio.ts, Core Audio process taps), chosen in main/nodeDeps.ts; Windows (WASAPI
 * loopback) is not built yet, and there this source says so.
 */
import type { Problem } from '../../contract';
import type { MicSource, SystemAudioSources } from '../ports';
import { parseDeviceId, parsePactlInfo, pulseDeviceId, pulseDevices } from './devices';
import { runCommand, type Env, type Spawn } from './processes';
import { createSoxMic } from './soxMic';

export interface SystemAudioOptions {
  spawn: Spawn;
  platform: NodeJS.Platform;
  /** An output device id from `createAudioDevices().outputs()`; the system default when absent. */
  device?: string;
  env?: Env;
}

export function createSystemAudioSource(options: SystemAudioOptions): MicSource {
  if (options.platform !== 'linux') return unavailable(options.platform);
  let recorder: MicSource | null = null;
  return {
    sampleRate: 24_000,
    async start(onChunk, onError) {
      const monitor = await monitorOf(options);
      if (typeof monitor !== 'string') {
        onError(monitor);
        return;
      }
      recorder = createSoxMic({ spawn: options.spawn, device: pulseDeviceId(monitor), ...(options.env === undefined ? {} : { env: options.env }) });
      await recorder.start(onChunk, onError);
    },
    async stop() {
      await recorder?.stop();
      recorder = null;
    },
  };
}

/** The monitor source of the chosen sink, or of the default one. */
async function monitorOf(options: SystemAudioOptions): Promise<string | Problem> {
  const chosen = parseDeviceId(options.device);
  if (chosen.kind === 'pulse') return chosen.name.endsWith('.monitor') ? chosen.name : `${chosen.name}.monitor`;
  if (chosen.kind === 'alsa') {
    return { code: 'invalid_payload', message: `"${chosen.name}" is an ALSA device; Parley hears the system's audio only through PulseAudio or PipeWire.`, hint: 'Choose an output under Settings → Meeting that starts with "pulse:", or the default.' };
  }
  const info = await runCommand(options.spawn, 'pactl', ['info'], { env: { ...(options.env ?? process.env), LC_ALL: 'C' }, timeoutMs: 3000 });
  const sink = info.status === 'exited' && info.code === 0 ? parsePactlInfo(info.stdout).defaultSink : null;
  if (sink === null) {
    return {
      code: 'internal',
      message: "Parley hears the system's audio through PulseAudio or PipeWire's pulse server, and none answered.",
      hint: "Install pactl (Debian: pulseaudio-utils) and make sure a sound server runs (PipeWire desktops run pipewire-pulse); meanwhile the meeting hears only your microphone.",
    };
  }
  return `${sink}.monitor`;
}

/**
 * The outputs whose sound meeting mode can hear: on Linux every PulseAudio (or PipeWire) sink,
 * each heard through its monitor; elsewhere none, and why.
 */
export async function listSystemAudioSources(options: Omit<SystemAudioOptions, 'device'>): Promise<SystemAudioSources> {
  if (options.platform !== 'linux') return { available: false, reason: `Not available on this platform: hearing the system's audio is not built for ${platformName(options.platform)} yet.` };
  const sinks = await pulseDevices({ spawn: options.spawn, ...(options.env === undefined ? {} : { env: options.env }) }, 'output');
  if (sinks === null) return { available: false, reason: "No PulseAudio or PipeWire sound server answered, so the system's audio cannot be heard (Debian: install pulseaudio-utils for pactl)." };
  return { available: true, devices: sinks.map((sink) => ({ ...sink, label: `What ${sink.label} plays` })) };
}

function platformName(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? 'macOS' : platform === 'win32' ? 'Windows' : platform;
}

function unavailable(platform: NodeJS.Platform): MicSource {
  const system = platformName(platform);
  return {
    sampleRate: 24_000,
    async start(_onChunk, onError) {
      onError({
        code: 'internal',
        message: `Hearing the system's audio is not built for ${system} yet, so the other side of a call cannot be transcribed.`,
        hint: 'The meeting transcribes your microphone. To include the other side, play the call through speakers near the microphone, or use Linux for now.',
      });
    },
    async stop() {},
  };
}
