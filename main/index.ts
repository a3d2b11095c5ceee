/**
 * The Electron shell: one locked-down window on the shared composition root, a tray icon, the
 * push-to-talk hotkey, settings in userData and the API key in the OS keychain.
 * Everything here is glue; behaviour lives in app/ and in the main/ modules it wires.
 */
import { app, BrowserWindow, desktopCapturer, globalShortcut, ipcMain, Menu, nativeImage, safeStorage, screen, session, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { warmBuiltins } from '../app/agent/builtins';
import type { ConnectionState, VoiceStatus } from '../app/contract';
import { commandChannels, pushChannel, type PushEvent } from '../app/contract';
import { createCopilot, type Copilot } from '../app/host/copilot';
import { contentSecurityPolicy } from './csp';
import { probeKeyboardHook, startHotkey, type Hotkey, type HotkeyStatus, type KeyboardHook } from './hotkey';
import { forwardEvents, registerIpc } from './ipc';
import { openKeyStore } from './keyStore';
import { consoleLogger } from './log';
import { nodeCopilotDeps } from './nodeDeps';
import { copilotSettingsStore, createSettingsFile } from './settingsStore';
import { startMeetingControl, type MeetingControl } from './meetingControl';
import { createTray, trayStateOf, type ParleyTray } from './tray';
import { applyContentProtection, compactWindow, screenCapturer, screenLister } from './screen';
import { lockNavigation, secureWebPreferences } from './window';
import { restoredBounds, trackWindowBounds, type Bounds } from './windowState';

const here = fileURLToPath(new URL('.', import.meta.url));
const log = consoleLogger('main');
const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = join(here, '../renderer/index.html');
const rendererUrl = devServerUrl ?? pathToFileURL(rendererFile).toString();

/** Our page, and nothing else, may navigate within the window or call IPC. */
export function isAppUrl(url: string): boolean {
  try {
    const target = new URL(url);
    const home = new URL(rendererUrl);
    return target.protocol === home.protocol && target.host === home.host && target.pathname === home.pathname;
  } catch {
    return false;
  }
}

let mainWindow: BrowserWindow | null = null;
let tray: ParleyTray | null = null;
let hotkey: Hotkey | null = null;
let meetingControl: MeetingControl | null = null;
let quitting = false;

function createWindow(options: { bounds: Partial<Bounds>; show: boolean }): BrowserWindow {
  // Electronegativity CONTEXT_ISOLATION_JS_CHECK: set by secureWebPreferences (main/window.ts), which the scanner does not follow; test/main/window.test.ts and index.test.ts check it.
  // Electronegativity SANDBOX_JS_CHECK: `sandbox: true` comes from secureWebPreferences too, checked by the same tests.
  // Electronegativity AUXCLICK_JS_CHECK: a middle-click can only ask for a new window, and lockNavigation denies every window.open and navigation away (tested).
  const window = new BrowserWindow({
    ...options.bounds,
    minWidth: 480,
    minHeight: 400,
    show: false,
    title: 'Parley',
    backgroundColor: '#14161a',
    webPreferences: secureWebPreferences(join(here, '../preload/preload.cjs')),
  });
  lockNavigation(window.webContents, isAppUrl);
  if (options.show) window.once('ready-to-show', () => window.show());
  window.on('show', () => tray?.refresh());
  window.on('hide', () => tray?.refresh());
  // With a tray, closing the window hides it: Parley keeps listening for the hotkey until Quit.
  window.on('close', (event) => {
    if (quitting || tray === null) return;
    event.preventDefault();
    window.hide();
  });
  window.on('closed', () => {
    mainWindow = null;
  });
  if (devServerUrl !== undefined) void window.loadURL(devServerUrl);
  else void window.loadFile(rendererFile);
  return window;
}

function showWindow(): void {
  if (mainWindow === null) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function toggleWindow(): void {
  if (mainWindow?.isVisible() === true) mainWindow.hide();
  else showWindow();
}

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return mainWindow !== null && event.sender === mainWindow.webContents && frame !== null && frame.parent === null && isAppUrl(frame.url);
}

function isWaylandSession(env: NodeJS.ProcessEnv): boolean {
  return env.XDG_SESSION_TYPE === 'wayland' || (env.XDG_SESSION_TYPE === undefined && Boolean(env.WAYLAND_DISPLAY));
}

/** Electron's globalShortcut on Wayland works through the desktop portal only when asked to. */
function enableWaylandShortcuts(): void {
  if (process.platform === 'linux' && isWaylandSession(process.env)) app.commandLine.appendSwitch('enable-features', 'GlobalShortcutsPortal');
}

function openTray(): ParleyTray | null {
  try {
    return createTray(
      { Tray, Menu, nativeImage, platform: process.platform },
      { isWindowVisible: () => mainWindow?.isVisible() === true, toggleWindow, toggleMeeting: () => void meetingControl?.toggle(), quit: () => app.quit() },
    );
  } catch (error) {
    // Some Linux desktops have no status area; Parley then behaves like a plain window.
    log.warn('no tray icon', { error: (error as Error).message });
    return null;
  }
}

const hookModule = createRequire(import.meta.url);

/** The push-to-talk hotkey; its mode and reason go to the log and the tray menu. */
async function openHotkey(copilot: Copilot, accelerator: string, onStatus: (status: HotkeyStatus) => void): Promise<Hotkey> {
  return startHotkey({
    accelerator,
    platform: process.platform,
    probeHook: async () => {
      let modulePath: string;
      try {
        modulePath = hookModule.resolve('uiohook-napi');
      } catch {
        return { ok: false, reason: 'The keyboard hook (uiohook-napi) is not installed.' };
      }
      return probeKeyboardHook({ platform: process.platform, env: process.env, execPath: process.execPath, modulePath });
    },
    loadHook: async (): Promise<KeyboardHook> => {
      const { uIOhook } = await import('uiohook-napi');
      return {
        on: (event, listener) => (event === 'keydown' ? uIOhook.on('keydown', listener) : uIOhook.on('keyup', listener)),
        removeAllListeners: (event) => uIOhook.removeAllListeners(event),
        start: () => uIOhook.start(),
        stop: () => uIOhook.stop(),
      };
    },
    globalShortcut,
    press: () => copilot.call(commandChannels.pressToTalk, {}),
    release: () => copilot.call(commandChannels.releaseToTalk, {}),
    onStatus,
    log,
  });
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  enableWaylandShortcuts();
  app.on('second-instance', showWindow);
  app.on('web-contents-created', (_event, contents) => lockNavigation(contents, isAppUrl));
  app.on('before-quit', () => {
    quitting = true;
  });

  await app.whenReady();
  // The renderer needs no browser permission (audio is captured and played here, in main).
  // Everything is denied but writing text to the clipboard from our own page (the Copy buttons).
  const mayCopy = (permission: string, url: string | undefined): boolean => permission === 'clipboard-sanitized-write' && url !== undefined && isAppUrl(url);
  session.defaultSession.setPermissionRequestHandler((contents, permission, callback) => callback(mayCopy(permission, contents.getURL())));
  session.defaultSession.setPermissionCheckHandler((contents, permission) => mayCopy(permission, contents?.getURL()));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    // Electronegativity CSP_GLOBAL_CHECK: the policy is the constant in main/csp.ts, which the scanner cannot read here; it evaluates the same policy in renderer/index.html.
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] } });
  });

  const userData = app.getPath('userData');
  const settingsFile = createSettingsFile({ dir: userData, fs, now: Date.now });
  const loaded = await settingsFile.load();
  for (const problem of loaded.problems) log.warn('settings', { problem });
  const keyStore = await openKeyStore({ dir: userData, safeStorage, fs, platform: process.platform, log });

  // One overlay for the window; the bounds tracker asks it for the size to keep while it is on.
  const compactOverlay = compactWindow(() => mainWindow);
  const copilot: Copilot = createCopilot({
    ...nodeCopilotDeps(process.env, log),
    settingsStore: copilotSettingsStore(settingsFile, loaded),
    keyStore,
    // Electronegativity OPEN_EXTERNAL_JS_CHECK: the composition root passes only URLs the openLink schema checked to be http or https.
    openExternal: (url) => shell.openExternal(url),
    captureScreen: screenCapturer({ desktopCapturer, screen, window: () => mainWindow }),
    listScreens: screenLister({ desktopCapturer }),
    setCompact: (compact) => compactOverlay.set(compact),
  });
  registerIpc({ ipcMain, copilot, log, isTrustedSender });

  tray = openTray();
  const openMainWindow = (show: boolean): BrowserWindow => {
    const window = createWindow({ bounds: restoredBounds(settingsFile.current().window, screen.getAllDisplays()), show });
    trackWindowBounds(window, {
      save: (bounds) => settingsFile.update((current) => ({ ...current, window: bounds })),
      onError: (error) => log.warn('the window position could not be saved', { error: error.message }),
      reshapedFrom: () => compactOverlay.normalBounds(),
    });
    forwardEvents(copilot, window.webContents);
    applyContentProtection(window, settingsFile.current().hideFromCapture);
    return window;
  };
  // Starting minimised needs the tray to come back from; without one the window shows.
  mainWindow = openMainWindow(!(loaded.settings.startMinimised && tray !== null));

  let connection: ConnectionState = copilot.snapshot().connection;
  let voice: VoiceStatus = copilot.snapshot().voice;
  copilot.onEvent((event) => {
    if (event.type === 'connection') connection = event.connection;
    else if (event.type === 'voice') voice = event.voice;
    else return;
    tray?.setState(trayStateOf(connection, voice));
  });

  // Which push-to-talk mode is active and why: logged by startHotkey, shown in the tray menu.
  const reportHotkey = (status: HotkeyStatus): void => {
    tray?.setHotkey(status);
  };
  void openHotkey(copilot, loaded.settings.hotkey, reportHotkey).then(
    (opened) => {
      hotkey = opened;
      if (quitting) opened.close();
    },
    (error: unknown) => log.error('the push-to-talk hotkey could not be set up', { error: (error as Error).message }),
  );
  // "Ask about my screen" from anywhere: the window comes forward and starts the capture.
  const screenHotkey = 'CommandOrControl+Alt+S';
  const askScreen: PushEvent = { type: 'screen.ask' };
  if (!globalShortcut.register(screenHotkey, () => (showWindow(), mainWindow?.webContents.send(pushChannel, askScreen)))) {
    log.warn('the ask-about-my-screen hotkey is taken by another program', { accelerator: screenHotkey });
  }
  settingsFile.onSaved((settings) => {
    hotkey?.setAccelerator(settings.hotkey);
    applyContentProtection(mainWindow, settings.hideFromCapture);
  });
  meetingControl = startMeetingControl({
    call: (channel, payload) => copilot.call(channel, payload),
    onEvent: (listener) => copilot.onEvent(listener),
    globalShortcut,
    platform: process.platform,
    onChange: (state) => tray?.setMeeting(state),
    log,
  });

  app.on('activate', () => {
    if (mainWindow !== null) showWindow();
    else mainWindow = openMainWindow(true);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    hotkey?.close();
    meetingControl?.close();
    globalShortcut.unregisterAll();
    tray?.destroy();
    tray = null;
    void copilot.close();
  });

  await copilot.start();
  // Heavy modules load now, in the background, rather than on the first reply that needs them.
  void warmBuiltins();
}

void main().catch((error: unknown) => {
  log.error('Parley could not start', { error: (error as Error).message });
  app.exit(1);
});
