import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { commandChannels, commandNames, commands } from '../../app/contract';
import { createCopilot, type Copilot } from '../../app/host/copilot';
import { startBrowserMode, type BrowserMode } from '../../main/browserServer';
import { registerIpc } from '../../main/ipc';
import { importsOf } from '../support/layering';
import { openRawClient, type Frame } from '../support/wire';
import { recordingLogger, testDeps, type RecordingLogger } from '../support/copilot';
import type * as FakeElectron from '../support/fakeElectron';
import { sampleRequests } from '../../app/testing/commands';

const samples = sampleRequests;

/** What the host logs when it refuses a call before any handler runs. */
const refusedBeforeHandler = /refused a (malformed|call to an unknown) command/;

let copilot: Copilot | null = null;
let browser: BrowserMode | null = null;
let rendererDir: string | null = null;
afterEach(async () => {
  await browser?.close();
  await copilot?.close();
  if (rendererDir !== null) await rm(rendererDir, { recursive: true, force: true });
  copilot = browser = rendererDir = null;
});

/** A copilot that remembers which channels reached it before handing each call on. */
function recordingCopilot(log: RecordingLogger): { app: Copilot; reached: string[] } {
  const real = createCopilot(testDeps({}, log));
  copilot = real;
  // A command that asks the user first (captureScreen) is answered at once, as a user could.
  real.onEvent((event) => {
    if (event.type === 'permission') void real.call(commandChannels.answerPermission, { requestId: event.request.requestId, decision: 'deny' });
  });
  const reached: string[] = [];
  return {
    reached,
    app: { ...real, call: (channel, payload) => (reached.push(channel), real.call(channel, payload)) },
  };
}

describe('the command table', () => {
  it('names the same commands as the channel list, each on its own copilot: channel', () => {
    expect(Object.keys(commands).sort()).toEqual([...commandNames].sort());
    const channels = Object.values(commandChannels);
    expect(new Set(channels).size).toBe(channels.length);
    expect(channels.every((channel) => /^copilot:[a-z-]+$/.test(channel))).toBe(true);
  });

  it('keeps the channel list free of run-time imports, so the preload and the renderer can load it', async () => {
    const source = await readFile(join(import.meta.dirname, '../../app/contract/channels.ts'), 'utf8');
    expect(importsOf(source).filter((ref) => !ref.typeOnly)).toEqual([]);
  });

  it('takes every command through the preload and IPC to its handler, with its request intact', async () => {
    vi.resetModules();
    const electron = (await import('electron')) as unknown as typeof FakeElectron;
    electron.resetFakeElectron();
    const log = recordingLogger();
    const { app, reached } = recordingCopilot(log);
    const unregister = registerIpc({ ipcMain: electron.ipcMain, copilot: app, log, isTrustedSender: () => true });
    // The fake renderer's invoke goes to the handlers main registered, as Electron's would.
    const recordingInvoke = electron.ipcRenderer.invoke;
    electron.ipcRenderer.invoke = (channel: string, ...args: unknown[]) => {
      const handler = electron.ipcMain.handlers.get(channel);
      if (handler === undefined) return Promise.reject(new Error(`No handler registered for '${channel}'`));
      return Promise.resolve(handler({} as IpcMainInvokeEvent, ...args));
    };
    await import('../../main/preload');
    const bridge = electron.contextBridge.exposed.get('copilot') as Record<string, (request?: unknown) => Promise<unknown>>;
    expect(Object.keys(bridge).sort()).toEqual([...commandNames, 'onEvent'].sort());

    for (const name of commandNames) {
      const request = samples[name];
      await (request === undefined ? bridge[name]?.() : bridge[name]?.(request));
    }
    unregister();
    electron.ipcRenderer.invoke = recordingInvoke;
    expect(reached).toEqual(commandNames.map((name) => commandChannels[name]));
    expect(log.lines.filter((line) => refusedBeforeHandler.test(line))).toEqual([]);
  });

  it('takes every command over the browser-mode socket, and refuses an unknown channel with a clear problem', async () => {
    const log = recordingLogger();
    const { app, reached } = recordingCopilot(log);
    rendererDir = await mkdtemp(join(tmpdir(), 'parley-contract-'));
    browser = await startBrowserMode({ copilot: app, rendererDir, log });
    const client = await openRawClient(`${browser.origin.replace('http', 'ws')}/bridge?token=${browser.token}`, { Origin: browser.origin });
    const results: Frame[] = [];
    for (const [index, name] of commandNames.entries()) {
      client.send({ id: index, channel: commandChannels[name], payload: samples[name] });
      results.push(...(await client.collect((frame) => frame.type === 'result' && frame.id === index)).filter((frame) => frame.type === 'result'));
    }
    expect(reached).toEqual(commandNames.map((name) => commandChannels[name]));
    expect(results).toHaveLength(commandNames.length);
    expect(log.lines.filter((line) => refusedBeforeHandler.test(line))).toEqual([]);

    client.send({ id: 99, channel: 'copilot:delete-everything', payload: {} });
    const [unknown] = (await client.collect((frame) => frame.type === 'result' && frame.id === 99)).filter((frame) => frame.type === 'result');
    client.close();
    expect(unknown?.result).toEqual({
      ok: false,
      problem: { code: 'unknown_command', message: 'Parley has no command "copilot:delete-everything".', hint: 'The window and the app are out of step: restart Parley.' },
    });
  });
});
