/**
 * The voice side of the composition root: owns the voice session (the RealtimeSession, or the
 * PipelineSession in pipeline mode) with its mic, speaker and PlayoutBuffer, and turns its events
 * into transcript turns, voice status and inspector entries.
 */
import { BuiltinEchoCanceller, type EchoCanceller } from '../audio/echoCanceller';
import type { InspectorSocket, Problem, PushEvent, Turn, VoiceStatus } from '../contract';
import { PlayoutBuffer, type Scheduler } from '../audio/playout';
import type { MicSource, SpeakerSink, SpeechDetector, SystemEchoDevices } from '../audio/ports';
import type { InspectorLog } from '../inspector/log';
import type { WebSocketFactory } from '../transport/socket';
import type { ToolRunner } from '../responses/tools';
import { voiceCostUsd } from '../responses/cost';
import { RealtimeSession, type RealtimeSessionOptions } from './realtimeSession';
import type { VoiceSession, VoiceSessionEvent, VoiceUsage } from './session';
import { defaultVoiceSettings, type VoiceSettings } from './settings';
import { RealtimeRequestError } from './waiters';
import { defaultPipelineSettings, PipelineSession, type PipelineAgent, type PipelineSettings } from './pipeline';

/** Speech-to-speech over the Realtime model, or transcription → the Responses agent → speech. */
export type VoiceMode = 'realtime' | 'pipeline';

export interface PipelineConfig {
  mode: VoiceMode;
  pipeline: Partial<PipelineSettings>;
}

/** The devices to use, by id from the device list; null is the system default. */
export interface VoiceDevices {
  input: string | null;
  output: string | null;
}

/** The shells' logger, as the controller uses it. */
export interface VoiceLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** The host's transcript, where voice turns land. */
export interface VoiceTranscript {
  get(id: string): Turn | undefined;
  start(turn: Turn): Turn;
  delta(id: string, delta: string): void;
  finish(turn: Turn): void;
}

export interface VoiceDeps {
  createMic: (deviceId: string | null) => MicSource;
  /** The system's audio (the other side of a call), from an output device's monitor; meeting mode only. */
  createSystemAudio?: (deviceId: string | null) => MicSource;
  createSpeaker: (deviceId: string | null) => SpeakerSink;
  /** The local speech detector that lets the user barge in over the canceller (Silero in the shells). */
  createSpeechDetector?: () => Promise<SpeechDetector>;
  /** Parley's canceller; a test may hand one that cannot run. */
  createEchoCanceller?: () => EchoCanceller;
  /**
   * The sound server's canceller on the chosen devices (Linux with PulseAudio or PipeWire): the
   * pair of devices to record from and play into, or why there is none. Absent where no system
   * canceller exists.
   */
  openSystemEchoCanceller?: (devices: VoiceDevices) => Promise<SystemEchoDevices | { unavailable: string }>;
  scheduler: Scheduler;
}

/**
 * How the mic keeps the assistant's voice out: Parley's canceller (and maybe the local detector),
 * the system's (the devices change and the mic arrives clean), the gate, or nothing.
 */
interface EchoSetup {
  canceller: EchoCanceller | null;
  detector: SpeechDetector | null;
  devices: VoiceDevices;
}

type EchoPlan = 'none' | 'gate' | 'builtin' | 'system';

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
  log: VoiceLogger;
  transcript: VoiceTranscript;
  /** Says a voice server error in the user's terms where the host knows better (e.g. a model they cannot use). */
  describeError?: RealtimeSessionOptions['describeError'];
  inspector: InspectorLog;
  emit: (event: PushEvent) => void;
  /** Pipeline mode and its settings; realtime when absent. */
  pipeline?: PipelineConfig;
  /** The brain of pipeline mode: the agent's ResponsesSession. */
  agent?: PipelineAgent;
  /** For the speech endpoint in pipeline mode. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /**
   * The conversation's text so far, asked each time a speech-to-speech session opens so it starts
   * knowing what was said (pipeline mode's memory is the agent's ledger).
   */
  earlier?: () => ReadonlyArray<{ role: 'user' | 'assistant'; text: string }>;
}

/** What keeps the echo out under these settings (set up when the session opens, so a change reopens it). */
function echoPlanOf(settings: VoiceSettings): EchoPlan {
  return settings.echo === 'headphones' ? 'none' : settings.echoCanceller;
}

/** The meter needs about 15 updates a second; mic frames come 25 a second. */
const levelIntervalMs = 66;

export class VoiceController {
  #options: VoiceControllerOptions;
  #settings: VoiceSettings;
  #devices: VoiceDevices;
  #session: VoiceSession | null = null;
  /** Sends the current settings to the open session, in its own mode's terms. */
  #applySettings: (() => Promise<void>) | null = null;
  #pipeline: PipelineConfig;
  #speaker: SpeakerSink | null = null;
  /** The local speech detector of the open session (closed with it). */
  #detector: SpeechDetector | null = null;
  /** The system canceller the open session records and plays through (let go with it). */
  #systemEcho: SystemEchoDevices | null = null;
  #starting: Promise<void> | null = null;
  #status: VoiceStatus;
  /** Whether the push-to-talk key or button is down right now. */
  #held = false;
  #lastLevelAt = -Infinity;
  #lastLoggedLevelAt = -Infinity;
  /** Realtime mode's spoken turn not yet answered: the user stopped speaking or committed (pipeline mode times its own turns). */
  #heardTurn: RealtimeTurn | null = null;
  /** The spoken turn whose reply is in progress, until its last response is done. */
  #answeredTurn: RealtimeTurn | null = null;
  /** Voice item id → transcript turn id (user partials and assistant replies). */
  #turnOf = new Map<string, string>();

  constructor(options: VoiceControllerOptions) {
    this.#options = options;
    this.#settings = { ...defaultVoiceSettings, ...options.settings };
    this.#devices = options.devices ?? { input: null, output: null };
    this.#pipeline = options.pipeline ?? { mode: 'realtime', pipeline: {} };
    this.#status = { state: 'off', ...this.#modeStatus(), muted: false, problem: null };
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
    this.#applySettings = null;
    await session?.close();
    await this.#speaker?.close();
    this.#speaker = null;
    await this.#releaseEcho();
    this.#setStatus({ state: 'off', problem: null });
  }

  /**
   * New settings: applied live, or by reopening the session when the model or a device changed.
   * What the voice server refuses is a notice, not a failure: the settings are kept, and a refused
   * voice applies when the next voice conversation opens.
   */
  async updateSettings(settings: Partial<VoiceSettings>, devices: VoiceDevices, pipeline: PipelineConfig = this.#pipeline): Promise<void> {
    const reopen =
      (settings.model !== undefined && settings.model !== this.#settings.model) ||
      devices.input !== this.#devices.input ||
      devices.output !== this.#devices.output ||
      pipeline.mode !== this.#pipeline.mode ||
      echoPlanOf({ ...this.#settings, ...settings }) !== echoPlanOf(this.#settings);
    this.#settings = { ...this.#settings, ...settings };
    this.#devices = devices;
    this.#pipeline = { mode: pipeline.mode, pipeline: { ...this.#pipeline.pipeline, ...pipeline.pipeline } };
    const { pipelineListen: _previous, ...status } = this.#status;
    this.#status = status;
    this.#setStatus(this.#modeStatus());
    if (this.#session === null) return;
    if (reopen) {
      await this.stop();
      await this.start();
      return;
    }
    try {
      await this.#applySettings?.();
    } catch (error) {
      if (!(error instanceof RealtimeRequestError)) throw error;
      this.#onEvent({ type: 'problem', problem: error.problem });
    }
  }

  /**
   * The key or button went down. The first press also opens the voice session; a release that
   * comes while it is still opening must not leave the microphone listening.
   */
  async press(): Promise<void> {
    this.#held = true;
    await this.start();
    if (!this.#held) return;
    await this.#session?.press();
    if (!this.#held) await this.#session?.release();
  }

  async release(): Promise<void> {
    this.#held = false;
    await this.#session?.release();
  }

  /** Speaks a sample of `voice` through the speaker, starting voice if needed. */
  async previewVoice(voice: string): Promise<void> {
    await this.start();
    this.#session?.previewVoice(voice);
  }

  /** True while a voice conversation is open: typed text then goes to the voice front too. */
  get active(): boolean {
    return this.#session !== null && !['off', 'offline', 'error'].includes(this.#status.state);
  }

  /** True while Parley's voice is playing. */
  get speaking(): boolean {
    return this.#status.state === 'speaking';
  }

  /** Typed text into the voice conversation: the voice answers, and delegates real work. */
  sendText(text: string, turnId: string, image?: { url: string; shown: string }): void {
    this.#options.transcript.finish({ id: turnId, role: 'user', source: 'typed', text: image?.shown ?? text, status: 'completed', startedAt: this.#options.now() });
    this.#session?.sendText(text, image?.url);
  }

  /** A note for the voice to speak about (a delegated task's result). */
  addNote(note: string): void {
    this.#session?.addNote(note);
  }

  setTools(tools: VoiceSettings['tools']): void {
    this.#settings = { ...this.#settings, tools };
    this.#session?.setTools(tools);
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
      const echo = await this.#echoSetup();
      speaker = deps.createSpeaker(echo.devices.output);
      await speaker.open();
      const mic = deps.createMic(echo.devices.input);
      let session: VoiceSession | null = null;
      const playout = new PlayoutBuffer({
        sink: speaker,
        scheduler: deps.scheduler,
        onEvent: (event) => {
          if (event.type === 'playout.drained') session?.playbackDrained();
          if (event.type === 'playout.started' || event.type === 'playout.drained') {
            this.#options.inspector.record({ socket: this.#socket, type: 'voice.playout', at: this.#options.now(), phase: event.type === 'playout.started' ? 'started' : 'drained', depthMs: Math.round(playout.depthMs) });
          }
        },
      });
      const created = this.#createSession(mic, playout, echo);
      session = created.session;
      await session.connect();
      session.setMuted(this.#status.muted);
      this.#session = session;
      this.#applySettings = created.applySettings;
      this.#speaker = speaker;
      log.info('voice session open', { turnMode: this.#status.turnMode });
    } catch (error) {
      await speaker?.close().catch(() => undefined);
      await this.#releaseEcho();
      const problem = this.#inMode(problemOf(error));
      log.warn('voice could not start', { code: problem.code, message: problem.message });
      this.#setStatus({ state: 'error', problem });
      this.#options.emit({ type: 'notice', problem });
      throw error;
    }
  }

  /**
   * With speakers and the canceller chosen: Parley's canceller, and the local speech detector when
   * it loads (without it the server's VAD still hears the user through the canceller, a round trip
   * later). The gate only when the canceller cannot run.
   */
  async #echoSetup(): Promise<EchoSetup> {
    const { deps, log } = this.#options;
    const plan = echoPlanOf(this.#settings);
    const devices = this.#devices;
    if (plan === 'none' || plan === 'gate') return { canceller: null, detector: null, devices };
    if (plan === 'system') {
      const pair = await this.#openSystemEcho();
      if (pair !== null) {
        this.#systemEcho = pair;
        log.info('voice records and plays through the system echo canceller', { input: pair.input, output: pair.output });
        return { canceller: null, detector: await this.#openDetector(), devices: { input: pair.input, output: pair.output } };
      }
    }
    let canceller: EchoCanceller;
    try {
      canceller = deps.createEchoCanceller?.() ?? new BuiltinEchoCanceller();
    } catch (error) {
      log.warn('echo canceller cannot run; the gate keeps Parley from hearing itself', { message: (error as Error).message });
      return { canceller: null, detector: null, devices };
    }
    return { canceller, detector: await this.#openDetector(), devices };
  }

  /** The system canceller, or null (with a notice saying why) when Parley's own must stand in. */
  async #openSystemEcho(): Promise<SystemEchoDevices | null> {
    const open = this.#options.deps.openSystemEchoCanceller;
    let outcome: SystemEchoDevices | { unavailable: string };
    try {
      outcome = open === undefined ? { unavailable: 'This system has none Parley can use: it needs Linux with PulseAudio or PipeWire' } : await open(this.#devices);
    } catch (error) {
      outcome = { unavailable: (error as Error).message };
    }
    if (!('unavailable' in outcome)) return outcome;
    const reason = outcome.unavailable.replace(/\.$/, '');
    this.#options.log.warn('system echo canceller unavailable; using Parley\'s', { reason });
    this.#options.emit({
      type: 'notice',
      problem: { code: 'internal', message: `Parley could not use the system's echo canceller. ${reason}. Parley's own canceller is listening instead.`, hint: "To stop this notice, choose Parley's canceller under Settings → Echo cancellation." },
    });
    return null;
  }

  /** The local speech detector when it loads; without it the server's VAD hears the user a round trip later. */
  async #openDetector(): Promise<SpeechDetector | null> {
    try {
      this.#detector = (await this.#options.deps.createSpeechDetector?.()) ?? null;
    } catch (error) {
      this.#options.log.warn('local speech detection unavailable; barge-in waits for the server', { message: (error as Error).message });
      this.#detector = null;
    }
    return this.#detector;
  }

  /** Closes the local detector and lets the system canceller's devices go. */
  async #releaseEcho(): Promise<void> {
    const detector = this.#detector;
    const system = this.#systemEcho;
    this.#detector = null;
    this.#systemEcho = null;
    await detector?.close().catch(() => undefined);
    await system?.close().catch((error: unknown) => this.#options.log.warn('the system echo canceller could not be unloaded', { message: (error as Error).message }));
  }

  /**
   * The settings the session runs with: through the system canceller the mic arrives clean, as
   * with headphones, so the session must not gate it too.
   */
  #sessionSettings(): VoiceSettings {
    return this.#systemEcho === null ? this.#settings : { ...this.#settings, echo: 'headphones' };
  }

  #createSession(mic: MicSource, playout: PlayoutBuffer, echo: EchoSetup): { session: VoiceSession; applySettings: () => Promise<void> } {
    const { agent, fetch } = this.#options;
    const common = {
      baseUrl: this.#options.baseUrl,
      apiKey: this.#options.apiKey,
      createWebSocket: this.#options.createWebSocket,
      mic,
      playout,
      now: this.#options.now,
      sleep: this.#options.sleep,
      random: this.#options.random,
      onEvent: (event: VoiceSessionEvent) => this.#onEvent(event),
      echoCanceller: echo.canceller,
      speechDetector: echo.detector,
    };
    if (this.#pipeline.mode === 'pipeline') {
      if (agent === undefined || fetch === undefined) throw new Error('Pipeline mode needs the agent and fetch.');
      const pipeline = new PipelineSession({ ...common, settings: this.#pipelineSettings(), agent, fetch });
      return { session: pipeline, applySettings: () => pipeline.updateSettings(this.#pipelineSettings()) };
    }
    const realtime = new RealtimeSession({
      ...common,
      settings: this.#sessionSettings(),
      ...(this.#options.describeError === undefined ? {} : { describeError: this.#options.describeError }),
      ...(this.#options.runTool === undefined ? {} : { runTool: this.#options.runTool }),
      ...(this.#options.earlier === undefined ? {} : { earlier: this.#options.earlier() }),
    });
    return { session: realtime, applySettings: () => realtime.updateSettings(this.#sessionSettings()) };
  }

  /**
   * A spoken turn, from the client's view of the realtime events: it starts when the user stopped
   * speaking (the server's VAD) or the turn was committed (key released), whichever came first.
   * At the first reply audio it records the same four stages as pipeline mode (the commit, the
   * final user transcript, the first reply text, the first reply audio; the speech-to-speech
   * model may speak before its transcript arrives). At its reply's `response.done` it records a
   * `turn.finished` for the inspector's turn list and latency chart. A reply that only called
   * tools carries the turn on to the response their outputs ask for.
   */
  #timeRealtime(event: VoiceSessionEvent, at: number): void {
    const answered = this.#answeredTurn;
    switch (event.type) {
      case 'vad':
        if (!event.speaking) this.#heardTurn ??= newRealtimeTurn(at);
        return;
      case 'commit':
        this.#heardTurn ??= newRealtimeTurn(at);
        return;
      case 'transcript.user': {
        const turn = this.#heardTurn ?? answered;
        if (turn !== null && event.final) turn.transcriptAt ??= at;
        return;
      }
      case 'response':
        if (event.phase === 'created') this.#answering(event.responseId);
        else if (answered !== null && answered.responseId === event.responseId) this.#responseDone(answered, event, at);
        return;
      case 'transcript.assistant':
        if (answered !== null) answered.firstTokenAt ??= at;
        return;
      case 'tool':
        if (answered !== null && event.status === 'started') answered.toolCalls += 1;
        return;
      case 'state':
        if (answered !== null && event.state === 'speaking' && answered.firstAudioAt === null) {
          answered.firstAudioAt = at;
          this.#options.inspector.record({
            socket: this.#socket,
            type: 'voice.timing',
            at,
            mode: 'realtime',
            speechEndToTranscriptMs: span(answered.speechEndAt, answered.transcriptAt),
            transcriptToFirstTokenMs: span(answered.transcriptAt, answered.firstTokenAt),
            firstTokenToFirstAudioMs: span(answered.firstTokenAt, at),
            totalMs: span(answered.speechEndAt, at),
          });
        }
        return;
      default:
        return;
    }
  }

  /** A response on the default conversation began: the reply to the turn heard, or the next step of one that called tools. */
  #answering(responseId: string): void {
    const heard = this.#heardTurn;
    if (heard !== null) {
      this.#heardTurn = null;
      heard.responseId = responseId;
      heard.firstResponseId = responseId;
      this.#answeredTurn = heard;
      return;
    }
    const waiting = this.#answeredTurn;
    if (waiting !== null && waiting.responseId === null) waiting.responseId = responseId;
  }

  #responseDone(turn: RealtimeTurn, event: Extract<VoiceSessionEvent, { type: 'response' }>, at: number): void {
    const status = event.status ?? 'completed';
    turn.requests += 1;
    turn.responseId = null;
    if (event.usage !== undefined) {
      const { textIn, audioIn, cachedIn, textOut, audioOut } = event.usage;
      turn.usage = { textIn: turn.usage.textIn + textIn, audioIn: turn.usage.audioIn + audioIn, cachedIn: turn.usage.cachedIn + cachedIn, textOut: turn.usage.textOut + textOut, audioOut: turn.usage.audioOut + audioOut };
      turn.priced = true;
    }
    // Said nothing yet and ended well: tool calls follow, and their outputs' response carries on the turn.
    if (turn.firstAudioAt === null && status === 'completed') return;
    this.#answeredTurn = null;
    const { usage } = turn;
    this.#options.inspector.record({
      socket: this.#socket,
      type: 'turn.finished',
      at,
      status,
      metrics: {
        turnId: turn.firstResponseId ?? '',
        fullResendBytes: 0,
        timeToFirstByteMs: span(turn.speechEndAt, turn.firstAudioAt),
        timeToFirstDeltaMs: span(turn.speechEndAt, turn.firstTokenAt),
        totalMs: Math.round(at - turn.speechEndAt),
        bytesSent: 0,
        bytesReceived: 0,
        inputItemsSent: 0,
        chained: false,
        requests: turn.requests,
        toolCalls: turn.toolCalls,
        inputTokens: usage.textIn + usage.audioIn,
        cachedTokens: usage.cachedIn,
        outputTokens: usage.textOut + usage.audioOut,
        costUsd: turn.priced ? voiceCostUsd(this.#settings.model, usage) : null,
      },
    });
    this.#options.emit({ type: 'inspector', summary: this.#options.inspector.summary });
  }

  /** The socket voice events are about: pipeline mode listens on a transcription session. */
  get #socket(): InspectorSocket {
    return this.#pipeline.mode === 'pipeline' ? 'transcription' : 'voice';
  }

  #modeStatus(): Pick<VoiceStatus, 'turnMode' | 'pipelineListen'> {
    if (this.#pipeline.mode !== 'pipeline') return { turnMode: this.#settings.turnMode };
    return { turnMode: 'pipeline', pipelineListen: this.#pipelineSettings().listen };
  }

  /** The pipeline speaks with the voice, VAD and echo settings the realtime mode uses. */
  #pipelineSettings(): PipelineSettings {
    const { voice, vad, echo, frameMs } = this.#sessionSettings();
    return { ...defaultPipelineSettings, voice, vad, echo, frameMs, ...this.#pipeline.pipeline };
  }

  #onEvent(event: VoiceSessionEvent): void {
    const { transcript, inspector, now, emit } = this.#options;
    const at = now();
    if (this.#pipeline.mode === 'realtime') this.#timeRealtime(event, at);
    switch (event.type) {
      case 'state':
        inspector.record({ socket: this.#socket, type: 'voice.state', at, state: event.state });
        this.#setStatus({ state: event.state, ...(event.state === 'error' ? {} : { problem: null }) });
        return;
      case 'vad':
        inspector.record({ socket: this.#socket, type: 'voice.vad', at, speaking: event.speaking });
        return;
      case 'commit':
        if (event.audioMs > 0 || event.itemId !== null) inspector.record({ socket: this.#socket, type: 'voice.commit', at, audioMs: Math.round(event.audioMs) });
        return;
      case 'response': {
        inspector.record({ socket: this.#socket, type: 'voice.response', at, phase: event.phase, status: event.status ?? null });
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
          inspector.record({ socket: this.#socket, type: 'voice.level', at, dbfs: Number.isFinite(event.dbfs) ? Math.round(event.dbfs) : -120 });
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
        inspector.record({ socket: this.#socket, type: 'barge_in', at, reason: event.reason, playedMs: event.playedMs, generatedMs: event.generatedMs, audioEndMs: event.audioEndMs });
        const turn = transcript.get(event.itemId);
        if (turn !== undefined) transcript.finish({ ...turn, status: 'incomplete', heardText: event.heardText });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      }
      case 'reconnect':
        inspector.record({ socket: this.#socket, type: 'reconnect', at, attempt: event.attempt, delayMs: event.delayMs, code: event.code });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      case 'recovered':
        inspector.record({ socket: this.#socket, type: 'recovery', at, items: event.itemsReplayed });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      case 'timing':
        {
          const { speechEndToTranscriptMs, transcriptToFirstTokenMs, firstTokenToFirstAudioMs, totalMs } = event.timing;
          inspector.record({ socket: this.#socket, type: 'voice.timing', at, mode: 'pipeline', speechEndToTranscriptMs, transcriptToFirstTokenMs, firstTokenToFirstAudioMs, totalMs });
        }
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      case 'frame.rejected':
        inspector.record({ socket: this.#socket, type: 'frame.rejected', at, reason: event.problem.message });
        emit({ type: 'inspector', summary: inspector.summary });
        return;
      case 'ptt.dropped':
        emit({ type: 'notice', problem: { code: 'invalid_payload', message: 'That was too short to send.', hint: event.hint } });
        return;
      case 'problem': {
        const problem = this.#inMode(event.problem);
        this.#options.log.warn('voice problem', { code: problem.code, message: problem.message });
        this.#setStatus({ problem });
        emit({ type: 'notice', problem });
        return;
      }
      default:
        return;
    }
  }

  /**
   * The devices' hints say "turn voice on again", but only the voice-detection modes have a
   * control that does (Start listening); in push-to-talk, holding the key or button starts voice.
   */
  #inMode(problem: Problem): Problem {
    const pushToTalk = this.#status.turnMode === 'push_to_talk' || (this.#status.turnMode === 'pipeline' && this.#status.pipelineListen !== 'server_vad');
    const again = pushToTalk ? 'hold to talk again' : 'press Start listening again';
    return problem.hint.includes('turn voice on again') ? { ...problem, hint: problem.hint.replaceAll('turn voice on again', again) } : problem;
  }

  #setStatus(change: Partial<VoiceStatus>): void {
    this.#status = { ...this.#status, ...change };
    this.#options.emit({ type: 'voice', voice: this.#status });
  }
}

/** One spoken turn's marks in realtime mode, `now()` milliseconds. */
interface RealtimeTurn {
  speechEndAt: number;
  transcriptAt: number | null;
  firstTokenAt: number | null;
  firstAudioAt: number | null;
  /** The response answering it right now; null before the first and between tool steps. */
  responseId: string | null;
  firstResponseId: string | null;
  requests: number;
  toolCalls: number;
  usage: VoiceUsage;
  /** Whether any of its responses reported usage. */
  priced: boolean;
}

function newRealtimeTurn(speechEndAt: number): RealtimeTurn {
  return { speechEndAt, transcriptAt: null, firstTokenAt: null, firstAudioAt: null, responseId: null, firstResponseId: null, requests: 0, toolCalls: 0, usage: { textIn: 0, audioIn: 0, cachedIn: 0, textOut: 0, audioOut: 0 }, priced: false };
}

function span(from: number | null, to: number | null): number | null {
  return from === null || to === null ? null : Math.round(to - from);
}

function problemOf(error: unknown): Problem {
  const problem = (error as { problem?: Problem } | null)?.problem;
  if (problem !== undefined) return problem;
  return { code: 'internal', message: `Voice could not start: ${(error as Error)?.message ?? String(error)}`, hint: 'Check the microphone and speaker in settings.' };
}
