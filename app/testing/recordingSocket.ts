/**
 * A WebSocket factory that opens real `ws` sockets and records every text frame each one sends and
 * receives, tagged with the protocol its URL speaks, so a test can check what went over the wire.
 * Like the rest of app/testing it never keeps a key: it notes only that one was sent.
 */
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import type { WebSocketFactory } from '../transport/socket';

export type Protocol = 'responses' | 'realtime';
export type Direction = 'client' | 'server';

export interface RecordedFrame {
  protocol: Protocol;
  direction: Direction;
  /** Which socket of the run (1-based), and the URL path it opened, for failure messages. */
  socket: number;
  path: string;
  frame: Record<string, unknown>;
}

export interface RecordedSocket {
  socket: number;
  path: string;
  protocol: Protocol;
  /** Whether an `Authorization` header went with the upgrade; the key itself is never kept. */
  apiKeyProvided: boolean;
}

export interface FrameRecorder {
  createWebSocket: WebSocketFactory;
  frames: RecordedFrame[];
  sockets: RecordedSocket[];
  /** Frames that were not JSON objects with a string `type` (a deviation in itself). */
  unparsable: Array<{ socket: number; direction: Direction; text: string }>;
  /** Frames the client sent of `type`, in order, across every socket. */
  sent(type: string): Array<Record<string, unknown>>;
  /** Frames the server sent of `type`, in order, across every socket. */
  received(type: string): Array<Record<string, unknown>>;
}

function protocolOf(url: URL): Protocol {
  if (url.pathname.endsWith('/responses')) return 'responses';
  if (url.pathname.endsWith('/realtime')) return 'realtime';
  throw new Error(`recorder: no protocol for ${url.pathname}`);
}

function hasAuthorization(options: ClientOptions): boolean {
  const headers = (options.headers ?? {}) as Record<string, unknown>;
  return Object.entries(headers).some(([name, value]) => name.toLowerCase() === 'authorization' && typeof value === 'string' && value.length > 0);
}

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export function frameRecorder(): FrameRecorder {
  const frames: RecordedFrame[] = [];
  const sockets: RecordedSocket[] = [];
  const unparsable: FrameRecorder['unparsable'] = [];
  const record = (socket: RecordedSocket, direction: Direction, raw: string): void => {
    try {
      const frame = JSON.parse(raw) as unknown;
      if (typeof frame === 'object' && frame !== null && !Array.isArray(frame) && typeof (frame as { type?: unknown }).type === 'string') {
        frames.push({ protocol: socket.protocol, direction, socket: socket.socket, path: socket.path, frame: frame as Record<string, unknown> });
        return;
      }
    } catch {
      // Falls through to `unparsable`.
    }
    unparsable.push({ socket: socket.socket, direction, text: raw.slice(0, 200) });
  };

  const createWebSocket: WebSocketFactory = (url, options) => {
    const parsed = new URL(url);
    const recorded: RecordedSocket = { socket: sockets.length + 1, path: `${parsed.pathname}${parsed.search}`, protocol: protocolOf(parsed), apiKeyProvided: hasAuthorization(options) };
    sockets.push(recorded);
    const ws = new WebSocket(url, options);
    // Registered before the session's own listener, so frames are recorded in arrival order.
    ws.on('message', (data: RawData, isBinary: boolean) => record(recorded, 'server', isBinary ? '<binary>' : text(data)));
    const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
    ws.send = ((data: unknown, ...rest: unknown[]) => {
      record(recorded, 'client', typeof data === 'string' ? data : String(data));
      send(data, ...rest);
    }) as typeof ws.send;
    return ws;
  };
  const of = (direction: Direction, type: string) => frames.filter((entry) => entry.direction === direction && entry.frame.type === type).map((entry) => entry.frame);
  return { createWebSocket, frames, sockets, unparsable, sent: (type) => of('client', type), received: (type) => of('server', type) };
}
