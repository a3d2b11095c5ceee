import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished as onTeardown, vi } from 'vitest';
import { commandChannels } from '../../app/contract';
import { noLatency } from '../../app/emulator/latency';
import { startEmulator } from '../../app/emulator/server';
import { defaultSettings } from '../../app/settings/schema';

import type * as FakeElectron from '../support/fakeElectron';

type Fake = typeof FakeElectron;

let userData: string;

// Each launch imports the whole shell afresh; on a busy machine that takes seconds, not milliseconds.
const waitFor = <T>(check: () => T | Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 15_000 });

async function launch(options: { singleInstance: boolean; settings?: unknown; before?: (electron: Fake) => void }): Promise<Fake> {
  vi.resetModules();
  const electron = (await import('electron')) as unknown as Fake;
  electron.resetFakeElectron();
  options.before?.(electron);
  electron.app.singleInstance = options.singleInstance;
  electron.app.paths.userData = userData;
  if (options.settings !== undefined) writeFileSync(join(userData, 'settings.json'), typeof options.settings === 'string' ? options.settings : JSON.stringify(options.settings));
  await import('../../main/index');
  electron.app.makeReady();
  return electron;
}

/** Calls a command as the window's own page would. */
async function callFromPage(electron: Fake, channel: string, payload?: unknown): Promise<unknown> {
  const [window] = electron.BrowserWindow.created;
  const handler = electron.ipcMain.handlers.get(channel);
  return handler?.({ sender: window?.webContents, senderFrame: { url: window?.loaded ?? '', parent: null } }, payload);
}

/** The main window, once the shell has opened it. */
function theWindow(fake: Fake): Promise<InstanceType<Fake['BrowserWindow']>> {
  return waitFor(() => {
    const [window] = fake.BrowserWindow.created;
    if (window === undefined) throw new Error('no window yet');
    return window;
  });
}

let electron: Fake | null = null;
let logged: string[];
beforeEach(() => {
  userData = mkdtempSync(join(tmpdir(), 'parley-user-data-'));
  vi.stubEnv('OPENAI_API_KEY', '');
  // No X11 display, as in CI: the hotkey must fall back to globalShortcut without starting the hook.
  vi.stubEnv('DISPLAY', '');
  vi.stubEnv('WAYLAND_DISPLAY', '');
  vi.stubEnv('XDG_SESSION_TYPE', '');
  logged = [];
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
    logged.push(String(line));
  });
});
afterEach(() => {
  electron?.app.emit('will-quit');
  electron = null;
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  rmSync(userData, { recursive: true, force: true });
});

describe('the Electron shell', { timeout: 30_000 }, () => {
  it('opens one isolated, sandboxed window with the CommonJS preload', async () => {
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.BrowserWindow.created).toHaveLength(1));
    const [window] = electron.BrowserWindow.created;
    const preferences = window?.options.webPreferences as Record<string, unknown>;
    expect(preferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(String(preferences.preload)).toMatch(/preload[/\\]preload\.cjs$/);
    expect(window?.loaded).toMatch(/^file:\/\/.*renderer[/\\]index\.html$/);
    expect(window?.webContents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(window?.listenerCount('ready-to-show')).toBe(1);
  });

  it('quits at once when another instance already runs', async () => {
    electron = await launch({ singleInstance: false });
    await waitFor(() => expect(electron?.app.quitCalled).toBe(true));
    expect(electron.BrowserWindow.created).toHaveLength(0);
    expect(electron.ipcMain.handlers.size).toBe(0);
    expect(electron.Tray.created).toHaveLength(0);
  });

  it('denies permission requests and checks, and sets a strict CSP on every response', async () => {
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.session.defaultSession.headersHandler).not.toBeNull());
    const granted: boolean[] = [];
    await waitFor(() => expect(electron?.BrowserWindow.created[0]?.loaded).toBeTruthy());
    const page = electron.BrowserWindow.created[0]?.loaded ?? '';
    const ours = { getURL: () => page };
    const stranger = { getURL: () => 'https://evil.example/' };
    electron.session.defaultSession.permissionHandler?.(ours, 'media', (answer) => granted.push(answer));
    electron.session.defaultSession.permissionHandler?.(ours, 'notifications', (answer) => granted.push(answer));
    electron.session.defaultSession.permissionHandler?.(stranger, 'clipboard-sanitized-write', (answer) => granted.push(answer));
    // The one exception: our page may write text to the clipboard (the Copy buttons).
    electron.session.defaultSession.permissionHandler?.(ours, 'clipboard-sanitized-write', (answer) => granted.push(answer));
    expect(granted).toEqual([false, false, false, true]);
    for (const permission of ['media', 'clipboard-read', 'geolocation']) {
      expect(electron.session.defaultSession.permissionCheckHandler?.(ours, permission)).toBe(false);
    }
    expect(electron.session.defaultSession.permissionCheckHandler?.(ours, 'clipboard-sanitized-write')).toBe(true);
    expect(electron.session.defaultSession.permissionCheckHandler?.(stranger, 'clipboard-sanitized-write')).toBe(false);
    let headers: Record<string, string[]> = {};
    electron.session.defaultSession.headersHandler?.({ responseHeaders: {} }, (response) => {
      headers = (response as { responseHeaders: Record<string, string[]> }).responseHeaders;
    });
    expect(headers['Content-Security-Policy']?.[0]).toContain("script-src 'self'");
    expect(headers['Content-Security-Policy']?.[0]).toContain("default-src 'none'");
    expect(headers['Content-Security-Policy']?.[0]).not.toContain('unsafe');
  });

  it('answers IPC only from its own window and page', async () => {
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.ipcMain.handlers.size).toBeGreaterThan(0));
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

describe('the desktop shell around the window', { timeout: 30_000 }, () => {
  it('shows its state in the tray: offline until the connection opens, then idle', async () => {
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.Tray.created).toHaveLength(1));
    const [tray] = electron.Tray.created;
    await waitFor(() => expect(tray?.toolTip).toBe('Parley — ready'));
    expect(tray?.item('Show Parley')).toBeDefined();
    electron.BrowserWindow.created[0]?.emit('ready-to-show');
    expect(tray?.item('Hide Parley')).toBeDefined();
  });

  it('falls back to a toggle hotkey without an X11 display, and says so in the tray and the log', async () => {
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.globalShortcut.registered.has(defaultSettings.hotkey)).toBe(true));
    const [tray] = electron.Tray.created;
    expect(tray?.item('Push to talk')?.label).toBe('Push to talk: press Ctrl+Shift+Space to talk, again to send');
    expect(tray?.menu?.items.some((item) => item.label?.includes('There is no X11 display'))).toBe(true);
    expect(logged.some((line) => line.includes('push-to-talk hotkey') && line.includes('"mode":"toggle"'))).toBe(true);
  });

  it.runIf(process.platform === 'linux')('asks for Wayland global shortcuts through the portal and says why the hook is off', async () => {
    vi.stubEnv('XDG_SESSION_TYPE', 'wayland');
    vi.stubEnv('DISPLAY', ':0');
    electron = await launch({ singleInstance: true });
    // Push to talk beside the meeting and screen hotkeys.
    await waitFor(() => expect(electron?.globalShortcut.registered.size).toBe(3));
    expect(electron.app.switches).toContainEqual(['enable-features', 'GlobalShortcutsPortal']);
    expect(electron.Tray.created[0]?.menu?.items.some((item) => item.label?.includes('Wayland session'))).toBe(true);
  });

  it('rebinds the hotkey when the setting changes', async () => {
    electron = await launch({ singleInstance: true });
    // Push to talk, the meeting hotkey and ask-about-my-screen.
    await waitFor(() => expect(electron?.globalShortcut.registered.has(defaultSettings.hotkey)).toBe(true));
    expect(await callFromPage(electron, commandChannels.updateSettings, { patch: { hotkey: 'Alt+F13' } })).toMatchObject({ ok: true });
    // The meeting and screen hotkeys stay as they were.
    expect([...electron.globalShortcut.registered.keys()].sort()).toEqual(['Alt+F13', 'CommandOrControl+Alt+M', 'CommandOrControl+Alt+S']);
    expect(electron.Tray.created[0]?.item('Start meeting')?.label).toBe('Start meeting (Ctrl+Alt+M)');
    expect(JSON.parse(readFileSync(join(userData, 'settings.json'), 'utf8'))).toMatchObject({ hotkey: 'Alt+F13' });
  });

  it('hides the window from screen sharing when the setting says so, at start and when it changes', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, hideFromCapture: true } });
    const window = await theWindow(electron);
    await waitFor(() => expect(window?.contentProtection).toBe(true));
    expect(await callFromPage(electron, commandChannels.updateSettings, { patch: { hideFromCapture: false } })).toMatchObject({ ok: true });
    expect(window?.contentProtection).toBe(false);
    expect(await callFromPage(electron, commandChannels.updateSettings, { patch: { hideFromCapture: true } })).toMatchObject({ ok: true });
    expect(window?.contentProtection).toBe(true);
  });

  it('captures the primary screen through desktopCapturer once allowed, with its own window out of the way', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, toolPermissions: { screen_capture: 'allow' } } });
    electron.screen.displays = [{ id: 1, workArea: { x: 0, y: 0, width: 1440, height: 900 }, size: { width: 1440, height: 900 }, scaleFactor: 2 }];
    electron.desktopCapturer.picture = 'data:image/png;base64,c2NyZWVu';
    const window = await theWindow(electron);
    window?.emit('ready-to-show');
    await waitFor(() => expect(window?.isVisible()).toBe(true));
    expect(await callFromPage(electron, commandChannels.captureScreen)).toEqual({ ok: true, value: { image: 'data:image/png;base64,c2NyZWVu' } });
    expect(electron.desktopCapturer.requests).toEqual([{ types: ['screen'], thumbnailSize: { width: 2880, height: 1800 } }]);
    expect(electron.desktopCapturer.windowVisibleDuring).toEqual([false]);
    expect(window?.isVisible()).toBe(true);
  });

  it('lists the screens and windows with names and small thumbnails, and captures the window picked at full size', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, toolPermissions: { screen_capture: 'allow' } } });
    electron.screen.displays = [{ id: 1, workArea: { x: 0, y: 0, width: 1440, height: 900 }, size: { width: 1440, height: 900 }, scaleFactor: 2 }];
    electron.desktopCapturer.picture = 'data:image/png;base64,c2NyZWVu';
    electron.desktopCapturer.windows = [
      { id: 'window:41:0', name: 'Quarterly report - Editor', picture: 'data:image/png;base64,cmVwb3J0' },
      { id: 'window:42:0', name: 'Terminal', picture: 'data:image/png;base64,dGVybQ==' },
    ];
    await theWindow(electron);
    expect(await callFromPage(electron, commandChannels.listScreenSources)).toEqual({
      ok: true,
      value: {
        sources: [
          { id: 'screen:1:0', name: 'Entire screen', kind: 'screen', thumbnail: 'data:image/png;base64,c2NyZWVu' },
          { id: 'window:41:0', name: 'Quarterly report - Editor', kind: 'window', thumbnail: 'data:image/png;base64,cmVwb3J0' },
          { id: 'window:42:0', name: 'Terminal', kind: 'window', thumbnail: 'data:image/png;base64,dGVybQ==' },
        ],
      },
    });
    expect(electron.desktopCapturer.requests).toEqual([{ types: ['screen', 'window'], thumbnailSize: { width: 320, height: 200 } }]);
    expect(await callFromPage(electron, commandChannels.captureScreen, { sourceId: 'window:42:0' })).toEqual({ ok: true, value: { image: 'data:image/png;base64,dGVybQ==' } });
    expect(electron.desktopCapturer.requests.at(-1)).toEqual({ types: ['window'], thumbnailSize: { width: 2880, height: 1800 } });
  });

  it('says so when the window picked has closed since the list was shown', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, toolPermissions: { screen_capture: 'allow' } } });
    electron.desktopCapturer.windows = [{ id: 'window:41:0', name: 'Notes', picture: 'data:image/png;base64,bm90ZXM=' }];
    await theWindow(electron);
    expect(await callFromPage(electron, commandChannels.listScreenSources)).toMatchObject({ ok: true });
    electron.desktopCapturer.windows = [];
    expect(await callFromPage(electron, commandChannels.captureScreen, { sourceId: 'window:41:0' })).toMatchObject({ ok: false, problem: { message: 'The screen could not be captured: that screen or window is gone (closed or minimised?)' } });
  });

  it('the global Ctrl+Alt+S brings the window forward and tells the page to ask about the screen', async () => {
    electron = await launch({ singleInstance: true });
    const window = await theWindow(electron);
    await waitFor(() => expect(electron?.globalShortcut.registered.has('CommandOrControl+Alt+S')).toBe(true));
    electron.globalShortcut.press('CommandOrControl+Alt+S');
    expect(window.isVisible()).toBe(true);
    expect(window.webContents.sent).toContainEqual({ channel: 'copilot:event', payload: { type: 'screen.ask' } });
  });

  it('compact mode makes the window a small overlay that stays on top, and back to its size', async () => {
    electron = await launch({ singleInstance: true });
    const window = await theWindow(electron);
    const before = window.getBounds();
    expect(await callFromPage(electron, commandChannels.setCompact, { compact: true })).toEqual({ ok: true, value: { alwaysOnTop: true } });
    expect(window.alwaysOnTop).toEqual({ flag: true, level: 'floating' });
    expect(window.getBounds()).toMatchObject({ width: 380, height: 460 });
    expect(await callFromPage(electron, commandChannels.setCompact, { compact: false })).toEqual({ ok: true, value: { alwaysOnTop: false } });
    expect(window.alwaysOnTop).toEqual({ flag: false, level: 'floating' });
    expect(window.getBounds()).toEqual(before);
  });

  it('says so when the system offers no screen to capture', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, toolPermissions: { screen_capture: 'allow' } } });
    electron.desktopCapturer.picture = '';
    await theWindow(electron);
    expect(await callFromPage(electron, commandChannels.captureScreen)).toMatchObject({ ok: false, problem: { message: 'The screen could not be captured: the system offered no screen to capture' } });
  });

  it('starts hidden in the tray when asked to, and the tray brings the window back', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, startMinimised: true } });
    await waitFor(() => expect(electron?.BrowserWindow.created).toHaveLength(1));
    const [window] = electron.BrowserWindow.created;
    const [tray] = electron.Tray.created;
    expect(window?.listenerCount('ready-to-show')).toBe(0);
    expect(window?.isVisible()).toBe(false);
    tray?.item('Show Parley')?.click?.();
    expect(window?.isVisible()).toBe(true);
    expect(tray?.item('Hide Parley')).toBeDefined();
  });

  it('shows the window anyway when there is no tray to start hidden in', async () => {
    const fake = await launch({ singleInstance: true, settings: { ...defaultSettings, startMinimised: true }, before: (it) => (it.Tray.failWith = 'no status area') });
    electron = fake;
    await waitFor(() => expect(fake.BrowserWindow.created).toHaveLength(1));
    expect(fake.Tray.created).toHaveLength(0);
    expect(fake.BrowserWindow.created[0]?.listenerCount('ready-to-show')).toBe(1);
    expect(logged.some((line) => line.includes('no tray icon'))).toBe(true);
  });

  it('restores the saved window bounds and saves new ones', async () => {
    const saved = { x: 200, y: 100, width: 1000, height: 700 };
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, window: saved } });
    await waitFor(() => expect(electron?.BrowserWindow.created).toHaveLength(1));
    const [window] = electron.BrowserWindow.created;
    expect(window?.options).toMatchObject(saved);
    window?.setBounds({ x: 300, width: 1100 });
    window?.close(); // hides to the tray, saving the bounds on the way
    expect(window?.isVisible()).toBe(false);
    expect(window?.isDestroyed()).toBe(false);
    await waitFor(() => expect(JSON.parse(readFileSync(join(userData, 'settings.json'), 'utf8'))).toMatchObject({ window: { x: 300, y: 100, width: 1100, height: 700 } }));
  });

  it('keeps the normal window bounds, not the compact overlay, for the next start', async () => {
    const saved = { x: 200, y: 100, width: 1000, height: 700 };
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, window: saved } });
    const window = await theWindow(electron);
    window.setBounds({ x: 300 });
    expect(await callFromPage(electron, commandChannels.setCompact, { compact: true })).toMatchObject({ ok: true });
    expect(window.getBounds()).toMatchObject({ width: 380, height: 460 });
    window.close(); // hides to the tray with the overlay still on, saving the bounds on the way
    // Settings are written one after another, so once this save lands the close's has too.
    expect(await callFromPage(electron, commandChannels.updateSettings, { patch: { hotkey: 'Alt+F13' } })).toMatchObject({ ok: true });
    const written = JSON.parse(readFileSync(join(userData, 'settings.json'), 'utf8')) as { window: unknown; hotkey: string };
    expect(written).toMatchObject({ hotkey: 'Alt+F13', window: { x: 300, y: 100, width: 1000, height: 700 } });
  });

  it('ignores saved bounds on a display that is gone', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, window: { x: 5000, y: 100, width: 1000, height: 700 } } });
    await waitFor(() => expect(electron?.BrowserWindow.created).toHaveLength(1));
    const options = electron.BrowserWindow.created[0]?.options;
    expect(options).toMatchObject({ width: 1000, height: 700 });
    expect(options?.x).toBeUndefined();
  });

  it('closes for real once the user quits', async () => {
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.Tray.created).toHaveLength(1));
    const [window] = electron.BrowserWindow.created;
    electron.Tray.created[0]?.item('Quit Parley')?.click?.();
    expect(electron.app.quitCalled).toBe(true);
    electron.app.emit('before-quit');
    window?.close();
    expect(window?.isDestroyed()).toBe(true);
    electron.app.emit('will-quit');
    expect(electron.Tray.created[0]?.destroyed).toBe(true);
    expect(electron.globalShortcut.registered.size).toBe(0);
  });

  it('focuses and shows the window when a second instance starts', async () => {
    electron = await launch({ singleInstance: true, settings: { ...defaultSettings, startMinimised: true } });
    await waitFor(() => expect(electron?.BrowserWindow.created).toHaveLength(1));
    electron.app.emit('second-instance');
    expect(electron.BrowserWindow.created[0]?.isVisible()).toBe(true);
  });

  it('recovers from a corrupt settings file: defaults, a backup, and the problem in the settings view', async () => {
    electron = await launch({ singleInstance: true, settings: '{ not json' });
    await waitFor(() => expect(electron?.ipcMain.handlers.size).toBeGreaterThan(0));
    const backups = readdirSync(userData).filter((name) => name.startsWith('settings.corrupt-'));
    expect(backups).toHaveLength(1);
    const view = (await callFromPage(electron, commandChannels.getSettings)) as { ok: true; value: { settings: unknown; problems: string[] } };
    expect(view.value.settings).toEqual(defaultSettings);
    expect(view.value.problems[0]).toContain(join(userData, backups[0] ?? ''));
  });

  it('keeps the API key in the keychain file, once the service accepted it, and tells the page only its last four characters', async () => {
    // The emulator on loopback stands in for the service the key is checked with.
    const revokedKey = 'sk-test-revoked-0123456789abcdefghWXYZ';
    const service = await startEmulator({ latency: noLatency, revokedKeys: [revokedKey] });
    onTeardown(() => service.close());
    vi.stubEnv('OPENAI_BASE_URL', service.baseUrl);
    electron = await launch({ singleInstance: true });
    await waitFor(() => expect(electron?.ipcMain.handlers.size).toBeGreaterThan(0));
    const refused = await callFromPage(electron, commandChannels.setApiKey, { key: revokedKey });
    expect(refused).toMatchObject({ ok: false, problem: { code: 'unauthorized', message: expect.stringContaining('wrong or has been revoked') } });
    expect(existsSync(join(userData, 'api-key.bin'))).toBe(false);
    const key = 'sk-test-0123456789abcdefghijklmnopQRST';
    const stored = await callFromPage(electron, commandChannels.setApiKey, { key });
    expect(stored).toEqual({ ok: true, value: { set: true, lastFour: 'QRST', storage: 'keychain', note: null } });
    expect(existsSync(join(userData, 'api-key.bin'))).toBe(true);
    expect(readFileSync(join(userData, 'api-key.bin')).toString('utf8')).not.toContain(key);
    const view = await callFromPage(electron, commandChannels.getSettings);
    const sentToPage = JSON.stringify([refused, stored, view, electron.BrowserWindow.created[0]?.webContents.sent]);
    expect(sentToPage).not.toContain(key);
    expect(sentToPage).not.toContain(revokedKey);
    expect(logged.join('\n')).not.toContain(key);
  });
});
