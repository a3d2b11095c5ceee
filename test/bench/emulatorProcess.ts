/**
 * The emulator in a child process, so a benchmark's CPU figures are the client's alone. The child
 * counts what crosses its sockets (TCP connections accepted, bytes read and written, headers and
 * framing included) and answers `{ type: 'meters' }` over IPC; one child per client keeps each
 * client's counts its own. Run as a child only: `startEmulatorProcess(options)`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions } from '../../app/emulator/server';

export interface WireMeters {
  connections: number;
  bytesUp: number;
  bytesDown: number;
}

export interface EmulatorProcess {
  baseUrl: string;
  meters(): Promise<WireMeters>;
  close(): Promise<void>;
}

type Message = { type: 'ready'; baseUrl: string } | { type: 'meters'; meters: WireMeters } | { type: 'failed'; message: string };

export async function startEmulatorProcess(options: Pick<EmulatorOptions, 'latency'>): Promise<EmulatorProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = <T extends Message['type']>(type: T) =>
    new Promise<Extract<Message, { type: T }>>((resolve, reject) => {
      const onMessage = (message: Message): void => {
        if (message.type === 'failed') reject(new Error(`emulator process: ${message.message}`));
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as Extract<Message, { type: T }>);
      };
      const onExit = (code: number | null): void => reject(new Error(`emulator process exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { baseUrl } = await next('ready');
  return {
    baseUrl,
    async meters() {
      const reply = next('meters');
      child.send({ type: 'meters' });
      return (await reply).meters;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function runChild(options: Pick<EmulatorOptions, 'latency'>): Promise<void> {
  const sockets: Socket[] = [];
  // Every TCP connection the emulator's server accepts, WebSocket or HTTP alike.
  const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'connection') sockets.push(args[0] as Socket);
    return emit.call(this, event, ...args);
  } as typeof Server.prototype.emit;
  const { startEmulator } = await import('../../app/emulator/server');
  const emulator = await startEmulator(options);
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'meters') return;
    const meters = sockets.reduce((sum, socket) => ({ connections: sum.connections + 1, bytesUp: sum.bytesUp + socket.bytesRead, bytesDown: sum.bytesDown + socket.bytesWritten }), { connections: 0, bytesUp: 0, bytesDown: 0 });
    process.send?.({ type: 'meters', meters });
  });
  process.once('SIGTERM', () => void emulator.close().then(() => process.exit(0)));
  process.send?.({ type: 'ready', baseUrl: emulator.baseUrl });
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  runChild(JSON.parse(process.argv[2] ?? '{}') as Pick<EmulatorOptions, 'latency'>).catch((error: unknown) => process.send?.({ type: 'failed', message: (error as Error).message }));
}
