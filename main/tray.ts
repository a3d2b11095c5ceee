/**
 * The tray icon: Parley's state at a glance (icon colour and tooltip), and a menu to show or hide
 * the window, start or stop a meeting, read how the hotkey works, and quit.
 */
import type { MenuItemConstructorOptions, NativeImage } from 'electron';
import type { ConnectionState, VoiceStatus } from '../app/contract';
import type { HotkeyStatus } from './hotkey';
import { displayAccelerator } from './hotkey';
import { meetingMenuLabel, type MeetingControlState } from './meetingControl';
import { trayIconPng, type TrayState } from './trayIcon';

export type { TrayState } from './trayIcon';

/** One state for the tray from the connection and the voice: trouble first, then what voice is doing. */
export function trayStateOf(connection: ConnectionState, voice: VoiceStatus): TrayState {
  if (connection.status === 'error' || voice.state === 'error') return 'error';
  if (connection.status !== 'open' || voice.state === 'offline') return 'offline';
  if (voice.state === 'listening' || voice.state === 'thinking' || voice.state === 'speaking') return voice.state;
  return 'idle';
}

const stateLabels: Record<TrayState, string> = {
  idle: 'ready',
  listening: 'listening',
  thinking: 'thinking',
  speaking: 'speaking',
  offline: 'offline',
  error: 'something went wrong (open the window for details)',
};

export function trayTooltip(state: TrayState): string {
  return `Parley — ${stateLabels[state]}`;
}

/** What the hotkey does right now, as one line of the tray menu. */
export function hotkeyMenuLabel(status: HotkeyStatus | null, platform: NodeJS.Platform): string {
  if (status === null) return 'Push to talk: starting…';
  const keys = displayAccelerator(status.accelerator, platform);
  if (!status.active) return `Push to talk: ${keys} is unavailable`;
  return status.mode === 'hold' ? `Push to talk: hold ${keys}, release to send` : `Push to talk: press ${keys} to talk, again to send`;
}

/** The parts of Electron the tray uses, so tests can hand in recorders. */
export interface TrayDeps {
  Tray: new (image: NativeImage) => TrayLike;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): unknown };
  nativeImage: { createFromBuffer(buffer: Buffer, options?: { scaleFactor?: number }): NativeImage };
  platform: NodeJS.Platform;
}

export interface TrayLike {
  setImage(image: NativeImage): void;
  setToolTip(text: string): void;
  setContextMenu(menu: never): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayActions {
  isWindowVisible(): boolean;
  toggleWindow(): void;
  /** Starts or stops meeting mode. */
  toggleMeeting?(): void;
  quit(): void;
}

export interface ParleyTray {
  readonly state: TrayState;
  setState(state: TrayState): void;
  setHotkey(status: HotkeyStatus | null): void;
  setMeeting(state: MeetingControlState): void;
  /** Rebuilds the menu, e.g. after the window was shown or hidden. */
  refresh(): void;
  destroy(): void;
}

export function trayImage(deps: Pick<TrayDeps, 'nativeImage'>, state: TrayState): NativeImage {
  const image = deps.nativeImage.createFromBuffer(trayIconPng(state, 16), { scaleFactor: 1 });
  image.addRepresentation({ scaleFactor: 2, buffer: trayIconPng(state, 32) });
  return image;
}

export function createTray(deps: TrayDeps, actions: TrayActions): ParleyTray {
  let state: TrayState = 'offline';
  let hotkey: HotkeyStatus | null = null;
  let meeting: MeetingControlState | null = null;
  const tray = new deps.Tray(trayImage(deps, state));

  const meetingItems = (): MenuItemConstructorOptions[] => {
    const toggleMeeting = actions.toggleMeeting;
    if (toggleMeeting === undefined) return [];
    return [
      { type: 'separator' },
      { label: meetingMenuLabel(meeting), click: () => toggleMeeting() },
      ...(meeting?.problem == null ? [] : [{ label: `  ${meeting.problem}`, enabled: false }]),
    ];
  };

  const refresh = (): void => {
    const template: MenuItemConstructorOptions[] = [
      { label: actions.isWindowVisible() ? 'Hide Parley' : 'Show Parley', click: () => actions.toggleWindow() },
      ...meetingItems(),
      { type: 'separator' },
      { label: hotkeyMenuLabel(hotkey, deps.platform), enabled: false },
      ...(hotkey === null ? [] : [{ label: `  ${hotkey.reason}`, enabled: false }]),
      { type: 'separator' },
      { label: 'Quit Parley', click: () => actions.quit() },
    ];
    tray.setToolTip(trayTooltip(state));
    tray.setContextMenu(deps.Menu.buildFromTemplate(template) as never);
  };

  tray.on('click', () => actions.toggleWindow());
  refresh();

  return {
    get state() {
      return state;
    },
    setState(next) {
      if (next === state) return;
      state = next;
      tray.setImage(trayImage(deps, state));
      refresh();
    },
    setHotkey(status) {
      hotkey = status;
      refresh();
    },
    setMeeting(state) {
      meeting = state;
      refresh();
    },
    refresh,
    destroy: () => tray.destroy(),
  };
}
