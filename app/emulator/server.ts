/**
 * The embedded emulator: a local server that speaks OpenAI's Responses (WebSocket and HTTP) and
 * Realtime protocols, so Parley works with no API key and every test runs without a network.
 * PROTOCOL.md §4 "Emulator must" is the checklist it is tested against.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ResponseCreateEvent } from '../protocol/responses';
import { systemClock, type EmulatorClock } from './clock';
import { FaultQueue, faultSchema, type FaultInput, type Protocol } from './faults';
import { newId } from './ids';
import { modelList } from './models';
import { defaultLatency, type LatencyModel } from './latency';
import { RealtimeSession } from './realtime/session';
import { handleSpeech } from './speechEndpoint';
import { ResponsesConnection, type StoredResponse } from './responses/connection';
import { handleCompact, handleCreate, sendError } from './responses/http';

export interface EmulatorOptions {
  port?: number;
  /** Loopback by default; any other address needs `allowNonLoopback`. */
  host?: string;
  allowNonLoopback?: boolean;
  /** Serve `https:`/`wss:` with a fresh self-signed certificate (or the one given). */
  tls?: boolean | { key: string; cert: string };
  /** Keys that are answered as revoked. */
  revokedKeys?: readonly string[];
  latency?: Partial<LatencyModel>;
  /** Responses WebSocket connection age limit; 60 minutes as on the real service. */
  connectionLimitMs?: number;
  /** Realtime session age limit; 60 minutes as on the real service. */
  realtimeSessionLimitMs?: number;
  clock?: EmulatorClock;
  /** Largest client frame or HTTP body accepted. */
  maxMessageBytes?: number;
  /** How many requests and stored responses are kept (default `historyLimit`). */
  historyLimit?: number;
}

export interface Emulator {
  /** The API root clients use as their base URL, e.g. `http://127.0.0.1:4010/v1`. */
  baseUrl: string;
  port: number;
  /** The certificate's PEM when serving TLS, for clients to trust; null otherwise. */
  certificate: string | null;
  latency: LatencyModel;
  /** The newest `historyLimit` (option or default) `response.create`s received (WebSocket and HTTP), in order. */
  requests: ResponseCreateEvent[];
  /** Queues a fault for the next response, or applies `evict_cache`/`expire_connection` now. */
  inject(fault: FaultInput, protocol?: Protocol): void;
  /**
   * Says what the next utterances committed on a Realtime socket (conversation or transcription)
   * say, in order, since the emulator cannot understand audio: their transcript is this text, and
   * the model reads it as what the user said.
   */
  hear(...utterances: string[]): void;
  /** Closes every open connection with `code` (1001 by default), as a server restart would. */
  dropConnections(code?: number): void;
  close(): Promise<void>;
}

export const sixtyMinutes = 60 * 60 * 1000;
/**
 * How many requests, and stored (`store: true`) responses, the emulator keeps: plenty for any
 * test, and bounded for a day-long session in browser mode, where each one can hold a whole
 * conversation. A stored response older than that answers previous_response_not_found.
 */
export const historyLimit = 1000;
export const controlPath = '/_emulator/faults';
const apiRoot = '/v1';
const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  if (!loopbackHosts.has(host) && !host.startsWith('127.') && options.allowNonLoopback !== true) {
    throw new Error(`Refusing to listen on ${host}: the emulator binds loopback only unless told otherwise (--allow-non-loopback).`);
  }
  const clock = options.clock ?? systemClock;
  const startedS = Math.floor(clock.now() / 1000);
  const latency: LatencyModel = { ...defaultLatency, ...options.latency };
  const maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  const faults = new FaultQueue();
  const hearing: string[] = [];
  const keep = options.historyLimit ?? historyLimit;
  const requests: ResponseCreateEvent[] = [];
  const record = (event: ResponseCreateEvent): void => {
    requests.push(event);
    if (requests.length > keep) requests.splice(0, requests.length - keep);
  };
  const stored = new NewestKept<string, StoredResponse>(keep);
  const revoked = new Set(options.revokedKeys ?? []);
  const live = new Set<ResponsesConnection | RealtimeSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes });
  // The certificate library is loaded only when TLS is asked for: it is slow to load.
  const tls = options.tls === true ? await (await import('./tls')).loopbackCertificate() : options.tls === false || options.tls === undefined ? null : options.tls;

  const inject = (input: FaultInput, protocol?: Protocol): void => {
    const fault = faultSchema.parse(input);
    if (fault.kind === 'evict_cache') live.forEach((connection) => connection.evictCache());
    else if (fault.kind === 'expire_connection') live.forEach((connection) => connection.expire());
    else faults.push(fault, protocol ?? null);
  };
  const track = <T extends ResponsesConnection | RealtimeSession>(connection: T): T => {
    live.add(connection);
    return connection;
  };

  const httpContext = { latency, faults, stored, maxBodyBytes: maxMessageBytes, onRequest: record };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const target = requestTarget(request.url);
    if (target === null) return sendError(response, 400, unreadableTarget);
    void route(request, response, target).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, { type: 'server_error', code: 'server_error', message: `The emulator failed: ${(error as Error).message}`, param: null });
      else response.destroy();
    });
  };
  async function route(request: IncomingMessage, response: ServerResponse, target: URL): Promise<void> {
    const path = target.pathname;
    if (path === controlPath && request.method === 'POST') return control(request, response, inject);
    if (path === '/_emulator/health') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, latency, simulated: true }));
      return;
    }
    const auth = authenticate(request, revoked);
    if (auth !== null) return sendError(response, 401, auth);
    if (path === `${apiRoot}/responses` && request.method === 'POST') return handleCreate(request, response, httpContext);
    if (path === `${apiRoot}/responses/compact` && request.method === 'POST') return handleCompact(request, response, httpContext);
    if (path === `${apiRoot}/audio/speech` && request.method === 'POST') return handleSpeech(request, response, httpContext);
    // The cheap authenticated call a client makes to check a key before it keeps it.
    if (path === `${apiRoot}/models` && request.method === 'GET') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(modelList(startedS)));
      return;
    }
    sendError(response, 404, { type: 'invalid_request_error', code: 'not_found', message: `Unknown request URL: ${request.method} ${path}.`, param: null });
  }

  const server: Server = tls === null ? createHttpServer(onRequest) : createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest);
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = requestTarget(request.url);
    if (url === null) return rejectUpgrade(socket, 400, unreadableTarget);
    const isResponses = url.pathname === `${apiRoot}/responses`;
    const isRealtime = url.pathname === `${apiRoot}/realtime`;
    if (!isResponses && !isRealtime) {
      return rejectUpgrade(socket, 404, { type: 'invalid_request_error', code: 'not_found', message: `No WebSocket endpoint at ${url.pathname}.`, param: null });
    }
    const auth = authenticate(request, revoked);
    // A revoked key reaches the Realtime socket and is closed with 3000 (PROTOCOL.md §2 "Errors").
    if (auth !== null && !(isRealtime && auth.code === 'invalid_api_key')) return rejectUpgrade(socket, 401, auth);
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      // A protocol violation (oversized or broken frame) closes that socket; it must not throw.
      ws.on('error', () => undefined);
      if (isResponses) {
        const connection = track(
          new ResponsesConnection({
            ws,
            clock,
            latency,
            faults,
            stored,
            connectionLimitMs: options.connectionLimitMs ?? sixtyMinutes,
            onRequest: record,
            onClose: () => live.delete(connection),
          }),
        );
        return;
      }
      if (auth !== null) {
        ws.send(JSON.stringify({ type: 'error', event_id: newId('event'), error: { type: 'invalid_request_error', code: 'invalid_api_key', message: auth.message, param: null, event_id: null } }));
        ws.close(3000, 'invalid_request_error.invalid_api_key');
        return;
      }
      const session = track(
        new RealtimeSession({
          ws,
          model: url.searchParams.get('model') ?? 'gpt-realtime',
          intent: url.searchParams.get('intent') === 'transcription' ? 'transcription' : 'conversation',
          clock,
          latency,
          faults,
          hearing,
          sessionLimitMs: options.realtimeSessionLimitMs ?? sixtyMinutes,
          onClose: () => live.delete(session),
        }),
      );
    });
  };
  // Nothing a client sends may throw out of a handler: that would end the process.
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener from an upgraded socket; a reset must not be fatal.
    socket.on('error', () => socket.destroy());
    try {
      onUpgrade(request, socket, head);
    } catch {
      socket.destroy();
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code !== 'ECONNRESET' && socket.writable) {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    } else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  server.on('error', () => undefined); // once listening, e.g. out of file descriptors: keep serving the rest
  const { port } = server.address() as AddressInfo;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;

  return {
    baseUrl: `${tls === null ? 'http' : 'https'}://${urlHost}:${port}${apiRoot}`,
    port,
    certificate: tls?.cert ?? null,
    latency,
    requests,
    inject,
    hear: (...utterances) => void hearing.push(...utterances),
    dropConnections(code = 1001) {
      for (const client of wss.clients) {
        if (code === 1006) client.terminate();
        else client.close(code, 'emulator dropping connections');
      }
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

type ErrorBody = { type: string; code: string | null; message: string; param: string | null };

const unreadableTarget: ErrorBody = { type: 'invalid_request_error', code: 'invalid_url', message: 'The request target cannot be parsed as a URL.', param: null };

/** The request's target as a URL, or null when it cannot be parsed (`//[`, `http://[::1`). */
function requestTarget(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? '/', 'http://emulator');
  } catch {
    return null;
  }
}

function authenticate(request: IncomingMessage, revoked: ReadonlySet<string>): ErrorBody | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  const key = match?.[1];
  if (key === undefined) {
    return {
      type: 'invalid_request_error',
      code: null,
      message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      param: null,
    };
  }
  if (revoked.has(key)) {
    return { type: 'invalid_request_error', code: 'invalid_api_key', message: `Incorrect API key provided: ${key.slice(0, 3)}…${key.slice(-4)}.`, param: null };
  }
  return null;
}

async function control(request: IncomingMessage, response: ServerResponse, inject: (fault: FaultInput, protocol?: Protocol) => void): Promise<void> {
  const parts: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) parts.push(chunk);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'invalid_json', message: 'Send a JSON fault, e.g. {"kind":"drop_socket"}.', param: null });
  }
  const { protocol, ...fault } = (typeof body === 'object' && body !== null ? body : {}) as { protocol?: unknown };
  const parsed = faultSchema.safeParse(fault);
  if (!parsed.success || (protocol !== undefined && protocol !== 'responses' && protocol !== 'realtime' && protocol !== 'speech')) {
    const message = parsed.success ? '"protocol" must be "responses", "realtime" or "speech".' : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'fault'}: ${issue.message}`).join('; ');
    return sendError(response, 400, { type: 'invalid_request_error', code: 'invalid_fault', message, param: null });
  }
  inject(parsed.data, protocol as Protocol | undefined);
  response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, fault: parsed.data }));
}

function rejectUpgrade(socket: Duplex, status: number, error: ErrorBody): void {
  const body = JSON.stringify({ error });
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Bad Request';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** A map that forgets its oldest entries past `limit`. */
class NewestKept<K, V> extends Map<K, V> {
  readonly #limit: number;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    for (const oldest of this.keys()) {
      if (this.size <= this.#limit) break;
      this.delete(oldest);
    }
    return this;
  }
}
