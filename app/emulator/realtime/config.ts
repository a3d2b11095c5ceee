/**
 * The effective session configuration: the real server's defaults (PROTOCOL.md §2, from a recorded
 * GA `session.created`) and `session.update` as a partial merge, validated field by field and
 * applied all-or-nothing.
 */
import type { RealtimeSessionCreateResponse, RealtimeTranscriptionSessionCreateResponse } from 'openai/resources/realtime/client-secrets';
import type {
  AudioTranscription,
  NoiseReductionType,
  RealtimeAudioFormats,
  RealtimeAudioInputTurnDetection,
  RealtimeFunctionTool,
  RealtimeReasoning,
  RealtimeToolChoiceConfig,
  RealtimeToolsConfigUnion,
  RealtimeTracingConfig,
  RealtimeTruncation,
  SessionCreatedEvent,
} from 'openai/resources/realtime/realtime';
import type { ResponsePrompt } from 'openai/resources/responses/responses';
import type { AudioEncoding } from '../../audio/encoding';
import type { BrainTool } from '../brain';
import { array, boolean, InvalidRequest, invalidValue, isObject, number, object, oneOf, onlyKeys, required, string, type Json } from './validate';

export type ServerVad = Required<Omit<RealtimeAudioInputTurnDetection.ServerVad, 'idle_timeout_ms'>> & { idle_timeout_ms: number | null };
export type SemanticVad = Required<RealtimeAudioInputTurnDetection.SemanticVad>;
export type TurnDetection = ServerVad | SemanticVad | null;
export type Voice = string | { id: string };
export type Modalities = ['audio'] | ['text'];

/** Input audio settings; the real server sends `null` where the SDK's types say "optional". */
export interface InputAudioConfig {
  format: RealtimeAudioFormats;
  transcription: AudioTranscription | null;
  noise_reduction: { type: NoiseReductionType; strength?: number } | null;
  turn_detection: TurnDetection;
}

/** What `session.created`/`session.updated` carry for a conversation (`RealtimeSessionCreateResponse`, with nulls). */
export interface RealtimeConfig {
  type: 'realtime';
  object: RealtimeSessionCreateResponse['object'];
  id: string;
  model: string;
  output_modalities: Modalities;
  instructions: string;
  tools: RealtimeToolsConfigUnion[];
  tool_choice: RealtimeToolChoiceConfig;
  max_output_tokens: number | 'inf';
  tracing: RealtimeTracingConfig | null;
  truncation: RealtimeTruncation;
  prompt: ResponsePrompt | null;
  expires_at: number;
  include: Array<'item.input_audio_transcription.logprobs'> | null;
  audio: { input: InputAudioConfig; output: { format: RealtimeAudioFormats; voice: Voice; speed: number } };
  reasoning?: RealtimeReasoning;
  parallel_tool_calls?: boolean;
}

/** What a `?intent=transcription` session reports (`RealtimeTranscriptionSessionCreateResponse`, with nulls). */
export interface TranscriptionConfig {
  type: RealtimeTranscriptionSessionCreateResponse['type'];
  object: 'realtime.transcription_session';
  id: string;
  expires_at: number;
  include: Array<'item.input_audio_transcription.logprobs'> | null;
  audio: { input: InputAudioConfig };
}

export type SessionConfig = RealtimeConfig | TranscriptionConfig;

/** Honest about what answers: the real default is a long persona prompt. */
export const defaultInstructions =
  "You are a helpful voice assistant. (This session is Parley's offline emulator: replies are deterministic, and speech is measured, not understood.)";

export const voices = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;
const formatTypes = ['audio/pcm', 'audio/pcmu', 'audio/pcma'] as const;
const eagernesses = ['low', 'medium', 'high', 'auto'] as const;

export const defaultServerVad: ServerVad = {
  type: 'server_vad',
  threshold: 0.5,
  prefix_padding_ms: 300,
  // The SDK documents 500; the real server's session.created says 200 (PROTOCOL.md §2).
  silence_duration_ms: 200,
  idle_timeout_ms: null,
  create_response: true,
  interrupt_response: true,
};
const defaultSemanticVad: SemanticVad = { type: 'semantic_vad', eagerness: 'auto', create_response: true, interrupt_response: true };

function defaultInput(): InputAudioConfig {
  return { format: { type: 'audio/pcm', rate: 24000 }, transcription: null, noise_reduction: null, turn_detection: { ...defaultServerVad } };
}

export function defaultRealtimeConfig(id: string, model: string, expiresAt: number): RealtimeConfig {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: defaultInstructions,
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    prompt: null,
    expires_at: expiresAt,
    include: null,
    audio: { input: defaultInput(), output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 } },
  };
}

export function defaultTranscriptionConfig(id: string, expiresAt: number): TranscriptionConfig {
  // A transcription session exists to transcribe, so one model is on from the start.
  return { type: 'transcription', object: 'realtime.transcription_session', id, expires_at: expiresAt, include: null, audio: { input: { ...defaultInput(), transcription: { model: 'gpt-4o-transcribe' } } } };
}

/**
 * The config as `session.created`/`session.updated` carry it. The real server sends `null` for
 * unset `transcription`/`noise_reduction`/`tracing`, which the SDK's request types do not allow.
 */
export function wireSession(config: SessionConfig): SessionCreatedEvent['session'] {
  return config as unknown as SessionCreatedEvent['session'];
}

export function encodingOf(format: RealtimeAudioFormats): AudioEncoding {
  return format.type === 'audio/pcmu' ? 'pcmu' : format.type === 'audio/pcma' ? 'pcma' : 'pcm16';
}

export function sameVoice(a: Voice, b: Voice): boolean {
  return typeof a === 'string' || typeof b === 'string' ? a === b : a.id === b.id;
}

export function voiceName(voice: Voice): string {
  return typeof voice === 'string' ? voice : voice.id;
}

const realtimeKeys = ['type', 'model', 'output_modalities', 'instructions', 'audio', 'tools', 'tool_choice', 'max_output_tokens', 'tracing', 'truncation', 'prompt', 'include', 'reasoning', 'parallel_tool_calls'];

/**
 * `session.update` for a conversation: only the supplied fields change (audio.input and
 * audio.output merge field by field; `""` clears instructions, `[]` clears tools, a null
 * `turn_detection` turns VAD off). Throws `InvalidRequest` and changes nothing on any error.
 */
export function updateRealtimeConfig(current: RealtimeConfig, raw: unknown, options: { voiceLocked: boolean }): RealtimeConfig {
  const session = object(raw, 'session');
  const type = required(session, 'type', 'session.type');
  if (type !== 'realtime') throw invalidValue('session.type', type, ['realtime']);
  onlyKeys(session, 'session', realtimeKeys);
  const next: RealtimeConfig = structuredClone(current);
  if (session.model !== undefined) next.model = string(session.model, 'session.model');
  if (session.instructions !== undefined) next.instructions = string(session.instructions, 'session.instructions');
  if (session.output_modalities !== undefined) next.output_modalities = readModalities(session.output_modalities, 'session.output_modalities');
  if (session.tools !== undefined) next.tools = readTools(session.tools, 'session.tools');
  if (session.tool_choice !== undefined) next.tool_choice = readToolChoice(session.tool_choice, 'session.tool_choice');
  if (session.max_output_tokens !== undefined) next.max_output_tokens = readMaxOutputTokens(session.max_output_tokens, 'session.max_output_tokens');
  if (session.tracing !== undefined) next.tracing = readTracing(session.tracing, 'session.tracing');
  if (session.truncation !== undefined) next.truncation = readTruncation(session.truncation, 'session.truncation');
  if (session.prompt !== undefined) next.prompt = session.prompt === null ? null : (object(session.prompt, 'session.prompt') as unknown as ResponsePrompt);
  if (session.include !== undefined) next.include = readInclude(session.include, 'session.include');
  if (session.reasoning !== undefined) {
    const reasoning = object(session.reasoning, 'session.reasoning');
    onlyKeys(reasoning, 'session.reasoning', ['effort']);
    next.reasoning = reasoning.effort === undefined ? {} : { effort: oneOf(reasoning.effort, 'session.reasoning.effort', ['minimal', 'low', 'medium', 'high', 'xhigh']) };
  }
  if (session.parallel_tool_calls !== undefined) next.parallel_tool_calls = boolean(session.parallel_tool_calls, 'session.parallel_tool_calls');
  if (session.audio !== undefined) {
    const audio = object(session.audio, 'session.audio');
    onlyKeys(audio, 'session.audio', ['input', 'output']);
    if (audio.input !== undefined) next.audio.input = readInput(audio.input, 'session.audio.input', next.audio.input);
    if (audio.output !== undefined) {
      const output = object(audio.output, 'session.audio.output');
      onlyKeys(output, 'session.audio.output', ['format', 'voice', 'speed']);
      if (output.format !== undefined) next.audio.output.format = readFormat(output.format, 'session.audio.output.format');
      if (output.speed !== undefined) next.audio.output.speed = number(output.speed, 'session.audio.output.speed', { min: 0.25, max: 1.5 });
      if (output.voice !== undefined) {
        const voice = readVoice(output.voice, 'session.audio.output.voice');
        // PROTOCOL.md §2: the voice is fixed once the model has spoken; the real error names no param (§4 emulator 18).
        if (options.voiceLocked && !sameVoice(voice, current.audio.output.voice)) {
          throw new InvalidRequest('cannot_update_voice', null, "Cannot update a conversation's voice if assistant audio is present.");
        }
        next.audio.output.voice = voice;
      }
    }
  }
  return next;
}

export function updateTranscriptionConfig(current: TranscriptionConfig, raw: unknown): TranscriptionConfig {
  const session = object(raw, 'session');
  const type = required(session, 'type', 'session.type');
  if (type !== 'transcription') throw invalidValue('session.type', type, ['transcription']);
  onlyKeys(session, 'session', ['type', 'audio', 'include']);
  const next: TranscriptionConfig = structuredClone(current);
  if (session.include !== undefined) next.include = readInclude(session.include, 'session.include');
  if (session.audio !== undefined) {
    const audio = object(session.audio, 'session.audio');
    onlyKeys(audio, 'session.audio', ['input']);
    if (audio.input !== undefined) next.audio.input = readInput(audio.input, 'session.audio.input', next.audio.input);
  }
  return next;
}

function readInput(value: unknown, param: string, current: InputAudioConfig): InputAudioConfig {
  const input = object(value, param);
  onlyKeys(input, param, ['format', 'noise_reduction', 'transcription', 'turn_detection']);
  const next = { ...current };
  if (input.format !== undefined) next.format = readFormat(input.format, `${param}.format`);
  if (input.noise_reduction !== undefined) next.noise_reduction = readNoiseReduction(input.noise_reduction, `${param}.noise_reduction`);
  if (input.transcription !== undefined) next.transcription = readTranscription(input.transcription, `${param}.transcription`);
  if (input.turn_detection !== undefined) next.turn_detection = readTurnDetection(input.turn_detection, `${param}.turn_detection`, current.turn_detection);
  return next;
}

export function readFormat(value: unknown, param: string): RealtimeAudioFormats {
  const format = object(value, param);
  onlyKeys(format, param, ['type', 'rate']);
  const type = oneOf(required(format, 'type', `${param}.type`), `${param}.type`, formatTypes);
  if (type !== 'audio/pcm') {
    // G.711 is 8 kHz by definition; the SDK gives these formats no rate field.
    if (format.rate !== undefined) onlyKeys(format, param, ['type']);
    return { type };
  }
  if (format.rate !== undefined && number(format.rate, `${param}.rate`, { integer: true }) !== 24000) throw invalidValue(`${param}.rate`, format.rate, ['24000']);
  return { type, rate: 24000 };
}

export function readVoice(value: unknown, param: string): Voice {
  if (isObject(value)) {
    onlyKeys(value, param, ['id']);
    return { id: string(required(value, 'id', `${param}.id`), `${param}.id`) };
  }
  return oneOf(value, param, voices);
}

export function readModalities(value: unknown, param: string): Modalities {
  const list = array(value, param).map((entry, index) => oneOf(entry, `${param}[${index}]`, ['audio', 'text'] as const));
  const unique = [...new Set(list)];
  if (unique.length !== 1) {
    throw new InvalidRequest('invalid_value', param, `Invalid value for '${param}': use ["audio"] (audio with a transcript) or ["text"]; both at once is not supported.`);
  }
  return unique[0] === 'audio' ? ['audio'] : ['text'];
}

export function readTools(value: unknown, param: string): RealtimeToolsConfigUnion[] {
  return array(value, param).map((entry, index) => {
    const path = `${param}[${index}]`;
    const tool = object(entry, path);
    if (tool.type === 'mcp') {
      string(required(tool, 'server_label', `${path}.server_label`), `${path}.server_label`);
      return tool as unknown as RealtimeToolsConfigUnion;
    }
    onlyKeys(tool, path, ['type', 'name', 'description', 'parameters']);
    if (tool.type !== undefined) oneOf(tool.type, `${path}.type`, ['function', 'mcp']);
    const name = string(required(tool, 'name', `${path}.name`), `${path}.name`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new InvalidRequest('invalid_value', `${path}.name`, `Invalid '${path}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`);
    }
    const function_: RealtimeFunctionTool = { type: 'function', name };
    if (tool.description !== undefined) function_.description = string(tool.description, `${path}.description`);
    if (tool.parameters !== undefined) function_.parameters = object(tool.parameters, `${path}.parameters`);
    return function_;
  });
}

export function readToolChoice(value: unknown, param: string): RealtimeToolChoiceConfig {
  if (typeof value === 'string') return oneOf(value, param, ['auto', 'none', 'required']);
  const choice = object(value, param);
  const type = oneOf(required(choice, 'type', `${param}.type`), `${param}.type`, ['function', 'mcp']);
  if (type === 'function') {
    onlyKeys(choice, param, ['type', 'name']);
    return { type, name: string(required(choice, 'name', `${param}.name`), `${param}.name`) };
  }
  onlyKeys(choice, param, ['type', 'server_label', 'name']);
  const serverLabel = string(required(choice, 'server_label', `${param}.server_label`), `${param}.server_label`);
  return choice.name === undefined || choice.name === null ? { type, server_label: serverLabel } : { type, server_label: serverLabel, name: string(choice.name, `${param}.name`) };
}

export function readMaxOutputTokens(value: unknown, param: string): number | 'inf' {
  if (value === 'inf') return 'inf';
  if (typeof value === 'string') throw invalidValue(param, value, ['inf']);
  return number(value, param, { integer: true, min: 1, max: 4096 });
}

function readTracing(value: unknown, param: string): RealtimeTracingConfig | null {
  if (value === null) return null;
  if (typeof value === 'string') return oneOf(value, param, ['auto']);
  const tracing = object(value, param);
  onlyKeys(tracing, param, ['workflow_name', 'group_id', 'metadata']);
  if (tracing.workflow_name !== undefined) string(tracing.workflow_name, `${param}.workflow_name`);
  if (tracing.group_id !== undefined) string(tracing.group_id, `${param}.group_id`);
  return tracing;
}

function readTruncation(value: unknown, param: string): RealtimeTruncation {
  if (typeof value === 'string') return oneOf(value, param, ['auto', 'disabled']);
  const truncation = object(value, param);
  onlyKeys(truncation, param, ['type', 'retention_ratio', 'token_limits']);
  oneOf(required(truncation, 'type', `${param}.type`), `${param}.type`, ['retention_ratio']);
  const ratio = number(required(truncation, 'retention_ratio', `${param}.retention_ratio`), `${param}.retention_ratio`, { min: 0, max: 1 });
  const result: RealtimeTruncation = { type: 'retention_ratio', retention_ratio: ratio };
  if (truncation.token_limits !== undefined) {
    const limits = object(truncation.token_limits, `${param}.token_limits`);
    onlyKeys(limits, `${param}.token_limits`, ['post_instructions']);
    result.token_limits = limits.post_instructions === undefined ? {} : { post_instructions: number(limits.post_instructions, `${param}.token_limits.post_instructions`, { integer: true, min: 0 }) };
  }
  return result;
}

function readInclude(value: unknown, param: string): Array<'item.input_audio_transcription.logprobs'> | null {
  if (value === null) return null;
  return array(value, param).map((entry, index) => oneOf(entry, `${param}[${index}]`, ['item.input_audio_transcription.logprobs']));
}

function readNoiseReduction(value: unknown, param: string): InputAudioConfig['noise_reduction'] {
  if (value === null) return null;
  const reduction = object(value, param);
  onlyKeys(reduction, param, ['type', 'strength']);
  const type = oneOf(required(reduction, 'type', `${param}.type`), `${param}.type`, ['near_field', 'far_field']);
  return reduction.strength === undefined ? { type } : { type, strength: number(reduction.strength, `${param}.strength`, { min: 0 }) };
}

function readTranscription(value: unknown, param: string): AudioTranscription | null {
  if (value === null) return null;
  const transcription = object(value, param);
  onlyKeys(transcription, param, ['model', 'language', 'languages', 'prompt', 'keywords', 'delay']);
  const result: AudioTranscription = {};
  if (transcription.model !== undefined) result.model = string(transcription.model, `${param}.model`);
  if (transcription.language !== undefined) result.language = string(transcription.language, `${param}.language`);
  if (transcription.prompt !== undefined) result.prompt = string(transcription.prompt, `${param}.prompt`);
  if (transcription.delay !== undefined) result.delay = oneOf(transcription.delay, `${param}.delay`, ['minimal', 'low', 'medium', 'high', 'xhigh']);
  for (const key of ['languages', 'keywords'] as const) {
    if (transcription[key] !== undefined) result[key] = array(transcription[key], `${param}.${key}`).map((entry, index) => string(entry, `${param}.${key}[${index}]`));
  }
  return result;
}

function readTurnDetection(value: unknown, param: string, current: TurnDetection): TurnDetection {
  if (value === null) return null;
  const detection: Json = object(value, param);
  const type = oneOf(required(detection, 'type', `${param}.type`), `${param}.type`, ['server_vad', 'semantic_vad']);
  // Same type: merge onto the current values; a new type starts from its defaults.
  if (type === 'semantic_vad') {
    onlyKeys(detection, param, ['type', 'eagerness', 'create_response', 'interrupt_response']);
    const base = current?.type === 'semantic_vad' ? current : defaultSemanticVad;
    return {
      type,
      eagerness: detection.eagerness === undefined ? base.eagerness : oneOf(detection.eagerness, `${param}.eagerness`, eagernesses),
      create_response: detection.create_response === undefined ? base.create_response : boolean(detection.create_response, `${param}.create_response`),
      interrupt_response: detection.interrupt_response === undefined ? base.interrupt_response : boolean(detection.interrupt_response, `${param}.interrupt_response`),
    };
  }
  onlyKeys(detection, param, ['type', 'threshold', 'prefix_padding_ms', 'silence_duration_ms', 'idle_timeout_ms', 'create_response', 'interrupt_response']);
  const base = current?.type === 'server_vad' ? current : defaultServerVad;
  const ms = (key: string): number => number(detection[key], `${param}.${key}`, { integer: true, min: 0 });
  return {
    type,
    threshold: detection.threshold === undefined ? base.threshold : number(detection.threshold, `${param}.threshold`, { min: 0, max: 1 }),
    prefix_padding_ms: detection.prefix_padding_ms === undefined ? base.prefix_padding_ms : ms('prefix_padding_ms'),
    silence_duration_ms: detection.silence_duration_ms === undefined ? base.silence_duration_ms : ms('silence_duration_ms'),
    idle_timeout_ms: detection.idle_timeout_ms === undefined ? base.idle_timeout_ms : detection.idle_timeout_ms === null ? null : ms('idle_timeout_ms'),
    create_response: detection.create_response === undefined ? base.create_response : boolean(detection.create_response, `${param}.create_response`),
    interrupt_response: detection.interrupt_response === undefined ? base.interrupt_response : boolean(detection.interrupt_response, `${param}.interrupt_response`),
  };
}

/** The function tools the brain may call; `tool_choice: 'none'` hides them all. */
export function brainToolsOf(tools: readonly RealtimeToolsConfigUnion[], choice: RealtimeToolChoiceConfig): BrainTool[] {
  if (choice === 'none') return [];
  const functions = tools.filter((tool): tool is RealtimeFunctionTool & { name: string } => tool.type !== 'mcp' && typeof tool.name === 'string');
  const forced = typeof choice === 'object' && choice.type === 'function' ? choice.name : null;
  return functions
    .filter((tool) => forced === null || tool.name === forced)
    .map((tool) => ({ name: tool.name, description: tool.description ?? null, parameters: isObject(tool.parameters) ? tool.parameters : null }));
}
