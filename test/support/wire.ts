/** A raw `ws` client for tests that check the emulator's wire behaviour frame by frame. */
import { WebSocket } from 'ws';

export type Frame = Record<string, unknown> & { type: string };

export interface RawClient {
  ws: WebSocket;
  send(message: unknown): void;
  /** Resolves with every frame received up to and including the first that `until` accepts. */
  collect(until: (frame: Frame) => boolean): Promise<Frame[]>;
  close(): void;
}

export async function openRawClient(url: string, headers: Record<string, string> = { Authorization: 'Bearer test-key' }): Promise<RawClient> {
  const ws = new WebSocket(url, { headers });
  const inbox: Frame[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    inbox.push(JSON.parse(data.toString()) as Frame);
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async collect(until) {
      const frames: Frame[] = [];
      for (;;) {
        while (inbox.length > 0) {
          const frame = inbox.shift() as Frame;
          frames.push(frame);
          if (until(frame)) return frames;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    },
    close: () => ws.close(),
  };
}

export const isTerminal = (frame: Frame): boolean =>
  ['response.completed', 'response.failed', 'response.incomplete'].includes(frame.type) ||
  (frame.type === 'error' && frame.sequence_number === undefined);

/** Upgrade status of a refused handshake (e.g. 401), or 101 when it opened. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    ws.once('error', (error) => {
      if (!(error as Error).message.includes('Unexpected server response')) reject(error);
    });
  });
}

export function wsUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}${path}`;
}
