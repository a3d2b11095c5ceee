/**
 * The composition root: the one place that wires the sessions, the emulator and the contract
 * together. Both shells (Electron and browser mode) call `createCopilot` with their own I/O.
 */
import {
  commandForChannel,
  commands,
  type CommandHandlers,
  type CommandResponses,
  type CommandResult,
  type ConnectionMode,
  type ConnectionState,
  type CopilotSnapshot,
  type Problem,
  type PushEvent,
  type VoiceStatus,
  type KeyStatus,
  type SettingsView,
  type DeviceList,
} from '../contract';
import { InspectorLog } from '../inspector/log';
import { userMessage } from '../protocol/responses';
import { defaultSessionSettings } from '../responses/settings';
import { ResponsesSession, responsesSocketUrl, type ResponsesSessionEvent } from '../responses/session';
import type { WebSocketFactory } from '../transport/socket';
import { Transcript } from './transcript';
import { ToolHost } from './tools';
import { delegationTool, delegationToolName, type AgentOutcome } from '../agent/supervisor';
import type { ToolRegistry } from '../agent/registry';
import { VoiceController, type PipelineConfig, type VoiceDeps } from './voice';
import { planConnection } from './config';
import { applyPatch, defaultSettings, settingsPatchSchema, type Settings } from '../settings/schema';
import { agentReasoningEffort, modelCatalog, modelProblem, realtimeModelOptions } from '../settings/models';
import type { KeyStore, SettingsStore } from '../settings/store';
import type { AudioDevices } from '../audio/ports';
import type { SessionSettings } from '../responses/settings';
import type { VoiceSettings } from '../realtime/settings';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface EmbeddedEmulator {
  baseUrl: string;
  close(): Promise<void>;
}

export interface CopilotDeps {
  env: Readonly<Record<string, string | undefined>>;
  createWebSocket: WebSocketFactory;
  startEmulator: () => Promise<EmbeddedEmulator>;
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  log: Logger;
  newId: () => string;
  /** Microphone and speaker; without them the copilot is text-only and says so. */
  voice?: VoiceDeps;
  /** Saved settings; defaults (kept in memory) when absent. */
  settingsStore?: SettingsStore;
  /** The API key's secure storage; without it keys come from the environment only. */
  keyStore?: KeyStore;
  /** Microphones and speakers for the settings panel. */
  devices?: AudioDevices;
  /** Registers the built-in and MCP tools; without it the agent has only delegation. */
  installTools?: (registry: ToolRegistry, context: ToolInstallContext) => void | (() => void);
}

export interface ToolInstallContext {
  settings: () => Settings;
  /** Called with the new settings whenever they change (MCP servers, folders). */
  onSettingsChange: (listener: (settings: Settings) => void) => () => void;
}

/** Where no secure storage exists (tests, browser mode): keys come from the environment only. */
const unavailableKeyStore: KeyStore = {
  status: () => ({ set: false, lastFour: null, storage: 'unavailable', note: 'This window cannot store an API key; it uses OPENAI_API_KEY from the environment.' }),
  read: () => null,
  write: async () => unavailableKeyStore.status(),
  clear: async () => unavailableKeyStore.status(),
};

/** Agent session settings from the user's settings. */
export function agentSettingsOf(settings: Settings): SessionSettings {
  return {
    ...defaultSessionSettings,
    model: settings.agentModel,
    instructions: settings.instructions,
    store: settings.store,
    compaction: settings.compaction,
    rolloverAfterMs: settings.rolloverMinutes * 60_000,
    reasoningEffort: agentReasoningEffort(settings.agentModel, settings.agentReasoningEffort),
  };
}

/** Voice session settings from the user's settings. */
export function voiceSettingsOf(settings: Settings): Partial<VoiceSettings> {
  return {
    model: settings.realtimeModel,
    voice: settings.voice,
    // Pipeline mode runs no realtime session; its turns end as `pipelineListen` says.
    turnMode: settings.turnMode === 'pipeline' ? settings.pipelineListen : settings.turnMode,
    vad: settings.vad,
    eagerness: settings.eagerness,
    echo: settings.echo,
    encoding: settings.audioFormat,
    ...realtimeModelOptions(settings.realtimeModel, settings.realtimeReasoningEffort, settings.realtimeParallelToolCalls),
  };
}

/** Which voice architecture the settings choose, and the pipeline's own settings. */
export function pipelineConfigOf(settings: Settings): PipelineConfig {
  return {
    mode: settings.turnMode === 'pipeline' ? 'pipeline' : 'realtime',
    pipeline: { transcriptionModel: settings.transcriptionModel, speechModel: settings.speechModel, listen: settings.pipelineListen },
  };
}

export interface Copilot {
  /** Resolves the configuration, starts the emulator if there is no key, and opens the agent socket. */
  start(): Promise<void>;
  /**
   * Applies new settings (and key): live where the sessions can take them, by reconnecting where
   * the endpoint or key changed.
   */
  configure(next: { settings: Settings; apiKey?: string | null }): Promise<void>;
  /** Runs one command from a renderer: the channel is looked up and the payload schema-checked. */
  call(channel: string, payload: unknown): Promise<CommandResult<unknown>>;
  onEvent(listener: (event: PushEvent) => void): () => void;
  snapshot(): CopilotSnapshot;
  close(): Promise<void>;
}

/** The key the embedded emulator is given; it only checks that one is present. */
const emulatorKey = 'parley-offline-emulator';

export function createCopilot(deps: CopilotDeps): Copilot {
  const { log, now, newId } = deps;
  let settings: Settings = defaultSettings;
  let settingsProblems: string[] = [];
  let storedKey: string | null = null;
  let loaded = false;
  const keyStore: KeyStore = deps.keyStore ?? unavailableKeyStore;
  let agentTurn: AbortController | null = null;
  const listeners = new Set<(event: PushEvent) => void>();
  const startedAt = now();
  // Every inspector entry goes to the UI as it happens (the log holds no text, audio or keys).
  const inspector = new InspectorLog(2000, (event) => emit({ type: 'inspector.event', event }));
  let connection: ConnectionState = { status: 'starting' };
  let session: ResponsesSession | null = null;
  let emulator: EmbeddedEmulator | null = null;
  let mode: ConnectionMode | null = null;
  let endpoint: string | null = null;
  let turnsInFlight = 0;

  const emit = (event: PushEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const transcript = new Transcript(emit);
  let voice: VoiceController | null = null;
  const tools = new ToolHost({
    permissions: () => settings.toolPermissions,
    allowAlways: (name) => void updateSettings({ toolPermissions: { ...settings.toolPermissions, [name]: 'allow' } }),
    emit,
    inspector,
    now,
    newId,
  });
  tools.registry.register(
    delegationTool({
      runAgentTurn: (request) => runAgentTurn(request, 'voice').outcome,
      tellVoice: (note) => voice?.addNote(note),
      newId,
    }),
  );
  const settingsListeners = new Set<(next: Settings) => void>();
  const uninstallTools = deps.installTools?.(tools.registry, {
    settings: () => settings,
    onSettingsChange: (listener) => {
      settingsListeners.add(listener);
      return () => settingsListeners.delete(listener);
    },
  });
  const agentTools = () => tools.registry.forResponses((tool) => tool.name !== delegationToolName);
  // The voice front keeps quick, safe tools and delegates everything else.
  const voiceTools = () => tools.registry.forRealtime((tool) => tool.name === delegationToolName || tool.risk === 'safe');
  const toolCatalog = () => tools.registry.list().map(({ name, description, risk, source }) => ({ name, description, risk, source }));
  tools.registry.onChange(() => {
    session?.updateSettings({ tools: agentTools() });
    voice?.setTools(voiceTools());
    emit({ type: 'tools.catalog', tools: toolCatalog() });
  });
  const setConnection = (next: ConnectionState): void => {
    connection = next;
    emit({ type: 'connection', connection });
  };
  const notice = (problem: Problem): void => {
    log.warn(problem.message, { code: problem.code });
    emit({ type: 'notice', problem });
  };
  const pushInspector = (): void => {
    if (session !== null) {
      const socket = session.socketInfo;
      inspector.update({
        ...session.meters,
        chainHead: session.chainHead,
        lanesInFlight: session.lanesInFlight,
        socket: socket === null ? null : { ...socket, rolloverAt: socket.openedAt + settings.rolloverMinutes * 60_000 },
      });
    }
    emit({ type: 'inspector', summary: inspector.summary });
  };

  const onSessionEvent = (event: ResponsesSessionEvent): void => {
    if (mode === null || endpoint === null) return;
    const at = now();
    switch (event.type) {
      case 'socket': {
        const { state } = event;
        if (state.status === 'connecting') {
          inspector.record({ type: 'socket.connecting', at, endpoint });
          if (connection.status !== 'open') setConnection({ status: 'connecting', mode, endpoint });
        } else if (state.status === 'open') {
          inspector.record({ type: 'socket.open', at, endpoint, socketId: event.socketId });
          log.info('agent socket open', { endpoint, socket: event.socketId });
          setConnection({ status: 'open', mode, endpoint });
        } else if (state.status === 'closed') {
          inspector.record({ type: 'socket.closed', at, code: state.code, reason: state.reason });
          log.info('agent socket closed', { socket: event.socketId, code: state.code, reason: state.reason });
          // A socket retired by rollover closes while its successor is open: nothing to report.
          if (session?.socketInfo?.id !== undefined && session.socketInfo.id !== event.socketId) return;
          setConnection(
            state.problem === null
              ? { status: 'closed', mode, endpoint, reason: state.reason || 'closed' }
              : { status: 'error', mode, endpoint, problem: state.problem },
          );
        }
        pushInspector();
        return;
      }
      case 'frame.rejected':
        inspector.record({ type: 'frame.rejected', at, reason: event.problem.message });
        notice(event.problem);
        return;
      case 'warmup':
        inspector.record({ type: 'warmup', at, durationMs: event.durationMs, items: event.items });
        break;
      case 'compaction':
        inspector.record({ type: 'compaction', at, mode: event.mode, tokensBefore: event.tokensBefore, tokensAfter: event.tokensAfter });
        break;
      case 'reconnect':
        inspector.record({ type: 'reconnect', at, attempt: event.attempt, delayMs: event.delayMs, code: event.code });
        emit({
          type: 'notice',
          problem: { code: 'connection_failed', message: `Connection lost (code ${event.code ?? 'none'}); retrying in ${Math.max(1, Math.round(event.delayMs / 1000))} s (attempt ${event.attempt}).`, hint: 'Your message is kept and will be sent when the connection is back.' },
        });
        break;
      case 'rehydration':
        inspector.record({ type: 'rehydration', at, reason: event.reason, items: event.items });
        break;
      case 'rollover':
        inspector.record({ type: 'rollover', at, ageMs: event.ageMs, gapMs: event.gapMs });
        break;
      case 'rate_limited':
        inspector.record({ type: 'rate_limited', at, retryAfterMs: event.retryAfterMs });
        break;
      case 'tool':
        // Tool activity is recorded by the tool host, with its arguments and result.
        return;
      case 'request':
        return;
    }
    log.info(event.type, { ...event });
    pushInspector();
  };

  async function start(): Promise<void> {
    if (!loaded) {
      loaded = true;
      if (deps.settingsStore !== undefined) {
        const result = await deps.settingsStore.load();
        settings = result.settings;
        settingsProblems = result.problems;
        for (const problem of result.problems) notice({ code: 'invalid_payload', message: `Settings: ${problem}`, hint: 'Open Settings to check the value; the rest of your settings were kept.' });
      }
      storedKey = keyStore.read();
    }
    const plan = planConnection(deps.env, { apiKey: storedKey, baseUrl: settings.baseUrl });
    voice = null;
    if (plan.kind === 'invalid') {
      setConnection({ status: 'error', mode: null, endpoint: null, problem: plan.problem });
      notice(plan.problem);
      return;
    }
    let baseUrl: string;
    let apiKey: string;
    if (plan.kind === 'offline-emulator') {
      emulator = await deps.startEmulator();
      baseUrl = emulator.baseUrl;
      apiKey = emulatorKey;
      mode = 'offline-emulator';
      log.info('no OPENAI_API_KEY set: running on the embedded emulator', { baseUrl });
    } else {
      baseUrl = plan.baseUrl;
      apiKey = plan.apiKey;
      mode = 'online';
    }
    endpoint = responsesSocketUrl(baseUrl);
    session = new ResponsesSession({
      baseUrl,
      apiKey,
      settings: { ...agentSettingsOf(settings), tools: agentTools() },
      runTool: tools.executor.runnerFor('agent'),
      createWebSocket: deps.createWebSocket,
      fetch: deps.fetch,
      now,
      sleep: deps.sleep,
      random: deps.random,
      onEvent: onSessionEvent,
      describeError: (error) => modelProblem(error.code, error.message, error.model, 'agent'),
    });
    voice =
      deps.voice === undefined
        ? null
        : new VoiceController({
            baseUrl,
            apiKey,
            deps: deps.voice,
            settings: { ...voiceSettingsOf(settings), tools: voiceTools() },
            pipeline: pipelineConfigOf(settings),
            agent: {
              runTurn: (input, handlers) =>
                session === null
                  ? Promise.resolve({ status: 'failed', text: '', problem: { code: 'connection_failed', message: 'The agent is not connected.', hint: 'Check the connection indicator.' }, metrics: null })
                  : session.runTurn(input, handlers).then((result) => {
                      // A spoken pipeline turn is an agent turn: its metrics join the inspector's.
                      inspector.record({ type: 'turn.finished', at: now(), status: result.status, metrics: result.metrics === null ? null : { turnId: newId(), ...result.metrics } });
                      pushInspector();
                      return result;
                    }),
            },
            fetch: (url, init) => deps.fetch(url, init),
            runTool: tools.executor.runnerFor('voice'),
            devices: { input: settings.inputDevice, output: settings.outputDevice },
            createWebSocket: deps.createWebSocket,
            now,
            sleep: deps.sleep,
            random: deps.random,
            log,
            transcript,
            inspector,
            emit,
          });
    try {
      await session.connect();
    } catch {
      // The socket state event already carries the problem to the UI; sending retries.
      if (connection.status === 'error') notice(connection.problem);
    }
  }

  function sendMessage(text: string): CommandResult<CommandResponses['sendMessage']> {
    if (session === null) {
      const problem: Problem =
        connection.status === 'error'
          ? connection.problem
          : { code: 'connection_failed', message: 'Parley is still starting.', hint: 'Wait a moment and send again.' };
      return { ok: false, problem };
    }
    // With a voice conversation open, typed text goes to the same co-pilot: the voice front,
    // which answers itself or delegates to the agent.
    if (voice?.active === true) {
      const userTurnId = newId();
      voice.sendText(text, userTurnId);
      return { ok: true, value: { userTurnId, assistantTurnId: '' } };
    }
    const { userTurnId, assistantTurnId } = runAgentTurn(text, 'typed');
    return { ok: true, value: { userTurnId, assistantTurnId } };
  }

  /**
   * One agent turn, typed or delegated by the voice: both show in the transcript, and both can be
   * cancelled with cancelAgent.
   */
  function runAgentTurn(text: string, source: 'typed' | 'voice'): { userTurnId: string; assistantTurnId: string; outcome: Promise<AgentOutcome> } {
    const startedAt = now();
    const userTurn = transcript.start({ id: newId(), role: 'user', source, text: source === 'voice' ? `(for the agent) ${text}` : text, status: 'completed', startedAt });
    const assistantTurn = transcript.start({ id: newId(), role: 'assistant', source: 'typed', text: '', status: 'streaming', startedAt });
    if (session === null) {
      const problem: Problem = { code: 'connection_failed', message: 'The agent is not connected.', hint: 'Check the connection indicator.' };
      transcript.finish({ ...assistantTurn, status: 'failed', problem });
      return { userTurnId: userTurn.id, assistantTurnId: assistantTurn.id, outcome: Promise.resolve({ ok: false, problem }) };
    }
    turnsInFlight += 1;
    const controller = new AbortController();
    agentTurn = controller;
    emit({ type: 'agent', busy: true });
    const sent = session.runTurn([userMessage(text)], {
      signal: controller.signal,
      onTextDelta: (delta) => transcript.delta(assistantTurn.id, delta),
      onRestart: () => transcript.restart({ ...assistantTurn, text: '' }),
    });
    const outcome = sent.then((result): AgentOutcome => {
      turnsInFlight -= 1;
      if (agentTurn === controller) agentTurn = null;
      emit({ type: 'agent', busy: turnsInFlight > 0 });
      transcript.finish(
        result.status === 'failed'
          ? { ...assistantTurn, text: result.text, status: 'failed', problem: result.problem }
          : { ...assistantTurn, text: result.text, status: result.status },
      );
      const metrics = result.metrics === null ? null : { turnId: assistantTurn.id, ...result.metrics };
      inspector.record({ type: 'turn.finished', at: now(), status: result.status, metrics });
      if (result.status === 'failed') log.warn('turn failed', { code: result.problem.code, message: result.problem.message });
      pushInspector();
      return result.status === 'failed' ? { ok: false, problem: result.problem } : { ok: true, text: result.text };
    });
    return { userTurnId: userTurn.id, assistantTurnId: assistantTurn.id, outcome };
  }

  function cancelAgent(): CommandResult<null> {
    if (agentTurn === null && tools.pendingPermissions.length === 0) {
      return { ok: false, problem: { code: 'busy', message: 'Nothing is running to cancel.', hint: 'The agent is idle.' } };
    }
    agentTurn?.abort();
    tools.cancelAll();
    log.info('agent turn cancelled by the user');
    return { ok: true, value: null };
  }

  function newConversation(): CommandResult<null> {
    if (turnsInFlight > 0) {
      return { ok: false, problem: { code: 'busy', message: 'A reply is still streaming.', hint: 'Wait for it to finish, then start a new conversation.' } };
    }
    session?.reset();
    transcript.clear();
    pushInspector();
    return { ok: true, value: null };
  }

  const voiceOff: VoiceStatus = { state: 'off', turnMode: 'push_to_talk', muted: false, problem: null };
  const noVoice: Problem = {
    code: 'connection_failed',
    message: 'Voice is not available in this window.',
    hint: 'Voice runs in the desktop app and in browser mode with a microphone and speaker.',
  };

  /** Runs a voice command; its failures reach the UI as notices and in the voice status. */
  async function withVoice(action: (controller: VoiceController) => Promise<void> | void): Promise<CommandResult<null>> {
    if (voice === null) return { ok: false, problem: session === null && connection.status === 'error' ? connection.problem : noVoice };
    try {
      await action(voice);
      return { ok: true, value: null };
    } catch (error) {
      const problem = (error as { problem?: Problem }).problem ?? voice.status.problem ?? { code: 'internal', message: (error as Error).message, hint: 'Try again.' };
      return { ok: false, problem };
    }
  }

  function snapshot(): CopilotSnapshot {
    return {
      startedAt,
      events: inspector.recent(),
      connection,
      voice: voice?.status ?? voiceOff,
      turns: transcript.turns,
      inspector: inspector.summary,
      tools: tools.activities,
      permissions: tools.pendingPermissions,
      agentBusy: turnsInFlight > 0,
      toolCatalog: toolCatalog(),
    };
  }

  function settingsView(): SettingsView {
    return { settings: { ...settings }, key: keyStore.status(), problems: settingsProblems, models: modelCatalog(new Date(now())) };
  }

  async function updateSettings(patch: Record<string, unknown>): Promise<CommandResult<SettingsView>> {
    const parsed = settingsPatchSchema.safeParse(patch);
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'}: ${issue.message}`).join('; ');
      return { ok: false, problem: { code: 'invalid_payload', message: `Not saved: ${message}`, hint: 'Correct the value and save again; nothing was changed.' } };
    }
    const next = applyPatch(settings, parsed.data);
    try {
      await deps.settingsStore?.save(next);
    } catch (error) {
      return { ok: false, problem: { code: 'internal', message: `Settings could not be saved: ${(error as Error).message}`, hint: 'Check that the settings folder is writable; nothing was changed.' } };
    }
    settingsProblems = [];
    await configure({ settings: next });
    const view = settingsView();
    emit({ type: 'settings', view });
    return { ok: true, value: view };
  }

  async function changeKey(action: () => Promise<KeyStatus>, key: string | null): Promise<CommandResult<KeyStatus>> {
    let status: KeyStatus;
    try {
      status = await action();
    } catch (error) {
      return { ok: false, problem: { code: 'internal', message: `The key could not be stored: ${(error as Error).message}`, hint: 'Set OPENAI_API_KEY in the environment instead.' } };
    }
    if (status.storage === 'unavailable') return { ok: false, problem: { code: 'internal', message: status.note ?? 'Keys cannot be stored here.', hint: 'Set OPENAI_API_KEY in the environment instead.' } };
    await configure({ settings, apiKey: key });
    emit({ type: 'settings', view: settingsView() });
    return { ok: true, value: status };
  }

  async function listDevices(): Promise<CommandResult<DeviceList>> {
    if (deps.devices === undefined) return { ok: false, problem: noVoice };
    try {
      const [inputs, outputs] = await Promise.all([deps.devices.inputs(), deps.devices.outputs()]);
      return { ok: true, value: { inputs, outputs } };
    } catch (error) {
      return { ok: false, problem: { code: 'internal', message: `The audio devices could not be listed: ${(error as Error).message}`, hint: 'Check that PulseAudio or ALSA is running.' } };
    }
  }

  const handlers: CommandHandlers = {
    sendMessage: (request) => sendMessage(request.text),
    getSnapshot: () => ({ ok: true, value: snapshot() }),
    newConversation: () => newConversation(),
    startVoice: () => withVoice((controller) => controller.start()),
    stopVoice: () => withVoice((controller) => controller.stop()),
    pressToTalk: () => withVoice((controller) => controller.press()),
    releaseToTalk: () => withVoice((controller) => controller.release()),
    stopSpeaking: () => withVoice((controller) => controller.stopSpeaking()),
    setMuted: (request) => withVoice((controller) => controller.setMuted(request.muted)),
    previewVoice: (request) => withVoice((controller) => controller.previewVoice(request.voice)),
    getSettings: () => ({ ok: true, value: settingsView() }),
    updateSettings: (request) => updateSettings(request.patch),
    setApiKey: (request) => changeKey(() => keyStore.write(request.key), request.key),
    clearApiKey: () => changeKey(() => keyStore.clear(), null),
    listDevices: () => listDevices(),
    answerPermission: (request) =>
      tools.answer(request.requestId, request.decision)
        ? { ok: true, value: null }
        : { ok: false, problem: { code: 'invalid_payload', message: 'That permission request is no longer open.', hint: 'It was answered or cancelled already.' } },
    cancelAgent: () => cancelAgent(),
  };

  async function call(channel: string, payload: unknown): Promise<CommandResult<unknown>> {
    const name = commandForChannel(channel);
    if (name === undefined) {
      log.warn('refused a call to an unknown command', { channel: channel.slice(0, 64) });
      return {
        ok: false,
        problem: { code: 'unknown_command', message: `Parley has no command "${channel.slice(0, 64)}".`, hint: 'The window and the app are out of step: restart Parley.' },
      };
    }
    const parsed = commands[name].request.safeParse(payload);
    if (!parsed.success) {
      const details = parsed.error.issues.map((issue) => issue.message).join(' ');
      log.warn('refused a malformed command', { channel, details });
      return { ok: false, problem: { code: 'invalid_payload', message: details, hint: 'Nothing was sent. Correct it and try again.' } };
    }
    const handler = handlers[name] as (request: unknown) => CommandResult<unknown> | Promise<CommandResult<unknown>>;
    return handler(parsed.data);
  }

  async function configure(next: { settings: Settings; apiKey?: string | null }): Promise<void> {
    const previous = settings;
    const previousKey = storedKey;
    settings = next.settings;
    for (const listener of settingsListeners) listener(settings);
    if (next.apiKey !== undefined) storedKey = next.apiKey;
    const reconnect = storedKey !== previousKey || settings.baseUrl !== previous.baseUrl;
    if (reconnect) {
      log.info('reconnecting with new settings', { baseUrl: settings.baseUrl ?? 'default' });
      await voice?.stop();
      session?.close();
      await emulator?.close();
      session = voice = emulator = null;
      mode = endpoint = null;
      await start();
      return;
    }
    session?.updateSettings({ ...agentSettingsOf(settings), tools: agentTools() });
    await voice?.updateSettings(voiceSettingsOf(settings), { input: settings.inputDevice, output: settings.outputDevice }, pipelineConfigOf(settings));
    pushInspector();
  }

  return {
    start,
    configure,
    call,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot,
    async close() {
      tools.cancelAll();
      if (typeof uninstallTools === 'function') uninstallTools();
      await voice?.stop();
      session?.close();
      await emulator?.close();
    },
  };
}
