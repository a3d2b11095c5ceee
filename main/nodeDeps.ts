/** The real I/O both shells give the composition root. */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { CopilotDeps, Logger } from '../app/host/copilot';
import { startEmulator } from '../app/emulator/server';

export function nodeCopilotDeps(env: Readonly<Record<string, string | undefined>>, log: Logger): CopilotDeps {
  return {
    env,
    log,
    createWebSocket: (url, options) => new WebSocket(url, options),
    startEmulator: () => startEmulator({ host: '127.0.0.1', port: 0 }),
    // Wall-clock milliseconds with sub-millisecond resolution, monotonic within the process.
    now: () => performance.timeOrigin + performance.now(),
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => Math.random(),
    newId: () => randomUUID(),
  };
}
