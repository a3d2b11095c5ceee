/**
 * Hostile clients against every server socket: malformed upgrade requests and WebSocket frames
 * written byte by byte over raw TCP. Each must close only its own connection (with the close code
 * RFC 6455 §7.4.1 gives it) while the process and an already-open connection carry on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { commandChannels } from '../../app/contract';
import { openRawClient, type RawClient } from '../support/wire';

const repoRoot = join(import.meta.dirname, '..', '..');

interface Host {
  child: ChildProcess;
  emulatorPort: number;
  bridgePort: number;
  origin: string;
  token: string;
  output: () => string;
}

let host: Host | undefined;
let emulatorBystander: RawClient;
let bridgeBystander: RawClient;

function startHost(): Promise<Host> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/serverHost.ts'], {
    cwd: repoRoot,
    env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = /^\{.*\}$/m.exec(output)?.[0];
      if (line === undefined) return;
      const ready = JSON.parse(line) as { emulatorPort: number; bridgePort: string; origin: string; token: string };
      resolve({ child, ...ready, bridgePort: Number(ready.bridgePort), output: () => output });
    });
    child.once('exit', (code) => reject(new Error(`the server host exited with ${code}:\n${output}`)));
  });
}

// One host for the file; a test that crashed it gets its own failure, and the next test a fresh host.
beforeEach(async () => {
  const healthy = [emulatorBystander, bridgeBystander].every((client) => client?.ws.readyState === WebSocket.OPEN);
  if (host !== undefined && healthy && host.child.exitCode === null && host.child.signalCode === null) return;
  await stopHost();
  host = await startHost();
  emulatorBystander = await openRawClient(`ws://127.0.0.1:${running().emulatorPort}/v1/responses`);
  bridgeBystander = await openRawClient(`ws://127.0.0.1:${running().bridgePort}/bridge?token=${running().token}`, { Origin: running().origin });
}, 30_000);

afterAll(() => stopHost());

async function stopHost(): Promise<void> {
  emulatorBystander?.close();
  bridgeBystander?.close();
  const child = host?.child;
  host = undefined;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** What `collect` finds, or a failure as soon as the connection closes instead. */
function collectOrClosed(client: RawClient, until: Parameters<RawClient['collect']>[0]): ReturnType<RawClient['collect']> {
  if (client.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('the connection opened before the attack is closed'));
  return Promise.race([
    client.collect(until),
    new Promise<never>((_, reject) => client.ws.once('close', (code) => reject(new Error(`the connection opened before the attack closed with ${code}`)))),
  ]);
}

/** The process is up, and the connections opened before the attack still answer. */
async function expectEverythingElseWorks(): Promise<void> {
  emulatorBystander.send({
    type: 'response.create',
    model: 'gpt-5.4-mini',
    store: false,
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }],
  });
  const frames = await collectOrClosed(emulatorBystander, (frame) => frame.type === 'response.completed' || frame.type === 'error');
  expect(frames.at(-1)?.type).toBe('response.completed');
  const id = Math.floor(Math.random() * 1e9);
  bridgeBystander.send({ id, channel: commandChannels.getSnapshot });
  const results = await collectOrClosed(bridgeBystander, (frame) => frame.type === 'result' && frame.id === id);
  expect(results.at(-1)).toMatchObject({ id, result: { ok: true } });
  expect(host?.child.exitCode).toBeNull();
  expect(host?.child.signalCode).toBeNull();
}

function running(): Host {
  if (host === undefined) throw new Error('the server host did not start');
  return host;
}

/** A TCP connection that keeps everything it receives and says when it has closed. */
class RawConnection {
  received = Buffer.alloc(0);
  closed = false;
  #wake = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.#notify();
    });
    socket.on('error', () => undefined); // a reset from the server is one of the outcomes we inspect
    socket.on('close', () => {
      this.closed = true;
      this.#notify();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Resolves once `read` finds what it looks for in the bytes so far, or with null once the socket closed without it. */
  until<T>(read: (bytes: Buffer) => T | null): Promise<T | null> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const found = read(this.received);
        if (found === null && !this.closed) return false;
        this.#wake.delete(check);
        resolve(found);
        return true;
      };
      if (!check()) this.#wake.add(() => check());
    });
  }

  /** The HTTP response head, once it is complete. */
  head(): Promise<string | null> {
    return this.until((bytes) => {
      const end = bytes.indexOf('\r\n\r\n');
      return end === -1 ? null : bytes.subarray(0, end).toString('latin1');
    });
  }

  #notify(): void {
    for (const wake of [...this.#wake]) wake();
  }
}

/** Opens a WebSocket by hand: the upgrade request, then the 101 (any frames after it stay in `received`). */
async function handshake(port: number, target: string, headers: Record<string, string>): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  const lines = [
    `GET ${target} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  connection.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const head = await connection.head();
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  connection.received = connection.received.subarray(connection.received.indexOf('\r\n\r\n') + 4);
  return connection;
}

/** One client frame as RFC 6455 §5.2 lays it out; `declaredLength` may claim more than is sent. */
function frame(opcode: number, payload: Buffer, options: { masked?: boolean; declaredLength?: number } = {}): Buffer {
  const masked = options.masked ?? true;
  const length = options.declaredLength ?? payload.length;
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (length < 126) header = Buffer.from([0x80 | opcode, maskBit | length]);
  else if (length < 0x10000) {
    header = Buffer.alloc(4);
    header.writeUInt16BE(length, 2);
    header[1] = maskBit | 126;
  } else {
    header = Buffer.alloc(10);
    header.writeBigUInt64BE(BigInt(length), 2);
    header[1] = maskBit | 127;
  }
  header[0] = 0x80 | opcode;
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]!));
  return Buffer.concat([header, mask, body]);
}

/** The status code of the server's close frame, read past any frames before it. */
function closeCode(bytes: Buffer): number | null {
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    const opcode = bytes[offset]! & 0x0f;
    let length = bytes[offset + 1]! & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (bytes.length < start + 2) return null;
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (bytes.length < start + 8) return null;
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (bytes.length < start + length) return null;
    if (opcode === 0x8) return length >= 2 ? bytes.readUInt16BE(start) : 1005;
    offset = start + length;
  }
  return null;
}

const endpoints = [
  { name: 'the bridge', port: () => running().bridgePort, target: () => `/bridge?token=${running().token}`, headers: () => ({ Origin: running().origin }) },
  { name: 'the emulator /v1/responses', port: () => running().emulatorPort, target: () => '/v1/responses', headers: () => ({ Authorization: 'Bearer test-key' }) },
  { name: 'the emulator /v1/realtime', port: () => running().emulatorPort, target: () => '/v1/realtime?model=gpt-realtime', headers: () => ({ Authorization: 'Bearer test-key' }) },
];

const violations = [
  // 64 MiB is over both limits (bridge 8 MiB, emulator 16 MiB); the header alone is enough to refuse it.
  { name: 'a frame over the size limit', code: 1009, bytes: () => frame(0x1, Buffer.alloc(0), { declaredLength: 64 * 1024 * 1024 }) },
  { name: 'invalid UTF-8 in a text frame', code: 1007, bytes: () => frame(0x1, Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d])) },
  { name: 'a reserved opcode (0x3)', code: 1002, bytes: () => frame(0x3, Buffer.from('hi')) },
  { name: 'an unmasked client frame', code: 1002, bytes: () => frame(0x1, Buffer.from('{"type":"ping"}'), { masked: false }) },
];

describe('server sockets contain WebSocket protocol errors', { timeout: 20_000 }, () => {
  for (const endpoint of endpoints) {
    for (const violation of violations) {
      it(`${endpoint.name}: ${violation.name} closes that connection with ${violation.code}, and the rest carry on`, async () => {
        const connection = await handshake(endpoint.port(), endpoint.target(), endpoint.headers());
        connection.socket.write(violation.bytes());
        expect(await connection.until(closeCode)).toBe(violation.code);
        await expectEverythingElseWorks();
      });
    }
  }
});

const unparseableTargets = ['//[', 'http://[::1'];

describe('server sockets answer unparseable requests with 400', { timeout: 20_000 }, () => {
  for (const [name, port] of [
    ['the bridge', () => running().bridgePort],
    ['the emulator', () => running().emulatorPort],
  ] as const) {
    for (const target of unparseableTargets) {
      it(`${name}: an upgrade to "${target}" gets 400, and the rest carry on`, async () => {
        const connection = await RawConnection.open(port());
        connection.socket.write(
          `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        expect(await connection.head()).toMatch(/^HTTP\/1\.1 400 /);
        await expectEverythingElseWorks();
      });

      it(`${name}: a plain GET of "${target}" gets 400, and the rest carry on`, async () => {
        const connection = await RawConnection.open(port());
        connection.socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        expect(await connection.head()).toMatch(/^HTTP\/1\.1 400 /);
        await expectEverythingElseWorks();
      });
    }

    it(`${name}: a request line that is not HTTP gets 400 (clientError), and the rest carry on`, async () => {
      const connection = await RawConnection.open(port());
      connection.socket.write('HELLO THERE\r\n\r\n');
      expect(await connection.head()).toMatch(/^HTTP\/1\.1 400 /);
      await expectEverythingElseWorks();
    });
  }
});

describe('the bridge and a pasted long document', { timeout: 20_000 }, () => {
  it('refuses a 1.4 MB message through the contract with a reason, on a connection that stays open', async () => {
    const client = await openRawClient(`ws://127.0.0.1:${running().bridgePort}/bridge?token=${running().token}`, { Origin: running().origin });
    client.send({ id: 41, channel: commandChannels.sendMessage, payload: { text: 'A long document. '.repeat(82_500) } });
    const results = await collectOrClosed(client, (frame) => frame.type === 'result');
    expect(results.at(-1)).toMatchObject({ id: 41, result: { ok: false, problem: { code: 'invalid_payload', message: 'Messages are limited to 32000 characters.' } } });
    client.send({ id: 42, channel: commandChannels.getSnapshot });
    expect((await collectOrClosed(client, (frame) => frame.type === 'result')).at(-1)).toMatchObject({ id: 42, result: { ok: true } });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.close();
    await expectEverythingElseWorks();
  });
});
