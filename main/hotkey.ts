/**
 * The push-to-talk hotkey, anywhere on the desktop.
 *
 * Electron's `globalShortcut` reports presses but never releases, so hold-to-talk needs a native
 * keyboard hook (`uiohook-napi`): press starts capture, release commits the turn, and a press
 * while Parley speaks barges in (the pressToTalk command does that). Where the hook cannot run
 * (no X11 display, a Wayland session, no macOS Accessibility permission) the hotkey falls back to
 * `globalShortcut` in toggle mode: first press talks, second press sends. Which mode is active,
 * and why, is reported through `onStatus`.
 */
import { spawn as spawnProcess } from 'node:child_process';
import type { Logger } from '../app/host/copilot';

export interface HotkeyStatus {
  /** `hold`: hold to talk, release to send. `toggle`: press to talk, press again to send. */
  mode: 'hold' | 'toggle';
  /** The Electron accelerator, as stored in settings (e.g. `CommandOrControl+Shift+Space`). */
  accelerator: string;
  /** False when the hotkey does nothing: not a usable key combination, or taken by another program. */
  active: boolean;
  /** Why this mode (and why inactive, when it is), in words for the user. */
  reason: string;
}

/** The keyboard events Parley reads from the hook (uiohook-napi's `UiohookKeyboardEvent`). */
export interface KeyboardEventLike {
  keycode: number;
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
}

/** uiohook-napi's `uIOhook`, as far as Parley uses it. */
export interface KeyboardHook {
  on(event: 'keydown' | 'keyup', listener: (event: KeyboardEventLike) => void): unknown;
  removeAllListeners(event?: string): unknown;
  start(): void;
  stop(): void;
}

export interface GlobalShortcutLike {
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export type HookProbe = { ok: true } | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------------
// Accelerators → libuiohook key codes (the VC_* constants uiohook-napi exports as UiohookKey).

const keyCodes: Record<string, number> = {
  space: 57, tab: 15, enter: 28, return: 28, escape: 1, esc: 1, backspace: 14, delete: 3667, insert: 3666,
  home: 3655, end: 3663, pageup: 3657, pagedown: 3665, up: 57416, down: 57424, left: 57419, right: 57421,
  capslock: 58, numlock: 69, scrolllock: 70, printscreen: 3639,
  ';': 39, '=': 13, ',': 51, '-': 12, '.': 52, '/': 53, '`': 41, '[': 26, '\\': 43, ']': 27, "'": 40,
  num0: 82, num1: 79, num2: 80, num3: 81, num4: 75, num5: 76, num6: 77, num7: 71, num8: 72, num9: 73,
  nummult: 55, numadd: 78, numsub: 74, numdec: 83, numdiv: 3637,
  ...Object.fromEntries([...'1234567890'].map((digit, index) => [digit, index + 2])),
  ...Object.fromEntries([...'qwertyuiop'].map((letter, index) => [letter, 16 + index])),
  ...Object.fromEntries([...'asdfghjkl'].map((letter, index) => [letter, 30 + index])),
  ...Object.fromEntries([...'zxcvbnm'].map((letter, index) => [letter, 44 + index])),
  ...Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`f${index + 1}`, 59 + index])),
  f11: 87, f12: 88, f13: 91, f14: 92, f15: 93,
  ...Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`f${index + 16}`, 99 + index])),
};

type Modifier = 'ctrl' | 'alt' | 'shift' | 'meta';
const modifierKeyCodes: Record<Modifier, number[]> = { ctrl: [29, 3613], alt: [56, 3640], shift: [42, 54], meta: [3675, 3676] };

export interface KeyBinding {
  keycode: number;
  modifiers: Record<Modifier, boolean>;
}

export type ParsedAccelerator = { ok: true; binding: KeyBinding } | { ok: false; reason: string };

function modifierOf(token: string, platform: NodeJS.Platform): Modifier | null {
  switch (token) {
    case 'commandorcontrol':
    case 'cmdorctrl':
      return platform === 'darwin' ? 'meta' : 'ctrl';
    case 'command':
    case 'cmd':
    case 'super':
    case 'meta':
      return 'meta';
    case 'control':
    case 'ctrl':
      return 'ctrl';
    case 'alt':
    case 'option':
    case 'altgr':
      return 'alt';
    case 'shift':
      return 'shift';
    default:
      return null;
  }
}

/** Parses an Electron accelerator (`CommandOrControl+Shift+Space`) into a hook key code and modifiers. */
export function parseAccelerator(accelerator: string, platform: NodeJS.Platform): ParsedAccelerator {
  const tokens = accelerator.split(/\+(?!$)/).map((token) => token.trim().toLowerCase());
  const modifiers: Record<Modifier, boolean> = { ctrl: false, alt: false, shift: false, meta: false };
  let keycode: number | null = null;
  let keyName = '';
  for (const token of tokens) {
    const modifier = modifierOf(token, platform);
    if (modifier !== null) {
      modifiers[modifier] = true;
      continue;
    }
    const code = keyCodes[token === 'plus' ? '=' : token];
    if (code === undefined || keycode !== null) {
      return { ok: false, reason: `“${accelerator}” is not a key combination Parley can use for push to talk; record another in Settings.` };
    }
    keycode = code;
    keyName = token;
  }
  if (keycode === null) return { ok: false, reason: `“${accelerator}” has no key besides the modifiers; add one, such as Space.` };
  const bareKey = !Object.values(modifiers).some(Boolean);
  if (bareKey && !/^f\d+$/.test(keyName)) {
    return { ok: false, reason: `“${accelerator}” alone would fire while you type; add a modifier such as Ctrl, or use a function key.` };
  }
  return { ok: true, binding: { keycode, modifiers } };
}

/** The accelerator as a user reads it on this platform: `Ctrl+Shift+Space`, `Cmd+Shift+Space`. */
export function displayAccelerator(accelerator: string, platform: NodeJS.Platform): string {
  const names: Record<string, string> = {
    commandorcontrol: platform === 'darwin' ? 'Cmd' : 'Ctrl',
    cmdorctrl: platform === 'darwin' ? 'Cmd' : 'Ctrl',
    command: 'Cmd',
    control: 'Ctrl',
    option: 'Option',
    super: platform === 'win32' ? 'Win' : 'Super',
    meta: platform === 'darwin' ? 'Cmd' : platform === 'win32' ? 'Win' : 'Super',
  };
  return accelerator
    .split(/\+(?!$)/)
    .map((token) => names[token.trim().toLowerCase()] ?? token.trim())
    .join('+');
}

function matches(binding: KeyBinding, event: KeyboardEventLike): boolean {
  const { modifiers } = binding;
  return (
    event.keycode === binding.keycode &&
    event.ctrlKey === modifiers.ctrl &&
    event.altKey === modifiers.alt &&
    event.shiftKey === modifiers.shift &&
    event.metaKey === modifiers.meta
  );
}

function endsHold(binding: KeyBinding, event: KeyboardEventLike): boolean {
  if (event.keycode === binding.keycode) return true;
  return (Object.keys(modifierKeyCodes) as Modifier[]).some((modifier) => binding.modifiers[modifier] && modifierKeyCodes[modifier].includes(event.keycode));
}

// ---------------------------------------------------------------------------------------------

export interface HotkeyOptions {
  accelerator: string;
  platform: NodeJS.Platform;
  /** Says whether the hook can run here, without risking this process (see probeKeyboardHook). */
  probeHook(): Promise<HookProbe>;
  loadHook(): Promise<KeyboardHook>;
  globalShortcut: GlobalShortcutLike;
  /** The pressToTalk and releaseToTalk commands. */
  press(): Promise<{ ok: boolean }>;
  release(): Promise<{ ok: boolean }>;
  onStatus(status: HotkeyStatus): void;
  log: Logger;
}

export interface Hotkey {
  readonly status: HotkeyStatus;
  /** Rebinds to another accelerator (the setting changed) in the same mode. */
  setAccelerator(accelerator: string): HotkeyStatus;
  close(): void;
}

const holdReason = 'A keyboard hook sees both press and release, so you hold the keys while you talk.';

async function openHook(options: HotkeyOptions): Promise<{ ok: true; hook: KeyboardHook } | { ok: false; reason: string }> {
  const probe = await options.probeHook();
  if (!probe.ok) return probe;
  let hook: KeyboardHook;
  try {
    hook = await options.loadHook();
  } catch (error) {
    return { ok: false, reason: `The keyboard hook could not be loaded (${(error as Error).message}).` };
  }
  try {
    hook.start();
  } catch (error) {
    return { ok: false, reason: `The keyboard hook could not start (${(error as Error).message}).` };
  }
  return { ok: true, hook };
}

export async function startHotkey(options: HotkeyOptions): Promise<Hotkey> {
  const { platform, globalShortcut, log } = options;
  const opened = await openHook(options);
  const hook = opened.ok ? opened.hook : null;
  const fallbackReason = opened.ok ? '' : `${opened.reason} Toggle mode instead: press once to talk, press again to send.`;

  let binding: KeyBinding | null = null;
  let registered: string | null = null;
  let held = false;
  let talking = false;
  let queue: Promise<unknown> = Promise.resolve();
  let status: HotkeyStatus;

  // Press and release run in order, so a quick tap never sends the release before the press.
  const enqueue = (action: () => Promise<unknown>): void => {
    queue = queue.then(action).catch((error: unknown) => log.warn('push to talk failed', { error: (error as Error).message }));
  };
  const press = (): void =>
    enqueue(async () => {
      const result = await options.press();
      if (!result.ok) talking = false;
    });
  const release = (): void => enqueue(() => options.release());

  if (hook !== null) {
    hook.on('keydown', (event) => {
      if (binding === null || held || !matches(binding, event)) return;
      held = true;
      press();
    });
    hook.on('keyup', (event) => {
      if (binding === null || !held || !endsHold(binding, event)) return;
      held = false;
      release();
    });
  }

  const toggle = (): void => {
    talking = !talking;
    if (talking) press();
    else release();
  };

  function apply(accelerator: string): HotkeyStatus {
    if (registered !== null) globalShortcut.unregister(registered);
    registered = null;
    if (held || talking) release();
    held = talking = false;
    binding = null;

    const parsed = parseAccelerator(accelerator, platform);
    const mode = hook === null ? 'toggle' : 'hold';
    if (!parsed.ok) {
      status = { mode, accelerator, active: false, reason: parsed.reason };
    } else if (hook !== null) {
      binding = parsed.binding;
      status = { mode, accelerator, active: true, reason: holdReason };
    } else {
      let ok = false;
      try {
        ok = globalShortcut.register(accelerator, toggle);
      } catch (error) {
        log.warn('globalShortcut refused the accelerator', { accelerator, error: (error as Error).message });
      }
      if (ok) registered = accelerator;
      status = ok
        ? { mode, accelerator, active: true, reason: fallbackReason }
        : {
            mode,
            accelerator,
            active: false,
            reason: `${displayAccelerator(accelerator, platform)} is already taken by another program or the system; record another hotkey in Settings.`,
          };
    }
    log.info('push-to-talk hotkey', { ...status });
    options.onStatus(status);
    return status;
  }

  status = apply(options.accelerator);

  return {
    get status() {
      return status;
    },
    setAccelerator: (accelerator) => (accelerator === status.accelerator ? status : apply(accelerator)),
    close() {
      if (registered !== null) globalShortcut.unregister(registered);
      registered = null;
      if (hook !== null) {
        hook.removeAllListeners('keydown');
        hook.removeAllListeners('keyup');
        try {
          hook.stop();
        } catch (error) {
          log.warn('the keyboard hook did not stop cleanly', { error: (error as Error).message });
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------

export interface ProbeOptions {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  /** The executable to run the probe with: Electron (as Node, via ELECTRON_RUN_AS_NODE) or node. */
  execPath: string;
  /** Resolved path of the `uiohook-napi` module. */
  modulePath: string;
  timeoutMs?: number;
  spawn?: typeof spawnProcess;
}

const probeScript = `const { uIOhook } = require(process.env.PARLEY_HOOK_MODULE);
uIOhook.start();
setTimeout(() => { uIOhook.stop(); process.exit(0); }, 200);`;

/**
 * Checks, in a short-lived child process, that the keyboard hook can start. libuiohook aborts the
 * whole process (SIGABRT) when it cannot open the X display, so trying it in Parley's own process
 * could take the app down; the obvious cases are answered without spawning anything.
 */
export function probeKeyboardHook(options: ProbeOptions): Promise<HookProbe> {
  const { platform, env } = options;
  if (platform === 'linux') {
    const wayland = env.XDG_SESSION_TYPE === 'wayland' || (env.XDG_SESSION_TYPE === undefined && Boolean(env.WAYLAND_DISPLAY));
    if (wayland) return Promise.resolve({ ok: false, reason: 'This is a Wayland session, where a keyboard hook sees keys only in X11 windows.' });
    if (!env.DISPLAY) return Promise.resolve({ ok: false, reason: 'There is no X11 display (DISPLAY is not set), so the keyboard hook cannot watch for the key release.' });
  }
  const spawn = options.spawn ?? spawnProcess;
  return new Promise((resolve) => {
    const child = spawn(options.execPath, ['-e', probeScript], {
      env: { ...env, ELECTRON_RUN_AS_NODE: '1', PARLEY_HOOK_MODULE: options.modulePath },
      stdio: ['ignore', 'ignore', 'pipe'],
      windowsHide: true,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    // When it cannot open the display, libuiohook sometimes deadlocks instead of aborting.
    const timeoutMs = options.timeoutMs ?? 5000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const fail = (detail: string): void => {
      const permission = platform === 'darwin' ? ' Allow Parley under System Settings › Privacy & Security › Accessibility, then restart it.' : '';
      resolve({ ok: false, reason: `The keyboard hook cannot run here (${detail}).${permission}` });
    };
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ ok: true });
      const lastLine = stderr.trim().split('\n').filter(Boolean).at(-1)?.trim();
      const how = timedOut ? `no answer within ${timeoutMs} ms` : signal === null ? `exit code ${code}` : `stopped by ${signal}`;
      fail(lastLine === undefined ? how : `${lastLine}; ${how}`);
    });
  });
}
