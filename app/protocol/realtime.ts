/**
 * Realtime API wire types, re-exported from the `openai` package, and the edge parser for its
 * server frames. Unknown event types pass through; the session ignores what it does not handle.
 */
import type {
  RealtimeClientEvent,
  RealtimeServerEvent,
  RealtimeFunctionTool,
  RealtimeSessionCreateRequest,
  RealtimeAudioFormats,
} from 'openai/resources/realtime/realtime';

export type { RealtimeClientEvent, RealtimeServerEvent, RealtimeFunctionTool, RealtimeSessionCreateRequest, RealtimeAudioFormats };

export type ParsedRealtimeFrame = { ok: true; event: RealtimeServerEvent } | { ok: false; reason: string };

export function parseRealtimeFrame(raw: string): ParsedRealtimeFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  if (typeof (value as { type?: unknown }).type !== 'string') return { ok: false, reason: 'missing a string "type" field' };
  return { ok: true, event: value as RealtimeServerEvent };
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
