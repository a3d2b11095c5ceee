/**
 * The voice side of the composition root: owns the RealtimeSession with its mic, speaker and
 * PlayoutBuffer, and turns its events into transcript turns, voice status and inspector entries.
 */
import type { Problem, PushEvent, VoiceStatus } from '../contract';
import { PlayoutBuffer, type Scheduler } from '../audio/playout';
import type { MicSource, SpeakerSink } from '../audio/ports';
import type { InspectorLog } from '../inspector/log';
import { RealtimeSession, type RealtimeSessionEvent } from '../realtime/session';
import { defaultVoiceSettings, type VoiceSettings } from '../realtime/settings';
import type { WebSocketFactory } from '../transport/socket';
import type { Logger } from './copilot';
import type { Transcript } from './transcript';
import type { ToolRunner } from '../responses/tools';
import { voiceCostUsd } from '../responses/cost';

/** The devices to use, by id from the device list; null is the system default. */
export interface VoiceDevices {
  input: string | null;
  output: string | null;
}

export interface VoiceDeps {
  createMic: (deviceId: string | null) => MicSource;
  createSpeaker: (deviceId: string | null) => SpeakerSink;
  scheduler: Scheduler;
}

export interface VoiceControllerOptions {
  baseUrl: string;
  apiKey: string;
  settings?: Partial<VoiceSettings>;
  devices?: VoiceDevices;
  runTool?: ToolRunner;
  deps: VoiceDeps;
  createWebSocket: WebSocketFactory;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  log: Logger;
  transcript: Transcript;
  inspector: InspectorLog;
  emit: (event: PushEvent) => void;
}

/** The meter needs about 15 updates a second; mic frames come 25 a second. */
const levelIntervalMs = 66;

export class VoiceController {
  #options: VoiceControllerOptions;
  #settings: VoiceSettings;
  #devices: VoiceDevices;
  #session: RealtimeSession | null = null;
  #speaker: SpeakerSink | null = null;
  #starting: Promise<void> | null = null;
  #status: VoiceStatus;
  #lastLevelAt = -Infinity;
  #lastLoggedLevelAt = -Infinity;
  /** Voice item id → transcript turn id (user partials and assistant replies). */
  #turnOf = new Map<string, string>();

  constructor(options: VoiceControllerOptions) {
    this.#options = options;
    this.#settings = { ...defaultVoiceSettings, ...options.settings };
    this.#devices = options.devices ?? { input: null, output: null };
    this.#status = { state: 'off', turnMode: this.#settings.turnMode, muted: false, problem: null };
  }

  get status(): VoiceStatus {
    return this.#status;
  }

  start(): Promise<void> {
    if (this.#session !== null) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async stop(): Promise<void> {
    const session = this.#session;
    this.#session = null;
    await session?.close();
    await this.#speaker?.close();
    this.#speaker = null;
    this.#setStatus({ state: 'off', problem: null });
  }

  /** New settings: applied live, or by reopening the session when the model or a device changed. */
  async updateSettings(settings: Partial<VoiceSettings>, devices: VoiceDevices): Promise<void> {
    const reopen = (settings.model !== undefined && settings.model !== this.#settings.model) || devices.input !== this.#devices.input || devices.output !== this.#devices.output;
    this.#settings = { ...this.#settings, ...settings };
    this.#devices = devices;
    this.#setStatus({ turnMode: this.#settings.turnMode });
    if (this.#session === null) return;
    if (reopen) {
      await this.stop();
      await this.start();
    } else {
      await this.#session.updateSettings(this.#settings);
    }
  }

  async press(): Promise<void> {
    await this.start();
    await this.#session?.press();
  }

  async release(): Promise<void> {
    await this.#session?.release();
  }

  /** Speaks a sample of `voice` through the speaker, starting voice if needed. */
  async previewVoice(voice: string): Promise<void> {
    await this.start();
    this.#session?.previewVoice(voice);
  }

  /** A note for the voice to speak about (a delegated task's result). */
  /** True while a voice conversation is open: typed text then goes to the voice front too. */
  get active(): boolean {
    return this.#session !== null && !['off', 'offline', 'error'].includes(this.#status.state);
  }

  /** Typed text into the voice conversation: the voice answers, and delegates real work. */
  sendText(text: string, turnId: string): void {
    this.#options.transcript.finish({ id: turnId, role: 'user', source: 'typed', text, status: 'completed', startedAt: this.#options.now() });
    this.#session?.sendText(text);
  }

  addNote(note: string): void {
    this.#session?.addNote(note);
  }

  setTools(tools: VoiceSettings['tools']): void {
    this.#settings = { ...this.#settings, tools };
    if (this.#session instanceof RealtimeSession) this.#session.setTools(tools);
  }

  stopSpeaking(): void {
    this.#session?.bargeIn('hotkey');
  }

  setMuted(muted: boolean): void {
    this.#session?.setMuted(muted);
    this.#setStatus({ muted });
  }

  async #start(): Promise<void> {
    const { deps, log } = this.#options;
    this.#setStatus({ state: 'connecting', problem: null });
    let speaker: SpeakerSink | null = null;
    try {
      speaker = deps.createSpeaker(this.#devices.output);
      await speaker.open();
      const mic = deps.createMic(this.#devices.input);
      let session: RealtimeSession | null = null;
      const playout = new PlayoutBuffer({
        sink: speaker,
        scheduler: deps.scheduler,
        onEvent: (event) => {
          if (event.type === 'playout.drained') session?.playbackDrained();
          if (event.type === 'playout.started' || event.type === 'playout.drained') {
            this.#options.inspector.record({ type: 'voice.playout', at: this.#options.now(), phase: event.type === 'playout.started' ? 'started' : 'drained', depthMs: Math.round(playout.depthMs) });
          }
        },
      });
      session = new RealtimeSession({
        baseUrl: this.#options.baseUrl,
        apiKey: this.#options.apiKey,
        settings: this.#settings,
        createWebSocket: this.#options.createWebSocket,
        mic,
        playout,
        now: this.#options.now,
        sleep: this.#options.sleep,
        random: this.#options.random,
        ...(this.#options.runTool === undefined ? {} : { runTool: this.#options.runTool }),
        onEvent: (event) => this.#onEvent(event),
      });
      await session.connect();
      session.setMuted(this.#status.muted);
      this.#session = session;
      this.#speaker = speaker;
      log.info('voice session open', { turnMode: this.#settings.turnMode });
    } catch (error) {
      await speaker?.close().catch(() => undefined);
      const problem = problemOf(error);
      log.warn('voice could not start', { code: problem.code, message: problem.message });
      this.#setStatus({ state: 'error', problem });
      this.#options.emit({ type: 'notice', problem });
      throw error;
    }
  }

  #onEvent(event: RealtimeSessionEvent): void {
    const { transcript, inspector, now, emit } = this.#options;
    const at = now();
    switch (event.type) {
      case 'state':
        inspector.record({ type: 'voice.state', at, state: event.state });
        this.#setStatus({ state: event.state, ...(event.state === 'error' ? {} : { problem: null }) });
        return;
      case 'vad':
        inspector.record({ type: 'voice.vad', at, speaking: event.speaking });
        return;
      case 'commit':
        if (event.audioMs > 0 || event.itemId !== null) inspector.record({ type: 'voice.commit', at, audioMs: Math.round(event.audioMs) });
        return;
      case 'response': {
        inspector.record({ type: 'voice.response', at, phase: event.phase, status: event.status ?? null });
        const cost = event.usage === undefined ? null : voiceCostUsd(this.#settings.model, event.usage);
        if (cost !== null) {
          inspector.addVoiceCost(cost);
          emit({ type: 'inspector', summary: inspector.summary });
        }
        return;
      }
      case 'mic.level':
        if (at - this.#lastLoggedLevelAt >= 1000) {
          this.#lastLoggedLevelAt = at;
          inspector.record({ type: 'voice.level', at, dbfs: Number.isFinite(event.dbfs) ? Math.round(event.dbfs) : -120 });
        }
        if (at - this.#lastLevelAt >= levelIntervalMs) {
          this.#lastLevelAt = at;
          emit({ type: 'voice.level', dbfs: Number.isFinite(event.dbfs) ? Math.round(event.dbfs * 10) / 10 : -120 });
        }
        return;
      case 'transcript.user': {
        const id = this.#turnOf.get(event.itemId);
        if (id === undefined) {
          const turn = transcript.start({ id: event.itemId, role: 'user', source: 'voice', text: event.text, status: event.final ? 'completed' : 'streaming', startedAt: at });
          this.#turnOf.set(event.itemId, turn.id);
          if (event.final) transcript.finish(turn);
        } else if (event.final) {
          const turn = transcript.get(id);
          if (turn !== undefined) transcript.finish({ ...turn, text: event.text, status: 'completed' });
        } else {
          transcript.delta(id, event.text);
        }
        return;
      }
      case 'transcript.assistant': {
        const id = this.#turnOf.get(event.itemId);
        if (id === undefined) {
          transcript.start({ id: event.itemId, role: 'assistant', source: 'voice', text: event.delta, status: 'streaming', startedAt: at });
          this.#turnOf.set(event.itemId, event.itemId);
        } else {
          transcript.delta(id, event.delta);
        }
        return;
      }
      case 'transcript.assistant.done': {
        const turn = transcript.get(event.itemId);
        if (turn?.heardText === undefined) {
          transcript.finish({ ...(turn ?? { id: event.itemId, role: 'assistant', source: 'voice', startedAt: at }), text: event.text, status: 'completed' });
        }
        return;
      }
      case 'barge_in': {
        inspector.record({ type: 'barge_in', at, reason: event.reason, playedMs: event.playedMs, generatedMs: event.generatedMs, audioEndMs: event.audioEndMs });
        const turn = transcript.get(event.itemId);
        if (turn !== undefined) transcript.finish({ ...turn, status: 'incomplete', heardText: event.heardText });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      }
      case 'reconnect':
        inspector.record({ type: 'reconnect', at, attempt: event.attempt, delayMs: event.delayMs, code: event.code });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      case 'recovered':
        inspector.record({ type: 'rehydration', at, reason: 'voice session recovered', items: event.itemsReplayed });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      case 'ptt.dropped':
        emit({ type: 'notice', problem: { code: 'invalid_payload', message: 'That was too short to send.', hint: event.hint } });
        return;
      case 'problem':
        this.#options.log.warn('voice problem', { code: event.problem.code, message: event.problem.message });
        this.#setStatus({ problem: event.problem });
        emit({ type: 'notice', problem: event.problem });
        return;
      default:
        return;
    }
  }

  #setStatus(change: Partial<VoiceStatus>): void {
    this.#status = { ...this.#status, ...change };
    this.#options.emit({ type: 'voice', voice: this.#status });
  }
}

function problemOf(error: unknown): Problem {
  const problem = (error as { problem?: Problem } | null)?.problem;
  if (problem !== undefined) return problem;
  return { code: 'internal', message: `Voice could not start: ${(error as Error)?.message ?? String(error)}`, hint: 'Check the microphone and speaker in settings.' };
}
