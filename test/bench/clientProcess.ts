/**
 * One chain client in a child process of its own, so its CPU time, heap and garbage collection
 * are its own and not its neighbour's: the parent asks for a turn over IPC and gets back the CPU
 * time (`process.cpuUsage`, measured in the child around the turn alone) and the requests it took.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parleyClient, sdkClient, toolsFor, type ChainClient, type ToolSet } from './responsesClients';

export type ClientKind = 'parley-websocket' | 'openai-sdk-ResponsesWS' | 'parley-http';

export interface ClientProcess {
  name: ClientKind;
  /** Resolves once the throwaway warm-up chain has run. */
  warm(): Promise<void>;
  /** Connects; resolves with the CPU time connecting took. */
  connect(): Promise<number>;
  turn(number: number): Promise<{ cpuUs: number; requests: number }>;
  close(): Promise<void>;
}

type Request = { type: 'warm' } | { type: 'connect' } | { type: 'turn'; number: number };
type Reply = { type: 'done'; cpuUs: number; requests: number } | { type: 'failed'; message: string };

interface Setup {
  kind: ClientKind;
  baseUrl: string;
  set: ToolSet;
  warmupTurns: number;
}

export function startClientProcess(setup: Setup): ClientProcess {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(setup)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ask = (request: Request) =>
    new Promise<{ cpuUs: number; requests: number }>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`${setup.kind} process exited (${code})`));
      child.once('message', (reply: Reply) => {
        child.off('exit', onExit);
        if (reply.type === 'failed') reject(new Error(reply.message));
        else resolve(reply);
      });
      child.once('exit', onExit);
      child.send(request);
    });
  return {
    name: setup.kind,
    warm: async () => void (await ask({ type: 'warm' })),
    connect: async () => (await ask({ type: 'connect' })).cpuUs,
    turn: (number) => ask({ type: 'turn', number }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function makeClient(kind: ClientKind, baseUrl: string, set: ToolSet): ChainClient {
  const tools = toolsFor(set);
  if (kind === 'openai-sdk-ResponsesWS') return sdkClient(baseUrl, tools);
  return parleyClient(baseUrl, kind === 'parley-http' ? 'http' : 'websocket', tools);
}

const cpuUs = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

async function runChild(setup: Setup): Promise<void> {
  // A throwaway chain first, so the JIT has compiled the client before anything is measured.
  const warmed = (async () => {
    if (setup.warmupTurns === 0) return;
    const warm = makeClient(setup.kind, setup.baseUrl, setup.set);
    await warm.connect();
    for (let turn = 1; turn <= setup.warmupTurns; turn += 1) await warm.turn(turn);
    warm.close();
  })();
  const client = makeClient(setup.kind, setup.baseUrl, setup.set);
  process.on('message', (request: Request) => {
    void warmed
      .then(async () => {
        const started = cpuUs();
        const requests = request.type === 'turn' ? await client.turn(request.number) : request.type === 'connect' ? await client.connect().then(() => 0) : 0;
        process.send?.({ type: 'done', cpuUs: cpuUs() - started, requests });
      })
      .catch((error: unknown) => process.send?.({ type: 'failed', message: (error as Error).message }));
  });
  process.once('SIGTERM', () => {
    client.close();
    process.exit(0);
  });
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  void runChild(JSON.parse(process.argv[2] ?? '{}') as Setup);
}
