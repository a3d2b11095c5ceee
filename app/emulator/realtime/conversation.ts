/**
 * The default conversation: ordered items with the audio the wire events leave out, so
 * `conversation.item.retrieve` can return it and `conversation.item.truncate` can check and cut it.
 */
import type { ConversationItem } from 'openai/resources/realtime/realtime';
import { fromPcm24k, toPcm24k, type AudioEncoding } from '../../audio/encoding';
import { fromBase64, realtimePcmRate, samplesToMs, toBase64 } from '../../audio/pcm';
import type { BrainMessage } from '../brain';
import { newId } from '../ids';
import { array, InvalidRequest, invalidValue, object, oneOf, onlyKeys, required, string, type Json } from './validate';
import { imageRefusal, realtimeImageRules, seeImage } from '../images';

export type ItemStatus = 'completed' | 'incomplete' | 'in_progress';

/** Audio kept as PCM16 at 24 kHz; `encoding` is the wire format it was heard or spoken in. */
export interface StoredAudio {
  samples: Int16Array;
  /** For output audio: how much has actually been sent (a cancelled response stops short). */
  sentSamples: number;
  encoding: AudioEncoding;
}

export type Content =
  | { type: 'input_text'; text: string }
  /** `said`: what a test told the emulator this speech says (`Emulator.hear`), which it then reads as text. */
  | { type: 'input_audio'; audio: StoredAudio | null; transcript: string | null; said?: string }
  | { type: 'input_image'; image_url: string; detail: 'auto' | 'low' | 'high' }
  | { type: 'output_text'; text: string }
  | { type: 'output_audio'; audio: StoredAudio | null; transcript: string };

export type Item =
  | { type: 'message'; id: string; role: 'user' | 'assistant' | 'system'; status: ItemStatus; content: Content[] }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: ItemStatus }
  | { type: 'function_call_output'; id: string; call_id: string; output: string; status: ItemStatus };

export function audioMs(audio: StoredAudio | null): number {
  return audio === null ? 0 : samplesToMs(audio.sentSamples, realtimePcmRate);
}

export class Conversation {
  readonly id = newId('conv');
  #items: Item[] = [];

  get items(): readonly Item[] {
    return this.#items;
  }

  get lastId(): string | null {
    return this.#items.at(-1)?.id ?? null;
  }

  find(id: string): Item | undefined {
    return this.#items.find((item) => item.id === id);
  }

  hasCall(callId: string): boolean {
    return this.#items.some((item) => item.type === 'function_call' && item.call_id === callId);
  }

  /** Appends, or inserts after `previousItemId` (`'root'` = at the start); returns the id it follows. */
  insert(item: Item, previousItemId?: string): string | null {
    if (this.find(item.id) !== undefined) throw new InvalidRequest('invalid_value', 'item.id', `Item with id '${item.id}' already exists in the conversation.`);
    if (previousItemId === undefined) {
      const previous = this.lastId;
      this.#items.push(item);
      return previous;
    }
    if (previousItemId === 'root') {
      this.#items.unshift(item);
      return null;
    }
    const index = this.#items.findIndex((candidate) => candidate.id === previousItemId);
    if (index < 0) throw new InvalidRequest('invalid_value', 'previous_item_id', `Previous item with id '${previousItemId}' not found.`);
    this.#items.splice(index + 1, 0, item);
    return previousItemId;
  }

  remove(id: string): boolean {
    const index = this.#items.findIndex((item) => item.id === id);
    if (index < 0) return false;
    this.#items.splice(index, 1);
    return true;
  }
}

/** The item as events carry it: audio bytes only when asked (`conversation.item.retrieved`). */
export function toWire(item: Item, withAudio = false): ConversationItem {
  const base = { id: item.id, object: 'realtime.item' as const, status: item.status };
  if (item.type === 'function_call') return { ...base, type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments };
  if (item.type === 'function_call_output') return { ...base, type: 'function_call_output', call_id: item.call_id, output: item.output };
  const content = item.content.map((part) => {
    switch (part.type) {
      case 'input_audio':
      case 'output_audio': {
        // The real server reports an unknown transcript as null; the SDK types say "optional string".
        const wire: Json = { type: part.type, transcript: part.transcript };
        if (withAudio && part.audio !== null) wire.audio = toBase64(fromPcm24k(part.audio.samples.subarray(0, part.audio.sentSamples), part.audio.encoding));
        return wire;
      }
      default:
        return { ...part };
    }
  });
  return { ...base, type: 'message', role: item.role, content } as ConversationItem;
}

/** What the brain reads: it cannot hear, so speech becomes its duration. */
export function toBrain(items: readonly Item[]): BrainMessage[] {
  const messages: BrainMessage[] = [];
  for (const item of items) {
    if (item.type === 'function_call') messages.push({ role: 'tool_call', callId: item.call_id, name: item.name, arguments: item.arguments });
    else if (item.type === 'function_call_output') messages.push({ role: 'tool_output', callId: item.call_id, output: item.output });
    else if (item.role === 'assistant') {
      const text = item.content.map((part) => (part.type === 'output_text' ? part.text : part.type === 'output_audio' ? part.transcript : '')).join('');
      messages.push({ role: 'assistant', text });
    } else if (item.role === 'system') {
      const text = item.content.flatMap((part) => (part.type === 'input_text' ? [part.text] : [])).join(' ');
      if (text !== '') messages.push({ role: 'note', text });
    } else if (item.role === 'user') {
      const text = item.content.flatMap((part) => (part.type === 'input_text' ? [part.text] : part.type === 'input_audio' && part.said !== undefined ? [part.said] : [])).join(' ');
      const heardMs = item.content.reduce((sum, part) => sum + (part.type === 'input_audio' ? audioMs(part.audio) : 0), 0);
      const images = item.content.flatMap((part) => (part.type === 'input_image' ? [seeImage(part.image_url)] : []));
      if (images.length > 0) messages.push({ role: 'user', text, images });
      else messages.push(text !== '' ? { role: 'user', text } : { role: 'user', audioMs: heardMs });
    }
  }
  return messages;
}

/** Reads a client item (`conversation.item.create`, `response.input`) at the edge. */
export function readItem(value: unknown, param: string, inputEncoding: AudioEncoding): Item {
  const raw = object(value, param);
  const type = oneOf(required(raw, 'type', `${param}.type`), `${param}.type`, ['message', 'function_call', 'function_call_output']);
  const id = raw.id === undefined ? newId('item') : string(raw.id, `${param}.id`);
  if (raw.object !== undefined) oneOf(raw.object, `${param}.object`, ['realtime.item']);
  const status = raw.status === undefined ? 'completed' : oneOf(raw.status, `${param}.status`, ['completed', 'incomplete', 'in_progress'] as const);
  const field = (key: string): string => string(required(raw, key, `${param}.${key}`), `${param}.${key}`);
  if (type === 'function_call') {
    onlyKeys(raw, param, ['type', 'id', 'object', 'status', 'call_id', 'name', 'arguments']);
    return { type, id, status, name: field('name'), arguments: field('arguments'), call_id: raw.call_id === undefined ? newId('call') : field('call_id') };
  }
  if (type === 'function_call_output') {
    onlyKeys(raw, param, ['type', 'id', 'object', 'status', 'call_id', 'output']);
    return { type, id, status, call_id: field('call_id'), output: field('output') };
  }
  onlyKeys(raw, param, ['type', 'id', 'object', 'status', 'role', 'content']);
  const role = oneOf(required(raw, 'role', `${param}.role`), `${param}.role`, ['user', 'assistant', 'system'] as const);
  const content = array(required(raw, 'content', `${param}.content`), `${param}.content`).map((entry, index) => readContent(entry, `${param}.content[${index}]`, role, inputEncoding));
  return { type, id, role, status, content };
}

const contentTypes = { user: ['input_text', 'input_audio', 'input_image'], system: ['input_text'], assistant: ['output_text', 'output_audio'] } as const;

function readContent(value: unknown, param: string, role: 'user' | 'assistant' | 'system', inputEncoding: AudioEncoding): Content {
  const raw = object(value, param);
  const type = oneOf(required(raw, 'type', `${param}.type`), `${param}.type`, contentTypes[role] as readonly Content['type'][]);
  const text = (key: string): string => string(required(raw, key, `${param}.${key}`), `${param}.${key}`);
  switch (type) {
    case 'input_text':
    case 'output_text':
      onlyKeys(raw, param, ['type', 'text']);
      return { type, text: text('text') };
    case 'input_image': {
      onlyKeys(raw, param, ['type', 'image_url', 'detail']);
      const refusal = imageRefusal(raw, param, realtimeImageRules);
      if (refusal !== null) throw new InvalidRequest(refusal.code, refusal.param, refusal.message);
      const detail = raw.detail === undefined ? 'auto' : oneOf(raw.detail, `${param}.detail`, ['auto', 'low', 'high'] as const);
      return { type, image_url: text('image_url'), detail };
    }
    case 'input_audio': {
      onlyKeys(raw, param, ['type', 'audio', 'transcript']);
      const transcript = raw.transcript === undefined || raw.transcript === null ? null : string(raw.transcript, `${param}.transcript`);
      if (raw.audio === undefined || raw.audio === null) return { type, audio: null, transcript };
      const bytes = fromBase64(string(raw.audio, `${param}.audio`));
      if (bytes === null) throw invalidValue(`${param}.audio`, '(not base64)', ['base64-encoded audio bytes']);
      const samples = toPcm24k(bytes, inputEncoding).slice();
      return { type, audio: { samples, sentSamples: samples.length, encoding: inputEncoding }, transcript };
    }
    case 'output_audio':
      // "cannot populate assistant audio messages" (RT ConversationItemCreateEvent): a transcript only.
      onlyKeys(raw, param, ['type', 'transcript']);
      return { type, audio: null, transcript: text('transcript') };
  }
}
