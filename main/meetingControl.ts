/**
 * Meeting mode from outside the window: a global hotkey and the tray start and stop it. Whether a
 * meeting is live comes from the copilot's own `meeting.status` events, so the tray, the hotkey and
 * the window's button always agree; a start that fails is kept to be shown in the tray menu.
 */
import { commandChannels, type CommandResult, type MeetingView, type PushEvent } from '../app/contract';
import type { Logger } from '../app/host/copilot';
import { displayAccelerator, type GlobalShortcutLike } from './hotkey';

/** Ctrl+Alt+M (Cmd+Alt+M on a Mac): rarely taken by other programs, unlike Ctrl+Shift+letter. */
export const meetingAccelerator = 'CommandOrControl+Alt+M';

export interface MeetingControlState {
  live: boolean;
  /** The hotkey as the user reads it, or null when it could not be registered. */
  hotkey: string | null;
  /** Why the last start or stop from here failed; cleared by the next that works. */
  problem: string | null;
}

export interface MeetingControlOptions {
  call: (channel: string, payload?: unknown) => Promise<CommandResult<unknown>>;
  onEvent: (listener: (event: PushEvent) => void) => () => void;
  globalShortcut: GlobalShortcutLike;
  platform: NodeJS.Platform;
  accelerator?: string;
  onChange: (state: MeetingControlState) => void;
  log: Logger;
}

export interface MeetingControl {
  readonly state: MeetingControlState;
  toggle(): Promise<void>;
  close(): void;
}

export function startMeetingControl(options: MeetingControlOptions): MeetingControl {
  const accelerator = options.accelerator ?? meetingAccelerator;
  let state: MeetingControlState = { live: false, hotkey: null, problem: null };
  const change = (next: Partial<MeetingControlState>): void => {
    state = { ...state, ...next };
    options.onChange(state);
  };
  const unsubscribe = options.onEvent((event) => {
    if (event.type === 'meeting.status' && event.status.live !== state.live) change({ live: event.status.live });
  });
  let busy = false;

  async function toggle(): Promise<void> {
    // A second press while the first is starting the meeting would stop it at once.
    if (busy) return;
    busy = true;
    try {
      const result = (await options.call(state.live ? commandChannels.stopMeeting : commandChannels.startMeeting, {})) as CommandResult<MeetingView>;
      if (result.ok) change({ live: result.value.live, problem: null });
      else {
        options.log.warn('the meeting could not be started or stopped', { message: result.problem.message });
        change({ problem: result.problem.message });
      }
    } finally {
      busy = false;
    }
  }

  let registered = false;
  try {
    registered = options.globalShortcut.register(accelerator, () => void toggle());
  } catch (error) {
    options.log.warn('globalShortcut refused the meeting hotkey', { accelerator, error: (error as Error).message });
  }
  if (!registered) options.log.warn('the meeting hotkey is taken by another program', { accelerator });
  change({ hotkey: registered ? displayAccelerator(accelerator, options.platform) : null });

  return {
    get state() {
      return state;
    },
    toggle,
    close() {
      unsubscribe();
      if (registered) options.globalShortcut.unregister(accelerator);
      registered = false;
    },
  };
}

/** The tray menu's meeting line: what a click does, and the hotkey that does the same. */
export function meetingMenuLabel(state: MeetingControlState | null): string {
  if (state === null) return 'Start meeting';
  const action = state.live ? 'Stop meeting' : 'Start meeting';
  return state.hotkey === null ? action : `${action} (${state.hotkey})`;
}
