/**
 * Browser mode: the same composition root in plain Node, its renderer served on 127.0.0.1 and the
 * contract carried over a loopback WebSocket that demands this launch's token and our Origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { bridgeCallFrame, maxMessageLength } from '../app/contract';
import type { Copilot, Logger } from '../app/host/copilot';
import { contentSecurityPolicy } from './csp';

export interface BrowserModeOptions {
  copilot: Copilot;
  rendererDir: string;
  log: Logger;
  port?: number;
  token?: string;
}

export interface BrowserMode {
  /** The page's address, token included: the one thing to open. */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

export const bridgePath = '/bridge';

/**
 * Browser mode's own lines, which come first so a person (or a script) finds the address at once:
 * the page's URL, then the embedded emulator's when there is no key.
 */
export function readyLines(pageUrl: string, emulatorBaseUrl: string | null): string[] {
  const lines = [`Parley is running in browser mode: open ${pageUrl}`];
  if (emulatorBaseUrl !== null) lines.push(`Embedded emulator (offline, no OPENAI_API_KEY): ${emulatorBaseUrl}`);
  return lines;
}

export interface StartupLog {
  log: Logger;
  /** Call once the ready lines are printed: held warnings and errors follow them. */
  ready(): void;
}

/**
 * Logs for browser mode. `--verbose` passes everything through as it happens; otherwise info lines
 * are dropped, and warnings and errors wait until the ready lines are out (then go straight through).
 */
export function startupLog(inner: Logger, verbose: boolean): StartupLog {
  if (verbose) return { log: inner, ready: () => undefined };
  let held: (() => void)[] | null = [];
  const later = (write: () => void): void => {
    if (held === null) write();
    else held.push(write);
  };
  return {
    log: {
      info: () => undefined,
      warn: (message, fields) => later(() => inner.warn(message, fields)),
      error: (message, fields) => later(() => inner.error(message, fields)),
    },
    ready() {
      const writes = held ?? [];
      held = null;
      for (const write of writes) write();
    },
  };
}

/**
 * Far above the largest valid call (a message of `maxMessageLength` characters, at most 6 bytes
 * each once JSON-escaped), so an over-long message is refused by the contract with a reason the
 * page can show, not by the socket with a close; only a frame beyond this is closed with 1009.
 */
export const maxBridgeFrameBytes = Math.max(8 * 1024 * 1024, maxMessageLength * 6 * 4);

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const securityHeaders = {
  'Content-Security-Policy': contentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export async function startBrowserMode(options: BrowserModeOptions): Promise<BrowserMode> {
  const { copilot, rendererDir, log } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBridgeFrameBytes });
  let origin = '';

  const server = createServer((request, response) => {
    // A page whose bridge socket was refused cannot read the refusal's status; it asks here, so
    // a link from an earlier run is told apart from a server that stopped.
    const target = requestTarget(request.url, 'http://localhost');
    if (target?.pathname === bridgePath) {
      const status = sameSecret(target.searchParams.get('token') ?? '', token) ? 204 : 401;
      response.writeHead(status, securityHeaders).end();
      return;
    }
    void serveStatic(rendererDir, request, response).catch((error: unknown) => {
      log.error('browser mode could not serve a file', { url: request.url, error: (error as Error).message });
      if (!response.headersSent) response.writeHead(500, securityHeaders).end('Internal error');
      else response.destroy();
    });
  });

  // Nothing a client sends may throw out of a handler: that would end the process and the conversation.
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener from an upgraded socket; a reset here must not be fatal.
    socket.on('error', () => socket.destroy());
    try {
      const url = requestTarget(request.url, origin);
      if (url === null) return refuse(socket, 400, 'That request target cannot be read.');
      if (url.pathname !== bridgePath) return refuse(socket, 404, 'No WebSocket here.');
      if (request.headers.origin !== origin) {
        log.warn('browser mode refused a bridge connection from another origin', { origin: request.headers.origin ?? null });
        return refuse(socket, 403, 'Wrong origin.');
      }
      if (!sameSecret(url.searchParams.get('token') ?? '', token)) {
        log.warn('browser mode refused a bridge connection without the launch token');
        return refuse(socket, 401, 'Missing or wrong token.');
      }
      wss.handleUpgrade(request, socket, head, (ws) => attach(ws, copilot, log));
    } catch (error) {
      log.error('browser mode failed on a bridge connection', { error: (error as Error).message });
      if (socket.writable) refuse(socket, 400, 'Bad request.');
      else socket.destroy();
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  // Once listening, a server error (out of file descriptors, say) is logged, not thrown.
  server.on('error', (error) => log.error('browser mode server error', { error: error.message }));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function attach(ws: WebSocket, copilot: Copilot, log: Logger): void {
  const send = (frame: unknown): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const stop = copilot.onEvent((event) => send({ type: 'event', event }));
  ws.on('close', stop);
  // A protocol violation (oversized, invalid UTF-8, bad opcode, unmasked) makes `ws` close this
  // socket with the right code (1009, 1007, 1002) and emit 'error'; unheard, that would end the process.
  ws.on('error', (error: Error & { code?: string }) => {
    log.warn('browser mode closed a bridge connection after a protocol error', { code: error.code ?? null, error: error.message });
  });
  ws.on('message', (data) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      frame = undefined;
    }
    const parsed = bridgeCallFrame.safeParse(frame);
    if (!parsed.success) {
      log.warn('browser mode refused a malformed bridge frame');
      send({
        type: 'result',
        id: null,
        result: { ok: false, problem: { code: 'invalid_payload', message: 'The page sent a message Parley could not read.', hint: 'Reload the page.' } },
      });
      return;
    }
    const { id, channel, payload } = parsed.data;
    void copilot.call(channel, payload).then(
      (result) => send({ type: 'result', id, result }),
      (error: unknown) => {
        log.error('browser mode: a bridge call failed', { channel, error: (error as Error).message });
        send({ type: 'result', id, result: { ok: false, problem: { code: 'internal', message: 'Parley failed while handling that.', hint: 'Try again; restart Parley if it keeps happening.' } } });
      },
    );
  });
}

async function serveStatic(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...securityHeaders, Allow: 'GET, HEAD' }).end();
    return;
  }
  const target = requestTarget(request.url, 'http://localhost');
  const pathname = target === null ? null : decodeOrNull(target.pathname);
  if (pathname === null) {
    response.writeHead(400, { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' }).end('Bad request');
    return;
  }
  const relative = pathname === '/' ? 'index.html' : normalize(pathname).replace(/^[/\\]+/, '');
  const file = join(root, relative);
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    response.writeHead(403, securityHeaders).end('Forbidden');
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    response.writeHead(404, { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
    return;
  }
  const type = contentTypes[extname(file)] ?? 'application/octet-stream';
  response.writeHead(200, { ...securityHeaders, 'Content-Type': type, 'Content-Length': body.byteLength });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request's target as a URL, or null when it cannot be parsed (`//[`, `http://[::1`). */
function requestTarget(raw: string | undefined, base: string): URL | null {
  try {
    return new URL(raw ?? '/', base);
  } catch {
    return null;
  }
}

function decodeOrNull(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return null;
  }
}

/** A request Node could not parse: answer it if the socket still can be, then let it go. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code !== 'ECONNRESET' && socket.writable) {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    return;
  }
  socket.destroy();
}

function refuse(socket: Duplex, status: number, message: string): void {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Bad Request';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}
