import { noLatency } from '../../app/emulator/latency';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { startEmulator } from '../../app/emulator/server';
import type { CopilotDeps, Logger } from '../../app/host/copilot';
import type { PushEvent } from '../../app/contract';

export interface RecordingLogger extends Logger {
  lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, info: record('info'), warn: record('warn'), error: record('error') };
}

/** Real I/O on loopback: real sockets and a real emulator that streams without pauses. */
export function testDeps(env: Record<string, string | undefined>, log: Logger = recordingLogger()): CopilotDeps {
  return {
    env,
    log,
    createWebSocket: (url, options) => new WebSocket(url, options),
    startEmulator: () => startEmulator({ latency: noLatency }),
    now: () => performance.now(),
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    newId: () => randomUUID(),
  };
}

/** Waits for the first pushed event that `match` accepts. */
export function nextEvent<T extends PushEvent>(
  subscribe: (listener: (event: PushEvent) => void) => () => void,
  match: (event: PushEvent) => event is T,
): Promise<T> {
  return new Promise((resolve) => {
    const stop = subscribe((event) => {
      if (match(event)) {
        stop();
        resolve(event);
      }
    });
  });
}
