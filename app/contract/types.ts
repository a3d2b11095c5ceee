import type { z } from 'zod';
import type { CommandName } from './channels';
import type { Commands, Returns } from './commands';
import type { CurrentConversation } from './history';
import type { MeetingLine, MeetingStatus } from './meeting';
import type { Settings } from './settings';

/** What a caller sends with command `N` (before the schema's defaults and trimming). */
export type CommandRequest<N extends CommandName> = z.input<Commands[N]['request']>;
/** What the handler of command `N` receives: the request as the schema let it through. */
export type CheckedRequest<N extends CommandName> = z.output<Commands[N]['request']>;
export type CommandResponse<N extends CommandName> = Commands[N]['response'] extends Returns<infer T> ? T : never;
export type CommandResponses = { [N in CommandName]: CommandResponse<N> };

/** What the user sees of the connection: which service, and whether it is usable. */
export type ConnectionMode = 'online' | 'offline-emulator';

export type ConnectionState =
  | { status: 'starting' }
  | { status: 'connecting'; mode: ConnectionMode; endpoint: string }
  | { status: 'open'; mode: ConnectionMode; endpoint: string }
  | { status: 'closed'; mode: ConnectionMode; endpoint: string; reason: string }
  | { status: 'error'; mode: ConnectionMode | null; endpoint: string | null; problem: Problem };

/** A failure explained to the user: what went wrong and what they can do about it. */
export interface Problem {
  code: ProblemCode;
  message: string;
  hint: string;
  /** For a refused form: each field's problem in words, keyed by the field (settings' top-level names). */
  fields?: Record<string, string>;
  /**
   * A notice about a passing state, which goes away by itself once it is over: `connected`, once
   * the agent's connection is open again. Newer ones of the same kind replace older ones.
   */
  until?: 'connected';
}

export type ProblemCode =
  | 'invalid_payload'
  | 'unknown_command'
  | 'forbidden_sender'
  | 'invalid_base_url'
  | 'connection_refused'
  | 'connection_failed'
  | 'unauthorized'
  | 'malformed_frame'
  | 'server_error'
  | 'busy'
  /** The chosen model is retired or not enabled for the key; the message names one to try. */
  | 'model_unavailable'
  | 'internal';

export type CommandResult<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export type TurnRole = 'user' | 'assistant';
export type TurnStatus = 'streaming' | 'completed' | 'failed' | 'incomplete';

export interface Turn {
  id: string;
  role: TurnRole;
  /** Typed into the message box, or spoken (and heard) in a voice conversation. */
  source: 'typed' | 'voice';
  text: string;
  status: TurnStatus;
  startedAt: number;
  /** Set when the turn failed or was cut short, in words a user can act on. */
  problem?: Problem;
  /** On a reply the user talked over: the part they heard; the rest of `text` went unheard. */
  heardText?: string;
  /** On a reply not yet begun: what it waits for (the service's rate limit), so the UI can say so. */
  waiting?: { reason: 'rate_limited'; retryAfterMs: number };
}

export type VoiceState = 'off' | 'connecting' | 'idle' | 'listening' | 'thinking' | 'speaking' | 'offline' | 'error';

export interface VoiceStatus {
  state: VoiceState;
  turnMode: 'push_to_talk' | 'server_vad' | 'semantic_vad' | 'pipeline';
  /** In pipeline mode, how a turn ends. */
  pipelineListen?: 'push_to_talk' | 'server_vad';
  muted: boolean;
  /** Why voice is unavailable or what just went wrong, when it did. */
  problem: Problem | null;
}

/** The whole visible state, sent once when a renderer attaches; push events keep it current. */
/** What the UI may know of the API key: whether one is stored, its last four characters, where. */
export interface KeyStatus {
  set: boolean;
  lastFour: string | null;
  /** `keychain`: encrypted by the OS; `session`: kept in memory for this run only; `unavailable`: cannot be stored here. */
  storage: 'keychain' | 'session' | 'unavailable';
  /** Why the key cannot be kept encrypted, when it cannot. */
  note: string | null;
}

/** The settings panel's view: the values, the key's status, load problems. */
export interface SettingsView {
  settings: Settings;
  key: KeyStatus;
  problems: string[];
  /** The models to offer (app/settings/models.ts), per kind, current first. */
  models?: ModelInfo[];
}

export type ModelKind = 'realtime' | 'transcription' | 'speech' | 'agent';
/** `legacy`: still served but superseded or with a shutdown announced; `retired`: no longer served. */
export type ModelStatus = 'current' | 'legacy' | 'retired';

/** One row of the model table, as the settings panel shows it. */
export interface ModelInfo {
  id: string;
  kind: ModelKind;
  label: string;
  status: ModelStatus;
  /** Announced shutdown date, YYYY-MM-DD. */
  shutdown: string | null;
  /** The model to suggest instead when this one is legacy or retired. */
  successor: string | null;
  isDefault: boolean;
  /** The reasoning efforts it takes; empty when it takes no `reasoning`. */
  reasoningEfforts: string[];
  parallelToolCalls: boolean;
  note: string | null;
}

export interface DeviceList {
  inputs: Array<{ id: string; label: string; isDefault: boolean }>;
  outputs: Array<{ id: string; label: string; isDefault: boolean }>;
  /** The system's audio for meeting mode (each output's monitor), or why it cannot be heard here; absent where nothing was asked. */
  system?: { available: true; devices: Array<{ id: string; label: string; isDefault: boolean }> } | { available: false; reason: string };
}

export type ToolRiskLevel = 'safe' | 'private' | 'write' | 'network';

export type ToolActivityStatus = 'requested' | 'waiting_permission' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';

/** One tool call as the tool panel shows it. */
export interface ToolActivity {
  callId: string;
  name: string;
  /** `builtin`, `agent` (delegation) or the MCP server's name. */
  source: string;
  risk: ToolRiskLevel;
  /** Who asked: the voice front or the agent. */
  caller: 'voice' | 'agent';
  arguments: unknown;
  status: ToolActivityStatus;
  startedAt: number;
  durationMs: number | null;
  resultPreview: string | null;
  error: string | null;
}

export type PermissionDecision = 'once' | 'always' | 'deny';

/** A tool waiting for the user's consent. */
export interface PermissionRequest {
  requestId: string;
  callId: string;
  name: string;
  risk: ToolRiskLevel;
  arguments: unknown;
  /** What will happen, as a sentence: "Parley wants to save a note: “buy milk”". */
  summary: string;
  /** Why it asks, in words for the user, said once: what the tool may touch and, where known, the real path. */
  reason: string;
}

export interface CopilotSnapshot {
  /** When the app started, for the inspector's timeline. */
  startedAt: number;
  events: InspectorEvent[];
  connection: ConnectionState;
  voice: VoiceStatus;
  turns: Turn[];
  inspector: InspectorSummary;
  tools: ToolActivity[];
  permissions: PermissionRequest[];
  /** True while a typed or delegated agent turn is running (and can be cancelled). */
  agentBusy: boolean;
  /** Every tool the co-pilot can use, for the settings panel's permissions. */
  toolCatalog: ToolInfo[];
}

export interface ToolInfo {
  name: string;
  description: string;
  risk: ToolRiskLevel;
  source: string;
}

export interface InspectorSummary {
  responsesSent: number;
  bytesSent: number;
  bytesReceived: number;
  chainHead: string | null;
  lastTurn: TurnMetrics | null;
  warmups: number;
  compactions: number;
  /** Agent socket reconnects. */
  reconnects: number;
  /** Voice and transcription socket reconnects. */
  voiceReconnects: number;
  rehydrations: number;
  /** Voice sessions reopened after a drop. */
  recoveries: number;
  rollovers: number;
  /** Running cost in USD of the agent's (text) responses; null while no priced model answered. */
  costUsd: number | null;
  /** Running cost in USD of voice responses (audio and text tokens); null while none was priced. */
  voiceCostUsd: number | null;
  /** Agent requests waiting for their response right now, across lanes. */
  lanesInFlight: number;
  /** The agent socket: when it opened and when it will roll over, for "time until rollover". */
  socket: { id: number; openedAt: number; rolloverAt: number } | null;
  /** The last turns' figures, oldest first, for the latency chart. */
  recentTurns: TurnMetrics[];
}

/**
 * One thing that happened to a session, as the inspector's log and timeline show it. It never
 * holds message text, audio, tool arguments or keys.
 */
export type InspectorEvent = InspectorEventBody & {
  /** Which connection it is about, so an agent reconnect and a voice one read differently. */
  socket: InspectorSocket;
};

/**
 * The agent's Responses socket, the speech-to-speech Realtime socket, or pipeline mode's
 * transcription socket. Tool events name their caller's; voice and audio events the voice session's.
 */
export type InspectorSocket = 'agent' | 'voice' | 'transcription';

type InspectorEventBody =
  | { type: 'socket.connecting'; at: number; endpoint: string }
  | { type: 'socket.open'; at: number; endpoint: string; socketId: number }
  | { type: 'socket.closed'; at: number; code: number; reason: string }
  | { type: 'warmup'; at: number; durationMs: number; items: number }
  | { type: 'compaction'; at: number; mode: 'server' | 'endpoint'; tokensBefore: number; tokensAfter: number }
  | { type: 'reconnect'; at: number; attempt: number; delayMs: number; code: number | null }
  /** The agent resent its ledger's window (lost cache, connection limit, reconnect). */
  | { type: 'rehydration'; at: number; reason: string; items: number }
  /** A voice session reopened and replayed its configuration and conversation items. */
  | { type: 'recovery'; at: number; items: number }
  | { type: 'rollover'; at: number; ageMs: number; gapMs: number }
  | { type: 'rate_limited'; at: number; retryAfterMs: number }
  /** A request that went silent past its deadline; `retrying` when it is being sent again. */
  | { type: 'stalled'; at: number; silentMs: number; retrying: boolean }
  | { type: 'tool'; at: number; name: string; status: 'started' | 'done' | 'failed'; durationMs?: number }
  | { type: 'turn.finished'; at: number; status: string; metrics: TurnMetrics | null }
  | { type: 'frame.rejected'; at: number; reason: string }
  | { type: 'barge_in'; at: number; reason: 'speech' | 'hotkey'; playedMs: number; generatedMs: number; audioEndMs: number }
  | { type: 'voice.state'; at: number; state: string }
  | { type: 'voice.vad'; at: number; speaking: boolean }
  | { type: 'voice.commit'; at: number; audioMs: number }
  | { type: 'voice.response'; at: number; phase: 'created' | 'done'; status: string | null }
  | { type: 'voice.playout'; at: number; phase: 'started' | 'drained'; depthMs: number }
  /** One voice turn's latency by stage (pipeline mode): null where a stage did not happen. */
  | { type: 'voice.timing'; at: number; mode: 'pipeline' | 'realtime'; speechEndToTranscriptMs: number | null; transcriptToFirstTokenMs: number | null; firstTokenToFirstAudioMs: number | null; totalMs: number | null }
  /** The microphone level, at most once a second (the meter gets it 15 times a second). */
  | { type: 'voice.level'; at: number; dbfs: number };

export interface TurnMetrics {
  turnId: string;
  /**
   * Whose turn it was, set by the inspector log: the agent's, or a speech-to-speech voice turn
   * (from the end of the user's speech; its first byte is the first reply audio, its bytes 0).
   */
  socket?: InspectorSocket;
  /** Bytes a full resend of the conversation would have sent instead (equal when not chained). */
  fullResendBytes: number;
  /** Milliseconds from the first request sent to its first server event. */
  timeToFirstByteMs: number | null;
  /** Milliseconds from the first request sent to the first `response.output_text.delta`. */
  timeToFirstDeltaMs: number | null;
  totalMs: number;
  bytesSent: number;
  bytesReceived: number;
  /** Input items sent; fewer than the ledger holds when the turn was chained. */
  inputItemsSent: number;
  chained: boolean;
  /** Model responses this turn took (one more than the tool round trips). */
  requests: number;
  toolCalls: number;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

export type PushEvent =
  | { type: 'connection'; connection: ConnectionState }
  | { type: 'turn.started'; turn: Turn }
  | { type: 'turn.delta'; turnId: string; delta: string }
  | { type: 'turn.finished'; turn: Turn }
  | { type: 'conversation.reset' }
  | { type: 'inspector'; summary: InspectorSummary }
  | { type: 'inspector.event'; event: InspectorEvent }
  | { type: 'notice'; problem: Problem }
  | { type: 'voice'; voice: VoiceStatus }
  /** Microphone level for the meter, at most ~15 times a second. */
  | { type: 'voice.level'; dbfs: number }
  | { type: 'settings'; view: SettingsView }
  | { type: 'tool'; activity: ToolActivity }
  | { type: 'permission'; request: PermissionRequest }
  | { type: 'permission.closed'; requestId: string }
  /** The desktop's global "ask about my screen" hotkey was pressed: the window starts that flow. */
  | { type: 'screen.ask' }
  | { type: 'agent'; busy: boolean }
  | { type: 'tools.catalog'; tools: ToolInfo[] }
  /** The conversation on screen changed, or the saved ones did (a turn saved, one renamed or deleted). */
  | { type: 'history'; current: CurrentConversation }
  /** A line of the meeting transcript was heard or grew. */
  | { type: 'meeting.line'; line: MeetingLine }
  /** The meeting started or stopped, its notes changed, or a problem came or went. */
  | { type: 'meeting.status'; status: MeetingStatus };

export interface SendMessageResult {
  userTurnId: string;
  assistantTurnId: string;
}

/**
 * Who opens a checked link: the desktop shell hands it to the system browser; browser mode has
 * no shell to do that, so the page opens it in a new tab (with no access back to Parley).
 */
export interface OpenLinkResult {
  openedBy: 'system' | 'page';
}

/** A request with no fields (`z.strictObject({})` reads as an index signature of `never`). */
type EmptyRequest<R> = string extends keyof R ? true : [keyof R] extends [never] ? true : false;

/**
 * One function per command; a command with no request takes no argument, one whose request may be
 * left out (e.g. `newConversation`, or `{ private: true }`) takes it as optional.
 */
export type CommandFunctions = {
  [N in CommandName]: undefined extends CommandRequest<N>
    ? EmptyRequest<NonNullable<CommandRequest<N>>> extends true
      ? () => Promise<CommandResult<CommandResponse<N>>>
      : (request?: NonNullable<CommandRequest<N>>) => Promise<CommandResult<CommandResponse<N>>>
    : (request: CommandRequest<N>) => Promise<CommandResult<CommandResponse<N>>>;
};

/**
 * What the preload exposes as `window.copilot`, and what browser mode implements over its
 * loopback socket. Results come back as values, never thrown, so a refused command reaches the
 * UI with its reason intact across the IPC boundary.
 */
export interface CopilotBridge extends CommandFunctions {
  onEvent(listener: (event: PushEvent) => void): () => void;
}

/** The composition root's side: one handler per command, given the checked request. */
export type CommandHandlers = {
  [N in CommandName]: (request: CheckedRequest<N>) => CommandResult<CommandResponse<N>> | Promise<CommandResult<CommandResponse<N>>>;
};
