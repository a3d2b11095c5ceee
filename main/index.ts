/**
 * The Electron shell: one locked-down window on the shared composition root.
 * Everything here is glue; behaviour lives in app/.
 */
import { app, BrowserWindow, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createCopilot, type Copilot } from '../app/host/copilot';
import { contentSecurityPolicy } from './csp';
import { forwardEvents, registerIpc } from './ipc';
import { consoleLogger } from './log';
import { nodeCopilotDeps } from './nodeDeps';
import { lockNavigation, secureWebPreferences } from './window';

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

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 960,
    height: 720,
    minWidth: 480,
    minHeight: 400,
    show: false,
    title: 'Parley',
    backgroundColor: '#14161a',
    webPreferences: secureWebPreferences(join(here, '../preload/preload.cjs')),
  });
  lockNavigation(window.webContents, isAppUrl);
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    mainWindow = null;
  });
  if (devServerUrl !== undefined) void window.loadURL(devServerUrl);
  else void window.loadFile(rendererFile);
  return window;
}

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return mainWindow !== null && event.sender === mainWindow.webContents && frame !== null && frame.parent === null && isAppUrl(frame.url);
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (mainWindow === null) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => lockNavigation(contents, isAppUrl));

  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] } });
  });

  const copilot: Copilot = createCopilot(nodeCopilotDeps(process.env, log));
  registerIpc({ ipcMain, copilot, log, isTrustedSender });
  mainWindow = createWindow();
  forwardEvents(copilot, mainWindow.webContents);
  await copilot.start();

  app.on('activate', () => {
    if (mainWindow === null) {
      mainWindow = createWindow();
      forwardEvents(copilot, mainWindow.webContents);
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => void copilot.close());
}

void main().catch((error: unknown) => {
  log.error('Parley could not start', { error: (error as Error).message });
  app.exit(1);
});
