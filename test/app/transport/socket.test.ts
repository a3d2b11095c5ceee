import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { Socket, SocketError, type SocketState } from '../../../app/transport/socket';

let server: WebSocketServer | null = null;
afterEach(() => server?.close());

async function listen(onConnection: (ws: WebSocket) => void): Promise<string> {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', onConnection);
  await new Promise((resolve) => server?.once('listening', resolve));
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function socketTo(url: string, onMessage: (text: string) => void, states: SocketState[] = [], maxPayloadBytes?: number): Socket {
  return new Socket({
    url,
    headers: {},
    createWebSocket: (target, options) => new WebSocket(target, options),
    now: () => performance.now(),
    onMessage,
    onStateChange: (state) => states.push(state),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
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
});
