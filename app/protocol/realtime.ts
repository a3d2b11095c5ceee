/**
 * Realtime API wire types, re-exported from the `openai` package, and the edge parser for its
 * server frames. Every event type a voice session acts on is validated here, once, against a
 * schema of the fields it reads, each checked against the SDK's type so the two cannot drift.
 * Unknown event types pass through; the sessions ignore what they do not handle.
 */
import { z } from 'zod';
import type {
  ConversationItemAdded,
  ConversationItemInputAudioTranscriptionCompletedEvent,
  ConversationItemInputAudioTranscriptionDeltaEvent,
  ConversationItemInputAudioTranscriptionFailedEvent,
  InputAudioBufferCommittedEvent,
  InputAudioBufferSpeechStartedEvent,
  InputAudioBufferSpeechStoppedEvent,
  RealtimeAudioFormats,
  RealtimeClientEvent,
  RealtimeConversationItemFunctionCall,
  RealtimeConversationItemUserMessage,
  RealtimeErrorEvent,
  RealtimeFunctionTool,
  RealtimeResponse,
  RealtimeResponseUsage,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
  ResponseAudioDeltaEvent,
  ResponseAudioTranscriptDeltaEvent,
  ResponseAudioTranscriptDoneEvent,
  ResponseCreatedEvent,
  ResponseDoneEvent,
  ResponseOutputItemDoneEvent,
  ResponseTextDeltaEvent,
  ResponseTextDoneEvent,
  SessionCreatedEvent,
  SessionUpdatedEvent,
} from 'openai/resources/realtime/realtime';

export type { RealtimeClientEvent, RealtimeServerEvent, RealtimeFunctionTool, RealtimeSessionCreateRequest, RealtimeAudioFormats };

/**
 * Where the real server sends `null` for a field the SDK types as optional (an out-of-band
 * response's `conversation_id`, `usage` in `response.created`; PROTOCOL.md §2 "Voice turn").
 */
type ServerNullable<T, K extends keyof T> = Omit<T, K> & { [P in K]?: T[P] | null };

const usage = z.object({
  input_token_details: z.object({ text_tokens: z.number().optional(), audio_tokens: z.number().optional(), cached_tokens: z.number().optional() }).optional(),
  output_token_details: z.object({ text_tokens: z.number().optional(), audio_tokens: z.number().optional() }).optional(),
}) satisfies z.ZodType<Pick<RealtimeResponseUsage, 'input_token_details' | 'output_token_details'>>;

const response = z.object({
  id: z.string().optional(),
  conversation_id: z.string().nullish(),
  status: z.enum(['completed', 'cancelled', 'failed', 'incomplete', 'in_progress']).optional(),
  usage: usage.nullish(),
  // Why a response failed, e.g. model_not_found for a model the key cannot use (openai-realtime-console#561).
  status_details: z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }).optional() }).nullish(),
}) satisfies z.ZodType<ServerNullable<Pick<RealtimeResponse, 'id' | 'conversation_id' | 'status' | 'usage' | 'status_details'>, 'conversation_id' | 'usage' | 'status_details'>>;

const userMessage = z.object({
  type: z.literal('message'),
  role: z.literal('user'),
  id: z.string().optional(),
  content: z.array(z.object({ type: z.enum(['input_text', 'input_audio', 'input_image']).optional(), text: z.string().optional() })),
}) satisfies z.ZodType<Pick<RealtimeConversationItemUserMessage, 'type' | 'role' | 'id' | 'content'>>;

const functionCall = z.object({
  type: z.literal('function_call'),
  call_id: z.string().optional(),
  name: z.string(),
  arguments: z.string(),
}) satisfies z.ZodType<Pick<RealtimeConversationItemFunctionCall, 'type' | 'call_id' | 'name' | 'arguments'>>;

/** Any other item: only its type is read, and it may not be a user message or call missing its fields. */
const otherItem = z
  .object({ type: z.string(), role: z.string().optional() })
  .refine((item) => item.type !== 'function_call' && !(item.type === 'message' && item.role === 'user'), { message: 'a user message or function call without its required fields' });

/** The items the sessions act on; `'content' in item` / `'arguments' in item` tell them apart (zod strips the rest). */
const item = z.union([userMessage, functionCall, otherItem]);

const error = z.object({
  type: z.literal('error'),
  error: z.object({ type: z.string(), message: z.string(), code: z.string().nullish(), param: z.string().nullish(), event_id: z.string().nullish() }),
}) satisfies z.ZodType<Pick<RealtimeErrorEvent, 'type' | 'error'>>;

const schemas = {
  error,
  'session.created': z.object({ type: z.literal('session.created') }) satisfies z.ZodType<Pick<SessionCreatedEvent, 'type'>>,
  'session.updated': z.object({ type: z.literal('session.updated') }) satisfies z.ZodType<Pick<SessionUpdatedEvent, 'type'>>,
  'input_audio_buffer.speech_started': z.object({ type: z.literal('input_audio_buffer.speech_started') }) satisfies z.ZodType<Pick<InputAudioBufferSpeechStartedEvent, 'type'>>,
  'input_audio_buffer.speech_stopped': z.object({ type: z.literal('input_audio_buffer.speech_stopped') }) satisfies z.ZodType<Pick<InputAudioBufferSpeechStoppedEvent, 'type'>>,
  'input_audio_buffer.committed': z.object({ type: z.literal('input_audio_buffer.committed'), item_id: z.string() }) satisfies z.ZodType<Pick<InputAudioBufferCommittedEvent, 'type' | 'item_id'>>,
  'conversation.item.input_audio_transcription.delta': z.object({
    type: z.literal('conversation.item.input_audio_transcription.delta'),
    item_id: z.string(),
    delta: z.string().optional(),
  }) satisfies z.ZodType<Pick<ConversationItemInputAudioTranscriptionDeltaEvent, 'type' | 'item_id' | 'delta'>>,
  'conversation.item.input_audio_transcription.completed': z.object({
    type: z.literal('conversation.item.input_audio_transcription.completed'),
    item_id: z.string(),
    transcript: z.string(),
  }) satisfies z.ZodType<Pick<ConversationItemInputAudioTranscriptionCompletedEvent, 'type' | 'item_id' | 'transcript'>>,
  'conversation.item.input_audio_transcription.failed': z.object({
    type: z.literal('conversation.item.input_audio_transcription.failed'),
    error: z.object({ message: z.string().optional() }),
  }) satisfies z.ZodType<Pick<ConversationItemInputAudioTranscriptionFailedEvent, 'type' | 'error'>>,
  'conversation.item.added': z.object({ type: z.literal('conversation.item.added'), item }) satisfies z.ZodType<Pick<ConversationItemAdded, 'type'>>,
  'response.created': z.object({ type: z.literal('response.created'), response }) satisfies z.ZodType<Pick<ResponseCreatedEvent, 'type'>>,
  'response.done': z.object({ type: z.literal('response.done'), response }) satisfies z.ZodType<Pick<ResponseDoneEvent, 'type'>>,
  'response.output_item.done': z.object({ type: z.literal('response.output_item.done'), item }) satisfies z.ZodType<Pick<ResponseOutputItemDoneEvent, 'type'>>,
  'response.output_audio.delta': z.object({ type: z.literal('response.output_audio.delta'), response_id: z.string().optional(), item_id: z.string(), delta: z.string() }) satisfies z.ZodType<
    Pick<ResponseAudioDeltaEvent, 'type' | 'item_id' | 'delta'>
  >,
  'response.output_audio_transcript.delta': z.object({
    type: z.literal('response.output_audio_transcript.delta'),
    response_id: z.string(),
    item_id: z.string(),
    delta: z.string(),
  }) satisfies z.ZodType<Pick<ResponseAudioTranscriptDeltaEvent, 'type' | 'response_id' | 'item_id' | 'delta'>>,
  'response.output_text.delta': z.object({
    type: z.literal('response.output_text.delta'),
    response_id: z.string(),
    item_id: z.string(),
    delta: z.string(),
  }) satisfies z.ZodType<Pick<ResponseTextDeltaEvent, 'type' | 'response_id' | 'item_id' | 'delta'>>,
  'response.output_audio_transcript.done': z.object({
    type: z.literal('response.output_audio_transcript.done'),
    response_id: z.string(),
    item_id: z.string(),
    transcript: z.string(),
  }) satisfies z.ZodType<Pick<ResponseAudioTranscriptDoneEvent, 'type' | 'response_id' | 'item_id' | 'transcript'>>,
  'response.output_text.done': z.object({
    type: z.literal('response.output_text.done'),
    response_id: z.string(),
    item_id: z.string(),
    text: z.string(),
  }) satisfies z.ZodType<Pick<ResponseTextDoneEvent, 'type' | 'response_id' | 'item_id' | 'text'>>,
};

// The item-carrying events check their items above, member by member (the SDK's item union has no
// single shape to pick from); the event types themselves must be the SDK's.
type Schemas = typeof schemas;
export type RealtimeEventType = keyof Schemas;
/** A server event a voice session acts on, with exactly the fields it may read. */
export type RealtimeEvent = { [K in RealtimeEventType]: z.output<Schemas[K]> }[RealtimeEventType];
export type RealtimeItem = z.output<typeof item>;
export type RealtimeErrorDetails = z.output<typeof error>['error'];

const _everyTypeIsTheSdks: RealtimeEventType extends RealtimeServerEvent['type'] ? true : never = true;
void _everyTypeIsTheSdks;

export type ParsedRealtimeFrame =
  | { kind: 'event'; event: RealtimeEvent }
  /** A type no session acts on: passed through untouched. */
  | { kind: 'unknown'; type: string }
  /**
   * A known type with missing or wrong fields. What it may have answered, read loosely so the
   * request waiting on it can settle: the client `event_id` an error names, the response it ends.
   */
  | { kind: 'invalid'; type: RealtimeEventType; reason: string; clientEventId: string | null; responseId: string | null }
  | { kind: 'unreadable'; reason: string };

export function parseRealtimeFrame(raw: string): ParsedRealtimeFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { kind: 'unreadable', reason: `not JSON (${(error as Error).message})` };
  }
  if (!isRecord(value)) return { kind: 'unreadable', reason: 'not a JSON object' };
  const type = value.type;
  if (typeof type !== 'string') return { kind: 'unreadable', reason: 'missing a string "type" field' };
  if (!Object.hasOwn(schemas, type)) return { kind: 'unknown', type };
  const known = type as RealtimeEventType;
  const parsed = schemas[known].safeParse(value);
  if (parsed.success) return { kind: 'event', event: parsed.data as RealtimeEvent };
  const reason = parsed.error.issues.map((issue) => `${issue.path.length === 0 ? known : issue.path.join('.')}: ${issue.message}`).join('; ');
  return { kind: 'invalid', type: known, reason, clientEventId: stringAt(value, 'error', 'event_id'), responseId: stringAt(value, 'response', 'id') };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringAt(value: Record<string, unknown>, outer: string, inner: string): string | null {
  const nested = value[outer];
  const found = isRecord(nested) ? nested[inner] : undefined;
  return typeof found === 'string' ? found : null;
}

/** The Realtime WebSocket URL for an API root and model: `http`→`ws`, else `wss`. */
export function realtimeSocketUrl(baseUrl: string, model: string): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/realtime`);
  url.protocol = url.protocol === 'http:' || url.protocol === 'ws:' ? 'ws:' : 'wss:';
  url.searchParams.set('model', model);
  return url.toString();
}

/** The Realtime WebSocket URL of a transcription session (`?intent=transcription`, no model). */
export function transcriptionSocketUrl(baseUrl: string): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/realtime`);
  url.protocol = url.protocol === 'http:' || url.protocol === 'ws:' ? 'ws:' : 'wss:';
  url.searchParams.set('intent', 'transcription');
  return url.toString();
}
