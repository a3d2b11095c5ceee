/**
 * Responses API wire types, re-exported from the `openai` package (never hand-copied), and the
 * edge parser that turns a raw frame into a typed server event or a clear refusal.
 */
import type {
  ResponsesClientEvent,
  ResponsesServerEvent,
  ResponseInputItem,
  ResponseOutputItem,
  Response,
  ResponseUsage,
} from 'openai/resources/responses/responses';

export type { ResponsesClientEvent, ResponsesServerEvent, ResponseInputItem, ResponseOutputItem, Response, ResponseUsage };

export type ResponseCreateEvent = ResponsesClientEvent.ResponseCreate;
export type ResponseWsError = ResponsesServerEvent.ResponseWsError;

/** Largest server frame we accept; a bigger one is refused rather than parsed. */
export const maxServerFrameBytes = 16 * 1024 * 1024;

export type ParsedFrame =
  | { ok: true; event: ResponsesServerEvent }
  | { ok: false; reason: string; excerpt: string };

export function parseServerFrame(raw: string): ParsedFrame {
  const excerpt = raw.length > 120 ? `${raw.slice(0, 120)}…` : raw;
  if (raw.length > maxServerFrameBytes) {
    return { ok: false, reason: `frame of ${raw.length} bytes exceeds the ${maxServerFrameBytes}-byte limit`, excerpt: excerpt };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})`, excerpt };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object', excerpt };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) {
    return { ok: false, reason: 'missing a string "type" field', excerpt };
  }
  // Unknown event types pass through: the session ignores what it does not handle.
  return { ok: true, event: value as ResponsesServerEvent };
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
export function userMessage(text: string): ResponseInputItem {
  return { type: 'message', role: 'user', content: [{ type: 'input_text', text }] };
}

/** Output items become input items when resent as context; messages and calls carry over as-is. */
export function outputAsInput(item: ResponseOutputItem): ResponseInputItem {
  return item as ResponseInputItem;
}
