/**
 * A Realtime server on loopback that a test speaks for, for what the emulator never sends on a
 * transcription socket (a failed transcription, an error, a broken frame, silence), or on a voice
 * socket (deltas after a cancel, text output, errors in races): it says `session.created`, answers
 * each `session.update` unless `quiet`, and sends what it is given.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

type Json = Record<string, unknown>;

export interface ScriptedRealtime {
  /** The base URL to give a session (`/v1`). */
  baseUrl: string;
  /** Sends an event on the latest socket, with a server event id. */
  send(event: Json): void;
  /** Sends text as it is, JSON or not. */
  raw(text: string): void;
  /** Cuts the latest socket without a close frame (code 1006 on the client): a lost connection. */
  drop(): void;
  /** Closes the latest socket with a close frame of `code`, as the server ends a session. */
  end(code: number): void;
  /** The client's frames on every socket, in order. */
  received: Json[];
  /** While true, `session.update` goes unanswered (starts as the `quiet` option). */
  quiet: boolean;
  /** The client's frames of one type so far. */
  sent(type: string): Json[];
  /** The `count`-th client frame of `type` (1 = the first), already received or still to come. */
  until(type: string, count?: number): Promise<Json>;
  close(): Promise<void>;
}

export async function scriptedRealtime(options: { quiet?: boolean } = {}): Promise<ScriptedRealtime> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let socket: WebSocket | null = null;
  let serverEvents = 0;
  const received: Json[] = [];
  const waiters: Array<{ type: string; count: number; resolve: (frame: Json) => void }> = [];
  const sent = (type: string) => received.filter((frame) => frame.type === type);
  const send = (event: Json) => socket?.send(JSON.stringify({ event_id: `event_${(serverEvents += 1)}`, ...event }));
  server.on('connection', (ws: WebSocket) => {
    socket = ws;
    send({ type: 'session.created', session: { type: 'transcription', object: 'realtime.transcription_session', id: 'sess_scripted' } });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Json;
      received.push(message);
      for (const waiter of [...waiters]) {
        const frame = sent(waiter.type)[waiter.count - 1];
        if (frame === undefined) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
      if (message.type === 'session.update' && !scripted.quiet) send({ type: 'session.updated', session: message.session as Json });
    });
  });
  const { port } = server.address() as AddressInfo;
  const scripted: ScriptedRealtime = {
    quiet: options.quiet === true,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    send,
    raw: (text) => socket?.send(text),
    drop: () => socket?.terminate(),
    end: (code) => socket?.close(code),
    received,
    sent,
    until: (type, count = 1) => {
      const seen = sent(type)[count - 1];
      return seen === undefined ? new Promise<Json>((resolve) => waiters.push({ type, count, resolve })) : Promise.resolve(seen);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
  return scripted;
}
