/**
 * `speaker` is optional: on a machine without the ALSA headers npm installs Parley without it, and
 * voice must then say what to install and what to run. The module is made unavailable by loading it
 * from a directory where it cannot be found, which throws the same error Node throws in Parley.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChildProcessLike, Spawn } from '../../../../app/audio/native/processes';
import { AudioDeviceError } from '../../../../app/audio/native/problems';
import { createSpeakerSink, type SpeakerClass } from '../../../../app/audio/native/speakerSink';

/** `require` as seen from a folder with no node_modules: `speaker` is not installed there. */
const requireWithoutSpeaker = createRequire(join(mkdtempSync(join(tmpdir(), 'parley-no-speaker-')), 'index.js'));
const loadMissingSpeaker = (): SpeakerClass => requireWithoutSpeaker('speaker') as SpeakerClass;

/** Every device check (`aplay`, `pactl`) finds a working device: a child that exits 0 at once. */
const devicesOpen: Spawn = (_command, _args, options) =>
  spawn(process.execPath, ['-e', ''], { ...(options.env === undefined ? {} : { env: { ...options.env } }), stdio: ['pipe', 'pipe', 'pipe'] }) as unknown as ChildProcessLike;

async function openFailure(options: { loadSpeaker: () => SpeakerClass; platform: string }): Promise<AudioDeviceError> {
  const sink = createSpeakerSink({ ...options, spawn: devicesOpen, env: {}, latencyMs: 20 });
  const failure: unknown = await sink.open().then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(AudioDeviceError);
  return failure as AudioDeviceError;
}

describe('speaker, an optional dependency', () => {
  it('is not loaded until the speaker is opened', async () => {
    let loads = 0;
    const sink = createSpeakerSink({
      loadSpeaker: () => {
        loads += 1;
        return loadMissingSpeaker();
      },
      spawn: devicesOpen,
      env: {},
      platform: 'linux',
      latencyMs: 20,
    });
    expect(loads).toBe(0);
    await expect(sink.open()).rejects.toBeInstanceOf(AudioDeviceError);
    expect(loads).toBe(1);
  });

  it('when npm left it out on Linux, says which packages to install and to run npm install again', async () => {
    const { problem } = await openFailure({ loadSpeaker: loadMissingSpeaker, platform: 'linux' });
    expect(problem.message).toBe(
      'Voice output needs the `speaker` module, which did not build: install the ALSA headers (`sudo apt-get install libasound2-dev build-essential`) and run `npm install` again.',
    );
    expect(problem.hint).toBe('Then turn voice on again; text chat works without it.');
  });

  it('installed without its binary (npm install --ignore-scripts), says to rebuild it', async () => {
    const notBuilt = (): SpeakerClass => {
      // What the `bindings` package throws from speaker's index.js when build/Release/binding.node is absent.
      throw new Error('Could not locate the bindings file. Tried:\n → /app/node_modules/speaker/build/binding.node');
    };
    const { problem } = await openFailure({ loadSpeaker: notBuilt, platform: 'linux' });
    expect(problem.message).toBe(
      'Voice output needs the `speaker` module, which did not build: install the ALSA headers (`sudo apt-get install libasound2-dev build-essential`) and run `npm rebuild speaker`.',
    );
  });

  it('names the tool chain of the platform it runs on', async () => {
    const mac = await openFailure({ loadSpeaker: loadMissingSpeaker, platform: 'darwin' });
    expect(mac.problem.message).toContain('install the Xcode command line tools (`xcode-select --install`) and run `npm install` again');
    const windows = await openFailure({ loadSpeaker: loadMissingSpeaker, platform: 'win32' });
    expect(windows.problem.message).toContain('Visual Studio Build Tools');
  });

  it('built for another runtime, says how to rebuild it for Node and for Electron', async () => {
    const otherAbi = (): SpeakerClass => {
      throw new Error("The module 'binding.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 139. This version of Node.js requires NODE_MODULE_VERSION 115.");
    };
    const { problem } = await openFailure({ loadSpeaker: otherAbi, platform: 'linux' });
    expect(problem.message).toContain('run `npm rebuild speaker` for browser mode (Node), or `npx electron-rebuild --only speaker` for the desktop app');
  });
});
