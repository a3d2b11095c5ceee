/**
 * The system's audio on macOS as a `MicSource`, through the `audiotee` package: a small Swift
 * helper, shipped inside the package, that taps what every process plays with Core Audio process
 * taps (macOS 14.2 and later) and writes it to its stdout. The package is an optional dependency
 * loaded when capture starts, so `app/` never imports it and tests hand in a fake.
 */
import type { Problem } from '../../contract';
import { pcm16FromBytes, realtimePcmRate } from '../pcm';
import type { MicSource, SystemAudioSources } from '../ports';

/** The part of `audiotee`'s `AudioTee` class Parley uses (audiotee 0.0.7, dist/index.d.ts). */
export interface AudioTeeInstance {
  on(event: 'data', listener: (chunk: { data: Buffer }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface AudioTeeModule {
  AudioTee: new (options: { sampleRate?: number; chunkDurationMs?: number; excludeProcesses?: number[]; binaryPath?: string }) => AudioTeeInstance;
}

export interface MacSystemAudioOptions {
  /** Loads the audiotee package (main/nodeDeps.ts imports it by name); rejects when it is not installed. */
  loadAudioTee: () => Promise<AudioTeeModule>;
  /** Processes whose sound is left out of the tap: Parley's own, so its voice is not heard as "Them". */
  excludeProcesses?: number[];
  /** Where the helper binary is, when not where the package looks (see `unpackedHelperPath`). */
  binaryPath?: string;
}

const permissionPlace = 'System Settings → Privacy & Security → Screen & System Audio Recording, in the "System Audio Recording Only" list (not the top list)';

/** What to check when the tap delivers only silence: macOS records silence, not an error, without the permission. */
export const macSilenceHint = `macOS gives silence instead of an error when Parley may not record system audio: allow Parley under ${permissionPlace}, then restart the meeting. Also check that the call is playing.`;

export function createMacSystemAudioSource(options: MacSystemAudioOptions): MicSource {
  let tee: AudioTeeInstance | null = null;
  return {
    sampleRate: realtimePcmRate,
    silenceHint: macSilenceHint,
    async start(onChunk, onError) {
      const loaded = await options.loadAudioTee().catch(() => null);
      if (loaded === null || typeof loaded.AudioTee !== 'function') {
        onError(missingPackage);
        return;
      }
      // Asking for a rate makes the helper convert to PCM16 mono at that rate (audiotee's README).
      const current = new loaded.AudioTee({ sampleRate: realtimePcmRate, chunkDurationMs: 100, ...(options.excludeProcesses === undefined ? {} : { excludeProcesses: options.excludeProcesses }), ...(options.binaryPath === undefined ? {} : { binaryPath: options.binaryPath }) });
      let carry: Buffer | null = null;
      current.on('data', ({ data }) => {
        if (tee !== current) return;
        // stdout reads may split a sample; the odd byte waits for the next read.
        const bytes: Buffer = carry === null ? data : Buffer.concat([carry, data]);
        const whole = bytes.byteLength & ~1;
        carry = whole === bytes.byteLength ? null : Buffer.from(bytes.subarray(whole));
        if (whole > 0) onChunk(pcm16FromBytes(bytes.subarray(0, whole)).slice());
      });
      current.on('error', (error) => {
        if (tee === current) onError(helperFailed(error));
      });
      tee = current;
      try {
        await current.start();
      } catch (error) {
        tee = null;
        onError(helperCannotRun(error));
      }
    },
    async stop() {
      const current = tee;
      tee = null;
      await current?.stop();
    },
  };
}

/**
 * In a packaged app the package sits inside app.asar, where its helper can be read but not run;
 * electron-builder unpacks it beside (asarUnpack). Given the package's resolved entry file, the
 * helper's path in the unpacked copy, or undefined when the package is not inside an asar.
 */
export function unpackedHelperPath(packageEntry: string): string | undefined {
  if (!packageEntry.includes('/app.asar/')) return undefined;
  // <package>/dist/index.js → <package>/bin/audiotee (macOS paths: '/' only).
  const packageDir = packageEntry.split('/').slice(0, -2).join('/');
  return `${packageDir}/bin/audiotee`.replace('/app.asar/', '/app.asar.unpacked/');
}

/** What meeting mode can hear on macOS: everything the Mac plays, once the package loads. */
export async function listMacSystemAudioSources(options: Pick<MacSystemAudioOptions, 'loadAudioTee'>): Promise<SystemAudioSources> {
  const loaded = await options.loadAudioTee().catch(() => null);
  if (loaded === null || typeof loaded.AudioTee !== 'function') return { available: false, reason: missingPackage.message };
  return { available: true, devices: [{ id: 'mac:all', label: 'Everything this Mac plays', isDefault: true }] };
}

const missingPackage: Problem = {
  code: 'internal',
  message: "Hearing the system's audio on macOS needs the audiotee package, and it is not installed, so the other side of a call cannot be transcribed.",
  hint: 'Reinstall Parley; running from source, run `npm install` (audiotee is an optional dependency). Meanwhile the meeting hears only your microphone.',
};

function helperCannotRun(error: unknown): Problem {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    code: 'internal',
    message: `The audiotee helper that hears the system's audio could not start (${detail}), so the other side of a call cannot be transcribed.`,
    hint: 'It needs macOS 14.2 or later. If macOS blocked it, allow it under System Settings → Privacy & Security, then start the meeting again.',
  };
}

function helperFailed(error: Error): Problem {
  return {
    code: 'connection_failed',
    message: `Hearing the system's audio stopped: ${error.message}`,
    hint: `If Parley is not allowed to record system audio, allow it under ${permissionPlace}, then start the meeting again.`,
  };
}
