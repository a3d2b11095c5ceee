/**
 * A Responses WebSocket server that answers each request with the next scripted output (a list
 * of output items), for session tests that need exact model behaviour: repeated call ids, endless
 * tool calls, arguments that are not JSON. It records every request it received.
 */
import { WebSocketServer, type WebSocket } from 'ws';

export interface ScriptedResponses {
  baseUrl: string;
  received: Array<Record<string, unknown>>;
  close(): void;
}

export async function scriptedServer(outputs: unknown[][], behaviour: { alwaysMiss?: boolean } = {}): Promise<ScriptedResponses> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const received: Array<Record<string, unknown>> = [];
  let next = 0;
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const request = JSON.parse(data.toString()) as Record<string, unknown>;
      received.push(request);
      const send = (event: object) => ws.send(JSON.stringify(event));
      if (request.previous_response_id && behaviour.alwaysMiss) {
        send({ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'previous_response_not_found', message: 'gone', param: 'previous_response_id' } });
        return;
      }
      if (behaviour.alwaysMiss && request.generate !== false) {
        send({ type: 'error', status: 500, error: { type: 'server_error', code: 'server_error', message: 'still failing', param: null } });
        return;
      }
      const output = request.generate === false ? [] : (outputs[next++] ?? []);
      const response = { id: `resp_${received.length}`, object: 'response', status: 'completed', output, usage: null };
      send({ type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [] } });
      send({ type: 'response.completed', sequence_number: 1, response });
    }),
  );
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}/v1`, received, close: () => wss.close() };
}

export type Frame = Record<string, unknown>;

export interface FrameServer {
  baseUrl: string;
  /** Every `response.create` received, warmups included, in order. */
  creates: Frame[];
  connections: WebSocket[];
  /** Each connection's Authorization header. */
  headers: Array<string | undefined>;
  close(): Promise<void>;
}

/** Where a `response.create` arrived: its place among all of them (from 0), its connection (from 1), the socket. */
export interface Arrival {
  index: number;
  connection: number;
  ws: WebSocket;
}

/**
 * A Responses WebSocket endpoint whose every frame the test writes: each `response.create` is
 * answered with `reply(create, arrival)`, objects sent as JSON and strings as they are (for
 * broken frames). `autoPong` says per connection whether it answers pings (a silent server).
 */
export async function frameServer(reply: (create: Frame, arrival: Arrival) => Array<Frame | string>, options: { autoPong?: (connection: number) => boolean } = {}): Promise<FrameServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/responses', autoPong: false });
  const creates: Frame[] = [];
  const connections: WebSocket[] = [];
  const headers: Array<string | undefined> = [];
  wss.on('connection', (ws, request) => {
    const connection = connections.push(ws);
    headers.push(request.headers.authorization);
    const answersPings = options.autoPong?.(connection) ?? true;
    ws.on('ping', (data) => {
      if (answersPings) ws.pong(data);
    });
    ws.on('message', (data) => {
      const create = JSON.parse(data.toString()) as Frame;
      const index = creates.push(create) - 1;
      for (const frame of reply(create, { index, connection, ws })) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    creates,
    connections,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
