/**
 * The composition root: the one place that wires the services (settings, agent turns, voice,
 * tools, the transcript and the inspector) to the sessions, the emulator and the contract. Both
 * shells (Electron and browser mode) call `createCopilot` with their own I/O. The behaviour lives
 * in the services: settingsService.ts, agentService.ts, tools.ts, events.ts, and app/voice/controller.ts.
 */
import {
  type CommandHandlers,
  type CommandResult,
  type ConnectionMode,
  type ConnectionState,
  type CopilotSnapshot,
  type DeviceList,
  type Problem,
  type PushEvent,
  type Turn,
  type VoiceStatus,
  screenPermission,
} from '../contract';
import { InspectorLog } from '../inspector/log';
import { defaultSessionSettings } from '../responses/settings';
import { ResponsesSession, responsesSocketUrl } from '../responses/session';
import type { WebSocketFactory } from '../transport/socket';
import { Transcript } from './transcript';
import { ToolHost } from './tools';
import { delegationTool, delegationToolName } from '../agent/supervisor';
import type { ToolRegistry } from '../agent/registry';
import { VoiceController, type PipelineConfig, type VoiceDeps } from '../voice/controller';
import { planConnection } from './config';
import { checkApiKey } from './keyCheck';
import type { Settings } from '../settings/schema';
import { agentReasoningEffort, modelProblem, realtimeModelOptions, realtimeTakesImages } from '../settings/models';
import { ScreenService, type ScreenCapturer, type ScreenLister } from './screen';
import type { KeyStore, SettingsStore } from '../settings/store';
import type { AudioDevices } from '../audio/ports';
import type { SessionSettings } from '../responses/settings';
import type { VoiceSettings } from '../voice/settings';
import type { EmbeddedEmulator, Logger, ToolInstallContext } from './ports';
import { SettingsService } from './settingsService';
import { AgentService } from './agentService';
import { agentEventTranslator, inspectorPublisher } from './events';
import { commandDispatcher } from './commands';
import { HistoryService } from './history';
import { MeetingService } from './meeting';
import { HistoryStore, type HistoryDatabase } from '../history/store';

export type { EmbeddedEmulator, Logger, ToolInstallContext } from './ports';

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
  /** Whether a path is an existing folder, for workspace folders in settings; without it only full paths are required. */
  folderExists?: (path: string) => Promise<boolean>;
  /** The API key's secure storage; without it keys come from the environment only. */
  keyStore?: KeyStore;
  /** Microphones and speakers for the settings panel. */
  devices?: AudioDevices;
  /** Registers the built-in and MCP tools; without it the agent has only delegation. */
  installTools?: (registry: ToolRegistry, context: ToolInstallContext) => void | (() => void);
  /** How long an agent request may stay silent before it counts as stalled (default 90 s). */
  agentStallTimeoutMs?: number;
  /** Opens the history database (SQLite); without it nothing is saved and history says so. */
  openHistory?: () => HistoryDatabase;
  /**
   * Hands a checked web link to the system browser (the desktop shell's `shell.openExternal`).
   * Without it (browser mode) the page opens links itself.
   */
  openExternal?: (url: string) => Promise<void>;
  /** Captures the screen (the desktop shell's desktopCapturer); without it the page captures. */
  captureScreen?: ScreenCapturer;
  /** Lists the screens and windows to pick from before capturing (the desktop shell). */
  listScreens?: ScreenLister;
  /** Makes the window the small always-on-top overlay, or back; without it only the page changes. */
  setCompact?: (compact: boolean) => void;
}

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
    // `off` keeps nothing out of the mic: as full duplex as headphones.
    echo: settings.echo === 'speakers' && settings.echoCancellation === 'off' ? 'headphones' : settings.echo,
    echoCanceller: settings.echoCancellation === 'gate' || settings.echoCancellation === 'system' ? settings.echoCancellation : 'builtin',
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

/** How much of a conversation a new voice session is told: enough to follow it, bounded. */
const maxSpokenContextTurns = 40;
const maxSpokenContextChars = 4000;

/** The key the embedded emulator is given; it only checks that one is present. */
const emulatorKey = 'parley-offline-emulator';

const voiceOff: VoiceStatus = { state: 'off', turnMode: 'push_to_talk', muted: false, problem: null };
const noVoice: Problem = {
  code: 'connection_failed',
  message: 'Voice is not available in this window.',
  hint: 'Voice runs in the desktop app and in browser mode with a microphone and speaker.',
};

export function createCopilot(deps: CopilotDeps): Copilot {
  const { log, now, newId } = deps;
  const listeners = new Set<(event: PushEvent) => void>();
  const emit = (event: PushEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const startedAt = now();
  // Every inspector entry goes to the UI as it happens (the log holds no text, audio or keys).
  const inspector = new InspectorLog(2000, (event) => emit({ type: 'inspector.event', event }));
  let connection: ConnectionState = { status: 'starting' };
  let session: ResponsesSession | null = null;
  let emulator: EmbeddedEmulator | null = null;
  let target: { mode: ConnectionMode; endpoint: string } | null = null;
  let voice: VoiceController | null = null;

  const settings = new SettingsService({
    store: deps.settingsStore,
    keyStore: deps.keyStore,
    now,
    emit,
    apply: (next) => configure(next),
    ...(deps.folderExists === undefined ? {} : { folderExists: deps.folderExists }),
    // The key goes to the service it will be used with (OPENAI_BASE_URL or the setting) before it is kept.
    checkKey: async (key, current) => {
      const plan = planConnection(deps.env, { apiKey: key, baseUrl: current.baseUrl });
      if (plan.kind === 'invalid') return plan.problem;
      return plan.kind === 'online' ? checkApiKey(deps.fetch, plan.baseUrl, key) : null;
    },
  });
  const opened = openHistoryStore(deps.openHistory);
  // Declared before the transcript, whose every settled turn it writes.
  let history: HistoryService | null = null;
  const transcript = new Transcript((event) => {
    emit(event);
    history?.observe(event);
  });
  const tools = new ToolHost({
    permissions: () => settings.settings.toolPermissions,
    allowAlways: (name) => void settings.update({ toolPermissions: { ...settings.settings.toolPermissions, [name]: 'allow' } }),
    emit,
    inspector,
    now,
    newId,
  });
  const publishInspector = inspectorPublisher({ session: () => session, settings: () => settings.settings, inspector, emit });
  const voiceTakesImages = () => settings.settings.turnMode === 'pipeline' || realtimeTakesImages(settings.settings.realtimeModel);
  const agent = new AgentService({ session: () => session, voice: () => voice, connection: () => connection, transcript, tools, inspector, publishInspector, emit, log, now, newId, voiceTakesImages });
  const screen = new ScreenService({ tools, agent, ...(deps.captureScreen === undefined ? {} : { capture: deps.captureScreen }), ...(deps.listScreens === undefined ? {} : { list: deps.listScreens }), log });
  history = new HistoryService({
    ...opened,
    transcript,
    session: () => session,
    busy: () => agent.busy,
    reset: () => agent.newConversation(),
    pauseVoice: async () => {
      if (voice?.active !== true) return false;
      await voice.stop();
      return true;
    },
    resumeVoice: async () => voice?.start(),
    retentionDays: () => settings.settings.historyRetentionDays,
    showMeeting: (saved) => meeting.show(saved),
    forHistory: (entries) => screen.forHistory(entries),
    emit,
    log,
    now,
    newId,
  });
  const conversations = history;
  let endpoint: { baseUrl: string; apiKey: string } | null = null;
  const meeting = new MeetingService({
    endpoint: () => endpoint,
    agent: () => session,
    audio: deps.voice ?? null,
    parleySpeaking: () => voice?.speaking === true,
    settings: () => settings.settings,
    createWebSocket: deps.createWebSocket,
    now,
    sleep: deps.sleep,
    random: deps.random,
    emit,
    save: (saved) => history.saveMeeting(saved),
    log,
  });
  settings.onChange(() => conversations.prune());
  tools.registry.register(meeting.tool());
  tools.registry.register(
    delegationTool({
      runAgentTurn: (request) => agent.runTurn(request, 'voice').outcome,
      tellVoice: (note) => voice?.addNote(note),
      newId,
    }),
  );
  const uninstallTools = deps.installTools?.(tools.registry, { settings: () => settings.settings, onSettingsChange: (listener) => settings.onChange(listener) });
  const agentTools = () => tools.registry.forResponses((tool) => tool.name !== delegationToolName);
  // The voice front keeps quick, safe tools and delegates everything else.
  const voiceTools = () => tools.registry.forRealtime((tool) => tool.name === delegationToolName || tool.risk === 'safe');
  // Capturing the screen is not a tool, but its permission is listed, and revoked, with theirs.
  const screenEntry = { name: screenPermission, description: 'Capture the screen or a window for "Ask about my screen".', risk: 'private' as const, source: 'Parley' };
  const toolCatalog = () => [...tools.registry.list().map(({ name, description, risk, source }) => ({ name, description, risk, source })), screenEntry];
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
  const onSessionEvent = agentEventTranslator({
    session: () => session,
    endpoint: () => target,
    connection: () => connection,
    setConnection,
    settings: () => settings.settings,
    inspector,
    emit,
    notice,
    log,
    now,
  });

  let started = false;
  async function start(): Promise<void> {
    for (const problem of await settings.load()) notice({ code: 'invalid_payload', message: `Settings: ${problem}`, hint: 'Open Settings to check the value; the rest of your settings were kept.' });
    if (!started) {
      started = true;
      if (opened.unavailable !== null && deps.openHistory !== undefined) notice(opened.unavailable);
      conversations.prune();
    }
    const current = settings.settings;
    const plan = planConnection(deps.env, { apiKey: settings.storedKey, baseUrl: current.baseUrl });
    voice = null;
    if (plan.kind === 'invalid') {
      setConnection({ status: 'error', mode: null, endpoint: null, problem: plan.problem });
      notice(plan.problem);
      return;
    }
    let baseUrl: string;
    let apiKey: string;
    let mode: ConnectionMode;
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
    target = { mode, endpoint: responsesSocketUrl(baseUrl) };
    endpoint = { baseUrl, apiKey };
    session = new ResponsesSession({
      baseUrl,
      apiKey,
      settings: { ...agentSettingsOf(current), tools: agentTools() },
      runTool: tools.executor.runnerFor('agent'),
      createWebSocket: deps.createWebSocket,
      fetch: deps.fetch,
      now,
      sleep: deps.sleep,
      random: deps.random,
      onEvent: onSessionEvent,
      describeError: (error) => modelProblem(error.code, error.message, error.model, 'agent'),
      ...(deps.agentStallTimeoutMs === undefined ? {} : { stallTimeoutMs: deps.agentStallTimeoutMs }),
    });
    conversations.attach(session);
    voice =
      deps.voice === undefined
        ? null
        : new VoiceController({
            baseUrl,
            apiKey,
            deps: deps.voice,
            settings: { ...voiceSettingsOf(current), tools: voiceTools() },
            pipeline: pipelineConfigOf(current),
            agent: {
              runTurn: (input, handlers) =>
                session === null
                  ? Promise.resolve({ status: 'failed', text: '', problem: { code: 'connection_failed', message: 'The agent is not connected.', hint: 'Check the connection indicator.' }, metrics: null })
                  : session.runTurn(input, handlers).then((result) => {
                      // A spoken pipeline turn is an agent turn: its metrics join the inspector's.
                      inspector.record({ socket: 'agent', type: 'turn.finished', at: now(), status: result.status, metrics: result.metrics === null ? null : { turnId: newId(), ...result.metrics } });
                      publishInspector();
                      return result;
                    }),
            },
            fetch: (url, init) => deps.fetch(url, init),
            runTool: tools.executor.runnerFor('voice'),
            describeError: (error) => modelProblem(error.code, error.message, error.model, 'realtime'),
            devices: { input: current.inputDevice, output: current.outputDevice },
            createWebSocket: deps.createWebSocket,
            now,
            sleep: deps.sleep,
            random: deps.random,
            log,
            transcript,
            inspector,
            emit,
            earlier: () => spokenContext(transcript.turns),
          });
    try {
      await session.connect();
    } catch {
      // The socket state event already carries the problem to the UI; sending retries.
      if (connection.status === 'error') notice(connection.problem);
    }
  }

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
      agentBusy: agent.busy,
      toolCatalog: toolCatalog(),
    };
  }

  async function listDevices(): Promise<CommandResult<DeviceList>> {
    if (deps.devices === undefined) return { ok: false, problem: noVoice };
    try {
      const [inputs, outputs, system] = await Promise.all([deps.devices.inputs(), deps.devices.outputs(), deps.devices.systemAudio?.()]);
      return { ok: true, value: { inputs, outputs, ...(system === undefined ? {} : { system }) } };
    } catch (error) {
      return { ok: false, problem: { code: 'internal', message: `The audio devices could not be listed: ${(error as Error).message}`, hint: 'Check that PulseAudio or ALSA is running.' } };
    }
  }

  const handlers: CommandHandlers = {
    sendMessage: (request) => agent.sendMessage(request.text),
    getSnapshot: () => ({ ok: true, value: snapshot() }),
    newConversation: (request) => conversations.newConversation(request?.private === true),
    startVoice: () => withVoice((controller) => controller.start()),
    stopVoice: () => withVoice((controller) => controller.stop()),
    pressToTalk: () => withVoice((controller) => controller.press()),
    releaseToTalk: () => withVoice((controller) => controller.release()),
    stopSpeaking: () => withVoice((controller) => controller.stopSpeaking()),
    setMuted: (request) => withVoice((controller) => controller.setMuted(request.muted)),
    previewVoice: (request) => withVoice((controller) => controller.previewVoice(request.voice)),
    getSettings: () => ({ ok: true, value: settings.view() }),
    updateSettings: (request) => settings.update(request.patch),
    setApiKey: (request) => settings.setKey(request.key),
    clearApiKey: () => settings.clearKey(),
    listDevices: () => listDevices(),
    answerPermission: (request) =>
      tools.answer(request.requestId, request.decision)
        ? { ok: true, value: null }
        : { ok: false, problem: { code: 'invalid_payload', message: 'That permission request is no longer open.', hint: 'It was answered or cancelled already.' } },
    cancelAgent: () => agent.cancel(),
    currentConversation: () => ({ ok: true, value: conversations.current }),
    listConversations: (request) => conversations.list(request?.limit, request?.offset),
    searchConversations: (request) => conversations.search(request.query),
    openConversation: (request) => conversations.open(request.id),
    renameConversation: (request) => conversations.rename(request.id, request.title),
    deleteConversation: (request) => conversations.delete(request.id),
    exportConversation: (request) => conversations.export(request.id, request.format),
    regenerateReply: () => agent.regenerate(),
    editLastMessage: (request) => agent.editLast(request.text),
    openLink: async (request) => {
      if (deps.openExternal === undefined) return { ok: true, value: { openedBy: 'page' } };
      try {
        // Electronegativity OPEN_EXTERNAL_JS_CHECK: the dispatcher checked the URL against openLinkRequest first (http and https only; test/app/host/redo.test.ts refuses javascript:, file: and the rest).
        await deps.openExternal(request.url);
        return { ok: true, value: { openedBy: 'system' } };
      } catch (error) {
        return { ok: false, problem: { code: 'internal', message: `The link could not be opened: ${(error as Error).message}`, hint: 'Copy it into your browser instead.' } };
      }
    },
    getMeeting: () => ({ ok: true, value: meeting.view() }),
    startMeeting: () => meeting.start(),
    stopMeeting: () => meeting.stop(),
    askMeeting: (request) => meeting.ask(request.question),
    updateMeetingNotes: () => meeting.updateNotes(),
    exportMeeting: () => meeting.export(),
    captureScreen: (request) => screen.capture(request?.sourceId),
    listScreenSources: () => screen.sources(),
    askAboutScreen: (request) => screen.ask(request.text, request.image, request.keep),
    setCompact: (request) => {
      deps.setCompact?.(request.compact);
      return { ok: true, value: { alwaysOnTop: deps.setCompact !== undefined && request.compact } };
    },
  };

  const call = commandDispatcher(handlers, log);

  async function configure(next: { settings: Settings; apiKey?: string | null }): Promise<void> {
    const { previous, previousKey } = settings.replace(next);
    const current = settings.settings;
    const reconnect = settings.storedKey !== previousKey || current.baseUrl !== previous.baseUrl;
    if (reconnect) {
      log.info('reconnecting with new settings', { baseUrl: current.baseUrl ?? 'default' });
      await voice?.stop();
      session?.close();
      await emulator?.close();
      session = voice = emulator = null;
      target = null;
      await start();
      return;
    }
    session?.updateSettings({ ...agentSettingsOf(current), tools: agentTools() });
    await voice?.updateSettings(voiceSettingsOf(current), { input: current.inputDevice, output: current.outputDevice }, pipelineConfigOf(current));
    publishInspector();
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
      await meeting.close();
      await voice?.stop();
      session?.close();
      await emulator?.close();
      opened.store?.close();
    },
  };
}

/** Opens the history store; a database that cannot be opened leaves Parley working, unsaved, and says why. */
function openHistoryStore(open: CopilotDeps['openHistory']): { store: HistoryStore | null; unavailable: Problem | null } {
  if (open === undefined) return { store: null, unavailable: null };
  try {
    return { store: new HistoryStore(open()), unavailable: null };
  } catch (error) {
    return {
      store: null,
      unavailable: {
        code: 'internal',
        message: `Conversation history could not be opened: ${(error as Error).message}.`,
        hint: 'Parley works, but conversations are not saved this run. Check the data folder, or move history.sqlite aside to start a new one.',
      },
    };
  }
}

/** What a new voice session is told was said: the conversation's settled text, most recent last. */
function spokenContext(turns: readonly Turn[]): Array<{ role: 'user' | 'assistant'; text: string }> {
  return turns
    .filter((turn) => turn.status !== 'streaming' && turn.status !== 'failed' && turn.text.trim() !== '')
    .slice(-maxSpokenContextTurns)
    .map((turn) => ({ role: turn.role, text: (turn.heardText ?? turn.text).slice(0, maxSpokenContextChars) }));
}
