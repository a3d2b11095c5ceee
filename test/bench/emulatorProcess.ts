/**
 * The emulator in a child process, so a benchmark's CPU and memory figures are the client's alone.
 * The child counts what crosses its sockets (TCP connections accepted, bytes read and written,
 * headers and framing included) and answers `{ type: 'meters' }` over IPC; one child per client
 * keeps each client's counts its own. With `manualClock`, its time moves only when told to
 * (`advance`), and faults are injected over IPC. Run as a child only: `startEmulatorProcess(options)`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FaultInput } from '../../app/emulator/faults';
import type { EmulatorOptions } from '../../app/emulator/server';

export interface WireMeters {
  connections: number;
  bytesUp: number;
  bytesDown: number;
}

export interface EmulatorProcess {
  baseUrl: string;
  meters(): Promise<WireMeters>;
  /** Moves the emulator's manual clock (with `manualClock` only). */
  advance(ms: number): Promise<void>;
  inject(fault: FaultInput): Promise<void>;
  /** How many requests the emulator still holds. */
  requestsKept(): Promise<number>;
  close(): Promise<void>;
}

export interface EmulatorProcessOptions extends Pick<EmulatorOptions, 'latency' | 'historyLimit'> {
  /** Start a manual clock at this time instead of the wall clock. */
  manualClock?: { startMs: number };
}

type Message =
  | { type: 'ready'; baseUrl: string }
  | { type: 'meters'; meters: WireMeters }
  | { type: 'done' }
  | { type: 'requests'; kept: number }
  | { type: 'failed'; message: string };

type Command = { type: 'meters' } | { type: 'advance'; ms: number } | { type: 'inject'; fault: FaultInput } | { type: 'requests' };

export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
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
  const ask = async <T extends Message['type']>(command: Command, answer: T) => {
    const reply = next(answer);
    child.send(command);
    return reply;
  };
  const { baseUrl } = await next('ready');
  return {
    baseUrl,
    meters: async () => (await ask({ type: 'meters' }, 'meters')).meters,
    advance: async (ms) => void (await ask({ type: 'advance', ms }, 'done')),
    inject: async (fault) => void (await ask({ type: 'inject', fault }, 'done')),
    requestsKept: async () => (await ask({ type: 'requests' }, 'requests')).kept,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function runChild({ manualClock, ...options }: EmulatorProcessOptions): Promise<void> {
  const sockets: Socket[] = [];
  // Every TCP connection the emulator's server accepts, WebSocket or HTTP alike.
  const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'connection') sockets.push(args[0] as Socket);
    return emit.call(this, event, ...args);
  } as typeof Server.prototype.emit;
  const { startEmulator } = await import('../../app/emulator/server');
  const { ManualClock } = await import('../../app/emulator/clock');
  const clock = manualClock === undefined ? undefined : new ManualClock(manualClock.startMs);
  const emulator = await startEmulator({ ...options, ...(clock === undefined ? {} : { clock }) });
  const reply = (message: Message): void => void process.send?.(message);
  process.on('message', (command: Command) => {
    if (command.type === 'meters') {
      const meters = sockets.reduce((sum, socket) => ({ connections: sum.connections + 1, bytesUp: sum.bytesUp + socket.bytesRead, bytesDown: sum.bytesDown + socket.bytesWritten }), { connections: 0, bytesUp: 0, bytesDown: 0 });
      reply({ type: 'meters', meters });
    } else if (command.type === 'advance') {
      clock?.advance(command.ms);
      reply({ type: 'done' });
    } else if (command.type === 'inject') {
      emulator.inject(command.fault);
      reply({ type: 'done' });
    } else reply({ type: 'requests', kept: emulator.requests.length });
  });
  process.once('SIGTERM', () => void emulator.close().then(() => process.exit(0)));
  process.send?.({ type: 'ready', baseUrl: emulator.baseUrl });
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  runChild(JSON.parse(process.argv[2] ?? '{}') as EmulatorProcessOptions).catch((error: unknown) => process.send?.({ type: 'failed', message: (error as Error).message }));
}
