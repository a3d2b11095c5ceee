/**
 * A RealtimeSession against the emulator's /v1/realtime over real loopback sockets, with the
 * shipped doubles: a scripted mic, a recording speaker, a draining playout and every frame both
 * ways recorded. Shared by the speech-to-speech tests; `closeRig` goes in their `afterEach`.
 */
import type { PlayoutBuffer, Scheduler } from '../../../app/audio/playout';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../app/emulator/server';
import { RealtimeSession, type RealtimeSessionEvent, type RealtimeSessionOptions } from '../../../app/voice/realtimeSession';
import { defaultVoiceSettings, type VoiceSettings } from '../../../app/voice/settings';
import type { ToolRunner } from '../../../app/responses/tools';
import { drainingPlayout, eventLog, fastScheduler, frameRecorder, ManualClock, RecordingSink, ScriptedMic, tone, type EventLog, type FrameRecorder } from '../../../app/testing';
import { scriptedRealtime, type ScriptedRealtime } from '../../support/scriptedRealtime';

let emulator: Emulator | null = null;
let session: RealtimeSession | null = null;
let server: ScriptedRealtime | null = null;

/** Closes the session and the emulator (or scripted server) the last `rig` opened. */
export async function closeRig(): Promise<void> {
  await session?.close();
  await emulator?.close();
  await server?.close();
  session = emulator = server = null;
}

export interface Rig extends Omit<EventLog<RealtimeSessionEvent>, 'push'> {
  session: RealtimeSession;
  mic: ScriptedMic;
  sink: RecordingSink;
  playout: PlayoutBuffer;
  /** Every frame both ways on the session's sockets. */
  wire: FrameRecorder;
  emulator: Emulator;
}

export interface RigOptions {
  emulator?: EmulatorOptions;
  runTool?: ToolRunner;
  /** How much faster than real time playout runs (ignored with `scheduler`). */
  speed?: number;
  scheduler?: Scheduler;
  /** The session's reply deadline (default 30 s). */
  replyDeadlineMs?: number;
  /** A resumed conversation's text, given to the session before its first turn. */
  earlier?: RealtimeSessionOptions['earlier'];
  /** The echo canceller and local speech detector the host gives a session on speakers. */
  echoCanceller?: RealtimeSessionOptions['echoCanceller'];
  speechDetector?: RealtimeSessionOptions['speechDetector'];
  describeError?: RealtimeSessionOptions['describeError'];
}

export async function rig(settings: Partial<VoiceSettings> = {}, options: RigOptions = {}): Promise<Rig> {
  emulator = await startEmulator({ latency: noLatency, ...options.emulator });
  const mic = new ScriptedMic();
  const sink = new RecordingSink();
  const wire = frameRecorder();
  const log = eventLog<RealtimeSessionEvent>();
  const { playout, attach } = drainingPlayout({ sink, scheduler: options.scheduler ?? fastScheduler(options.speed ?? 20) });
  const created = new RealtimeSession({
    baseUrl: emulator.baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultVoiceSettings, ...settings },
    createWebSocket: wire.createWebSocket,
    mic,
    playout,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    ...(options.runTool === undefined ? {} : { runTool: options.runTool }),
    ...(options.replyDeadlineMs === undefined ? {} : { replyDeadlineMs: options.replyDeadlineMs }),
    ...(options.earlier === undefined ? {} : { earlier: options.earlier }),
    ...(options.echoCanceller === undefined ? {} : { echoCanceller: options.echoCanceller }),
    ...(options.speechDetector === undefined ? {} : { speechDetector: options.speechDetector }),
    ...(options.describeError === undefined ? {} : { describeError: options.describeError }),
    onEvent: log.push,
  });
  attach(created);
  session = created;
  return { ...log, session: created, mic, sink, playout, wire, emulator };
}

/** Paced output (40 tokens a second), so a reply is still streaming when the user cuts in. */
export const paced: EmulatorOptions = { latency: { ...noLatency, outputTokensPerSecond: 40 } };

/** The calculator tool the emulator's brain calls for arithmetic when it is offered. */
export const calculator = {
  type: 'function' as const,
  name: 'calculator',
  description: 'Evaluates arithmetic.',
  parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
};

/**
 * A push-to-talk session whose playout clock the test drives: a long paced reply starts playing,
 * `heardMs` of it reaches the listener, and the key goes down. Resolves with the cut it made.
 */
export async function pressAfterHearing(heardMs: number): Promise<{ r: Rig; cut: Extract<RealtimeSessionEvent, { type: 'barge_in' }> }> {
  const clock = new ManualClock();
  const r = await rig({ turnMode: 'push_to_talk' }, { scheduler: clock, emulator: paced });
  await r.session.connect();
  r.session.sendText('tell me something long');
  // The first audio delta is queued (the state says speaking); nothing of it is heard yet.
  await r.until('state', (event) => event.state === 'speaking');
  if (heardMs > 0) clock.advanceSync(heardMs);
  await r.session.press();
  return { r, cut: await r.until('barge_in') };
}

export interface ScriptedRig extends Omit<EventLog<RealtimeSessionEvent>, 'push'> {
  session: RealtimeSession;
  mic: ScriptedMic;
  sink: RecordingSink;
  playout: PlayoutBuffer;
  /** The server the test speaks for. */
  server: ScriptedRealtime;
  /** Every frame both ways, recorded on the session's side as it sends (no wait for the server). */
  wire: FrameRecorder;
  /** The session's time: its deadlines, the tool timings. Nothing falls due until the test advances it. */
  clock: ManualClock;
  /** The playout's time: how much of the audio the listener has heard. */
  heard: ManualClock;
  /**
   * Has the server send `events` in order, then waits until the session has handled them all:
   * a `speech_stopped` goes last and its `vad` event is awaited (the socket keeps order).
   */
  script(...events: Array<Record<string, unknown>>): Promise<void>;
}

/**
 * A RealtimeSession against a scripted server on loopback, for what the emulator never sends:
 * deltas that keep coming after a cancel, text output, errors that only races cause, items the
 * server adds on its own. Time stands still on both clocks until the test moves it.
 */
export async function scriptedRig(settings: Partial<VoiceSettings> = {}, options: Pick<RigOptions, 'runTool' | 'replyDeadlineMs' | 'describeError'> = {}): Promise<ScriptedRig> {
  server = await scriptedRealtime();
  const mic = new ScriptedMic();
  const sink = new RecordingSink();
  const log = eventLog<RealtimeSessionEvent>();
  const wire = frameRecorder();
  const clock = new ManualClock();
  const heard = new ManualClock();
  const { playout, attach } = drainingPlayout({ sink, scheduler: heard });
  const created = new RealtimeSession({
    baseUrl: server.baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultVoiceSettings, ...settings },
    createWebSocket: wire.createWebSocket,
    mic,
    playout,
    now: clock.now,
    sleep: clock.sleep,
    setTimer: (ms, fire) => clock.after(ms, fire),
    random: () => 0.5,
    ...(options.runTool === undefined ? {} : { runTool: options.runTool }),
    ...(options.replyDeadlineMs === undefined ? {} : { replyDeadlineMs: options.replyDeadlineMs }),
    ...(options.describeError === undefined ? {} : { describeError: options.describeError }),
    onEvent: log.push,
  });
  attach(created);
  session = created;
  const scripted = server;
  const script = async (...events: Array<Record<string, unknown>>): Promise<void> => {
    const handled = log.next('vad', (event) => !event.speaking);
    for (const event of [...events, { type: 'input_audio_buffer.speech_stopped' }]) scripted.send(event);
    await handled;
  };
  return { ...log, session: created, mic, sink, playout, server: scripted, wire, clock, heard, script };
}

/** `ms` of a 24 kHz PCM16 tone, base64, as an `output_audio` delta carries it. */
export function audioDelta(ms: number): string {
  const samples = tone(ms, 440, 8000);
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
}

/** Server events for a scripted Realtime server, in one conversation: what the emulator never sends on cue. */
export const scriptedConversation = 'conv_scripted';
export const serverEvents = {
  created: (id: string) => ({ type: 'response.created', response: { id, conversation_id: scriptedConversation, status: 'in_progress' } }),
  audio: (responseId: string, itemId: string, ms: number) => ({ type: 'response.output_audio.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: audioDelta(ms) }),
  words: (responseId: string, itemId: string, delta: string) => ({ type: 'response.output_audio_transcript.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta }),
  said: (responseId: string, itemId: string, transcript: string) => ({ type: 'response.output_audio_transcript.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, transcript }),
  finished: (id: string, status = 'completed', extra: Record<string, unknown> = {}) => ({ type: 'response.done', response: { id, conversation_id: scriptedConversation, status, ...extra } }),
};
