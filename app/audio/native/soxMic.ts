/**
 * The microphone as a recorder child process writing raw PCM16 mono at 24 kHz to its stdout:
 * `sox` by default (through its PulseAudio or ALSA driver), `arecord` when sox is missing or
 * cannot open the device. The commands are node-record-lpcm16's recorders, spawned here because
 * its 1.0.1 cannot pass sox a small buffer or an explicit driver, and throws away the recorder's
 * stderr, which is where "no such device" is said.
 *
 * Chunk size is latency: sox writes through stdio, which holds 4 KiB (85 ms) in a pipe, so it
 * runs under `stdbuf -o0` when coreutils has it, and then delivers 20 ms chunks like arecord.
 */
import type { Problem } from '../../contract';
import { pcm16FromBytes, realtimePcmRate } from '../pcm';
import type { MicSource } from '../ports';
import { parseDeviceId } from './devices';
import { audioProblem, packageOf } from './problems';
import { failureLine, runCommand, type ChildProcessLike, type Env, type Spawn } from './processes';

export type RecorderName = 'sox' | 'arecord';

export interface SoxMicOptions {
  /** `child_process.spawn`. */
  spawn: Spawn;
  /** An `AudioDevice.id` from `createAudioDevices`; the system default input when absent. */
  device?: string;
  /** Tried first; the other is the fallback. */
  recorder?: RecorderName;
  /** The recorder's environment (default `process.env`). */
  env?: Env;
  /** How long a started recorder may stay silent before that is a problem. */
  startTimeoutMs?: number;
}

export interface RecorderCommand {
  recorder: RecorderName;
  command: string;
  args: string[];
  env: Env;
}

interface InstalledTools {
  /** sox's audio device drivers, e.g. ['pulseaudio', 'alsa']; null when sox is not installed. */
  soxDrivers: string[] | null;
  stdbuf: boolean;
  arecord: boolean;
}

type MicState =
  | { status: 'idle' }
  | { status: 'starting'; child: ChildProcessLike | null }
  | { status: 'running'; child: ChildProcessLike; recorder: RecorderName }
  | { status: 'stopping'; closed: Promise<void> };

const rate = realtimePcmRate;
/** 480 bytes = 10 ms at 24 kHz mono: sox then reads and writes in ~20 ms steps. */
const soxBufferBytes = 480;

export function createSoxMic(options: SoxMicOptions): MicSource {
  return new RecorderMic(options);
}

class RecorderMic implements MicSource {
  readonly sampleRate = rate;
  readonly #options: SoxMicOptions;
  #state: MicState = { status: 'idle' };
  #tools: Promise<InstalledTools> | null = null;

  constructor(options: SoxMicOptions) {
    this.#options = options;
  }

  async start(onChunk: (pcm: Int16Array) => void, onError: (problem: Problem) => void): Promise<void> {
    if (this.#state.status === 'stopping') await this.#state.closed;
    if (this.#state.status !== 'idle') return;
    const starting: MicState = { status: 'starting', child: null };
    this.#state = starting;
    this.#tools ??= detectTools(this.#options.spawn, this.#env);
    const plan = planRecorder(await this.#tools, this.#options.device, this.#options.recorder ?? 'sox', this.#env);
    if (this.#state !== starting) return; // stopped while detecting
    if ('message' in plan) {
      this.#state = { status: 'idle' };
      this.#tools = null; // the user may install one and try again
      onError(plan);
      return;
    }
    await this.#run(plan, starting, onChunk, onError);
  }

  async stop(): Promise<void> {
    const state = this.#state;
    if (state.status === 'idle') return;
    if (state.status === 'stopping') return state.closed;
    const child = state.child;
    if (child === null) {
      this.#state = { status: 'idle' };
      return;
    }
    const closed = new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 1000);
      // A child that never started emits 'error' and maybe no 'close'; do not wait for it forever.
      const giveUp = setTimeout(done, 2000);
      function done(): void {
        clearTimeout(force);
        clearTimeout(giveUp);
        resolve();
      }
      child.on('close', done);
      child.on('error', done);
    });
    this.#state = { status: 'stopping', closed };
    child.kill('SIGTERM');
    await closed;
    this.#state = { status: 'idle' };
  }

  get #env(): Env {
    return this.#options.env ?? process.env;
  }

  #run(plan: RecorderCommand, starting: Extract<MicState, { status: 'starting' }>, onChunk: (pcm: Int16Array) => void, onError: (problem: Problem) => void): Promise<void> {
    const device = this.#options.device ?? 'default input';
    return new Promise<void>((resolve) => {
      let child: ChildProcessLike;
      try {
        child = this.#options.spawn(plan.command, plan.args, { env: plan.env, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        this.#state = { status: 'idle' };
        onError(spawnProblem(plan, error as NodeJS.ErrnoException));
        resolve();
        return;
      }
      starting.child = child;
      let stderr = '';
      let carry: Buffer | null = null;
      let reported = false;
      const fail = (problem: Problem): void => {
        clearTimeout(silentTimer);
        if (this.#state.status === 'starting' || this.#state.status === 'running') {
          if (this.#state.child === child) this.#state = { status: 'idle' };
        }
        if (!reported) {
          reported = true;
          onError(problem);
        }
        resolve();
      };
      const silentTimer = setTimeout(() => {
        if (this.#state !== starting) return;
        child.kill('SIGKILL');
        fail(
          audioProblem(
            `The microphone (${device}) gave no audio within ${(startTimeout(this.#options) / 1000).toFixed(0)} s.`,
            'Check that the input device is connected and not muted, or choose another one in Settings.',
          ),
        );
      }, startTimeout(this.#options));

      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        stderr = (stderr + text).slice(-8192);
      });
      child.stdout?.on('data', (bytes: Buffer) => {
        if (this.#state === starting) {
          clearTimeout(silentTimer);
          this.#state = { status: 'running', child, recorder: plan.recorder };
          resolve();
        }
        if (this.#state.status !== 'running' || this.#state.child !== child) return;
        const joined: Buffer = carry === null ? bytes : Buffer.concat([carry, bytes]);
        const even = joined.length - (joined.length % 2);
        // Pipes split samples anywhere; the odd byte waits for its partner.
        carry = even < joined.length ? Buffer.from(joined.subarray(even)) : null;
        if (even > 0) onChunk(pcm16FromBytes(joined.subarray(0, even)));
      });
      child.on('error', (error) => {
        this.#tools = null; // what was installed has changed; look again next time
        fail(spawnProblem(plan, error));
      });
      child.on('close', (code, signal) => {
        clearTimeout(silentTimer);
        resolve(); // a start that was stopped half-way is done too
        const state = this.#state;
        if (state.status === 'stopping' || state.status === 'idle') return;
        if (state.child !== child) return;
        const said = failureLine(stderr);
        const how = signal !== null ? `was stopped by ${signal}` : `exited with code ${code}`;
        if (state.status === 'starting') {
          fail(
            audioProblem(
              `The microphone (${device}) could not be opened: ${said || `${plan.recorder} ${how}`}.`,
              'Choose another input in Settings, or check that the device is connected and not in use by another program.',
            ),
          );
        } else {
          fail(
            audioProblem(
              `The microphone stopped: ${plan.recorder} ${how}${said ? ` (${said})` : ''}.`,
              'Check that the input device is still connected, then turn voice on again.',
            ),
          );
        }
      });
    });
  }
}

function startTimeout(options: SoxMicOptions): number {
  return options.startTimeoutMs ?? 3000;
}

function spawnProblem(plan: RecorderCommand, error: NodeJS.ErrnoException): Problem {
  if (error.code === 'ENOENT') return missingRecorderProblem();
  return audioProblem(`The microphone recorder (${plan.recorder}) could not be started: ${error.message}.`, 'Check that it is installed and executable.');
}

function missingRecorderProblem(): Problem {
  return audioProblem(
    'Parley needs sox or arecord to use the microphone, and neither is installed.',
    `Install one of them, for example: sudo apt-get install ${packageOf.sox} libsox-fmt-pulse (or ${packageOf.arecord} for arecord).`,
  );
}

async function detectTools(spawn: Spawn, env: Env): Promise<InstalledTools> {
  const [sox, stdbuf, arecord] = await Promise.all([
    runCommand(spawn, 'sox', ['-h'], { env, timeoutMs: 3000 }),
    runCommand(spawn, 'stdbuf', ['--version'], { env, timeoutMs: 3000 }),
    runCommand(spawn, 'arecord', ['--version'], { env, timeoutMs: 3000 }),
  ]);
  const soxDrivers = sox.status === 'exited' ? (/AUDIO DEVICE DRIVERS:(.*)/.exec(sox.stdout)?.[1]?.trim().split(/\s+/) ?? []) : null;
  return { soxDrivers, stdbuf: stdbuf.status === 'exited' && stdbuf.code === 0, arecord: arecord.status === 'exited' };
}

/** The recorder command for `device`, or the problem that stops every candidate. Exported for tests. */
export function planRecorder(tools: InstalledTools, device: string | undefined, preferred: RecorderName, env: Env): RecorderCommand | Problem {
  const ref = parseDeviceId(device);
  const drivers = tools.soxDrivers ?? [];
  const soxDriver =
    ref.kind === 'pulse' ? (drivers.includes('pulseaudio') ? 'pulseaudio' : null)
    : ref.kind === 'alsa' ? (drivers.includes('alsa') ? 'alsa' : null)
    : drivers.includes('pulseaudio') ? 'pulseaudio'
    : drivers.includes('alsa') ? 'alsa'
    : null;
  const order: RecorderName[] = preferred === 'sox' ? ['sox', 'arecord'] : ['arecord', 'sox'];
  for (const recorder of order) {
    if (recorder === 'sox' && tools.soxDrivers !== null && soxDriver !== null) {
      const name = ref.kind === 'default' ? 'default' : ref.name;
      const format = ['-r', String(rate), '-c', '1', '-e', 'signed-integer', '-b', '16'];
      // The input format is asked of the server too, so PulseAudio converts and sox adds no resampler delay.
      const args = ['-q', '--buffer', String(soxBufferBytes), ...format, '-t', soxDriver, name, '-t', 'raw', ...format, '-'];
      const soxEnv = { ...env, AUDIODRIVER: soxDriver };
      return tools.stdbuf ? { recorder, command: 'stdbuf', args: ['-o0', 'sox', ...args], env: soxEnv } : { recorder, command: 'sox', args, env: soxEnv };
    }
    if (recorder === 'arecord' && tools.arecord) {
      const pcm = device === undefined || device === '' ? 'default' : device;
      const args = ['-q', '-D', pcm, '-t', 'raw', '-f', 'S16_LE', '-r', String(rate), '-c', '1', '--period-time=20000', '--buffer-time=500000', '-'];
      return { recorder, command: 'arecord', args, env };
    }
  }
  if (tools.soxDrivers === null && !tools.arecord) return missingRecorderProblem();
  const wanted = ref.kind === 'alsa' ? 'alsa' : 'pulseaudio';
  return audioProblem(
    `sox cannot record from ${device ?? 'the default input'}: it has no ${wanted} driver${drivers.length > 0 ? ` (only ${drivers.join(', ')})` : ''}, and arecord is not installed.`,
    `Install the driver (sudo apt-get install libsox-fmt-${wanted === 'alsa' ? 'alsa' : 'pulse'}) or ${packageOf.arecord} for arecord.`,
  );
}
