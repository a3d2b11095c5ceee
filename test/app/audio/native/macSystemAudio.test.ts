/**
 * The macOS system-audio source over a fake `audiotee` module (the real one runs only on macOS
 * 14.2+): what the helper writes arrives as PCM16 samples in order, even when a read splits a
 * sample; stop stops the helper; and a missing package, a helper that cannot start, a helper that
 * fails and a tap that hears only silence (no permission) each say what to do.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../../../app/contract';
import { createMacSystemAudioSource, listMacSystemAudioSources, unpackedHelperPath, type AudioTeeModule } from '../../../../app/audio/native/macSystemAudio';
import { concatPcm16, pcm16ToBytes } from '../../../../app/audio/pcm';
import { excludeWhilePlaying, watchSilence } from '../../../../app/audio/systemAudio';

interface FakeTee {
  options: unknown;
  running: boolean;
  write(bytes: Buffer): void;
  fail(message: string): void;
}

function fakeAudioTee(startError?: Error): { module: AudioTeeModule; tees: FakeTee[] } {
  const tees: FakeTee[] = [];
  class AudioTee {
    readonly events = new EventEmitter();
    readonly fake: FakeTee;
    constructor(options: unknown) {
      this.fake = { options, running: false, write: (bytes) => this.events.emit('data', { data: bytes }), fail: (message) => this.events.emit('error', new Error(message)) };
      tees.push(this.fake);
    }
    on(event: 'data', listener: (chunk: { data: Buffer }) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: string, listener: (value: never) => void): this {
      this.events.on(event, listener as (...args: unknown[]) => void);
      return this;
    }
    async start(): Promise<void> {
      if (startError !== undefined) throw startError;
      this.fake.running = true;
    }
    async stop(): Promise<void> {
      this.fake.running = false;
    }
  }
  return { module: { AudioTee }, tees };
}

async function started(module: AudioTeeModule | null) {
  const source = createMacSystemAudioSource({ loadAudioTee: async () => module ?? Promise.reject(new Error("Cannot find package 'audiotee'")), excludeProcesses: [4242] });
  const chunks: Int16Array[] = [];
  const problems: Problem[] = [];
  await source.start((pcm) => void chunks.push(pcm), (problem) => void problems.push(problem));
  return { source, chunks, problems };
}

describe('the macOS system audio source (audiotee)', () => {
  it('asks the helper for 24 kHz PCM16 without Parley itself, and passes its samples on in order, a split sample joined', async () => {
    const fake = fakeAudioTee();
    const { source, chunks, problems } = await started(fake.module);
    const tee = fake.tees[0];
    expect(tee?.options).toEqual({ sampleRate: 24_000, chunkDurationMs: 100, excludeProcesses: [4242] });
    const sent = Int16Array.from([1, -2, 300, -32768, 32767, 7, -9]);
    const bytes = pcm16ToBytes(sent);
    tee?.write(bytes.subarray(0, 5));
    tee?.write(bytes.subarray(5, 9));
    tee?.write(bytes.subarray(9));
    expect(problems).toEqual([]);
    expect(Array.from(concatPcm16(chunks))).toEqual(Array.from(sent));
    expect(source.sampleRate).toBe(24_000);
  });

  it('stops the helper on stop, and nothing it still writes arrives', async () => {
    const fake = fakeAudioTee();
    const { source, chunks } = await started(fake.module);
    const tee = fake.tees[0];
    expect(tee?.running).toBe(true);
    await source.stop();
    expect(tee?.running).toBe(false);
    tee?.write(pcm16ToBytes(Int16Array.from([5, 5])));
    expect(chunks).toEqual([]);
  });

  it('says the package is missing when it cannot be loaded, and the meeting audio list says the same', async () => {
    const { problems } = await started(null);
    expect(problems.map((problem) => problem.message)).toEqual(["Hearing the system's audio on macOS needs the audiotee package, and it is not installed, so the other side of a call cannot be transcribed."]);
    expect(await listMacSystemAudioSources({ loadAudioTee: () => Promise.reject(new Error('missing')) })).toEqual({ available: false, reason: problems[0]?.message });
    expect(await listMacSystemAudioSources({ loadAudioTee: async () => fakeAudioTee().module })).toEqual({ available: true, devices: [{ id: 'mac:all', label: 'Everything this Mac plays', isDefault: true }] });
  });

  it('says the helper could not start, with why and what it needs', async () => {
    const { problems } = await started(fakeAudioTee(Object.assign(new Error('spawn EACCES'), { code: 'EACCES' })).module);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe("The audiotee helper that hears the system's audio could not start (spawn EACCES), so the other side of a call cannot be transcribed.");
    expect(problems[0]?.hint).toContain('macOS 14.2 or later');
  });

  it('reports a helper failure with where to grant the System Audio Recording permission', async () => {
    const fake = fakeAudioTee();
    const { problems } = await started(fake.module);
    fake.tees[0]?.fail('Failed to create aggregate device');
    expect(problems.map((problem) => problem.message)).toEqual(["Hearing the system's audio stopped: Failed to create aggregate device"]);
    expect(problems[0]?.hint).toContain('System Settings → Privacy & Security → Screen & System Audio Recording, in the "System Audio Recording Only" list');
  });

  it('when the tap hears only silence (macOS records silence without the permission), the silence warning says where to grant it', async () => {
    const fake = fakeAudioTee();
    const silent: Problem[] = [];
    // Wrapped as the meeting session wraps it.
    const source = watchSilence(excludeWhilePlaying(createMacSystemAudioSource({ loadAudioTee: async () => fake.module }), { playing: false }), { afterMs: 1000, onSilent: (problem) => void silent.push(problem) });
    await source.start(() => undefined, () => undefined);
    for (let chunk = 0; chunk < 10; chunk += 1) fake.tees[0]?.write(Buffer.alloc(2400 * 2));
    expect(silent).toHaveLength(1);
    expect(silent[0]?.message).toBe('No audio from the system for 1 s, so the other side of the call is not being heard.');
    expect(silent[0]?.hint).toContain('allow Parley under System Settings → Privacy & Security → Screen & System Audio Recording');
  });

  it('in a packaged app, points the helper at the unpacked copy beside app.asar; from source, leaves it to the package', async () => {
    expect(unpackedHelperPath('/Applications/Parley.app/Contents/Resources/app.asar/node_modules/audiotee/dist/index.js')).toBe('/Applications/Parley.app/Contents/Resources/app.asar.unpacked/node_modules/audiotee/bin/audiotee');
    expect(unpackedHelperPath('/Users/me/parley/node_modules/audiotee/dist/index.js')).toBeUndefined();
    const fake = fakeAudioTee();
    const source = createMacSystemAudioSource({ loadAudioTee: async () => fake.module, binaryPath: '/x/app.asar.unpacked/node_modules/audiotee/bin/audiotee' });
    await source.start(() => undefined, () => undefined);
    expect(fake.tees[0]?.options).toMatchObject({ binaryPath: '/x/app.asar.unpacked/node_modules/audiotee/bin/audiotee' });
  });
});
