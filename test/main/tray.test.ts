import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState, VoiceStatus } from '../../app/contract';
import { createTray, hotkeyMenuLabel, trayStateOf, trayTooltip, type TrayDeps } from '../../main/tray';
import { trayColours } from '../../main/trayIcon';
import * as electron from '../support/fakeElectron';
import { decodePng } from './decodePng';

const open: ConnectionState = { status: 'open', mode: 'offline-emulator', endpoint: 'ws://127.0.0.1:1/v1/responses' };
const voice = (state: VoiceStatus['state']): VoiceStatus => ({ state, turnMode: 'push_to_talk', muted: false, problem: null });
const problem = { code: 'connection_failed' as const, message: 'down', hint: 'retry' };

describe('trayStateOf', () => {
  it.each([
    [open, voice('off'), 'idle'],
    [open, voice('idle'), 'idle'],
    [open, voice('connecting'), 'idle'],
    [open, voice('listening'), 'listening'],
    [open, voice('thinking'), 'thinking'],
    [open, voice('speaking'), 'speaking'],
    [open, voice('offline'), 'offline'],
    [open, voice('error'), 'error'],
    [{ status: 'starting' }, voice('off'), 'offline'],
    [{ ...open, status: 'connecting' }, voice('idle'), 'offline'],
    [{ ...open, status: 'closed', reason: 'gone' }, voice('listening'), 'offline'],
    [{ status: 'error', mode: null, endpoint: null, problem }, voice('speaking'), 'error'],
  ] as Array<[ConnectionState, VoiceStatus, string]>)('%j with voice %j is %s', (connection, status, expected) => {
    expect(trayStateOf(connection, status)).toBe(expected);
  });
});

describe('the tray', () => {
  let visible: boolean;
  const actions = { isWindowVisible: () => visible, toggleWindow: vi.fn(), quit: vi.fn() };
  const deps = { Tray: electron.Tray, Menu: electron.Menu, nativeImage: electron.nativeImage, platform: 'linux' } as unknown as TrayDeps;

  beforeEach(() => {
    electron.resetFakeElectron();
    visible = true;
    actions.toggleWindow.mockClear();
    actions.quit.mockClear();
  });

  function iconColour(tray: electron.Tray, scaleFactor: number): { size: number; centre: number[] } {
    const representation = tray.image.representations.find((entry) => entry.scaleFactor === scaleFactor);
    const png = decodePng(representation?.buffer ?? Buffer.alloc(0));
    return { size: png.width, centre: png.pixel(png.width / 2, png.height / 2).slice(0, 3) };
  }

  it('starts offline with a 16 px icon and a 32 px @2x representation', () => {
    createTray(deps, actions);
    const [tray] = electron.Tray.created;
    if (tray === undefined) throw new Error('no tray');
    expect(iconColour(tray, 1)).toEqual({ size: 16, centre: [...trayColours.offline] });
    expect(iconColour(tray, 2)).toEqual({ size: 32, centre: [...trayColours.offline] });
    expect(tray.toolTip).toBe('Parley — offline');
  });

  it('changes icon and tooltip with the state', () => {
    const parley = createTray(deps, actions);
    const [tray] = electron.Tray.created;
    if (tray === undefined) throw new Error('no tray');
    for (const state of ['idle', 'listening', 'thinking', 'speaking', 'error'] as const) {
      parley.setState(state);
      expect(parley.state).toBe(state);
      expect(iconColour(tray, 1).centre).toEqual([...trayColours[state]]);
      expect(iconColour(tray, 2).centre).toEqual([...trayColours[state]]);
      expect(tray.toolTip).toBe(trayTooltip(state));
    }
    expect(tray.toolTip).toMatch(/^Parley — something went wrong/);
  });

  it('offers show/hide, the push-to-talk mode and quit', () => {
    const parley = createTray(deps, actions);
    const [tray] = electron.Tray.created;
    if (tray === undefined) throw new Error('no tray');
    expect(tray.item('Hide Parley')).toBeDefined();
    tray.item('Hide Parley')?.click?.();
    expect(actions.toggleWindow).toHaveBeenCalledTimes(1);
    visible = false;
    parley.refresh();
    expect(tray.item('Show Parley')).toBeDefined();

    expect(tray.item('Push to talk')?.label).toBe('Push to talk: starting…');
    parley.setHotkey({ mode: 'toggle', accelerator: 'CommandOrControl+Shift+Space', active: true, reason: 'No X11 display.' });
    expect(tray.item('Push to talk')).toMatchObject({ label: 'Push to talk: press Ctrl+Shift+Space to talk, again to send', enabled: false });
    expect(tray.menu?.items.some((item) => item.label?.includes('No X11 display.'))).toBe(true);

    tray.item('Quit Parley')?.click?.();
    expect(actions.quit).toHaveBeenCalledTimes(1);
    tray.emit('click');
    expect(actions.toggleWindow).toHaveBeenCalledTimes(2);
  });

  it('describes each hotkey mode in words', () => {
    const status = { accelerator: 'CommandOrControl+Shift+Space', active: true, reason: '' };
    expect(hotkeyMenuLabel({ ...status, mode: 'hold' }, 'darwin')).toBe('Push to talk: hold Cmd+Shift+Space, release to send');
    expect(hotkeyMenuLabel({ ...status, mode: 'hold', active: false }, 'win32')).toBe('Push to talk: Ctrl+Shift+Space is unavailable');
  });
});
