import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../app/contract';
import { audioProblemCode, AudioDeviceError } from '../../app/audio/native/problems';
import type { ChildProcessLike, Spawn } from '../../app/audio/native/processes';
import { createSoxMic, type RecorderName } from '../../app/audio/native/soxMic';
import { createSpeakerSink, type SpeakerClass } from '../../app/audio/native/speakerSink';
import { startPulse, until, type Pulse } from '../support/pulse';

const require = createRequire(import.meta.url);
const loadSpeaker = (): SpeakerClass => require('speaker') as SpeakerClass;
const deadServer = 'unix:/nonexistent/parley-test/pulse/native';

let pulse: Pulse;
let emptyBin: string;

beforeAll(async () => {
  pulse = await startPulse();
  emptyBin = await mkdtemp(join(tmpdir(), 'parley-empty-path-'));
}, 30_000);

afterAll(async () => {
  await pulse?.close();
  if (emptyBin) await rm(emptyBin, { recursive: true, force: true });
});

/** Starts a mic and waits for its first chunk or its first problem. */
async function startMic(options: Parameters<typeof createSoxMic>[0]): Promise<{ problems: Problem[]; chunks: number; stop: () => Promise<void> }> {
  const mic = createSoxMic(options);
  const problems: Problem[] = [];
  let chunks = 0;
  await mic.start(
    () => (chunks += 1),
    (problem) => problems.push(problem),
  );
  return { problems, get chunks() { return chunks; }, stop: () => mic.stop() };
}

function expectClearProblem(problem: Problem | undefined): asserts problem is Problem {
  expect(problem).toBeDefined();
  expect(problem?.code).toBe(audioProblemCode);
  expect(problem?.message.length).toBeGreaterThan(20);
  expect(problem?.hint.length).toBeGreaterThan(10);
}

describe('MicSource failures become problems a user can act on', () => {
  for (const recorder of ['sox', 'arecord'] as RecorderName[]) {
    it(`${recorder}: a device that does not exist`, async () => {
      const mic = await startMic({ spawn, recorder, device: 'pulse:no_such_microphone' });
      expect(mic.chunks).toBe(0);
      expect(mic.problems).toHaveLength(1);
      const [problem] = mic.problems;
      expectClearProblem(problem);
      expect(problem.message).toContain('pulse:no_such_microphone');
      expect(problem.message).toMatch(/could not be opened: .*No such entity/);
      await mic.stop();
    }, 15_000);
  }

  it('no recorder program installed', async () => {
    const mic = await startMic({ spawn, env: { ...process.env, PATH: emptyBin } });
    expect(mic.problems).toHaveLength(1);
    const [problem] = mic.problems;
    expectClearProblem(problem);
    expect(problem.message).toBe('Parley needs sox or arecord to use the microphone, and neither is installed.');
    expect(problem.hint).toContain('apt-get install sox');
  }, 15_000);

  it('sox missing: falls back to arecord and records', async () => {
    const withoutSox: Spawn = (command, args, options) =>
      command === 'sox' || (command === 'stdbuf' && args.includes('sox')) ? spawn('/nonexistent/sox', [], options) : spawn(command, args, options);
    const mic = await startMic({ spawn: withoutSox });
    expect(mic.problems).toEqual([]);
    await until(() => mic.chunks > 5, 5000, 'arecord chunks arrived');
    await mic.stop();
  }, 15_000);

  it('the recorder dies mid-stream', async () => {
    let recorder: ChildProcessLike | null = null;
    const watched: Spawn = (command, args, options) => {
      const child = spawn(command, args, options);
      if (!args.includes('-h') && !args.includes('--version')) recorder = child;
      return child;
    };
    const mic = await startMic({ spawn: watched });
    expect(mic.problems).toEqual([]);
    expect(recorder).not.toBeNull();
    (recorder as ChildProcessLike | null)?.kill('SIGKILL');
    await until(() => mic.problems.length > 0, 5000, 'the mic reported the dead recorder');
    const [problem] = mic.problems;
    expectClearProblem(problem);
    expect(problem.message).toMatch(/^The microphone stopped: sox was stopped by SIGKILL/);
    await mic.stop();
  }, 15_000);
});

describe('MicSource lifecycle', () => {
  it('stop() during start() ends it cleanly, and the mic starts again afterwards', async () => {
    const mic = createSoxMic({ spawn });
    const chunks: Int16Array[] = [];
    const problems: Problem[] = [];
    const starting = mic.start(
      (pcm) => chunks.push(pcm),
      (problem) => problems.push(problem),
    );
    await mic.stop();
    await starting;
    await sleep(200);
    expect(problems).toEqual([]);
    expect(chunks).toEqual([]);

    await mic.start(
      (pcm) => chunks.push(pcm),
      (problem) => problems.push(problem),
    );
    await until(() => chunks.length > 3, 5000, 'chunks after the restart');
    await mic.stop();
    expect(problems).toEqual([]);
  }, 15_000);
});

describe('SpeakerSink failures become problems, never a crash', () => {
  it('a PulseAudio sink that does not exist', async () => {
    const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:no_such_speaker' });
    const failure = await sink.open().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AudioDeviceError);
    const problem = (failure as AudioDeviceError).problem;
    expectClearProblem(problem);
    expect(problem.message).toBe('The speaker (pulse:no_such_speaker) could not be opened: PulseAudio: Unable to create stream: No such entity.');
    // The sink stays quiet and usable as an object.
    sink.write(new Int16Array(480));
    sink.flush();
    await sink.close();
  }, 15_000);

  it('aplay missing: refuses to open rather than risk the audio library aborting', async () => {
    const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:ear', env: { ...process.env, PATH: emptyBin } });
    const failure = (await sink.open().catch((error: unknown) => error)) as AudioDeviceError;
    expectClearProblem(failure.problem);
    expect(failure.problem.hint).toContain('apt-get install alsa-utils');
  }, 15_000);

  it('PULSE_LATENCY_MSEC set: refuses, since speaker stalls under it', async () => {
    const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:ear', env: { ...process.env, PULSE_LATENCY_MSEC: '20' } });
    const failure = (await sink.open().catch((error: unknown) => error)) as AudioDeviceError;
    expectClearProblem(failure.problem);
    expect(failure.problem.message).toContain('PULSE_LATENCY_MSEC');
  });

  it('no sound server reachable: a problem in a child process that exits normally', async ({ annotate }) => {
    const fixture = join(import.meta.dirname, 'fixtures', 'openSpeaker.ts');
    const env = { ...process.env, PULSE_SERVER: deadServer };
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture, 'pulse:ear'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    const outcome = JSON.parse(child.stdout) as { opened: boolean; problem: Problem | null };
    expect(outcome.opened).toBe(false);
    expectClearProblem(outcome.problem ?? undefined);
    // On a machine with no sound card "default" fails first; with one, the named PulseAudio sink does.
    expect(outcome.problem?.message).toMatch(/^(No sound output is available|The speaker \(pulse:ear\) could not be opened): .*(refused|No such file)/);

    // What the check prevents: loading speaker itself in that environment.
    const bare = spawnSync(process.execPath, ['-e', "require('speaker')"], { env, encoding: 'utf8', timeout: 30_000 });
    await annotate(`without the check, loading speaker here ends with ${bare.signal ?? `exit code ${bare.status}`}; with it: "${outcome.problem?.message}"`);
  }, 60_000);
});

describe('the sink recovers', () => {
  it('opens again after close, and close is idempotent', async () => {
    const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:ear' });
    await sink.open();
    sink.write(new Int16Array(2400));
    await sink.close();
    await sink.close();
    await sink.open();
    sink.write(new Int16Array(2400));
    await sleep(50);
    sink.flush();
    await sink.close();
  }, 15_000);
});
