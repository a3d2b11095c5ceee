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
  visible = false;
  destroyed = false;
  bounds: { x: number; y: number; width: number; height: number };
  constructor(options: Record<string, unknown>) {
    super();
    this.options = options;
    const number = (key: string, fallback: number): number => (typeof options[key] === 'number' ? options[key] : fallback);
    this.bounds = { x: number('x', 100), y: number('y', 100), width: number('width', 800), height: number('height', 600) };
    this.visible = options.show !== false;
    BrowserWindow.created.push(this);
  }
  /** Like the window's close button: 'close' may be prevented, else the window goes. */
  close(): void {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.destroyed = true;
    this.emit('closed');
  }
  /** Moves or resizes the window as a user dragging it would. */
  setBounds(bounds: Partial<{ x: number; y: number; width: number; height: number }>): void {
    const moved = bounds.x !== undefined || bounds.y !== undefined;
    this.bounds = { ...this.bounds, ...bounds };
    this.emit(moved ? 'move' : 'resize');
  }
  getNormalBounds(): { x: number; y: number; width: number; height: number } {
    return { ...this.bounds };
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isVisible(): boolean {
    return this.visible;
  }
  alwaysOnTop: { flag: boolean; level?: string } | null = null;
  minimumSize: [number, number] | null = null;
  setAlwaysOnTop(flag: boolean, level?: string): void {
    this.alwaysOnTop = { flag, ...(level === undefined ? {} : { level }) };
  }
  getBounds(): { x: number; y: number; width: number; height: number } {
    return { ...this.bounds };
  }
  setMinimumSize(width: number, height: number): void {
    this.minimumSize = [width, height];
  }
  /** What setContentProtection was last given; null before any call. */
  contentProtection: boolean | null = null;
  setContentProtection(enable: boolean): void {
    this.contentProtection = enable;
  }
  showInactive(): void {
    this.visible = true;
    this.emit('show');
  }
  hide(): void {
    this.visible = false;
    this.emit('hide');
  }
  loadFile(path: string): Promise<void> {
    this.loaded = `file://${path}`;
    return Promise.resolve();
  }
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
    this.emit('show');
  }
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
}

class FakeApp extends EventEmitter {
  singleInstance = true;
  /** Where `getPath` points; tests set `userData` to a fresh temporary folder. */
  paths: Record<string, string> = {};
  switches: Array<[string, string | undefined]> = [];
  commandLine = {
    appendSwitch: (name: string, value?: string): void => {
      this.switches.push([name, value]);
    },
  };
  getPath(name: string): string {
    const path = this.paths[name];
    if (path === undefined) throw new Error(`fake app has no path '${name}'`);
    return path;
  }
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
  permissionCheckHandler: ((contents: unknown, permission: string) => boolean) | null = null;
  headersHandler: HeadersHandler | null = null;
  webRequest = {
    onHeadersReceived: (handler: HeadersHandler): void => {
      this.headersHandler = handler;
    },
  };
  setPermissionRequestHandler(handler: PermissionHandler): void {
    this.permissionHandler = handler;
  }
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void {
    this.permissionCheckHandler = handler;
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


/** A nativeImage: the PNG bytes it was made from, per scale factor. */
export class FakeNativeImage {
  representations: Array<{ scaleFactor: number; buffer: Buffer }> = [];
  addRepresentation(options: { scaleFactor: number; buffer?: Buffer }): void {
    if (options.buffer !== undefined) this.representations.push({ scaleFactor: options.scaleFactor, buffer: options.buffer });
  }
}

export const nativeImage = {
  createFromBuffer(buffer: Buffer, options?: { scaleFactor?: number }): FakeNativeImage {
    const image = new FakeNativeImage();
    image.addRepresentation({ scaleFactor: options?.scaleFactor ?? 1, buffer });
    return image;
  },
};

export interface FakeMenuItem {
  label?: string;
  type?: string;
  enabled?: boolean;
  click?: () => void;
}

export const Menu = {
  buildFromTemplate(template: FakeMenuItem[]): { items: FakeMenuItem[] } {
    return { items: template };
  },
};

export class Tray extends EventEmitter {
  static created: Tray[] = [];
  /** Set to make `new Tray()` throw, as on a desktop without a status area. */
  static failWith: string | null = null;
  image: FakeNativeImage;
  toolTip = '';
  menu: { items: FakeMenuItem[] } | null = null;
  destroyed = false;
  constructor(image: FakeNativeImage) {
    super();
    if (Tray.failWith !== null) throw new Error(Tray.failWith);
    this.image = image;
    Tray.created.push(this);
  }
  setImage(image: FakeNativeImage): void {
    this.image = image;
  }
  setToolTip(text: string): void {
    this.toolTip = text;
  }
  setContextMenu(menu: { items: FakeMenuItem[] }): void {
    this.menu = menu;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The menu item whose label starts with `prefix`. */
  item(prefix: string): FakeMenuItem | undefined {
    return this.menu?.items.find((item) => item.label?.startsWith(prefix));
  }
}

/** A reversible stand-in for the OS keychain; `available` and `backend` model Linux without one. */
export const safeStorage = {
  available: true,
  backend: 'gnome_libsecret',
  isEncryptionAvailable(): boolean {
    return this.available;
  },
  getSelectedStorageBackend(): string {
    return this.backend;
  },
  encryptString(plainText: string): Buffer {
    return Buffer.concat([Buffer.from('fake-keychain:'), Buffer.from(plainText, 'utf8').reverse()]);
  },
  decryptString(encrypted: Buffer): string {
    const prefix = Buffer.from('fake-keychain:');
    if (!encrypted.subarray(0, prefix.length).equals(prefix)) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    return Buffer.from(encrypted.subarray(prefix.length)).reverse().toString('utf8');
  },
};

export const globalShortcut = {
  registered: new Map<string, () => void>(),
  /** Accelerators another program holds: registering them fails, as in Electron. */
  taken: new Set<string>(),
  register(accelerator: string, callback: () => void): boolean {
    if (this.taken.has(accelerator) || this.registered.has(accelerator)) return false;
    this.registered.set(accelerator, callback);
    return true;
  },
  unregister(accelerator: string): void {
    this.registered.delete(accelerator);
  },
  unregisterAll(): void {
    this.registered.clear();
  },
  /** Presses a registered accelerator. */
  press(accelerator: string): void {
    this.registered.get(accelerator)?.();
  },
};

type Display = { id: number; workArea: { x: number; y: number; width: number; height: number }; size: { width: number; height: number }; scaleFactor: number };
const primaryDisplay: Display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 }, size: { width: 1920, height: 1080 }, scaleFactor: 1 };

export const screen = {
  displays: [primaryDisplay],
  getAllDisplays(): Display[] {
    return this.displays;
  },
  getPrimaryDisplay(): Display {
    return this.displays[0] ?? primaryDisplay;
  },
};

type FakeSource = { id: string; name: string; display_id: string; thumbnail: { isEmpty: () => boolean; toDataURL: () => string } };
const source = (id: string, name: string, displayId: string, picture: string): FakeSource => ({ id, name, display_id: displayId, thumbnail: { isEmpty: () => picture === '', toDataURL: () => picture } });

/**
 * desktopCapturer: one screen whose thumbnail is `picture` (a data URL), and the `windows` open
 * (each with its own picture); the types asked for are honoured and each request recorded.
 */
export const desktopCapturer = {
  picture: 'data:image/png;base64,iVBORw0KGgo=',
  windows: [] as Array<{ id: string; name: string; picture: string }>,
  requests: [] as Array<{ types: string[]; thumbnailSize?: { width: number; height: number } }>,
  /** What the window's visibility was while the capture ran. */
  windowVisibleDuring: [] as boolean[],
  getSources(options: { types: string[]; thumbnailSize?: { width: number; height: number } }): Promise<FakeSource[]> {
    this.requests.push(options);
    this.windowVisibleDuring.push(BrowserWindow.created.at(-1)?.visible ?? false);
    const screens = options.types.includes('screen') ? [source('screen:1:0', 'Entire screen', '1', this.picture)] : [];
    const windows = options.types.includes('window') ? this.windows.map((window) => source(window.id, window.name, '', window.picture)) : [];
    return Promise.resolve([...screens, ...windows]);
  },
};

export default { app, BrowserWindow, ipcMain, session, contextBridge, ipcRenderer, Tray, Menu, nativeImage, safeStorage, globalShortcut, screen, desktopCapturer };

/** Forgets everything recorded; the mock module itself lives across `vi.resetModules()`. */
export function resetFakeElectron(): void {
  BrowserWindow.created = [];
  app.removeAllListeners();
  app.singleInstance = true;
  app.quitCalled = false;
  app.exitCode = null;
  app.paths = {};
  app.switches = [];
  ipcMain.handlers.clear();
  session.defaultSession.permissionHandler = null;
  session.defaultSession.permissionCheckHandler = null;
  session.defaultSession.headersHandler = null;
  contextBridge.exposed.clear();
  ipcRenderer.removeAllListeners();
  ipcRenderer.invoked = [];
  Tray.created = [];
  Tray.failWith = null;
  safeStorage.available = true;
  safeStorage.backend = 'gnome_libsecret';
  globalShortcut.registered.clear();
  desktopCapturer.picture = 'data:image/png;base64,iVBORw0KGgo=';
  desktopCapturer.requests = [];
  desktopCapturer.windows = [];
  desktopCapturer.windowVisibleDuring = [];
  globalShortcut.taken.clear();
  screen.displays = [primaryDisplay];
}
