import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { Socket, SocketError, type Heartbeat, type SocketState } from '../../../app/transport/socket';

let server: WebSocketServer | null = null;
afterEach(() => server?.close());

async function listen(onConnection: (ws: WebSocket) => void, autoPong = true): Promise<string> {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong });
  server.on('connection', onConnection);
  await new Promise((resolve) => server?.once('listening', resolve));
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function socketTo(url: string, onMessage: (text: string) => void, states: SocketState[] = [], maxPayloadBytes?: number, heartbeat?: Heartbeat): Socket {
  return new Socket({
    url,
    headers: {},
    createWebSocket: (target, options) => new WebSocket(target, options),
    now: () => performance.now(),
    onMessage,
    onStateChange: (state) => states.push(state),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(heartbeat === undefined ? {} : { heartbeat }),
  });
}

function closed(socket: Socket): Promise<Extract<SocketState, { status: 'closed' }>> {
  return new Promise((resolve) => {
    const check = (): void => {
      const state = socket.state;
      if (state.status === 'closed') resolve(state);
      else setImmediate(check);
    };
    check();
  });
}

describe('Socket', () => {
  it('counts the bytes and frames it sends and receives', async () => {
    const url = await listen((ws) => ws.on('message', (data) => ws.send(`echo:${data.toString()}`)));
    const received: string[] = [];
    const socket = socketTo(url, (text) => received.push(text));
    await socket.connect();
    const bytes = socket.send({ hello: 'wörld' });
    expect(bytes).toBe(Buffer.byteLength('{"hello":"wörld"}'));
    await expect.poll(() => received).toEqual(['echo:{"hello":"wörld"}']);
    expect(socket.meters).toEqual({ bytesSent: bytes, framesSent: 1, bytesReceived: bytes + 5, framesReceived: 1 });
    socket.close();
  });

  it('closes with 1009 and says so when the server sends an oversized frame', async () => {
    const url = await listen((ws) => ws.send('x'.repeat(2048)));
    const states: SocketState[] = [];
    const socket = socketTo(url, () => undefined, states, 1024);
    await socket.connect();
    await expect.poll(() => socket.state.status).toBe('closed');
    expect(socket.state).toMatchObject({ status: 'closed', problem: { code: 'malformed_frame', message: expect.stringContaining('larger than Parley accepts') } });
    expect(states.map((state) => state.status)).toEqual(['connecting', 'open', 'closed']);
  });

  it('refuses to send before it is open, with a clear error', () => {
    const socket = socketTo('ws://127.0.0.1:9/', () => undefined);
    expect(() => socket.send({})).toThrow(SocketError);
    expect(() => socket.send({})).toThrow(/Not connected to 127\.0\.0\.1:9/);
  });

  it('explains an HTTP error instead of a WebSocket upgrade', async () => {
    // A plain HTTP 404 from a server that does not speak WebSocket at this path.
    const http = await import('node:http');
    const plain = http.createServer((_request, response) => response.writeHead(404).end('no'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as { port: number }).port;
    const refused = socketTo(`ws://127.0.0.1:${port}/v1/responses`, () => undefined);
    await expect(refused.connect()).rejects.toMatchObject({
      problem: { code: 'connection_failed', message: expect.stringContaining('HTTP 404') },
    });
    plain.close();
  });

  it('contains a handler that throws: the process survives, no further frames arrive, and the close says why', async () => {
    const url = await listen((ws) => {
      ws.send('first');
      ws.send('second');
    });
    const received: string[] = [];
    const socket = socketTo(url, (text) => {
      received.push(text);
      throw new Error('renderer went away');
    });
    await socket.connect();
    const state = await closed(socket);
    expect(received).toEqual(['first']);
    expect(state).toMatchObject({ code: 1006, problem: { code: 'internal', message: expect.stringContaining('renderer went away') } });
  });

  it('drops a server that stops answering pings within interval + timeout, as an abnormal close', async () => {
    const heartbeat = { intervalMs: 40, timeoutMs: 60 };
    const pings: number[] = [];
    // autoPong off: the server reads our pings and never answers, like a half-open connection.
    const url = await listen((ws) => ws.on('ping', () => pings.push(performance.now())), false);
    const socket = socketTo(url, () => undefined, [], undefined, heartbeat);
    await socket.connect();
    const openedAt = performance.now();
    const state = await closed(socket);
    const detectedMs = performance.now() - openedAt;
    expect(state).toMatchObject({ code: 1006, problem: { code: 'connection_failed', message: expect.stringContaining('no reply to a ping within 60 ms') } });
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(detectedMs).toBeGreaterThanOrEqual(heartbeat.intervalMs + heartbeat.timeoutMs - 5);
    // Generous slack for a loaded machine; the default bound is 25 s, so this still tells a stuck heartbeat apart.
    expect(detectedMs).toBeLessThan(heartbeat.intervalMs + heartbeat.timeoutMs + 2000);
  });

  it('keeps a connection whose server answers pings open, ping after ping', async () => {
    let pings = 0;
    const url = await listen((ws) => ws.on('ping', () => (pings += 1)));
    const socket = socketTo(url, () => undefined, [], undefined, { intervalMs: 20, timeoutMs: 30 });
    await socket.connect();
    await expect.poll(() => pings, { timeout: 5000 }).toBeGreaterThanOrEqual(5);
    expect(socket.state.status).toBe('open');
    socket.close();
  });

  it('counts any frame as a sign of life, so a busy stream is never mistaken for a dead one', async () => {
    const url = await listen((ws) => {
      // Frames keep coming though pongs never do.
      const timer = setInterval(() => ws.send('tick'), 5);
      ws.on('close', () => clearInterval(timer));
    }, false);
    const received: string[] = [];
    const socket = socketTo(url, (text) => received.push(text), [], undefined, { intervalMs: 10, timeoutMs: 300 });
    await socket.connect();
    // 150 ticks take well over interval + timeout.
    await expect.poll(() => received.length, { timeout: 8000 }).toBeGreaterThanOrEqual(150);
    expect(socket.state.status).toBe('open');
    socket.close();
  }, 15_000);
});
