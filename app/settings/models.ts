/**
 * Every model Parley offers, in one table: the voice (Realtime), transcription, speech
 * (`/v1/audio/speech`, pipeline mode) and agent (Responses) models the `openai` SDK in the
 * lockfile knows, whether each is current, legacy (still served, superseded or with a shutdown
 * announced) or retired, what each can be asked to do, and what to suggest instead.
 *
 * The ids are checked against the SDK's own unions at compile time, both ways for the audio
 * kinds (a model the SDK adds or drops fails `tsc` until this table says what to do with it),
 * one way plus an explicit exclusion list for the agent. Status and shutdown dates come from the
 * SDK's "Deprecated values" doc comments (shared.ts `ChatModel`, realtime.ts `model`,
 * audio.ts `AudioModel`, speech.ts `SpeechModel`).
 */
import type { ModelInfo, ModelKind, ModelStatus, Problem } from '../contract';
import type { AudioTranscription, RealtimeReasoningEffort, RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { SpeechModel } from 'openai/resources/audio/speech';
import type { ReasoningEffort, ResponsesModel } from 'openai/resources/shared';

/** The literal members of an SDK model union, without its `(string & {})` escape hatch. */
type Literals<T> = T extends string ? (string extends T ? never : T) : never;

// `Exclude`, not `NonNullable`: `NonNullable` (`T & {}`) folds the literals into `string & {}`.
export type RealtimeModelId = Literals<Exclude<RealtimeSessionCreateRequest['model'], undefined>>;
export type TranscriptionModelId = Literals<Exclude<AudioTranscription['model'], undefined>>;
export type SpeechModelId = SpeechModel;
export type AgentModelId = Literals<ResponsesModel>;
type AnyModelId = RealtimeModelId | TranscriptionModelId | SpeechModelId | AgentModelId;

export type AgentReasoningEffort = Exclude<ReasoningEffort, null>;
export type { RealtimeReasoningEffort };

interface Entry<Id extends string> {
  id: Id;
  label: string;
  /** As of this SDK; `statusOn` turns `legacy` into `retired` once `shutdown` has passed. */
  status: ModelStatus;
  /** Announced shutdown date (YYYY-MM-DD) from the SDK's doc comments. */
  shutdown?: string;
  /** What to suggest when this one is legacy or gone: a current model, usually of the same kind. */
  successor?: AnyModelId;
  reasoningEfforts?: readonly string[];
  parallelToolCalls?: boolean;
  note?: string;
}

// realtime.ts RealtimeReasoningEffort: the efforts a reasoning Realtime model takes.
const realtimeEfforts = ['minimal', 'low', 'medium', 'high', 'xhigh'] as const satisfies readonly RealtimeReasoningEffort[];
// Per family, as the reasoning guide has them; the SDK says "not all reasoning models support every value".
const gpt5Efforts = ['minimal', 'low', 'medium', 'high'] as const satisfies readonly AgentReasoningEffort[];
const gpt51Efforts = ['none', 'low', 'medium', 'high'] as const satisfies readonly AgentReasoningEffort[];
const gpt52Efforts = ['none', 'low', 'medium', 'high', 'xhigh'] as const satisfies readonly AgentReasoningEffort[];
const oEfforts = ['low', 'medium', 'high'] as const satisfies readonly AgentReasoningEffort[];

/**
 * The SDK calls `reasoning` and `parallel_tool_calls` "only supported by reasoning Realtime models
 * such as gpt-realtime-2" (realtime.ts RealtimeSessionCreateRequest); the 2.x generation reasons,
 * gpt-realtime-1.5 and the gpt-audio models do not.
 */
const reasoningVoice = { reasoningEfforts: realtimeEfforts, parallelToolCalls: true } as const;
const realtimeShutdown = '2027-01-20';
const betaNote = 'Realtime beta preview; the GA interface Parley speaks replaced it.';

export const realtimeModels = [
  // Default: the voice front answers quick things and hands real work to the agent, so the small,
  // fast, cheap reasoning model is the right trade for a co-pilot; the SDK also names it the
  // successor of the speech models.
  { id: 'gpt-realtime-2.1-mini', label: 'GPT Realtime 2.1 mini', status: 'current', ...reasoningVoice },
  { id: 'gpt-realtime-2.1', label: 'GPT Realtime 2.1', status: 'current', ...reasoningVoice },
  { id: 'gpt-realtime-2', label: 'GPT Realtime 2', status: 'current', ...reasoningVoice },
  { id: 'gpt-realtime-1.5', label: 'GPT Realtime 1.5', status: 'current' },
  { id: 'gpt-audio-1.5', label: 'GPT Audio 1.5', status: 'current' },
  { id: 'gpt-realtime', label: 'GPT Realtime', status: 'legacy', shutdown: realtimeShutdown, successor: 'gpt-realtime-2.1' },
  { id: 'gpt-realtime-2025-08-28', label: 'GPT Realtime (2025-08-28)', status: 'legacy', shutdown: realtimeShutdown, successor: 'gpt-realtime-2.1' },
  { id: 'gpt-realtime-mini', label: 'GPT Realtime mini', status: 'legacy', shutdown: realtimeShutdown, successor: 'gpt-realtime-2.1-mini' },
  { id: 'gpt-realtime-mini-2025-12-15', label: 'GPT Realtime mini (2025-12-15)', status: 'legacy', shutdown: realtimeShutdown, successor: 'gpt-realtime-2.1-mini' },
  { id: 'gpt-realtime-mini-2025-10-06', label: 'GPT Realtime mini (2025-10-06)', status: 'legacy', successor: 'gpt-realtime-2.1-mini' },
  { id: 'gpt-audio-mini', label: 'GPT Audio mini', status: 'legacy', shutdown: realtimeShutdown, successor: 'gpt-audio-1.5' },
  { id: 'gpt-audio-mini-2025-12-15', label: 'GPT Audio mini (2025-12-15)', status: 'legacy', shutdown: realtimeShutdown, successor: 'gpt-audio-1.5' },
  { id: 'gpt-audio-mini-2025-10-06', label: 'GPT Audio mini (2025-10-06)', status: 'legacy', successor: 'gpt-audio-1.5' },
  { id: 'gpt-4o-realtime-preview', label: 'GPT-4o Realtime preview', status: 'retired', successor: 'gpt-realtime-2.1', note: betaNote },
  { id: 'gpt-4o-realtime-preview-2024-10-01', label: 'GPT-4o Realtime preview (2024-10-01)', status: 'retired', successor: 'gpt-realtime-2.1', note: betaNote },
  { id: 'gpt-4o-realtime-preview-2024-12-17', label: 'GPT-4o Realtime preview (2024-12-17)', status: 'retired', successor: 'gpt-realtime-2.1', note: betaNote },
  { id: 'gpt-4o-realtime-preview-2025-06-03', label: 'GPT-4o Realtime preview (2025-06-03)', status: 'retired', successor: 'gpt-realtime-2.1', note: betaNote },
  { id: 'gpt-4o-mini-realtime-preview', label: 'GPT-4o mini Realtime preview', status: 'retired', successor: 'gpt-realtime-2.1-mini', note: betaNote },
  { id: 'gpt-4o-mini-realtime-preview-2024-12-17', label: 'GPT-4o mini Realtime preview (2024-12-17)', status: 'retired', successor: 'gpt-realtime-2.1-mini', note: betaNote },
] as const satisfies readonly Entry<RealtimeModelId>[];

const transcriptionShutdown = '2027-02-26';

export const transcriptionModels = [
  // Default: current (not deprecated), works with voice detection in a transcription session
  // (pipeline mode needs that), and takes keywords and languages; one model for both uses.
  { id: 'gpt-transcribe', label: 'GPT Transcribe', status: 'current' },
  { id: 'gpt-live-transcribe', label: 'GPT Live Transcribe', status: 'current' },
  { id: 'gpt-realtime-whisper', label: 'GPT Realtime Whisper', status: 'current', note: 'No voice detection in a transcription session: pipeline mode needs push to talk with it.' },
  { id: 'gpt-4o-mini-transcribe', label: 'GPT-4o mini Transcribe', status: 'legacy', shutdown: transcriptionShutdown, successor: 'gpt-transcribe' },
  { id: 'gpt-4o-mini-transcribe-2025-12-15', label: 'GPT-4o mini Transcribe (2025-12-15)', status: 'legacy', shutdown: transcriptionShutdown, successor: 'gpt-transcribe' },
  { id: 'gpt-4o-transcribe', label: 'GPT-4o Transcribe', status: 'legacy', shutdown: transcriptionShutdown, successor: 'gpt-transcribe' },
  { id: 'gpt-4o-transcribe-diarize', label: 'GPT-4o Transcribe (diarize)', status: 'legacy', shutdown: transcriptionShutdown, successor: 'gpt-transcribe' },
  { id: 'whisper-1', label: 'Whisper', status: 'legacy', shutdown: transcriptionShutdown, successor: 'gpt-transcribe' },
] as const satisfies readonly Entry<TranscriptionModelId>[];

const speechShutdown = '2027-01-06';
const speechNote = 'The SDK points new work at gpt-realtime-2.1-mini through the Realtime API (a speech-to-speech turn mode).';

export const speechModels = [
  // Default: every /v1/audio/speech model the SDK knows has a shutdown announced; this is the
  // cheapest one that follows speaking instructions, and it streams PCM for sentence-by-sentence
  // playback. Its successor is a voice model, not another speech model.
  { id: 'gpt-4o-mini-tts', label: 'GPT-4o mini TTS', status: 'legacy', shutdown: speechShutdown, successor: 'gpt-realtime-2.1-mini', note: speechNote },
  { id: 'gpt-4o-mini-tts-2025-12-15', label: 'GPT-4o mini TTS (2025-12-15)', status: 'legacy', shutdown: speechShutdown, successor: 'gpt-realtime-2.1-mini', note: speechNote },
  { id: 'tts-1', label: 'TTS 1', status: 'legacy', shutdown: speechShutdown, successor: 'gpt-realtime-2.1-mini', note: speechNote },
  { id: 'tts-1-hd', label: 'TTS 1 HD', status: 'legacy', shutdown: speechShutdown, successor: 'gpt-realtime-2.1-mini', note: speechNote },
] as const satisfies readonly Entry<SpeechModelId>[];

const tools = { parallelToolCalls: true } as const;
/** Most current agent models: GPT-5.2's efforts and parallel tool calls, so only id and label differ. */
const currentAgent = <const Id extends AgentModelId>(id: Id, label: string) => ({ id, label, status: 'current', reasoningEfforts: gpt52Efforts, ...tools }) as const;
/**
 * A model and its dated snapshots (`gpt-4o-2024-11-20`), which share everything but id and label;
 * the snapshot ids are typed, so one the SDK does not know fails `tsc` like any other row.
 */
function dated<const Row extends Entry<AgentModelId>, const Dates extends readonly string[]>(row: Row, ...dates: Dates) {
  type Snapshot = Omit<Row, 'id' | 'label'> & { id: `${Row['id']}-${Dates[number]}`; label: string };
  const snapshots = dates.map((date): Snapshot => ({ ...row, id: `${row.id}-${date}` as Snapshot['id'], label: `${row.label} (${date})` }));
  return [row, ...snapshots];
}

export const agentModels = [
  // Default: the agent runs a multi-step tool loop behind a voice, so each step's latency and
  // price add up; the current mini tier reasons, calls tools in parallel and stays cheap.
  currentAgent('gpt-5.4-mini', 'GPT-5.4 mini'),
  currentAgent('gpt-5.4', 'GPT-5.4'),
  currentAgent('gpt-5.5', 'GPT-5.5'),
  currentAgent('gpt-5.6-luna', 'GPT-5.6 Luna'),
  currentAgent('gpt-5.6-terra', 'GPT-5.6 Terra'),
  currentAgent('gpt-5.6-sol', 'GPT-5.6 Sol'),
  currentAgent('gpt-6-luna', 'GPT-6 Luna'),
  currentAgent('gpt-6-sol', 'GPT-6 Sol'),
  currentAgent('gpt-6-astra', 'GPT-6 Astra'),
  currentAgent('gpt-6.1-terra', 'GPT-6.1 Terra'),
  currentAgent('gpt-6.1-sol', 'GPT-6.1 Sol'),
  currentAgent('gpt-5.2', 'GPT-5.2'),
  { id: 'gpt-5.5-pro', label: 'GPT-5.5 pro', status: 'current', reasoningEfforts: ['medium', 'high', 'xhigh'], ...tools, note: 'Slow and costly: minutes per step.' },
  { id: 'gpt-5.2-pro', label: 'GPT-5.2 pro', status: 'current', reasoningEfforts: ['medium', 'high', 'xhigh'], ...tools, note: 'Slow and costly: minutes per step.' },
  { id: 'gpt-5.5-2026-04-23', label: 'GPT-5.5 (2026-04-23)', status: 'legacy', successor: 'gpt-5.5', reasoningEfforts: gpt52Efforts, ...tools },
  { id: 'gpt-5.5-pro-2026-04-23', label: 'GPT-5.5 pro (2026-04-23)', status: 'legacy', successor: 'gpt-5.5-pro', reasoningEfforts: ['medium', 'high', 'xhigh'], ...tools },
  { id: 'gpt-5.4-mini-2026-03-17', label: 'GPT-5.4 mini (2026-03-17)', status: 'legacy', successor: 'gpt-5.4-mini', reasoningEfforts: gpt52Efforts, ...tools },
  { id: 'gpt-5.2-2025-12-11', label: 'GPT-5.2 (2025-12-11)', status: 'legacy', successor: 'gpt-5.2', reasoningEfforts: gpt52Efforts, ...tools },
  { id: 'gpt-5.2-pro-2025-12-11', label: 'GPT-5.2 pro (2025-12-11)', status: 'legacy', successor: 'gpt-5.2-pro', reasoningEfforts: ['medium', 'high', 'xhigh'], ...tools },
  ...dated({ id: 'gpt-5.4-nano', label: 'GPT-5.4 nano', status: 'legacy', shutdown: '2027-04-01', successor: 'gpt-5.4-mini', reasoningEfforts: gpt52Efforts, ...tools }, '2026-03-17'),
  ...dated({ id: 'gpt-5.1', label: 'GPT-5.1', status: 'legacy', shutdown: '2027-04-01', successor: 'gpt-5.4', reasoningEfforts: gpt51Efforts, ...tools }, '2025-11-13'),
  ...dated({ id: 'gpt-5', label: 'GPT-5', status: 'legacy', shutdown: '2026-12-11', successor: 'gpt-5.4', reasoningEfforts: gpt5Efforts, ...tools }, '2025-08-07'),
  ...dated({ id: 'gpt-5-mini', label: 'GPT-5 mini', status: 'legacy', shutdown: '2026-12-11', successor: 'gpt-5.4-mini', reasoningEfforts: gpt5Efforts, ...tools }, '2025-08-07'),
  ...dated({ id: 'gpt-5-nano', label: 'GPT-5 nano', status: 'legacy', shutdown: '2026-12-11', successor: 'gpt-5.4-mini', reasoningEfforts: gpt5Efforts, ...tools }, '2025-08-07'),
  ...dated({ id: 'o3', label: 'o3', status: 'legacy', shutdown: '2026-12-11', successor: 'gpt-5.5', reasoningEfforts: oEfforts, ...tools }, '2025-04-16'),
  ...dated({ id: 'gpt-4.1', label: 'GPT-4.1', status: 'legacy', shutdown: '2027-01-14', successor: 'gpt-5.4', ...tools }, '2025-04-14'),
  ...dated({ id: 'gpt-4.1-mini', label: 'GPT-4.1 mini', status: 'legacy', shutdown: '2027-01-14', successor: 'gpt-5.4-mini', ...tools }, '2025-04-14'),
  ...dated({ id: 'gpt-4o', label: 'GPT-4o', status: 'legacy', shutdown: '2027-01-14', successor: 'gpt-5.4', ...tools }, '2024-11-20', '2024-08-06'),
  ...dated({ id: 'gpt-4o-mini', label: 'GPT-4o mini', status: 'legacy', shutdown: '2027-01-14', successor: 'gpt-5.4-mini', ...tools }, '2024-07-18'),
  { id: 'gpt-5.3-chat-latest', label: 'GPT-5.3 Chat', status: 'legacy', shutdown: '2026-08-10', successor: 'gpt-5.4' },
  { id: 'gpt-5.2-chat-latest', label: 'GPT-5.2 Chat', status: 'legacy', shutdown: '2026-08-10', successor: 'gpt-5.4' },
  { id: 'gpt-5.1-chat-latest', label: 'GPT-5.1 Chat', status: 'legacy', shutdown: '2026-07-23', successor: 'gpt-5.4' },
  { id: 'gpt-5-chat-latest', label: 'GPT-5 Chat', status: 'legacy', shutdown: '2026-07-23', successor: 'gpt-5.4' },
  { id: 'gpt-5.1-codex', label: 'GPT-5.1 Codex', status: 'legacy', shutdown: '2026-07-23', successor: 'gpt-5.4', reasoningEfforts: gpt51Efforts, ...tools },
  ...dated({ id: 'gpt-4.1-nano', label: 'GPT-4.1 nano', status: 'legacy', shutdown: '2026-10-23', successor: 'gpt-5.4-mini', ...tools }, '2025-04-14'),
  ...dated({ id: 'o4-mini', label: 'o4-mini', status: 'legacy', shutdown: '2026-10-23', successor: 'gpt-5.4-mini', reasoningEfforts: oEfforts, ...tools }, '2025-04-16'),
  ...dated({ id: 'o3-mini', label: 'o3-mini', status: 'legacy', shutdown: '2026-10-23', successor: 'gpt-5.4-mini', reasoningEfforts: oEfforts, ...tools }, '2025-01-31'),
  ...dated({ id: 'o1', label: 'o1', status: 'legacy', shutdown: '2026-10-23', successor: 'gpt-5.5', reasoningEfforts: oEfforts }, '2024-12-17'),
  { id: 'gpt-4o-2024-05-13', label: 'GPT-4o (2024-05-13)', status: 'legacy', shutdown: '2026-10-23', successor: 'gpt-5.4', ...tools },
  // The SDK: "Not a supported model ID. Retained for SDK compatibility."
  { id: 'gpt-5.1-mini', label: 'GPT-5.1 mini', status: 'retired', successor: 'gpt-5.4-mini' },
] as const satisfies readonly Entry<AgentModelId>[];

/**
 * Models the SDK's `ResponsesModel` knows that Parley does not offer as its agent: they need
 * tools or access Parley does not have (computer use, deep research, cyber, life sciences), run
 * for minutes per step, or left service long ago. The custom-model field still takes them.
 */
export const notOfferedAgentModels = [
  'o1-pro', 'o1-pro-2025-03-19', 'o3-pro', 'o3-pro-2025-06-10', 'gpt-5-pro', 'gpt-5-pro-2025-10-06',
  'o3-deep-research', 'o3-deep-research-2025-06-26', 'o4-mini-deep-research', 'o4-mini-deep-research-2025-06-26',
  'computer-use-preview', 'computer-use-preview-2025-03-11', 'gpt-5-codex', 'gpt-5.1-codex-max', 'codex-mini-latest',
  'gpt-daybreak-blue-latest', 'gpt-daybreak-red-latest', 'gpt-5.6-cyber', 'gpt-6-cyber', 'gpt-rosalind-research', 'gpt-6-rosalind',
  'gpt-audio-mini', 'gpt-audio-mini-2025-12-15', 'gpt-4o-audio-preview', 'gpt-4o-audio-preview-2024-10-01', 'gpt-4o-audio-preview-2024-12-17',
  'gpt-4o-audio-preview-2025-06-03', 'gpt-4o-mini-audio-preview', 'gpt-4o-mini-audio-preview-2024-12-17',
  'gpt-4o-search-preview', 'gpt-4o-mini-search-preview', 'gpt-4o-search-preview-2025-03-11', 'gpt-4o-mini-search-preview-2025-03-11',
  'chatgpt-4o-latest', 'o1-preview', 'o1-preview-2024-09-12', 'o1-mini', 'o1-mini-2024-09-12',
  'gpt-4-turbo', 'gpt-4-turbo-2024-04-09', 'gpt-4-0125-preview', 'gpt-4-turbo-preview', 'gpt-4-1106-preview', 'gpt-4-vision-preview',
  'gpt-4', 'gpt-4-0314', 'gpt-4-0613', 'gpt-4-32k', 'gpt-4-32k-0314', 'gpt-4-32k-0613',
  'gpt-3.5-turbo', 'gpt-3.5-turbo-16k', 'gpt-3.5-turbo-0301', 'gpt-3.5-turbo-0613', 'gpt-3.5-turbo-1106', 'gpt-3.5-turbo-0125', 'gpt-3.5-turbo-16k-0613',
] as const satisfies readonly AgentModelId[];

/** Compiles only when `Missing` is empty: every literal of the SDK's union has a row (or a reason). */
type Exhaustive<Missing> = [Missing] extends [never] ? true : { missingFromModelTable: Missing };
const checks: [
  Exhaustive<Exclude<RealtimeModelId, (typeof realtimeModels)[number]['id']>>,
  Exhaustive<Exclude<TranscriptionModelId, (typeof transcriptionModels)[number]['id']>>,
  Exhaustive<Exclude<SpeechModelId, (typeof speechModels)[number]['id']>>,
  Exhaustive<Exclude<AgentModelId, (typeof agentModels)[number]['id'] | (typeof notOfferedAgentModels)[number]>>,
] = [true, true, true, true];
void checks;

export const defaultModels = {
  realtime: 'gpt-realtime-2.1-mini',
  transcription: 'gpt-transcribe',
  speech: 'gpt-4o-mini-tts',
  agent: 'gpt-5.4-mini',
} as const satisfies { realtime: RealtimeModelId; transcription: TranscriptionModelId; speech: SpeechModelId; agent: AgentModelId };

/**
 * Voice reasoning default: the voice front must answer within a breath and delegates hard work,
 * so it reasons little. The agent's default leaves effort to the model (each family picks its own).
 */
export const defaultRealtimeReasoningEffort: RealtimeReasoningEffort = 'low';

const tables: Record<ModelKind, readonly Entry<string>[]> = {
  realtime: realtimeModels,
  transcription: transcriptionModels,
  speech: speechModels,
  agent: agentModels,
};

export const modelKinds: readonly ModelKind[] = ['realtime', 'transcription', 'speech', 'agent'];

/** YYYY-MM-DD in UTC, the form shutdown dates are written in. */
function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function statusOn(entry: Entry<string>, today: Date): ModelStatus {
  if (entry.shutdown !== undefined && entry.shutdown <= day(today)) return 'retired';
  return entry.status;
}

export function findModel(kind: ModelKind, id: string): Entry<string> | undefined {
  return tables[kind].find((entry) => entry.id === id);
}

function info(kind: ModelKind, entry: Entry<string>, today: Date): ModelInfo {
  return {
    id: entry.id,
    kind,
    label: entry.label,
    status: statusOn(entry, today),
    shutdown: entry.shutdown ?? null,
    successor: entry.successor ?? null,
    isDefault: defaultModels[kind] === entry.id,
    reasoningEfforts: [...(entry.reasoningEfforts ?? [])],
    parallelToolCalls: entry.parallelToolCalls === true,
    note: entry.note ?? null,
  };
}

const order: Record<ModelStatus, number> = { current: 0, legacy: 1, retired: 2 };

/** The whole table as the settings panel lists it: per kind, current first, the default first of all. */
export function modelCatalog(today: Date): ModelInfo[] {
  return modelKinds.flatMap((kind) =>
    tables[kind]
      .map((entry) => info(kind, entry, today))
      .map((model, index) => ({ model, index }))
      .sort((a, b) => order[a.model.status] - order[b.model.status] || Number(b.model.isDefault) - Number(a.model.isDefault) || a.index - b.index)
      .map(({ model }) => model),
  );
}

const kindNames: Record<ModelKind, string> = { realtime: 'voice', transcription: 'transcription', speech: 'speech', agent: 'agent' };
const kindWord: Record<ModelKind, string> = { realtime: 'voice', transcription: 'transcription', speech: 'speech', agent: 'agent' };

/**
 * What the settings panel says next to a model name, or null when there is nothing to say: an
 * unknown name is allowed (a fine-tune, a model newer than this build) but named as such.
 */
export function modelWarning(kind: ModelKind, id: string, today: Date): string | null {
  const entry = findModel(kind, id);
  if (entry === undefined) return `Parley doesn't know the ${kindWord[kind]} model ${id}; it will be sent as typed and the service may refuse it. Check the spelling.`;
  const status = statusOn(entry, today);
  const instead = entry.successor === undefined ? '' : ` Try ${entry.successor}.`;
  if (status === 'retired') return `${id} is retired.${instead}`;
  if (status === 'legacy') return `${id} is legacy${entry.shutdown === undefined ? '' : ` (shuts down ${entry.shutdown})`}.${instead}`;
  return null;
}

/** The `session.update` fields a Realtime model takes, resolved from the user's choices. */
export interface RealtimeModelOptions {
  /** null: the model takes no `reasoning` (or the user left it to the model). */
  reasoningEffort: RealtimeReasoningEffort | null;
  /** null: the model takes no `parallel_tool_calls`. */
  parallelToolCalls: boolean | null;
}

/**
 * Whether a speech-to-speech model takes `input_image` content: the gpt-realtime family does;
 * the gpt-audio models hear and speak only.
 */
export function realtimeTakesImages(model: string): boolean {
  return /^gpt-realtime/.test(model);
}

export function realtimeModelOptions(model: string, effort: RealtimeReasoningEffort | 'auto', parallelToolCalls: boolean): RealtimeModelOptions {
  const entry = findModel('realtime', model);
  const efforts = entry?.reasoningEfforts ?? [];
  return {
    reasoningEffort: effort !== 'auto' && efforts.includes(effort) ? effort : null,
    parallelToolCalls: entry?.parallelToolCalls === true ? parallelToolCalls : null,
  };
}

/** The `reasoning.effort` to send with an agent request: null when the model takes none or not this one. */
export function agentReasoningEffort(model: string, effort: AgentReasoningEffort | 'auto'): AgentReasoningEffort | null {
  if (effort === 'auto') return null;
  return (findModel('agent', model)?.reasoningEfforts ?? []).includes(effort) ? effort : null;
}

const unavailable = /model_not_found|model.*(does not exist|not found|not available|not supported|deprecated|retired|shut down|do not have access)|(deprecated|retired|unknown|invalid) model/i;

/**
 * A server error that is about the model, as a problem the user can act on: which model, and
 * which to use instead. Null when the error is about something else, so callers fall back to
 * their own wording.
 */
export function modelProblem(code: string | null, message: string, model: string, kind: ModelKind, today: Date = new Date()): Problem | null {
  const entry = findModel(kind, model);
  const retired = entry !== undefined && statusOn(entry, today) === 'retired';
  if (!(code === 'model_not_found' || unavailable.test(`${code ?? ''} ${message}`) || (retired && code === 'invalid_request_error'))) return null;
  const next = successorOf(kind, model, today);
  const nextKind = next === null ? kind : (modelKinds.find((other) => findModel(other, next) !== undefined) ?? kind);
  const where = nextKind === kind ? `choose it as the ${kindNames[kind]} model in Settings` : `choose it as the ${kindNames[nextKind]} model and a speech-to-speech turn mode in Settings`;
  return {
    code: 'model_unavailable',
    message: `The model ${model} is not available to your key (retired or not enabled).${next === null ? '' : ` Try ${next}.`}`,
    hint: next === null ? `Pick another ${kindNames[kind]} model in Settings. The server said: ${message}` : `To switch, ${where}. The server said: ${message}`,
  };
}

/** The model to suggest instead: the table's successor (followed while it is not current), else the default. */
function successorOf(kind: ModelKind, model: string, today: Date): string | null {
  let next: string | undefined = findModel(kind, model)?.successor;
  for (let hops = 0; next !== undefined && hops < 4; hops += 1) {
    const entry = modelKinds.map((other) => findModel(other, next ?? '')).find((found) => found !== undefined);
    if (entry === undefined || statusOn(entry, today) === 'current') return next;
    next = entry.successor;
  }
  return model === defaultModels[kind] ? null : defaultModels[kind];
}
