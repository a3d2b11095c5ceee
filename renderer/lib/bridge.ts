/**
 * The renderer's only door to the app: `window.copilot` in the desktop shell, or browser mode's
 * loopback WebSocket (with the launch token from the page URL) in a plain browser.
 */
import type { CommandChannel, CommandResult, CopilotBridge, Problem, PushEvent } from '../../app/contract';
// The command names at run time come from the contract's import-free channel table, the one
// app/ module the layering rules let the renderer import (not from the server on connect): the
// bridge's functions exist before the socket opens, and both sides are built from the same list.
import { commandFunctions } from '../../app/contract/channels';

declare global {
  interface Window {
    copilot?: CopilotBridge;
  }
}

export function connectBridge(): CopilotBridge {
  return window.copilot ?? socketBridge(window.location);
}

type ServerFrame =
  | { type: 'result'; id: number | null; result: CommandResult<unknown> }
  | { type: 'event'; event: PushEvent };

const lostContact: Problem = {
  code: 'connection_failed',
  message: 'Lost contact with Parley: the browser-mode server stopped or restarted.',
  hint: 'Start it again with npm run browser, then reload this page.',
};

const staleLink: Problem = {
  code: 'unauthorized',
  message: "This page's link is from an earlier run of browser mode.",
  hint: 'Open the new address printed in the terminal (it carries this run\'s token).',
};

/**
 * Why the bridge socket closed before it ever opened. A browser does not show a refused
 * upgrade's status, so the server is asked over HTTP whether this token is its own: a 401 means
 * the server runs but the link is old; no answer means it stopped.
 */
async function whyRefused(origin: string, token: string): Promise<Problem> {
  try {
    const response = await fetch(`${origin}/bridge?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    return response.status === 401 || response.status === 403 ? staleLink : lostContact;
  } catch {
    return lostContact;
  }
}

export function socketBridge(location: Pick<Location, 'protocol' | 'host' | 'search'>): CopilotBridge {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/bridge?token=${encodeURIComponent(token)}`);
  const listeners = new Set<(event: PushEvent) => void>();
  const pending = new Map<number, (result: CommandResult<unknown>) => void>();
  let nextId = 1;
  let closed = false;
  let everOpened = false;
  const opened = new Promise<void>((resolve) =>
    socket.addEventListener(
      'open',
      () => {
        everOpened = true;
        resolve();
      },
      { once: true },
    ),
  );

  socket.addEventListener('message', (message: MessageEvent<string>) => {
    const frame = JSON.parse(message.data) as ServerFrame;
    if (frame.type === 'event') {
      for (const listener of listeners) listener(frame.event);
    } else if (frame.id !== null) {
      pending.get(frame.id)?.(frame.result);
      pending.delete(frame.id);
    } else if (!frame.result.ok) {
      // The server could not tell which call a refusal belongs to: show it rather than drop it.
      for (const listener of listeners) listener({ type: 'notice', problem: frame.result.problem });
    }
  });
  /** Why the socket is gone, settled once it has closed. */
  const gone = new Promise<Problem>((resolve) =>
    socket.addEventListener('close', () => {
      closed = true;
      resolve(everOpened ? lostContact : whyRefused(`${location.protocol}//${location.host}`, token));
    }),
  );
  void gone.then((problem) => {
    for (const resolve of pending.values()) resolve({ ok: false, problem });
    pending.clear();
    const connection = { status: 'error', mode: null, endpoint: null, problem } as const;
    for (const listener of listeners) listener({ type: 'connection', connection });
  });

  async function call(channel: CommandChannel, ...request: [] | [unknown]): Promise<CommandResult<unknown>> {
    await Promise.race([opened, gone]);
    if (closed) return { ok: false, problem: await gone };
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, channel, payload: request[0] }));
    });
  }

  return {
    ...commandFunctions(call),
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
