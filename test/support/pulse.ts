/**
 * A real audio loop for the tests: a private PulseAudio daemon with two null sinks.
 *
 *   "mouth": what the user says. Play speech into it; its monitor `mouth.monitor` is the
 *            microphone (the default source).
 *   "ear":   what the user hears. The speaker plays into it (the default sink); record
 *            `ear.monitor` to hear what came out.
 *
 * Each test process gets its own daemon in its own runtime directory, so test files can run in
 * parallel and a developer's real sound server is never touched; `process.env.PULSE_SERVER`
 * points this process (its in-process `speaker` and every child) at it. Silent keep-alive streams
 * hold the null sinks at 10 ms latency (idle, they render in 2 s blocks), and an optional loopback
 * from ear.monitor to mouth plays the part of a laptop speaker heard by its own microphone.
 *
 * Missing programs fail the suite with the Debian packages to install; nothing is skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const rate = 24_000;
/** The null sinks' own rate (the echo path runs at it). */
const sinkRate = 48_000;
export const repoRoot = join(import.meta.dirname, '..', '..');
/** Recordings of test runs, for a person to listen to (gitignored). */
export const audioResultsDir = join(repoRoot, 'test-results', 'audio');

// ---------------------------------------------------------------------------------------------
// Required programs

interface Requirement {
  program: string;
  args: string[];
  debianPackage: string;
  /** Checks the output when the program exists; returns what is wrong, or null. */
  check?: (output: string) => string | null;
}

const requirements: Requirement[] = [
  { program: 'pulseaudio', args: ['--version'], debianPackage: 'pulseaudio' },
  { program: 'pactl', args: ['--version'], debianPackage: 'pulseaudio-utils' },
  { program: 'pacat', args: ['--version'], debianPackage: 'pulseaudio-utils' },
  { program: 'aplay', args: ['--version'], debianPackage: 'alsa-utils' },
  { program: 'arecord', args: ['--version'], debianPackage: 'alsa-utils' },
  { program: 'espeak-ng', args: ['--version'], debianPackage: 'espeak-ng' },
  {
    program: 'sox',
    args: ['-h'],
    debianPackage: 'sox',
    check: (output) => (/AUDIO DEVICE DRIVERS:.*\bpulseaudio\b/.test(output) ? null : "sox has no pulseaudio driver (Debian package 'libsox-fmt-pulse')"),
  },
];

/** Throws, naming the Debian packages to install, unless every program the audio tests use is there. */
export function requireAudioTools(extra: Requirement[] = []): void {
  const problems: string[] = [];
  const packages = new Set<string>();
  for (const requirement of [...requirements, ...extra]) {
    const result = spawnSync(requirement.program, requirement.args, { encoding: 'utf8', timeout: 10_000 });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      problems.push(`${requirement.program} is not installed (Debian package '${requirement.debianPackage}')`);
      packages.add(requirement.debianPackage);
      continue;
    }
    const wrong = requirement.check?.(`${result.stdout ?? ''}${result.stderr ?? ''}`) ?? null;
    if (wrong !== null) {
      problems.push(wrong);
      packages.add(/'([^']+)'/.exec(wrong)?.[1] ?? requirement.debianPackage);
    }
  }
  if (problems.length > 0) {
    throw new Error(`The audio tests need real audio programs: ${problems.join('; ')}.\nInstall them: sudo apt-get install ${[...packages].join(' ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The daemon

export interface Pulse {
  /** `unix:<runtime dir>/pulse/native`, also in `process.env.PULSE_SERVER` while open. */
  readonly server: string;
  readonly runtimeDir: string;
  /** The environment for children that should reach this daemon. */
  readonly env: NodeJS.ProcessEnv;
  pactl(...args: string[]): Promise<string>;
  /**
   * Plays PCM16 mono into a sink (default "mouth") and resolves when it has been played. The
   * stream keeps a second buffered in the server, so a busy test machine cannot open gaps in it.
   */
  play(pcm: Int16Array, options?: { sink?: string; sampleRate?: number }): Promise<{ startedAt: number; endedAt: number }>;
  /** Records a source (e.g. "ear.monitor") from now until `stop()`. */
  record(source: string): Recording;
  /** Records a source for `ms` milliseconds of audio. */
  recordFor(source: string, ms: number): Promise<Int16Array>;
  /** Loops what reaches the ear back into the mouth, like a laptop's speaker heard by its microphone. */
  setEcho(on: boolean, latencyMs?: number): Promise<void>;
  /**
   * A realistic echo path from the ear to the mouth (a laptop's speaker heard by its own mic):
   * sox delays, attenuates, adds a little reverb and optionally a mild nonlinearity. Null removes
   * it. The path's real delay is its `delayMs` plus the pipe's own (about 95 ms: pacat's 100 ms
   * playback buffer keeps a loaded machine from underrunning, and every underrun would add to
   * the delay for good). It runs at the sinks' own rate, and holds its delay to the sample.
   */
  setEchoPath(path: EchoPath | null): Promise<void>;
  close(): Promise<void>;
}

export interface EchoPath {
  /** Added delay (the pipe adds its own), 40–150 ms on a laptop. */
  delayMs: number;
  /** Level of the echo against what the speaker played, −10 to −25 dB. */
  gainDb: number;
  /** sox reverb's reverberance, 0–100 (0: none). */
  reverb?: number;
  /** sox overdrive's gain in dB for a mild speaker nonlinearity (0: none). */
  overdriveDb?: number;
}

/** The sox effects for an echo path (the order a speaker, a room and a mic apply them). */
export function echoPathEffects(path: EchoPath): string[] {
  const effects: string[] = [];
  if ((path.overdriveDb ?? 0) > 0) effects.push('overdrive', String(path.overdriveDb), '0');
  effects.push('vol', `${path.gainDb}dB`);
  if ((path.reverb ?? 0) > 0) effects.push('reverb', String(path.reverb), '50', '30', '0', '0', '-6');
  effects.push('delay', (path.delayMs / 1000).toFixed(3));
  return effects;
}

/**
 * Real-time scheduling (SCHED_FIFO) for the sound server and the programs that play the parts of
 * the room, where this process may grant it (root in CI); nothing otherwise. A laptop's acoustic
 * path never stalls, but on a loaded test machine (load 17 on 2 cores, measured) a time-shared
 * daemon and pipe miss their 10 ms deadlines, every underrun adds the stall to the echo's delay
 * for good, and the delay from speaker to mic grew from 190 ms to 600 ms within 20 s of speech.
 */
let realtimeAllowed: boolean | null = null;
function realtime(command: string, args: string[]): [string, string[]] {
  realtimeAllowed ??= spawnSync('chrt', ['-f', '20', 'true'], { timeout: 5000 }).status === 0;
  return realtimeAllowed ? ['chrt', ['-f', '20', command, ...args]] : [command, args];
}

/** Every thread of a running process, and those it starts later (they inherit it). */
function makeRealtime(pid: number): void {
  if (realtime('true', [])[0] === 'chrt') spawnSync('chrt', ['-a', '-f', '-p', '20', String(pid)], { timeout: 5000 });
}

/**
 * Real-time scheduling for this process (every thread, and those it starts) below the sound
 * server's priority, until the returned function restores time sharing. For the loops that play
 * and record in-process (the speaker's stream, the mic, the canceller): at load 17 a time-shared
 * test process underran its speaker by 430 ms in the middle of a reply (measured), which a
 * laptop running Parley alone never sees. Nothing happens where it is not allowed.
 */
export function realtimeThisProcess(): () => void {
  if (realtime('true', [])[0] !== 'chrt') return () => undefined;
  spawnSync('chrt', ['-a', '-f', '-p', '10', String(process.pid)], { timeout: 5000 });
  return () => void spawnSync('chrt', ['-a', '-o', '-p', '0', String(process.pid)], { timeout: 5000 });
}

/** `command args…` as a shell command line, real-time where allowed. */
function realtimeLine(command: string): string {
  const [program, args] = realtime(command, []);
  return [program, ...args].join(' ');
}

let running: Promise<Pulse> | null = null;

/** Starts this process's daemon, or returns the one already running. */
export function startPulse(): Promise<Pulse> {
  running ??= launch().catch((error: unknown) => {
    running = null;
    throw error;
  });
  return running;
}

async function launch(): Promise<Pulse> {
  requireAudioTools();
  const runtimeDir = await mkdtemp(join(tmpdir(), 'parley-pulse-'));
  const server = `unix:${join(runtimeDir, 'pulse', 'native')}`;
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  // These would send streams elsewhere, and PULSE_LATENCY_MSEC makes `speaker` hang.
  for (const name of ['PULSE_SERVER', 'PULSE_SINK', 'PULSE_SOURCE', 'PULSE_LATENCY_MSEC', 'PULSE_PROP']) delete baseEnv[name];
  const daemonEnv = { ...baseEnv, XDG_RUNTIME_DIR: runtimeDir };
  const logFile = join(runtimeDir, 'pulseaudio.log');
  const started = spawnSync(
    'pulseaudio',
    [
      '-n',
      '--daemonize=yes',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '--use-pid-file=yes',
      '--system=no',
      // Where allowed (root in CI), the server outranks whatever else the machine is running.
      '--high-priority=yes',
      '--realtime=yes',
      `--log-target=file:${logFile}`,
      '-L',
      'module-native-protocol-unix',
      '-L',
      `module-null-sink sink_name=mouth rate=${sinkRate} sink_properties=device.description=Mouth`,
      '-L',
      `module-null-sink sink_name=ear rate=${sinkRate} sink_properties=device.description=Ear`,
    ],
    { env: daemonEnv, encoding: 'utf8', timeout: 15_000 },
  );
  if (started.status !== 0) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await rm(runtimeDir, { recursive: true, force: true });
    throw new Error(`PulseAudio did not start (exit ${started.status}${started.error ? `, ${started.error.message}` : ''}):\n${started.stderr}\n${log}`);
  }
  const pid = Number((await readFile(join(runtimeDir, 'pulse', 'pid'), 'utf8')).trim());
  makeRealtime(pid);
  const env: NodeJS.ProcessEnv = { ...baseEnv, PULSE_SERVER: server };
  const previous = { PULSE_SERVER: process.env.PULSE_SERVER, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, PULSE_LATENCY_MSEC: process.env.PULSE_LATENCY_MSEC };
  process.env.PULSE_SERVER = server;
  process.env.XDG_RUNTIME_DIR ??= runtimeDir;
  delete process.env.PULSE_LATENCY_MSEC;

  const pactl = async (...args: string[]): Promise<string> => {
    const result = await run('pactl', args, env);
    if (result.code !== 0) throw new Error(`pactl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  const keepAlives: ChildProcess[] = [];
  let echoModule: string | null = null;
  let echoPath: ChildProcess | null = null;
  const stopEchoPath = async (): Promise<void> => {
    const child = echoPath;
    echoPath = null;
    if (child === null || child.exitCode !== null) return;
    const closed = new Promise((resolve) => child.once('close', resolve));
    signal(-(child.pid ?? 0), 'SIGTERM');
    await closed;
  };
  let watchdog: ChildProcess | null = null;

  const pulse: Pulse = {
    server,
    runtimeDir,
    env,
    pactl,
    play: (pcm, options = {}) => play(env, pcm, options.sink ?? 'mouth', options.sampleRate ?? rate),
    record: (source) => new Recording(env, source),
    async recordFor(source, ms) {
      const recording = new Recording(env, source);
      await recording.started();
      await recording.waitFor((samples) => samples.length >= (ms * rate) / 1000, ms + 5000, `${ms} ms recorded`);
      return (await recording.stop()).subarray(0, Math.round((ms * rate) / 1000));
    },
    async setEcho(on, latencyMs = 30) {
      if (on && echoModule === null) {
        echoModule = (await pactl('load-module', 'module-loopback', 'source=ear.monitor', 'sink=mouth', `latency_msec=${latencyMs}`, 'source_dont_move=true', 'sink_dont_move=true')).trim();
      } else if (!on && echoModule !== null) {
        await pactl('unload-module', echoModule);
        echoModule = null;
      }
    },
    async setEchoPath(path) {
      await stopEchoPath();
      if (path === null) return;
      // At the sinks' rate: at 24 kHz the server resamples both ends of the pipe, and its delay
      // crept by 6 ms over 40 s (150 ppm; 27 ms over a minute on a busier run) while Parley's own
      // speaker and mic streams held theirs to 0.1 ms. No laptop's acoustic path moves like
      // that, and an adaptive filter cannot converge on one that does: 0.5 ms is a half turn of
      // phase at 1 kHz. At 48 kHz the same pipe held 174.38 ms for the whole 40 s.
      const raw = ['-t', 'raw', '-r', String(sinkRate), '-e', 'signed', '-b', '16', '-c', '1'];
      const script = [
        `${realtimeLine('pacat')} --record --raw --device=ear.monitor --format=s16le --rate=${sinkRate} --channels=1 --latency-msec=20 --stream-name=echo-path-in`,
        `${realtimeLine('sox')} -q --buffer 1024 ${raw.join(' ')} - ${raw.join(' ')} - ${echoPathEffects(path).join(' ')}`,
        `${realtimeLine('pacat')} --playback --raw --device=mouth --format=s16le --rate=${sinkRate} --channels=1 --latency-msec=100 --stream-name=echo-path-out`,
      ].join(' | ');
      // Its own process group, so the whole pipe stops together.
      const child = spawn('sh', ['-c', script], { env, stdio: 'ignore', detached: true });
      echoPath = child;
      await until(async () => (await pactl('list', 'short', 'source-outputs')).includes('protocol-native') && (await pactl('list', 'short', 'sink-inputs')).split('\n').filter(Boolean).length >= 3, 5000, 'the echo path connects');
    },
    async close() {
      await stopEchoPath();
      watchdog?.kill('SIGKILL');
      for (const child of keepAlives) child.kill('SIGTERM');
      signal(pid, 'SIGTERM');
      // It can take seconds to wind down on its own; nothing of it needs to outlive the tests.
      for (let waited = 0; waited < 300 && alive(pid); waited += 20) await sleep(20);
      signal(pid, 'SIGKILL');
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await rm(runtimeDir, { recursive: true, force: true });
      running = null;
    },
  };

  try {
    await pactl('set-default-sink', 'ear');
    await pactl('set-default-source', 'mouth.monitor');
    for (const sink of ['mouth', 'ear']) {
      const child = spawn(...realtime('pacat', ['--playback', '--raw', `--device=${sink}`, '--format=s16le', `--rate=48000`, '--channels=1', '--latency-msec=10', '--stream-name=keep-alive', '/dev/zero']), {
        env,
        stdio: 'ignore',
      });
      keepAlives.push(child);
    }
    watchdog = watch(process.pid, [pid, ...keepAlives.map((child) => child.pid ?? 0).filter((id) => id > 0)], runtimeDir);
    await until(async () => (await pactl('list', 'short', 'sink-inputs')).trim().split('\n').filter(Boolean).length >= 2, 5000, 'the keep-alive streams connect');
    // An idle null sink has rendered up to 2 s ahead; a suspend and resume makes it start over at 10 ms.
    for (const sink of ['mouth', 'ear']) {
      await pactl('suspend-sink', sink, '1');
      await pactl('suspend-sink', sink, '0');
    }
    await until(
      async () => [...(await pactl('list', 'sinks')).matchAll(/^\tLatency: (\d+) usec/gm)].every((match) => Number(match[1]) < 20_000),
      5000,
      'the sinks settle at a low latency',
    );
    // The speaker reaches PulseAudio through the ALSA pulse plugin.
    const viaAlsa = await run('aplay', ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', String(rate), '-c', '1', '-D', 'pulse:ear'], env, '');
    if (viaAlsa.code !== 0) {
      throw new Error(`ALSA cannot reach PulseAudio (aplay -D pulse:ear: ${viaAlsa.stderr.trim()}). Install the ALSA pulse plugin: sudo apt-get install libasound2-plugins`);
    }
  } catch (error) {
    await pulse.close();
    throw error;
  }
  return pulse;
}

/**
 * A test file that never calls close(), or a worker that is killed (vitest ends its workers with
 * SIGTERM, so no 'exit' handler runs), must not leave a daemon behind: a detached shell waits for
 * this process to go and then ends what it started.
 */
function watch(owner: number, pids: number[], runtimeDir: string): ChildProcess {
  const script = `while kill -0 ${owner} 2>/dev/null; do sleep 0.5; done; kill -9 ${pids.join(' ')} 2>/dev/null; rm -rf '${runtimeDir}'`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** Signals the daemon (not our child: it daemonized), if it is still there. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(input);
  });
}

/** Polls `condition` until it holds; throws `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what}.`);
    await sleep(10);
  }
}

function play(env: NodeJS.ProcessEnv, pcm: Int16Array, sink: string, sampleRate: number): Promise<{ startedAt: number; endedAt: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(...realtime('pacat', ['--playback', '--raw', `--device=${sink}`, '--format=s16le', `--rate=${sampleRate}`, '--channels=1', '--latency-msec=1000', '--stream-name=test-play']), {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    // A pacat whose sound server went away spins at real-time priority instead of exiting (seen
    // on a loaded machine: one core taken for ten minutes): stopped once the clip is long over.
    const guard = setTimeout(() => {
      stderr += `still playing ${Math.round(10_000 + (pcm.length * 1000) / sampleRate)} ms after it began; killed`;
      child.kill('SIGKILL');
    }, 10_000 + (pcm.length * 1000) / sampleRate);
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      if (code === 0) resolve({ startedAt, endedAt: performance.now() });
      else reject(new Error(`pacat into ${sink} failed (${code}): ${stderr}`));
    });
    child.stdin.end(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  });
}

// ---------------------------------------------------------------------------------------------
// Recording, with a clock

/**
 * A PulseAudio source recorded at 24 kHz mono with 10 ms fragments. Each sample gets a time on
 * `performance.now()`'s clock: a chunk's last sample was captured no later than the chunk
 * arrived, so the earliest arrival that covers a sample, minus the samples after it, bounds its
 * capture time within about a fragment.
 */
export class Recording {
  readonly sampleRate = rate;
  readonly source: string;
  readonly #child: ChildProcess;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  /** [arrival time, samples received by then] per chunk. */
  readonly #arrivals: [number, number][] = [];
  #stderr = '';
  #closed: Promise<void>;

  constructor(env: NodeJS.ProcessEnv, source: string) {
    this.source = source;
    this.#child = spawn(...realtime('pacat', ['--record', '--raw', `--device=${source}`, '--format=s16le', `--rate=${rate}`, '--channels=1', '--latency-msec=10', '--stream-name=test-record']), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
      this.#arrivals.push([performance.now(), Math.floor(this.#bytes / 2)]);
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (text: string) => (this.#stderr += text));
    this.#closed = new Promise((resolve) => this.#child.on('close', () => resolve()));
  }

  /** Resolves once audio flows (the stream is connected and the clock is running). */
  started(timeoutMs = 5000): Promise<void> {
    return until(() => this.#arrivals.length >= 3, timeoutMs, `recording ${this.source} started (${this.#stderr.trim()})`);
  }

  get samples(): Int16Array {
    const bytes = Buffer.concat(this.#chunks);
    return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~1)));
  }

  /** When sample `index` was captured, in `performance.now()` milliseconds. */
  timeOf(index: number): number {
    let best = Infinity;
    for (const [arrivedAt, received] of this.#arrivals) {
      if (received >= index) best = Math.min(best, arrivedAt - ((received - index) * 1000) / rate);
    }
    return best;
  }

  /** Polls the samples so far until `condition` holds. */
  waitFor(condition: (samples: Int16Array) => boolean, timeoutMs: number, what: string): Promise<void> {
    return until(() => condition(this.samples), timeoutMs, `${what} in ${this.source}`);
  }

  async stop(): Promise<Int16Array> {
    this.#child.kill('SIGTERM');
    await this.#closed;
    return this.samples;
  }
}

// ---------------------------------------------------------------------------------------------
// Signal analysis

/** RMS per window (fraction of full scale), `windowMs` apart. */
export function envelope(samples: Int16Array, windowMs = 10, sampleRate = rate): Float64Array {
  const size = Math.max(1, Math.round((windowMs * sampleRate) / 1000));
  const out = new Float64Array(Math.floor(samples.length / size));
  for (let window = 0; window < out.length; window += 1) {
    let sum = 0;
    for (let index = window * size; index < (window + 1) * size; index += 1) {
      const value = (samples[index] ?? 0) / 32768;
      sum += value * value;
    }
    out[window] = Math.sqrt(sum / size);
  }
  return out;
}

export function dbfs(level: number): number {
  return level > 0 ? 20 * Math.log10(level) : -Infinity;
}

export interface Span {
  startMs: number;
  endMs: number;
}

export interface SpanOptions {
  thresholdDbfs?: number;
  windowMs?: number;
  /** Gaps shorter than this join their neighbours (the pauses between words). */
  bridgeMs?: number;
  sampleRate?: number;
}

/** The stretches where the level is above the threshold, in ms from the first sample. */
export function soundSpans(samples: Int16Array, options: SpanOptions = {}): Span[] {
  const windowMs = options.windowMs ?? 10;
  const threshold = options.thresholdDbfs ?? -40;
  const levels = envelope(samples, windowMs, options.sampleRate ?? rate);
  const spans: Span[] = [];
  levels.forEach((level, window) => {
    if (dbfs(level) < threshold) return;
    const startMs = window * windowMs;
    const last = spans.at(-1);
    if (last !== undefined && startMs - last.endMs <= (options.bridgeMs ?? 0)) last.endMs = startMs + windowMs;
    else spans.push({ startMs, endMs: startMs + windowMs });
  });
  return spans;
}

/** Milliseconds above the threshold, in total. */
export function soundDurationMs(samples: Int16Array, options: SpanOptions = {}): number {
  return soundSpans(samples, options).reduce((sum, span) => sum + span.endMs - span.startMs, 0);
}

/** From the first onset to the last offset, or null for silence. */
export function soundExtent(samples: Int16Array, options: SpanOptions = {}): Span | null {
  const spans = soundSpans(samples, options);
  const first = spans[0];
  const last = spans.at(-1);
  return first === undefined || last === undefined ? null : { startMs: first.startMs, endMs: last.endMs };
}

/** Power of one frequency (Goertzel). */
function goertzel(samples: Int16Array, hz: number, sampleRate: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (const sample of samples) {
    const current = sample + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
}

/** The strongest frequency between `minHz` and `maxHz`, to a quarter hertz. */
export function dominantFrequency(samples: Int16Array, options: { minHz?: number; maxHz?: number; sampleRate?: number } = {}): number {
  const sampleRate = options.sampleRate ?? rate;
  const scan = (from: number, to: number, step: number): number => {
    let best = from;
    let bestPower = -1;
    for (let hz = from; hz <= to; hz += step) {
      const power = goertzel(samples, hz, sampleRate);
      if (power > bestPower) {
        bestPower = power;
        best = hz;
      }
    }
    return best;
  };
  const coarse = scan(options.minHz ?? 50, options.maxHz ?? 4000, 5);
  return scan(coarse - 5, coarse + 5, 0.25);
}

/**
 * The shift of `b` against `a` (in windows; positive when `b` is late) that best lines them up,
 * with the normalised correlation at that shift. Only shifts where at least half of `a` overlaps
 * `b` count: over a sliver, a chance likeness correlates as well as the real line-up (on the loop,
 * a reply's first second "fitted" 0.97 at −885 ms, over its last 115 ms against the recording's
 * first 115 ms, and the truncation error was then measured a second and a half off).
 */
export function bestLag(a: Float64Array, b: Float64Array, maxLag: number): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -Infinity };
  const minOverlap = Math.ceil(a.length / 2);
  for (let lag = -maxLag; lag <= maxLag; lag += 1) {
    const first = Math.max(0, -lag);
    const end = Math.min(a.length, b.length - lag);
    if (end - first < minOverlap) continue;
    let dot = 0;
    let normA = 0;
    let normB = 0;
    for (let index = first; index < end; index += 1) {
      const x = a[index]!;
      const y = b[index + lag]!;
      dot += x * y;
      normA += x * x;
      normB += y * y;
    }
    const correlation = normA > 0 && normB > 0 ? dot / Math.sqrt(normA * normB) : 0;
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

/** How much later `recorded` carries `reference`'s sound, from their level envelopes (positive: later). */
export function delayMs(reference: Int16Array, recorded: Int16Array, options: { windowMs?: number; maxMs?: number } = {}): { delayMs: number; correlation: number } {
  const windowMs = options.windowMs ?? 5;
  const { lag, correlation } = bestLag(envelope(reference, windowMs), envelope(recorded, windowMs), Math.ceil((options.maxMs ?? 1000) / windowMs));
  return { delayMs: lag * windowMs, correlation };
}

export function sineTone(ms: number, hz: number, amplitude = 0.5, sampleRate = rate): Int16Array {
  const samples = new Int16Array(Math.round((ms * sampleRate) / 1000));
  for (let index = 0; index < samples.length; index += 1) samples[index] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * index) / sampleRate));
  return samples;
}

/** Writes a mono PCM16 WAV under test-results/audio/ and returns its path. */
export async function saveWav(name: string, samples: Int16Array, sampleRate = rate): Promise<string> {
  await mkdir(audioResultsDir, { recursive: true });
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.byteLength, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.byteLength, 40);
  const path = join(audioResultsDir, name.endsWith('.wav') ? name : `${name}.wav`);
  await writeFile(path, Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]));
  return path;
}

/** Merges measured figures into test-results/audio/<name>.json (one file per test file, so parallel files do not race). */
export async function saveFigures(name: string, figures: Record<string, number | string | boolean | null>): Promise<void> {
  await mkdir(audioResultsDir, { recursive: true });
  const path = join(audioResultsDir, `${name}.json`);
  const previous = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  await writeFile(path, `${JSON.stringify({ ...previous, ...figures }, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Levels and timing for the echo tests

/** RMS level of the windows that sound (above -45 dBFS), in dBFS: a voice's level without its pauses. */
export function activeLevelDbfs(samples: Int16Array): number {
  const levels = [...envelope(samples, 20)].filter((level) => dbfs(level) > -45);
  return levels.length === 0 ? -Infinity : dbfs(Math.sqrt(levels.reduce((sum, level) => sum + level * level, 0) / levels.length));
}

/** `samples` scaled so their active level is `targetDbfs`. */
export function atLevel(samples: Int16Array, targetDbfs: number): Int16Array {
  const gain = 10 ** ((targetDbfs - activeLevelDbfs(samples)) / 20);
  return samples.map((sample) => Math.max(-32768, Math.min(32767, Math.round(sample * gain))));
}

/**
 * When `spoken` began in a recording that also holds other sound (the echo): its envelope is
 * lined up with the recording's, and its first sounding window timed on the recording's clock.
 */
export function speechOnsetAt(spoken: Int16Array, recorded: Int16Array, recording: Recording): number {
  const windowMs = 5;
  const a = envelope(spoken, windowMs);
  const b = envelope(recorded, windowMs);
  // Only shifts where all of the speech lies inside the recording; mean-removed, so the loud echo
  // beside it does not pull the match towards itself.
  const meanA = a.reduce((sum, value) => sum + value, 0) / a.length;
  let best = { lag: 0, correlation: -Infinity };
  for (let lag = 0; lag + a.length <= b.length; lag += 1) {
    let sumB = 0;
    for (let index = 0; index < a.length; index += 1) sumB += b[index + lag]!;
    const meanB = sumB / a.length;
    let dot = 0;
    let normA = 0;
    let normB = 0;
    for (let index = 0; index < a.length; index += 1) {
      const x = a[index]! - meanA;
      const y = b[index + lag]! - meanB;
      dot += x * y;
      normA += x * x;
      normB += y * y;
    }
    const correlation = normA > 0 && normB > 0 ? dot / Math.sqrt(normA * normB) : 0;
    if (correlation > best.correlation) best = { lag, correlation };
  }
  const first = soundSpans(spoken, { thresholdDbfs: -45 })[0]?.startMs ?? 0;
  return recording.timeOf(Math.round(((best.lag * windowMs + first) * rate) / 1000));
}

/** When a recording last held sound (above -50 dBFS), on its clock. */
export function earSilentAt(recorded: Int16Array, recording: Recording): number {
  const last = soundSpans(recorded, { thresholdDbfs: -50 }).at(-1);
  return recording.timeOf(Math.round((((last?.endMs ?? 0) * rate) / 1000)));
}
