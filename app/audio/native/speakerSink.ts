/**
 * The speaker on the `speaker` package (mpg123's output modules; ALSA on Linux, which reaches
 * PulseAudio or PipeWire through the ALSA pulse plugin).
 *
 * Three facts about speaker 0.5.5 shape this file:
 * - Loading its native module opens ALSA's "default" device, and when that fails alsa-lib
 *   asserts and the whole process aborts. So on Linux `open()` first opens the same devices in a
 *   child (`aplay`) and loads the module only when they open; `loadSpeaker` is injected for that.
 * - Its writes block a libuv thread while ALSA's 0.5 s buffer is full, and its native flush must
 *   not run while a write is in flight on another thread. So this sink keeps its own queue and
 *   hands the device at most `bufferMs` ahead of the listener, one write in flight at a time.
 * - It has no public flush that keeps the device: `close(true)` drops what ALSA holds (drop, no
 *   drain) and closes. `flush()` does that and opens a fresh device right after, off the caller's
 *   path. Measured on a PulseAudio null sink: silence within 2 ms of the call, which takes ~2 ms.
 */
import type { Problem } from '../../contract';
import { msToSamples, pcm16ToBytes, realtimePcmRate } from '../pcm';
import type { SpeakerSink } from '../ports';
import { parseDeviceId, parsePactlInfo, parsePactlList, type PulseEntry } from './devices';
import { AudioDeviceError, audioProblem, packageOf } from './problems';
import { failureLine, runCommand, type Env, type Spawn } from './processes';

/** What this sink passes to `new Speaker(...)` (a subset of speaker's options, plus its `device`). */
export interface SpeakerStreamOptions {
  channels: number;
  sampleRate: number;
  bitDepth: number;
  signed: boolean;
  samplesPerFrame: number;
  device?: string;
}

/** The part of speaker's `Speaker` (a `Writable`) this sink uses. */
export interface SpeakerStream {
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
  close(flush: boolean): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export type SpeakerClass = new (options: SpeakerStreamOptions) => SpeakerStream;

export interface SpeakerSinkOptions {
  /** Returns speaker's `Speaker` class, e.g. `() => require('speaker')`; called only after the device checks pass. */
  loadSpeaker: () => SpeakerClass | Promise<SpeakerClass>;
  /** `child_process.spawn`, for the device check and the latency query. */
  spawn: Spawn;
  /** An `AudioDevice.id` (an ALSA PCM name such as `pulse:<sink>`); the system default when absent. */
  device?: string;
  /** This process's environment: the checks must see what the in-process ALSA library sees. */
  env?: Env;
  platform?: string;
  /** How far ahead of the listener audio is handed to the device. */
  bufferMs?: number;
  /** Hand-overs are whole pieces of this many milliseconds. */
  pieceMs?: number;
  /** Overrides the latency estimate. */
  latencyMs?: number;
  now?: () => number;
  /** A device that fails after `open()` (unplugged, server gone). */
  onError?: (problem: Problem) => void;
}

type SinkState = { status: 'closed' } | { status: 'opening' } | { status: 'open'; output: Output | null } | { status: 'failed'; problem: Problem };

interface Output {
  stream: SpeakerStream;
  inFlight: number;
  /** Flushed or closed: gets no more writes and closes once its write in flight returns. */
  retired: boolean;
  closed: Promise<void>;
  markClosed: () => void;
}

const rate = realtimePcmRate;
const defaultBufferMs = 200;
const defaultPieceMs = 20;
/**
 * Without a PulseAudio figure: speaker starts ALSA at the first frame (start threshold 1), so an
 * empty device sounds within a period; 20 ms is a typical period for desktop hardware.
 */
const fallbackLatencyMs = 20;
/**
 * The write's trip through a libuv thread and the ALSA pulse plugin, on top of the sink's own
 * latency. Measured first sound on a null sink configured at 2.5 ms: -2 to +6 ms after the write.
 */
const pulsePathMs = 2;

/**
 * How long a device holds a write before it sounds. A filter sink passes what it is given straight
 * on to the device it plays into: its configured latency is what its own stream asked for (queued
 * audio, which PlayoutBuffer already counts), not a buffer in the way. PulseAudio's echo
 * canceller's sink said 125 ms, and the sound reached the ear 0-1 ms after the write (measured),
 * so every truncation in the system canceller's mode came 106-143 ms short of what was heard.
 */
function deviceLatencyMs(sink: PulseEntry, entries: readonly PulseEntry[], depth = 0): number {
  const master = sink.masterDevice === null ? undefined : entries.find((entry) => entry.name === sink.masterDevice);
  if (master === undefined || depth > 4) return Math.max(sink.configuredLatencyMs ?? 0, sink.latencyMs ?? 0);
  return (sink.latencyMs ?? 0) + deviceLatencyMs(master, entries, depth + 1);
}
const probeTimeoutMs = 5000;

/** How to get a C/C++ tool chain and the audio headers `speaker` compiles against, per platform. */
const speakerBuildTools: Readonly<Record<string, string>> = {
  linux: 'install the ALSA headers (`sudo apt-get install libasound2-dev build-essential`)',
  darwin: 'install the Xcode command line tools (`xcode-select --install`)',
  win32: 'install the Visual Studio Build Tools with the "Desktop development with C++" workload',
};

/**
 * `speaker` is an optional dependency. When its native build fails (no ALSA headers), npm leaves it
 * out of node_modules, and only a new `npm install` tries again (`npm rebuild` skips a package that
 * is not there); installed with `--ignore-scripts`, it is there without its binary.
 */
function speakerLoadProblem(error: NodeJS.ErrnoException, platform: string): Problem {
  const message = error.message ?? String(error);
  const tools = speakerBuildTools[platform] ?? "install a C/C++ compiler and your system's audio headers";
  const notInstalled = error.code === 'MODULE_NOT_FOUND' && message.includes("'speaker'");
  const notBuilt = message.includes('Could not locate the bindings file');
  if (notInstalled || notBuilt) {
    const rebuild = notInstalled ? 'run `npm install` again' : 'run `npm rebuild speaker`';
    return audioProblem(`Voice output needs the \`speaker\` module, which did not build: ${tools} and ${rebuild}.`, 'Then turn voice on again; text chat works without it.');
  }
  if (message.includes('NODE_MODULE_VERSION')) {
    return audioProblem(
      'Voice output needs the `speaker` module, which was built for another runtime: run `npm rebuild speaker` for browser mode (Node), or `npx electron-rebuild --only speaker` for the desktop app.',
      'Then turn voice on again; text chat works without it.',
    );
  }
  return audioProblem(`The speaker module could not be loaded: ${message}.`, 'Run `npm rebuild speaker`, then turn voice on again.');
}

export function createSpeakerSink(options: SpeakerSinkOptions): SpeakerSink {
  return new NativeSpeakerSink(options);
}

class NativeSpeakerSink implements SpeakerSink {
  readonly sampleRate = rate;
  readonly #options: SpeakerSinkOptions;
  readonly #now: () => number;
  readonly #bufferMs: number;
  readonly #pieceSamples: number;
  #state: SinkState = { status: 'closed' };
  #speakerClass: SpeakerClass | null = null;
  #latencyMs: number;
  #queue: Int16Array[] = [];
  /** When the last sample handed to the device will have been heard. */
  #heardUntil = 0;
  #pumpTimer: ReturnType<typeof setTimeout> | null = null;
  #opening: Promise<void> | null = null;

  constructor(options: SpeakerSinkOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#bufferMs = options.bufferMs ?? defaultBufferMs;
    this.#pieceSamples = msToSamples(options.pieceMs ?? defaultPieceMs, rate);
    this.#latencyMs = options.latencyMs ?? fallbackLatencyMs;
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  open(): Promise<void> {
    if (this.#state.status === 'open') return Promise.resolve();
    this.#opening ??= this.#open().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    this.#state = { status: 'opening' };
    try {
      if (this.#platform === 'linux') {
        const problem = await this.#checkDevices();
        if (problem !== null) throw new AudioDeviceError(problem);
      }
      this.#speakerClass ??= await this.#load();
      const output = await this.#openOutput();
      if (this.#options.latencyMs === undefined) this.#latencyMs = await this.#estimateLatency();
      if (this.#state.status !== 'opening') {
        void this.#retire(output); // closed while opening
        return;
      }
      this.#state = { status: 'open', output };
    } catch (error) {
      const problem = error instanceof AudioDeviceError ? error.problem : this.#deviceProblem((error as Error).message);
      if (this.#state.status === 'opening') this.#state = { status: 'failed', problem };
      throw error instanceof AudioDeviceError ? error : new AudioDeviceError(problem);
    }
  }

  write(pcm: Int16Array): void {
    if (this.#state.status !== 'open' || pcm.length === 0) return;
    this.#queue.push(pcm);
    this.#pump();
  }

  flush(): void {
    this.#queue = [];
    this.#heardUntil = this.#now();
    this.#cancelPump();
    const state = this.#state;
    if (state.status !== 'open' || state.output === null) return;
    void this.#retire(state.output);
    state.output = null;
    // The next reply should not wait for a device to open: open it now, after the caller returns.
    setImmediate(() => void this.#reopen());
    // A native write still in flight is closed only once it returns, and the device sounds on
    // until then. Writes return within a millisecond unless the sound server is starved (they
    // blocked 50-280 ms on the echo loop while the speech detector's thread pool spun both cores;
    // in the 15 barge-ins since that logged it, no flush found one in flight).
  }

  async close(): Promise<void> {
    this.#queue = [];
    this.#cancelPump();
    const state = this.#state;
    this.#state = { status: 'closed' };
    if (state.status === 'open' && state.output !== null) await this.#retire(state.output);
  }

  async #checkDevices(): Promise<Problem | null> {
    // libpulse applies it to every stream; speaker's 0.5 s ALSA buffer then stalls against it (measured).
    if ((this.#env.PULSE_LATENCY_MSEC ?? '') !== '') {
      return audioProblem(
        'PULSE_LATENCY_MSEC is set in Parley\'s environment, and the speaker library stalls with it.',
        'Unset PULSE_LATENCY_MSEC for Parley (it may come from your shell profile), then turn voice on again.',
      );
    }
    const device = this.#options.device;
    // The module opens "default" when it loads, whatever device is asked for later.
    const devices = device === undefined || device === 'default' ? ['default'] : ['default', device];
    const outcomes = await Promise.all(
      devices.map((pcm) =>
        runCommand(this.#options.spawn, 'aplay', ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', String(rate), '-c', '1', '-D', pcm], {
          env: this.#env,
          timeoutMs: probeTimeoutMs,
        }).then((outcome) => ({ pcm, outcome })),
      ),
    );
    for (const { pcm, outcome } of outcomes) {
      switch (outcome.status) {
        case 'missing':
          return audioProblem(
            'Parley checks the speaker with aplay before opening it (a missing ALSA device would crash the audio library), and aplay is not installed.',
            `Install it: sudo apt-get install ${packageOf.aplay}.`,
          );
        case 'failed':
          return audioProblem(`The speaker could not be checked: ${outcome.message}.`, `Check that aplay (${packageOf.aplay}) works.`);
        case 'timed_out':
          return audioProblem(`The sound system did not answer within ${probeTimeoutMs / 1000} s when Parley opened ${pcm === 'default' ? 'the default output' : `the speaker (${pcm})`}.`, 'Restart PulseAudio or PipeWire, then turn voice on again.');
        case 'exited':
          if (outcome.code === 0) continue;
          if (pcm === 'default') {
            return audioProblem(
              `No sound output is available: ${failureLine(outcome.stderr) || `aplay exited with code ${outcome.code}`}.`,
              'Start PulseAudio or PipeWire, or connect a sound card, then turn voice on again.',
            );
          }
          return this.#deviceProblem(failureLine(outcome.stderr) || `aplay exited with code ${outcome.code}`);
      }
    }
    return null;
  }

  async #load(): Promise<SpeakerClass> {
    try {
      return await this.#options.loadSpeaker();
    } catch (error) {
      throw new AudioDeviceError(speakerLoadProblem(error as NodeJS.ErrnoException, this.#platform));
    }
  }

  #openOutput(): Promise<Output> {
    const Speaker = this.#speakerClass as SpeakerClass;
    const device = this.#options.device;
    // speaker splits writes into native writes of samplesPerFrame frames. On ALSA one hand-over is
    // one native write; speaker warns that CoreAudio starves on big ones, so elsewhere its 1024 stays.
    const samplesPerFrame = this.#platform === 'linux' ? msToSamples(this.#bufferMs, rate) : 1024;
    const stream = new Speaker({ channels: 1, sampleRate: rate, bitDepth: 16, signed: true, samplesPerFrame, ...(device === undefined ? {} : { device }) });
    let markClosed = (): void => undefined;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const output: Output = { stream, inFlight: 0, retired: false, closed, markClosed };
    return new Promise<Output>((resolve, reject) => {
      let opened = false;
      stream.on('error', (error) => {
        if (!opened) {
          reject(new AudioDeviceError(this.#deviceProblem(error.message)));
          return;
        }
        this.#onOutputError(output, error);
      });
      // A zero-length write makes speaker open the device now rather than at the first audio.
      stream.write(Buffer.alloc(0), (error) => {
        if (error) return; // reported through 'error'
        opened = true;
        resolve(output);
      });
    });
  }

  async #reopen(): Promise<void> {
    const state = this.#state;
    if (state.status !== 'open' || state.output !== null) return;
    try {
      const output = await this.#openOutput();
      if (this.#state !== state || state.output !== null) {
        void this.#retire(output);
        return;
      }
      state.output = output;
      this.#pump();
    } catch (error) {
      this.#fail(error instanceof AudioDeviceError ? error.problem : this.#deviceProblem((error as Error).message));
    }
  }

  #onOutputError(output: Output, error: Error): void {
    if (output.retired) return;
    void this.#retire(output);
    this.#fail(audioProblem(`The speaker stopped: ${error.message}.`, 'Check the output device (or the sound server), then turn voice on again.'));
  }

  #fail(problem: Problem): void {
    const state = this.#state;
    if (state.status !== 'open') return;
    if (state.output !== null) void this.#retire(state.output);
    this.#state = { status: 'failed', problem };
    this.#queue = [];
    this.#cancelPump();
    this.#options.onError?.(problem);
  }

  /** Stops handing `output` audio and closes it (dropping what it holds) once no write is in flight. */
  #retire(output: Output): Promise<void> {
    if (!output.retired) {
      output.retired = true;
      if (output.inFlight === 0) this.#closeOutput(output);
    }
    return output.closed;
  }

  #closeOutput(output: Output): void {
    try {
      output.stream.close(true);
    } catch {
      // A device that already failed may refuse to close; there is nothing left to stop.
    }
    output.markClosed();
  }

  #pump(): void {
    const state = this.#state;
    if (state.status !== 'open' || state.output === null || state.output.inFlight > 0 || this.#pumpTimer !== null) return;
    if (this.#queue.length === 0) return;
    const now = this.#now();
    const pieceMs = (this.#pieceSamples * 1000) / rate;
    const roomMs = this.#bufferMs - Math.max(0, this.#heardUntil - now);
    if (roomMs < pieceMs) {
      this.#pumpTimer = setTimeout(() => {
        this.#pumpTimer = null;
        this.#pump();
      }, Math.max(1, Math.ceil(pieceMs - roomMs)));
      return;
    }
    // As many whole pieces as there is room for, in one native write: a busy event loop then
    // has a piece's worth of time per round trip to the audio thread, not less.
    const output = state.output;
    const piece = this.#take(Math.floor(roomMs / pieceMs) * this.#pieceSamples);
    this.#heardUntil = Math.max(now, this.#heardUntil) + (piece.length * 1000) / rate;
    output.inFlight += 1;
    output.stream.write(pcm16ToBytes(piece), () => {
      output.inFlight -= 1;
      if (output.retired) {
        if (output.inFlight === 0) this.#closeOutput(output);
        return;
      }
      this.#pump();
    });
  }

  /** Up to `samples` samples from the head of the queue. */
  #take(samples: number): Int16Array {
    const parts: Int16Array[] = [];
    let needed = samples;
    while (needed > 0 && this.#queue.length > 0) {
      const head = this.#queue[0] as Int16Array;
      if (head.length <= needed) {
        parts.push(head);
        this.#queue.shift();
        needed -= head.length;
      } else {
        parts.push(head.subarray(0, needed));
        this.#queue[0] = head.subarray(needed);
        needed = 0;
      }
    }
    if (parts.length === 1) return parts[0] as Int16Array;
    const piece = new Int16Array(samples - needed);
    let offset = 0;
    for (const part of parts) {
      piece.set(part, offset);
      offset += part.length;
    }
    return piece;
  }

  #cancelPump(): void {
    if (this.#pumpTimer !== null) clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
  }

  /**
   * What an empty device adds before a write is heard: the PulseAudio sink's configured latency
   * plus the trip to the server, when PulseAudio plays; otherwise a typical hardware period.
   * (Audio already queued is the caller's to count: `PlayoutBuffer` schedules after it.)
   */
  async #estimateLatency(): Promise<number> {
    const ref = parseDeviceId(this.#options.device);
    if (ref.kind === 'alsa' && ref.name !== 'pulse') return fallbackLatencyMs;
    const env = { ...this.#env, LC_ALL: 'C' };
    const [info, sinks] = await Promise.all([
      runCommand(this.#options.spawn, 'pactl', ['info'], { env, timeoutMs: 3000 }),
      runCommand(this.#options.spawn, 'pactl', ['list', 'sinks'], { env, timeoutMs: 3000 }),
    ]);
    if (info.status !== 'exited' || info.code !== 0 || sinks.status !== 'exited' || sinks.code !== 0) return fallbackLatencyMs;
    const name = ref.kind === 'pulse' ? ref.name : parsePactlInfo(info.stdout).defaultSink;
    const entries = parsePactlList(sinks.stdout);
    const sink = entries.find((entry) => entry.name === name);
    return sink === undefined ? fallbackLatencyMs : Math.ceil(deviceLatencyMs(sink, entries) + pulsePathMs);
  }

  #deviceProblem(detail: string): Problem {
    const device = this.#options.device;
    return audioProblem(
      `The speaker (${device ?? 'default output'}) could not be opened: ${detail}.`,
      'Choose another output in Settings, or check that the device is connected.',
    );
  }

  get #env(): Env {
    return this.#options.env ?? process.env;
  }

  get #platform(): string {
    return this.#options.platform ?? process.platform;
  }
}
