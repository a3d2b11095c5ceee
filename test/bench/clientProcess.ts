/**
 * One benchmark client in a child process of its own, so its CPU time, heap and garbage collection
 * are its own and not its neighbour's: the parent asks for a turn over IPC and gets back the CPU
 * time (`process.cpuUsage`, measured in the child around the turn alone) and the turn's count
 * (requests for a chain client, samples played for a playback client).
 *
 * Two optional instruments, both off unless asked for: `callgrind` runs the child under valgrind's
 * callgrind (no cache simulation, V8 in its `--predictable` mode), so the parent can count the instructions the child executes
 * between two points (`instructions.zero()`, `instructions.dump()`), all threads together, the
 * same for every client, and with none of the noise a shared machine puts in CPU time; and
 * `profile` samples the child's main thread with the inspector between `profile('start')` and
 * `profile('stop', path)`, which writes a `.cpuprofile`.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { readFile, readdir, rm } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parleyPlayer, sdkPlayer } from './playbackClients';
import { parleyClient, sdkClient, toolsFor, type ToolSet } from './responsesClients';

/** What a child process hosts: it connects once, then runs numbered turns. */
export interface BenchClient {
  readonly name: string;
  connect(): Promise<void>;
  /** One turn; resolves with what it counts (requests, samples played). */
  turn(number: number): Promise<number>;
  close(): void;
}

export type ClientKind = 'parley-websocket' | 'openai-sdk-ResponsesWS' | 'parley-http' | 'parley-RealtimeSession' | 'openai-agents-realtime-OpenAIRealtimeWebSocket';

export interface ClientProcess {
  name: ClientKind;
  /** Resolves once the throwaway warm-up chain has run. */
  warm(): Promise<void>;
  /** Connects; resolves with the CPU time connecting took. */
  connect(): Promise<number>;
  turn(number: number): Promise<TurnCost>;
  /** Starts the inspector's sampler in the child, or stops it and writes the profile to `path`. */
  profile(action: 'start' | 'stop', path?: string): Promise<void>;
  /** With `callgrind` only: zero the child's instruction count, or dump it and return the count since the last zero or dump. */
  instructions: { zero(): Promise<void>; dump(): Promise<number> } | null;
  close(): Promise<void>;
}

export interface TurnCost {
  cpuUs: number;
  /** The part of `cpuUs` spent in the kernel. */
  systemUs: number;
  /** Garbage-collection pauses on the main thread. */
  gcUs: number;
  /** What the turn returned: requests for a chain client, samples played for a playback client. */
  count: number;
}

type Request = { type: 'warm' } | { type: 'connect' } | { type: 'turn'; number: number } | { type: 'profile'; action: 'start' | 'stop'; path?: string };
type Reply = ({ type: 'done' } & TurnCost) | { type: 'failed'; message: string };

interface Setup {
  kind: ClientKind;
  baseUrl: string;
  /** The chain clients' tool definitions; playback clients have none. */
  set?: ToolSet;
  warmupTurns: number;
}

const run = (file: string, args: readonly string[]): Promise<string> =>
  new Promise((resolve, reject) => execFile(file, args, (error, stdout) => (error === null ? resolve(stdout) : reject(error))));

export function startClientProcess(setup: Setup, instruments: { callgrind?: boolean } = {}): ClientProcess {
  const node = ['--import', 'tsx'];
  const outDir = instruments.callgrind === true ? mkdtempSync(join(tmpdir(), 'parley-callgrind-')) : null;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(setup)], {
    ...(outDir === null
      ? { execArgv: node }
      : // The JIT's code lives in anonymous memory, which valgrind's default self-modifying-code check covers.
        // V8's --predictable runs its compilers and collector on the main thread, at points set by
        // the work done rather than by time, so a count moves with the code and not with the scheduling.
        { execPath: 'valgrind', execArgv: ['--tool=callgrind', '--quiet', `--callgrind-out-file=${join(outDir, 'cg.out')}`, process.execPath, '--predictable', ...node] }),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let dumps = 0;
  const ask = (request: Request) =>
    new Promise<TurnCost>((resolve, reject) => {
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
    profile: async (action, path) => void (await ask({ type: 'profile', action, ...(path === undefined ? {} : { path }) })),
    instructions:
      outDir === null
        ? null
        : {
            zero: async () => void (await run('callgrind_control', ['--zero', String(child.pid)])),
            async dump() {
              await run('callgrind_control', ['--dump', String(child.pid)]);
              dumps += 1;
              const name = (await readdir(outDir)).find((file) => file === `cg.out.${dumps}`);
              if (name === undefined) throw new Error(`callgrind wrote no dump ${dumps} in ${outDir}`);
              const summary = /^summary: (\d+)/m.exec(await readFile(join(outDir, name), 'utf8'));
              if (summary === null) throw new Error(`callgrind dump ${name} has no summary line`);
              return Number(summary[1]);
            },
          },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      // callgrind's dumps (a few MB each) have been read: nothing of them is kept.
      if (outDir !== null) await rm(outDir, { recursive: true, force: true });
    },
  };
}

function makeClient({ kind, baseUrl, set = 'one' }: Setup): BenchClient {
  switch (kind) {
    case 'openai-sdk-ResponsesWS':
      return sdkClient(baseUrl, toolsFor(set));
    case 'parley-http':
    case 'parley-websocket':
      return parleyClient(baseUrl, kind === 'parley-http' ? 'http' : 'websocket', toolsFor(set));
    case 'parley-RealtimeSession':
      return parleyPlayer(baseUrl);
    case 'openai-agents-realtime-OpenAIRealtimeWebSocket':
      return sdkPlayer(baseUrl);
  }
}


async function runChild(setup: Setup): Promise<void> {
  // A throwaway chain first, so the JIT has compiled the client before anything is measured.
  const warmed = (async () => {
    if (setup.warmupTurns === 0) return;
    const warm = makeClient(setup);
    await warm.connect();
    for (let turn = 1; turn <= setup.warmupTurns; turn += 1) await warm.turn(turn);
    warm.close();
  })();
  const client = makeClient(setup);
  // Garbage-collection pauses, summed as the runtime reports them (a pause that ends after its
  // turn's reply is counted with the next turn; the sum over many turns is what is read).
  let gcUs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcUs += entry.duration * 1000;
  }).observe({ entryTypes: ['gc'] });
  const inspector = new Session();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => inspector.post(method, params, (error, result) => (error === null ? resolve(result) : reject(error))));
  process.on('message', (request: Request) => {
    void warmed
      .then(async () => {
        if (request.type === 'profile') {
          if (request.action === 'start') {
            inspector.connect();
            await post('Profiler.enable');
            await post('Profiler.setSamplingInterval', { interval: 100 });
            await post('Profiler.start');
          } else {
            const { profile } = (await post('Profiler.stop')) as { profile: object };
            if (request.path !== undefined) writeFileSync(request.path, JSON.stringify(profile));
            inspector.disconnect();
          }
          process.send?.({ type: 'done', cpuUs: 0, systemUs: 0, gcUs: 0, count: 0 });
          return;
        }
        const started = process.cpuUsage();
        const gcBefore = gcUs;
        const count = request.type === 'turn' ? await client.turn(request.number) : request.type === 'connect' ? await client.connect().then(() => 0) : 0;
        // User and system time of all the process's threads (its garbage collector's too).
        const used = process.cpuUsage(started);
        process.send?.({ type: 'done', cpuUs: used.user + used.system, systemUs: used.system, gcUs: Math.round(gcUs - gcBefore), count });
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
