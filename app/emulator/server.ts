/**
 * The embedded emulator: a local server that speaks OpenAI's Responses WebSocket protocol, so
 * Parley works with no API key and every test runs without a network.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ResponseCreateEvent, ResponseInputItem } from '../protocol/responses';
import { FaultQueue } from './faults';
import { ResponsesConnection } from './responsesSocket';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Keys that authenticate but are answered as revoked. */
  revokedKeys?: readonly string[];
  deltaIntervalMs?: number;
}

export interface Emulator {
  /** The API root clients use as their base URL, e.g. `http://127.0.0.1:4010/v1`. */
  baseUrl: string;
  port: number;
  faults: FaultQueue;
  /** Every `response.create` received, in order, for tests that check what a client sent. */
  requests: ResponseCreateEvent[];
  /** Closes every open connection (code 1001), as a server restart would. */
  dropConnections(): void;
  close(): Promise<void>;
}

const apiRoot = '/v1';

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const faults = new FaultQueue();
  const requests: ResponseCreateEvent[] = [];
  const stored = new Map<string, readonly ResponseInputItem[]>();
  const revoked = new Set(options.revokedKeys ?? []);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });

  const server = createServer((request, response) => notFound(request, response));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://emulator').pathname;
    if (path !== `${apiRoot}/responses`) {
      rejectUpgrade(socket, 404, { type: 'invalid_request_error', code: 'not_found', message: `No WebSocket endpoint at ${path}.`, param: null });
      return;
    }
    const key = bearerKey(request);
    if (key === null) {
      rejectUpgrade(socket, 401, {
        type: 'invalid_request_error',
        code: null,
        message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        param: null,
      });
      return;
    }
    if (revoked.has(key)) {
      rejectUpgrade(socket, 401, { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.', param: null });
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      new ResponsesConnection({
        ws,
        stored,
        faults,
        deltaIntervalMs: options.deltaIntervalMs ?? 15,
        onRequest: (event) => requests.push(event),
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    baseUrl: `http://${urlHost}:${port}${apiRoot}`,
    port,
    faults,
    requests,
    dropConnections() {
      for (const client of wss.clients) client.close(1001, 'emulator dropping connections');
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function bearerKey(request: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

function rejectUpgrade(socket: Duplex, status: number, error: object): void {
  const body = JSON.stringify({ error });
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function notFound(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify({
    error: { type: 'invalid_request_error', code: 'not_found', message: `Unknown request URL: ${request.method} ${request.url}.`, param: null },
  });
  response.writeHead(404, { 'Content-Type': 'application/json' }).end(body);
}
