import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandChannels } from '../../app/contract';

import type * as FakeElectron from '../support/fakeElectron';

type Fake = typeof FakeElectron;

async function launch(options: { singleInstance: boolean }): Promise<Fake> {
  vi.resetModules();
  const electron = (await import('electron')) as unknown as Fake;
  electron.resetFakeElectron();
  electron.app.singleInstance = options.singleInstance;
  await import('../../main/index');
  electron.app.makeReady();
  return electron;
}

let electron: Fake | null = null;
beforeEach(() => {
  vi.stubEnv('OPENAI_API_KEY', '');
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  electron?.app.emit('will-quit');
  electron = null;
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('the Electron shell', () => {
  it('opens one isolated, sandboxed window with the CommonJS preload', async () => {
    electron = await launch({ singleInstance: true });
    await vi.waitFor(() => expect(electron?.BrowserWindow.created).toHaveLength(1));
    const [window] = electron.BrowserWindow.created;
    const preferences = window?.options.webPreferences as Record<string, unknown>;
    expect(preferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(String(preferences.preload)).toMatch(/preload[/\\]preload\.cjs$/);
    expect(window?.loaded).toMatch(/^file:\/\/.*renderer[/\\]index\.html$/);
    expect(window?.webContents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('quits at once when another instance already runs', async () => {
    electron = await launch({ singleInstance: false });
    await vi.waitFor(() => expect(electron?.app.quitCalled).toBe(true));
    expect(electron.BrowserWindow.created).toHaveLength(0);
    expect(electron.ipcMain.handlers.size).toBe(0);
  });

  it('denies permission requests and sets a strict CSP on every response', async () => {
    electron = await launch({ singleInstance: true });
    await vi.waitFor(() => expect(electron?.session.defaultSession.headersHandler).not.toBeNull());
    const granted: boolean[] = [];
    electron.session.defaultSession.permissionHandler?.({}, 'media', (answer) => granted.push(answer));
    expect(granted).toEqual([false]);
    let headers: Record<string, string[]> = {};
    electron.session.defaultSession.headersHandler?.({ responseHeaders: {} }, (response) => {
      headers = (response as { responseHeaders: Record<string, string[]> }).responseHeaders;
    });
    expect(headers['Content-Security-Policy']?.[0]).toContain("script-src 'self'");
    expect(headers['Content-Security-Policy']?.[0]).not.toContain('unsafe');
  });

  it('answers IPC only from its own window and page', async () => {
    electron = await launch({ singleInstance: true });
    await vi.waitFor(() => expect(electron?.ipcMain.handlers.size).toBeGreaterThan(0));
    const [window] = electron.BrowserWindow.created;
    const handler = electron.ipcMain.handlers.get(commandChannels.getSnapshot);
    const call = (sender: unknown, url: string, parent: unknown = null) => handler?.({ sender, senderFrame: { url, parent } }, undefined);
    const page = window?.loaded ?? '';

    expect(await call(window?.webContents, page)).toMatchObject({ ok: true });
    expect(await call(window?.webContents, 'https://evil.example/')).toMatchObject({ ok: false, problem: { code: 'forbidden_sender' } });
    expect(await call(window?.webContents, page, { url: page })).toMatchObject({ ok: false, problem: { code: 'forbidden_sender' } });
    expect(await call({}, page)).toMatchObject({ ok: false, problem: { code: 'forbidden_sender' } });
  });
});
