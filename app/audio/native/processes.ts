/**
 * The slice of `child_process.spawn` the native adapters use, so the composition root can inject
 * the real one (only `app/host` constructs I/O) and tests can inject one that fails on purpose.
 */
import type { Readable, Writable } from 'node:stream';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ChildProcessLike {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): this;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

export interface SpawnOptionsLike {
  env?: Env;
  stdio?: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe' | 'ignore'];
}

/** `child_process.spawn` fits this type. */
export type Spawn = (command: string, args: readonly string[], options: SpawnOptionsLike) => ChildProcessLike;

export type CommandOutcome =
  | { status: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { status: 'missing'; command: string }
  | { status: 'failed'; message: string }
  | { status: 'timed_out'; afterMs: number; stderr: string };

export interface RunOptions {
  env?: Env;
  timeoutMs?: number;
  /** Written to stdin, which is then closed (an empty string closes it at once). */
  input?: string;
}

/** Runs a short command to completion. A program that does not exist is `missing`, never a throw. */
export function runCommand(spawn: Spawn, command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandOutcome> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    let child: ChildProcessLike;
    try {
      child = spawn(command, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      resolve(spawnFailure(command, error as NodeJS.ErrnoException));
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    const settle = (outcome: CommandOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({ status: 'timed_out', afterMs: timeoutMs, stderr });
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      stdout += text;
    });
    child.stderr?.on('data', (text: string) => {
      if (stderr.length < 16_384) stderr += text;
    });
    child.on('error', (error) => settle(spawnFailure(command, error)));
    child.on('close', (code, signal) => settle({ status: 'exited', code, signal, stdout, stderr }));
    // The child may exit before reading its input; that EPIPE is not the command's failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

export function spawnFailure(command: string, error: NodeJS.ErrnoException): CommandOutcome {
  if (error.code === 'ENOENT') return { status: 'missing', command };
  return { status: 'failed', message: `${command} could not be started: ${error.message}` };
}

/** What the command said about its failure: its most telling stderr line, without ALSA's source positions. */
export function failureLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^ALSA lib \S+:\d+:\(\w+\)\s*/, '').replace(/^(aplay|arecord): \w+:\d+: /, '').trim())
    .filter((line) => line.length > 0);
  const cause = lines.filter((line) => /no such|refused|denied|busy|not found|unknown pcm|does not exist/i.test(line)).at(-1);
  const failure = lines.filter((line) => /fail|error|unable|cannot|can't/i.test(line)).at(-1);
  const line = cause ?? failure ?? lines.at(-1) ?? '';
  return line.length > 240 ? `${line.slice(0, 240)}…` : line;
}
