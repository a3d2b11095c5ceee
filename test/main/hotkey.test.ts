import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../app/host/copilot';
import {
  displayAccelerator,
  parseAccelerator,
  probeKeyboardHook,
  startHotkey,
  type HookProbe,
  type HotkeyOptions,
  type HotkeyStatus,
  type KeyboardEventLike,
} from '../../main/hotkey';
import { globalShortcut, resetFakeElectron } from '../support/fakeElectron';

const space = 57;
const leftCtrl = 29;
const leftShift = 42;

class FakeHook extends EventEmitter {
  started = false;
  start(): void {
    this.started = true;
  }
  stop(): void {
    this.started = false;
  }
  key(type: 'keydown' | 'keyup', keycode: number, modifiers: Partial<Omit<KeyboardEventLike, 'keycode'>> = {}): void {
    this.emit(type, { keycode, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, ...modifiers });
  }
}

const silentLog: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function setup(overrides: Partial<HotkeyOptions> = {}) {
  const hook = new FakeHook();
  const calls: string[] = [];
  const statuses: HotkeyStatus[] = [];
  const options: HotkeyOptions = {
    accelerator: 'CommandOrControl+Shift+Space',
    platform: 'linux',
    probeHook: async () => ({ ok: true }),
    loadHook: async () => hook,
    globalShortcut,
    press: async () => {
      calls.push('press');
      return { ok: true };
    },
    release: async () => {
      calls.push('release');
      return { ok: true };
    },
    onStatus: (status) => statuses.push(status),
    log: silentLog,
    ...overrides,
  };
  return { hook, calls, statuses, options };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => resetFakeElectron());

describe('parseAccelerator', () => {
  it('maps Electron accelerators to key codes and modifiers', () => {
    expect(parseAccelerator('CommandOrControl+Shift+Space', 'linux')).toEqual({ ok: true, binding: { keycode: space, modifiers: { ctrl: true, shift: true, alt: false, meta: false } } });
    expect(parseAccelerator('CmdOrCtrl+Shift+Space', 'darwin')).toEqual({ ok: true, binding: { keycode: space, modifiers: { ctrl: false, shift: true, alt: false, meta: true } } });
    expect(parseAccelerator('Alt+Q', 'win32')).toMatchObject({ ok: true, binding: { keycode: 16, modifiers: { alt: true } } });
    expect(parseAccelerator('Super+M', 'linux')).toMatchObject({ ok: true, binding: { keycode: 50, modifiers: { meta: true } } });
    expect(parseAccelerator('Ctrl+0', 'linux')).toMatchObject({ ok: true, binding: { keycode: 11 } });
    expect(parseAccelerator('Ctrl+Plus', 'linux')).toMatchObject({ ok: true, binding: { keycode: 13 } });
    expect(parseAccelerator('F13', 'linux')).toMatchObject({ ok: true, binding: { keycode: 91 } });
    expect(parseAccelerator('F24', 'linux')).toMatchObject({ ok: true, binding: { keycode: 107 } });
  });

  it('refuses what cannot work as a hold-to-talk key', () => {
    expect(parseAccelerator('Ctrl+Shift', 'linux')).toMatchObject({ ok: false, reason: expect.stringMatching(/no key besides the modifiers/) });
    expect(parseAccelerator('Space', 'linux')).toMatchObject({ ok: false, reason: expect.stringMatching(/fire while you type/) });
    expect(parseAccelerator('Ctrl+Banana', 'linux')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a key combination/) });
    expect(parseAccelerator('Ctrl+A+B', 'linux')).toMatchObject({ ok: false });
  });

  it('shows accelerators the way each platform names its keys', () => {
    expect(displayAccelerator('CommandOrControl+Shift+Space', 'linux')).toBe('Ctrl+Shift+Space');
    expect(displayAccelerator('CommandOrControl+Shift+Space', 'darwin')).toBe('Cmd+Shift+Space');
    expect(displayAccelerator('Super+K', 'win32')).toBe('Win+K');
  });
});

describe('hold mode (keyboard hook)', () => {
  it('starts talking on press and sends on release, ignoring key repeat', async () => {
    const { hook, calls, statuses, options } = setup();
    const hotkey = await startHotkey(options);
    expect(hook.started).toBe(true);
    expect(hotkey.status).toMatchObject({ mode: 'hold', active: true, accelerator: 'CommandOrControl+Shift+Space' });
    expect(statuses).toEqual([hotkey.status]);
    expect(globalShortcut.registered.size).toBe(0);

    const held = { ctrlKey: true, shiftKey: true };
    hook.key('keydown', leftCtrl, { ctrlKey: true });
    hook.key('keydown', leftShift, held);
    hook.key('keydown', space, held);
    hook.key('keydown', space, held); // auto-repeat while held
    hook.key('keydown', space, held);
    await settled();
    expect(calls).toEqual(['press']);
    hook.key('keyup', space, held);
    await settled();
    expect(calls).toEqual(['press', 'release']);
  });

  it('sends when a modifier is let go first, and ignores other combinations', async () => {
    const { hook, calls, options } = setup();
    await startHotkey(options);
    hook.key('keydown', space, { ctrlKey: true }); // no Shift
    hook.key('keydown', space, { ctrlKey: true, shiftKey: true, altKey: true }); // extra Alt
    hook.key('keyup', space, { ctrlKey: true, shiftKey: true });
    await settled();
    expect(calls).toEqual([]);
    hook.key('keydown', space, { ctrlKey: true, shiftKey: true });
    hook.key('keyup', leftShift, { ctrlKey: true });
    hook.key('keyup', space, { ctrlKey: true });
    await settled();
    expect(calls).toEqual(['press', 'release']);
  });

  it('runs press and release in order even when press is slow (a quick tap)', async () => {
    let finishPress: () => void = () => undefined;
    const order: string[] = [];
    const { hook, options } = setup({
      press: () =>
        new Promise((resolve) => {
          order.push('press started');
          finishPress = () => {
            order.push('press finished');
            resolve({ ok: true });
          };
        }),
      release: async () => {
        order.push('release');
        return { ok: true };
      },
    });
    await startHotkey(options);
    hook.key('keydown', space, { ctrlKey: true, shiftKey: true });
    hook.key('keyup', space, { ctrlKey: true, shiftKey: true });
    await settled();
    expect(order).toEqual(['press started']);
    finishPress();
    await settled();
    expect(order).toEqual(['press started', 'press finished', 'release']);
  });

  it('follows a new accelerator from settings and stops the hook on close', async () => {
    const { hook, calls, options, statuses } = setup();
    const hotkey = await startHotkey(options);
    expect(hotkey.setAccelerator('Alt+F13')).toMatchObject({ mode: 'hold', active: true, accelerator: 'Alt+F13' });
    hook.key('keydown', space, { ctrlKey: true, shiftKey: true });
    hook.key('keydown', 91, { altKey: true });
    hook.key('keyup', 91, { altKey: true });
    await settled();
    expect(calls).toEqual(['press', 'release']);
    expect(statuses.map((status) => status.accelerator)).toEqual(['CommandOrControl+Shift+Space', 'Alt+F13']);
    expect(hotkey.setAccelerator('Ctrl+Banana')).toMatchObject({ mode: 'hold', active: false, reason: expect.stringMatching(/not a key combination/) });
    hotkey.close();
    expect(hook.started).toBe(false);
    expect(hook.listenerCount('keydown')).toBe(0);
  });
});

describe('toggle mode (globalShortcut fallback)', () => {
  it('falls back when the probe says the hook cannot run, and says why', async () => {
    const loadHook = vi.fn();
    const { calls, options } = setup({ probeHook: async (): Promise<HookProbe> => ({ ok: false, reason: 'There is no X11 display.' }), loadHook });
    const hotkey = await startHotkey(options);
    expect(loadHook).not.toHaveBeenCalled();
    expect(hotkey.status).toEqual({
      mode: 'toggle',
      accelerator: 'CommandOrControl+Shift+Space',
      active: true,
      reason: 'There is no X11 display. Toggle mode instead: press once to talk, press again to send.',
    });
    globalShortcut.press('CommandOrControl+Shift+Space');
    await settled();
    expect(calls).toEqual(['press']);
    globalShortcut.press('CommandOrControl+Shift+Space');
    await settled();
    expect(calls).toEqual(['press', 'release']);
    globalShortcut.press('CommandOrControl+Shift+Space');
    await settled();
    expect(calls).toEqual(['press', 'release', 'press']);
  });

  it('falls back when the hook module fails to load', async () => {
    const { options } = setup({ loadHook: () => Promise.reject(new Error('Cannot find module uiohook-napi')) });
    const hotkey = await startHotkey(options);
    expect(hotkey.status).toMatchObject({ mode: 'toggle', active: true, reason: expect.stringMatching(/^The keyboard hook could not be loaded \(Cannot find module uiohook-napi\)\. Toggle mode/) });
    expect(globalShortcut.registered.has('CommandOrControl+Shift+Space')).toBe(true);
  });

  it('falls back when the hook fails to start', async () => {
    const hook = new FakeHook();
    hook.start = () => {
      throw new Error('Failed to enable access for assistive devices');
    };
    const { options } = setup({ loadHook: async () => hook });
    const hotkey = await startHotkey(options);
    expect(hotkey.status).toMatchObject({ mode: 'toggle', active: true, reason: expect.stringMatching(/could not start \(Failed to enable access/) });
  });

  it('reports a hotkey another program holds, and recovers when another is chosen', async () => {
    globalShortcut.taken.add('CommandOrControl+Shift+Space');
    const { options, statuses } = setup({ probeHook: async () => ({ ok: false, reason: 'Wayland.' }) });
    const hotkey = await startHotkey(options);
    expect(hotkey.status).toEqual({
      mode: 'toggle',
      accelerator: 'CommandOrControl+Shift+Space',
      active: false,
      reason: 'Ctrl+Shift+Space is already taken by another program or the system; record another hotkey in Settings.',
    });
    expect(hotkey.setAccelerator('Alt+F13')).toMatchObject({ mode: 'toggle', active: true });
    expect([...globalShortcut.registered.keys()]).toEqual(['Alt+F13']);
    expect(statuses.map((status) => status.active)).toEqual([false, true]);
    hotkey.close();
    expect(globalShortcut.registered.size).toBe(0);
  });

  it('does not stay "talking" when push to talk was refused', async () => {
    let refuse = true;
    const calls: string[] = [];
    const { options } = setup({
      probeHook: async () => ({ ok: false, reason: 'No hook.' }),
      press: async () => {
        calls.push('press');
        return { ok: !refuse };
      },
      release: async () => {
        calls.push('release');
        return { ok: true };
      },
    });
    await startHotkey(options);
    globalShortcut.press('CommandOrControl+Shift+Space');
    await settled();
    refuse = false;
    globalShortcut.press('CommandOrControl+Shift+Space');
    await settled();
    expect(calls).toEqual(['press', 'press']);
  });
});

describe('probeKeyboardHook', () => {
  const modulePath = createRequire(import.meta.url).resolve('uiohook-napi');
  const probe = (env: Record<string, string>) => probeKeyboardHook({ platform: 'linux', env, execPath: process.execPath, modulePath, timeoutMs: 2000 });

  it('answers without spawning when Linux has no X11 display or runs Wayland', async () => {
    const spawn = vi.fn();
    expect(await probeKeyboardHook({ platform: 'linux', env: {}, execPath: 'nowhere', modulePath, spawn: spawn as never })).toEqual({
      ok: false,
      reason: 'There is no X11 display (DISPLAY is not set), so the keyboard hook cannot watch for the key release.',
    });
    expect(await probeKeyboardHook({ platform: 'linux', env: { DISPLAY: ':0', XDG_SESSION_TYPE: 'wayland' }, execPath: 'nowhere', modulePath, spawn: spawn as never })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/Wayland session/),
    });
    expect(spawn).not.toHaveBeenCalled();
  });

  it('survives the real hook aborting its process when the display cannot be opened', async () => {
    // libuiohook calls abort() when XOpenDisplay fails; only the probe's child process dies.
    // It sometimes deadlocks instead, which the probe's timeout ends.
    const result = await probe({ DISPLAY: ':97', PATH: process.env.PATH ?? '' });
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^The keyboard hook cannot run here \(.*(XOpenDisplay failure|no answer within 2000 ms).*\)\.$/) });
  }, 10_000);

  it('reports a probe that cannot be started at all', async () => {
    const result = await probeKeyboardHook({ platform: 'darwin', env: {}, execPath: '/nonexistent/electron', modulePath });
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/ENOENT.*Accessibility/) });
  });
});
