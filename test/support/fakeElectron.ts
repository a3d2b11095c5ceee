/**
 * A stand-in for the `electron` module (no Electron binary runs here). It records what main-process
 * code asks of Electron so tests can check the window, IPC and security settings it chose.
 */
import { EventEmitter } from 'node:events';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors Electron's own listener type
type Handler = (event: any, ...args: any[]) => unknown;

export class FakeWebContents extends EventEmitter {
  sent: Array<{ channel: string; payload: unknown }> = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  destroyed = false;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class BrowserWindow extends EventEmitter {
  static created: BrowserWindow[] = [];
  options: Record<string, unknown>;
  webContents = new FakeWebContents();
  loaded: string | null = null;
  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    BrowserWindow.created.push(this);
  }
  loadFile(path: string): Promise<void> {
    this.loaded = `file://${path}`;
    return Promise.resolve();
  }
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    return Promise.resolve();
  }
  show(): void {}
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
}

class FakeApp extends EventEmitter {
  singleInstance = true;
  quitCalled = false;
  exitCode: number | null = null;
  #markReady: () => void = () => undefined;
  #ready = new Promise<void>((resolve) => {
    this.#markReady = resolve;
  });
  requestSingleInstanceLock(): boolean {
    return this.singleInstance;
  }
  whenReady(): Promise<void> {
    return this.#ready;
  }
  makeReady(): void {
    this.#markReady();
  }
  quit(): void {
    this.quitCalled = true;
  }
  exit(code: number): void {
    this.exitCode = code;
  }
}

export const app = new FakeApp();

export const ipcMain = {
  handlers: new Map<string, Handler>(),
  handle(channel: string, handler: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  },
};

type PermissionHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;
type HeadersHandler = (details: { responseHeaders?: Record<string, string[]> }, callback: (response: unknown) => void) => void;

class FakeSession {
  permissionHandler: PermissionHandler | null = null;
  headersHandler: HeadersHandler | null = null;
  webRequest = {
    onHeadersReceived: (handler: HeadersHandler): void => {
      this.headersHandler = handler;
    },
  };
  setPermissionRequestHandler(handler: PermissionHandler): void {
    this.permissionHandler = handler;
  }
}

export const session = { defaultSession: new FakeSession() };

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    this.exposed.set(key, api);
  },
};

export const ipcRenderer = Object.assign(new EventEmitter(), {
  invoked: [] as Array<{ channel: string; args: unknown[] }>,
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    return Promise.resolve({ ok: true, value: null });
  },
});

export default { app, BrowserWindow, ipcMain, session, contextBridge, ipcRenderer };

/** Forgets everything recorded; the mock module itself lives across `vi.resetModules()`. */
export function resetFakeElectron(): void {
  BrowserWindow.created = [];
  app.removeAllListeners();
  app.singleInstance = true;
  app.quitCalled = false;
  app.exitCode = null;
  ipcMain.handlers.clear();
  session.defaultSession.permissionHandler = null;
  session.defaultSession.headersHandler = null;
  contextBridge.exposed.clear();
  ipcRenderer.removeAllListeners();
  ipcRenderer.invoked = [];
}
