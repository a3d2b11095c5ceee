/**
 * Responses API wire types, re-exported from the `openai` package (never hand-copied), and the
 * edge parser that turns a raw frame into a typed server event or a clear refusal.
 */
import type {
  ResponsesClientEvent,
  ResponsesServerEvent,
  ResponseInputItem,
  ResponseOutputItem,
  ResponseOutputMessage,
  Response,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import { z } from 'zod';

export type { ResponsesClientEvent, ResponsesServerEvent, ResponseInputItem, ResponseOutputItem, Response, ResponseUsage };

export type ResponseCreateEvent = ResponsesClientEvent.ResponseCreate;
export type ResponseWsError = ResponsesServerEvent.ResponseWsError;

/** Largest server frame we accept; a bigger one is refused rather than parsed. */
export const maxServerFrameBytes = 16 * 1024 * 1024;

type ServerEventOf<T extends ResponsesServerEvent['type']> = Extract<ResponsesServerEvent, { type: T }>;
type OutputItemOf<T extends ResponseOutputItem['type']> = Extract<ResponseOutputItem, { type: T }>;
type OutputPartOf<T extends ResponseOutputMessage['content'][number]['type']> = Extract<ResponseOutputMessage['content'][number], { type: T }>;

/** An object that must also satisfy the schema `pick` chooses for it (none: no more checks). */
function delegating(pick: (value: Record<string, unknown>) => z.ZodType | undefined): z.ZodType<{ type: string }> {
  return z.looseObject({ type: z.string() }).superRefine((value, context) => {
    const result = pick(value)?.safeParse(value);
    if (result === undefined || result.success) return;
    for (const issue of result.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  });
}

/** An object whose `type` picks its schema; other types only need a string `type`, so newer kinds pass through. */
function byType(schemas: Readonly<Record<string, z.ZodType>>): z.ZodType<{ type: string }> {
  return delegating((value) => (Object.hasOwn(schemas, value.type as string) ? schemas[value.type as string] : undefined));
}

// The fields ResponsesSession reads, and nothing more: `#onFrame` routes on `stream_id`, `#onEvent`
// reads the rest, the tool loop reads function calls, `outputText` reads message text.
const streamId = z.string().optional();

const functionCallItem = z.object({ type: z.literal('function_call'), call_id: z.string(), name: z.string(), arguments: z.string() });
const outputTextPart = z.object({ type: z.literal('output_text'), text: z.string() });
// A refusal is what the model says instead of an answer: its words are the reply the user sees.
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
const messageItem = z.object({ type: z.literal('message'), content: z.array(byType({ output_text: outputTextPart, refusal: refusalPart })) });
const outputItem = byType({ function_call: functionCallItem, message: messageItem });

const usage = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  input_tokens_details: z.object({ cached_tokens: z.number().optional() }).optional(),
});
// `usage` is null on some terminal responses (the emulator's `response.failed`), absent on others.
const finishedResponse = z.object({ id: z.string(), output: z.array(outputItem), usage: usage.nullable().optional() });

const created = z.object({ type: z.literal('response.created'), stream_id: streamId });
const textDelta = z.object({ type: z.literal('response.output_text.delta'), stream_id: streamId, delta: z.string() });
const refusalDelta = z.object({ type: z.literal('response.refusal.delta'), stream_id: streamId, delta: z.string() });
const completed = z.object({ type: z.literal('response.completed'), stream_id: streamId, response: finishedResponse });
const incomplete = z.object({ type: z.literal('response.incomplete'), stream_id: streamId, response: finishedResponse });
const failed = z.object({
  type: z.literal('response.failed'),
  stream_id: streamId,
  // Codes stay open strings: the server may name a code this SDK version does not list.
  response: z.object({ error: z.object({ code: z.string().nullable(), message: z.string() }).nullable() }),
});
// Both error shapes (PROTOCOL.md §1): the request error nests its details, the in-stream one is flat.
const errorDetails = {
  code: z.string().nullable().optional(),
  message: z.string(),
  param: z.string().nullable().optional(),
};
const requestError = z.object({
  type: z.literal('error'),
  stream_id: streamId,
  status: z.number().optional(),
  error: z.object({ ...errorDetails, type: z.string().optional(), headers: z.record(z.string(), z.string()).optional() }),
});
const streamError = z.object({ type: z.literal('error'), stream_id: streamId, ...errorDetails });
const error = delegating((value) => ('error' in value ? requestError : streamError));

/** The event types the session acts on: each is checked for the fields it reads before use. */
const checkedEvents = {
  'response.created': created,
  'response.output_text.delta': textDelta,
  'response.refusal.delta': refusalDelta,
  'response.completed': completed,
  'response.incomplete': incomplete,
  'response.failed': failed,
  error,
} as const;

// Tied to the SDK at compile time, in both directions: every event the `openai` types allow passes
// its schema (so no field is demanded that the SDK calls optional, nor typed differently), and every
// field a schema names is a field of the SDK type (so a renamed or removed field fails the build).
type Fits<Sdk, Parsed> = [Sdk] extends [Parsed] ? true : false;
type Assert<T extends true> = T;
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] } & string;
type KeysOf<T> = T extends unknown ? keyof T : never;
type FieldOf<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;
/** The paths of fields in `Parsed` that the SDK type `Sdk` does not have; `never` when all are known. */
type UnknownFields<Parsed, Sdk, Path extends string = ''> = Parsed extends readonly (infer Item)[]
  ? UnknownFields<Item, NonNullable<Sdk> extends readonly (infer SdkItem)[] ? SdkItem : never, `${Path}[]`>
  : Parsed extends object
    ? {
        [K in KnownKeys<Parsed>]: K extends KeysOf<NonNullable<Sdk>> ? UnknownFields<Parsed[K], FieldOf<NonNullable<Sdk>, K>, `${Path}.${K}`> : `${Path}.${K}`;
      }[KnownKeys<Parsed>]
    : never;
type Agrees<Parsed, Sdk> = [UnknownFields<Parsed, Sdk>] extends [never] ? Fits<Sdk, Parsed> : false;

export type SchemasMatchTheSdk = [
  Assert<Agrees<z.infer<typeof functionCallItem>, OutputItemOf<'function_call'>>>,
  Assert<Agrees<z.infer<typeof messageItem>, OutputItemOf<'message'>>>,
  Assert<Agrees<z.infer<typeof outputTextPart>, OutputPartOf<'output_text'>>>,
  Assert<Agrees<z.infer<typeof refusalPart>, OutputPartOf<'refusal'>>>,
  Assert<Agrees<z.infer<typeof usage>, ResponseUsage>>,
  Assert<Agrees<z.infer<typeof created>, ServerEventOf<'response.created'>>>,
  Assert<Agrees<z.infer<typeof textDelta>, ServerEventOf<'response.output_text.delta'>>>,
  Assert<Agrees<z.infer<typeof refusalDelta>, ServerEventOf<'response.refusal.delta'>>>,
  Assert<Agrees<z.infer<typeof completed>, ServerEventOf<'response.completed'>>>,
  Assert<Agrees<z.infer<typeof incomplete>, ServerEventOf<'response.incomplete'>>>,
  Assert<Agrees<z.infer<typeof failed>, ServerEventOf<'response.failed'>>>,
  Assert<Agrees<z.infer<typeof requestError>, ResponsesServerEvent.ResponseWsError>>,
  Assert<Agrees<z.infer<typeof streamError>, ResponsesServerEvent.ResponseWsStreamingError>>,
];

/** Which lane a frame named: its `stream_id`, none (the default lane), or one that cannot be read. */
export type FrameLane = { kind: 'named'; streamId: string } | { kind: 'default' } | { kind: 'unreadable' };

export type ParsedFrame =
  | { ok: true; event: ResponsesServerEvent }
  | {
      ok: false;
      reason: string;
      excerpt: string;
      /** The frame's `type`, when it had a readable one. */
      type: string | null;
      lane: FrameLane;
      /**
       * Whether the frame, had it been readable, would have ended the request it belongs to: a
       * terminal event always; `error` only before `response.created` (after it, `response.failed` follows).
       */
      ends: 'always' | 'before-created' | 'never';
    };

const terminalTypes: ReadonlySet<string> = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Parses one server frame at the edge: JSON, an object with a string `type`, and for the events the
 * session acts on, every field it reads. The event returned is the frame itself, untouched.
 */
export function parseServerFrame(raw: string): ParsedFrame {
  if (raw.length > maxServerFrameBytes) return refusal(raw, `frame of ${raw.length} bytes exceeds the ${maxServerFrameBytes}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return refusal(raw, `not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) return refusal(raw, 'not a JSON object');
  const type = value.type;
  if (typeof type !== 'string' || type.length === 0) return refusal(raw, 'missing a string "type" field');
  // Unknown event types pass through: the session ignores what it does not handle. A checked type
  // the quick check accepts is done; anything else the schema decides, and explains.
  if (!Object.hasOwn(checkedEvents, type) || quickChecks[type]?.(value) === true) return { ok: true, event: value as unknown as ResponsesServerEvent };
  const problem = explainServerEvent(value);
  if (problem === null) return { ok: true, event: value as unknown as ResponsesServerEvent };
  const lane = value.stream_id;
  const frameLane: FrameLane = lane === undefined ? { kind: 'default' } : typeof lane === 'string' ? { kind: 'named', streamId: lane } : { kind: 'unreadable' };
  return refusal(raw, `a "${type}" event ${problem}`, type, frameLane);
}

/**
 * What is wrong with an event of a type the session acts on, by its schema ("with response.id:
 * expected string, received undefined"), or null when it has every field the session reads.
 */
export function explainServerEvent(value: Record<string, unknown>): string | null {
  const type = String(value.type);
  const schema = Object.hasOwn(checkedEvents, type) ? checkedEvents[type as keyof typeof checkedEvents] : undefined;
  const result = schema?.safeParse(value);
  return result === undefined || result.success ? null : describeIssues(result.error.issues);
}

function refusal(raw: string, reason: string, type: string | null = null, lane: FrameLane = { kind: 'unreadable' }): ParsedFrame {
  return {
    ok: false,
    reason,
    excerpt: raw.length > 120 ? `${raw.slice(0, 120)}…` : raw,
    type,
    lane,
    ends: type === null ? 'never' : terminalTypes.has(type) ? 'always' : type === 'error' ? 'before-created' : 'never',
  };
}

// The quick checks: the same fields as the schemas above, tested in place for the events that come
// by the dozen per reply (a delta per token), without the copy a schema parse builds. They only
// ever accept; whatever they do not accept goes to the schema. A test holds them to the schemas.
type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

function isOutputItem(value: unknown): boolean {
  if (!isObject(value) || typeof value.type !== 'string') return false;
  if (value.type === 'function_call') return typeof value.call_id === 'string' && typeof value.name === 'string' && typeof value.arguments === 'string';
  if (value.type !== 'message') return true;
  return (
    Array.isArray(value.content) &&
    value.content.every((part) => isObject(part) && typeof part.type === 'string' && (part.type !== 'output_text' || typeof part.text === 'string') && (part.type !== 'refusal' || typeof part.refusal === 'string'))
  );
}

function isUsage(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (!isObject(value) || typeof value.input_tokens !== 'number' || typeof value.output_tokens !== 'number') return false;
  const details = value.input_tokens_details;
  return details === undefined || (isObject(details) && (details.cached_tokens === undefined || typeof details.cached_tokens === 'number'));
}

function isFinished(event: Json): boolean {
  const response = event.response;
  return isOptionalString(event.stream_id) && isObject(response) && typeof response.id === 'string' && Array.isArray(response.output) && response.output.every(isOutputItem) && isUsage(response.usage);
}

const quickChecks: Readonly<Record<string, (event: Json) => boolean>> = {
  'response.created': (event) => isOptionalString(event.stream_id),
  'response.output_text.delta': (event) => isOptionalString(event.stream_id) && typeof event.delta === 'string',
  'response.refusal.delta': (event) => isOptionalString(event.stream_id) && typeof event.delta === 'string',
  'response.completed': isFinished,
  'response.incomplete': isFinished,
};

/** "with response.id expected string, received undefined", for the first few issues. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const path = issue.path.length === 0 ? 'the event' : issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('').replace(/^\./, '');
    return `${path}: ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return `with ${shown.join('; ')}${more}`;
}

export interface WireError {
  code: string | null;
  type: string | null;
  message: string;
  param: string | null;
  status: number | null;
  streamId: string | null;
  /** Response headers the server attached (e.g. `retry-after` on a 429). */
  headers?: Record<string, string>;
}

/**
 * Reads both error shapes: the WebSocket request error `{error:{code,message,…}, status}`
 * (RESP:11089) and the in-stream `{code, message, param}` (RESP:3513), which real servers nest
 * under `error` too (PROTOCOL.md §1, fixture openai-error).
 */
export function readWireError(event: { type: 'error' } & Record<string, unknown>): WireError {
  const nested = typeof event.error === 'object' && event.error !== null ? (event.error as Record<string, unknown>) : null;
  const source = nested ?? event;
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  const headers = [source.headers, event.headers].find((value): value is Record<string, string> => typeof value === 'object' && value !== null);
  return {
    ...(headers === undefined ? {} : { headers }),
    code: text(source.code),
    type: text(source.type) === 'error' ? null : text(source.type),
    message: text(source.message) ?? 'The server reported an error without a message.',
    param: text(source.param),
    status: typeof event.status === 'number' ? event.status : null,
    streamId: text(event.stream_id),
  };
}

/** The text of a user message as the ledger stores it. */
/** A user message; `image` (a data URL) goes with it as an `input_image` part the model looks at. */
export function userMessage(text: string, image?: string): ResponseInputItem {
  return { type: 'message', role: 'user', content: [{ type: 'input_text', text }, ...(image === undefined ? [] : [{ type: 'input_image' as const, image_url: image, detail: 'auto' as const }])] };
}

/** Output items become input items when resent as context; messages and calls carry over as-is. */
export function outputAsInput(item: ResponseOutputItem): ResponseInputItem {
  return item as ResponseInputItem;
}
