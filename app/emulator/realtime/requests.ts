/** `response.create`'s optional `response` object: per-response overrides and out-of-band context. */
import type { RealtimeAudioFormats, RealtimeToolChoiceConfig, RealtimeToolsConfigUnion } from 'openai/resources/realtime/realtime';
import type { AudioEncoding } from '../../audio/encoding';
import { readFormat, readMaxOutputTokens, readModalities, readToolChoice, readTools, readVoice, type Modalities, type Voice } from './config';
import { readItem, type Item } from './conversation';
import { array, boolean, InvalidRequest, invalidValue, isObject, object, onlyKeys, required, string } from './validate';

export interface ResponseParams {
  /** `'none'` makes an out-of-band response that writes nothing to the default conversation. */
  conversation: 'auto' | 'none';
  /** Context replacing the default conversation for this response; references name existing items. */
  input: Array<Item | { reference: string }> | null;
  instructions?: string;
  modalities?: Modalities;
  tools?: RealtimeToolsConfigUnion[];
  toolChoice?: RealtimeToolChoiceConfig;
  maxOutputTokens?: number | 'inf';
  metadata: Record<string, string> | null;
  format?: RealtimeAudioFormats;
  voice?: Voice;
}

const keys = ['audio', 'conversation', 'input', 'instructions', 'max_output_tokens', 'metadata', 'output_modalities', 'parallel_tool_calls', 'prompt', 'reasoning', 'tool_choice', 'tools'];

export function readResponseParams(value: unknown, inputEncoding: AudioEncoding): ResponseParams {
  const params: ResponseParams = { conversation: 'auto', input: null, metadata: null };
  if (value === undefined) return params;
  const raw = object(value, 'response');
  onlyKeys(raw, 'response', keys);
  if (raw.conversation !== undefined) {
    const conversation = string(raw.conversation, 'response.conversation');
    if (conversation !== 'auto' && conversation !== 'none') throw invalidValue('response.conversation', conversation, ['auto', 'none']);
    params.conversation = conversation;
  }
  if (raw.input !== undefined) {
    params.input = array(raw.input, 'response.input').map((entry, index) => {
      const param = `response.input[${index}]`;
      if (isObject(entry) && entry.type === 'item_reference') {
        onlyKeys(entry, param, ['type', 'id']);
        return { reference: string(required(entry, 'id', `${param}.id`), `${param}.id`) };
      }
      return readItem(entry, param, inputEncoding);
    });
  }
  if (raw.instructions !== undefined) params.instructions = string(raw.instructions, 'response.instructions');
  if (raw.output_modalities !== undefined) params.modalities = readModalities(raw.output_modalities, 'response.output_modalities');
  if (raw.tools !== undefined) params.tools = readTools(raw.tools, 'response.tools');
  if (raw.tool_choice !== undefined) params.toolChoice = readToolChoice(raw.tool_choice, 'response.tool_choice');
  if (raw.max_output_tokens !== undefined) params.maxOutputTokens = readMaxOutputTokens(raw.max_output_tokens, 'response.max_output_tokens');
  if (raw.parallel_tool_calls !== undefined) boolean(raw.parallel_tool_calls, 'response.parallel_tool_calls');
  if (raw.prompt !== undefined && raw.prompt !== null) object(raw.prompt, 'response.prompt');
  if (raw.reasoning !== undefined) object(raw.reasoning, 'response.reasoning');
  if (raw.metadata !== undefined && raw.metadata !== null) params.metadata = readMetadata(raw.metadata);
  if (raw.audio !== undefined) {
    const audio = object(raw.audio, 'response.audio');
    onlyKeys(audio, 'response.audio', ['output']);
    if (audio.output !== undefined) {
      const output = object(audio.output, 'response.audio.output');
      onlyKeys(output, 'response.audio.output', ['format', 'voice']);
      if (output.format !== undefined) params.format = readFormat(output.format, 'response.audio.output.format');
      if (output.voice !== undefined) params.voice = readVoice(output.voice, 'response.audio.output.voice');
    }
  }
  return params;
}

function readMetadata(value: unknown): Record<string, string> {
  const metadata = object(value, 'response.metadata');
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw new InvalidRequest('object_above_max_properties', 'response.metadata', "Invalid 'response.metadata': too many properties. Expected an object with at most 16 properties.");
  for (const [key, entry] of entries) {
    if (key.length > 64) throw new InvalidRequest('invalid_value', 'response.metadata', `Invalid 'response.metadata': key '${key.slice(0, 20)}…' is longer than 64 characters.`);
    if (string(entry, `response.metadata.${key}`).length > 512) {
      throw new InvalidRequest('string_above_max_length', `response.metadata.${key}`, `Invalid 'response.metadata.${key}': string too long. Expected a string with maximum length 512.`);
    }
  }
  return metadata as Record<string, string>;
}
