/**
 * A WebSocket factory that records every text frame each socket sends and receives, tagged with
 * the protocol its URL speaks, so a whole run can be checked against the spec afterwards.
 */
import { WebSocket, type RawData } from 'ws';
import type { WebSocketFactory } from '../../app/transport/socket';

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

export interface FrameRecorder {
  createWebSocket: WebSocketFactory;
  frames: RecordedFrame[];
  /** Frames that were not JSON objects with a string `type` (a deviation in itself). */
  unparsable: Array<{ socket: number; direction: Direction; text: string }>;
}

function protocolOf(url: URL): Protocol {
  if (url.pathname.endsWith('/responses')) return 'responses';
  if (url.pathname.endsWith('/realtime')) return 'realtime';
  throw new Error(`recorder: no protocol for ${url.pathname}`);
}

export function frameRecorder(): FrameRecorder {
  const frames: RecordedFrame[] = [];
  const unparsable: FrameRecorder['unparsable'] = [];
  let sockets = 0;
  const record = (socket: number, protocol: Protocol, path: string, direction: Direction, text: string): void => {
    try {
      const frame = JSON.parse(text) as unknown;
      if (typeof frame === 'object' && frame !== null && !Array.isArray(frame) && typeof (frame as { type?: unknown }).type === 'string') {
        frames.push({ protocol, direction, socket, path, frame: frame as Record<string, unknown> });
        return;
      }
    } catch {
      // Falls through to `unparsable`.
    }
    unparsable.push({ socket, direction, text: text.slice(0, 200) });
  };

  const createWebSocket: WebSocketFactory = (url, options) => {
    const parsed = new URL(url);
    const protocol = protocolOf(parsed);
    const socket = (sockets += 1);
    const path = `${parsed.pathname}${parsed.search}`;
    const ws = new WebSocket(url, options);
    // Registered before the session's own listener, so frames are recorded in arrival order.
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary ? '<binary>' : Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      record(socket, protocol, path, 'server', text);
    });
    const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
    ws.send = ((data: unknown, ...rest: unknown[]) => {
      record(socket, protocol, path, 'client', typeof data === 'string' ? data : String(data));
      send(data, ...rest);
    }) as typeof ws.send;
    return ws;
  };
  return { createWebSocket, frames, unparsable };
}
