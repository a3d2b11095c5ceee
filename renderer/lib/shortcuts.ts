/**
 * The window's keyboard shortcuts: one table the key handler matches against and the help overlay
 * lists, so what is shown is what works. Keys avoid the ones Chromium keeps for itself (Ctrl+N,
 * Ctrl+T, Ctrl+W) and the digit shortcuts Linux browsers use to switch tabs.
 */

export type ShortcutAction =
  | 'help'
  | 'newConversation'
  | 'search'
  | 'focusComposer'
  | 'stop'
  | 'toggleTools'
  | 'toggleInspector'
  | 'toggleSettings'
  | 'toggleMeetingPanel'
  | 'toggleMeeting'
  | 'pushToTalk'
  | 'askScreen'
  | 'toggleCompact';

export interface Shortcut {
  action: ShortcutAction;
  /** What the help overlay shows, e.g. "Ctrl+Shift+O". */
  keys: string;
  description: string;
  matches: (event: KeyLike) => boolean;
}

/** The parts of a KeyboardEvent the table reads (so it can be tested without a DOM). */
export interface KeyLike {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  /** True when focus is in a text field, where a bare key is typing, not a shortcut. */
  typing: boolean;
}

/** Ctrl, or Cmd on a Mac. */
const mod = (event: KeyLike) => (event.ctrlKey || event.metaKey) && !event.altKey;
const bare = (event: KeyLike) => !event.ctrlKey && !event.metaKey && !event.altKey && !event.typing;

export const shortcuts: readonly Shortcut[] = [
  { action: 'help', keys: '? or Ctrl+/', description: 'Show these shortcuts', matches: (e) => (bare(e) && e.key === '?') || (mod(e) && e.key === '/') },
  { action: 'newConversation', keys: 'Ctrl+Shift+O', description: 'Start a new conversation', matches: (e) => mod(e) && e.shiftKey && e.code === 'KeyO' },
  { action: 'search', keys: 'Ctrl+K', description: 'Search conversations', matches: (e) => mod(e) && !e.shiftKey && e.code === 'KeyK' },
  { action: 'focusComposer', keys: '/ or Shift+Esc', description: 'Type a message', matches: (e) => (bare(e) && e.key === '/') || (e.shiftKey && !mod(e) && e.key === 'Escape') },
  { action: 'stop', keys: 'Esc', description: 'Stop the reply (when no panel is open)', matches: (e) => !e.shiftKey && !mod(e) && e.key === 'Escape' },
  { action: 'toggleTools', keys: 'Ctrl+Shift+1', description: 'Open or close Tools', matches: (e) => mod(e) && e.shiftKey && e.code === 'Digit1' },
  { action: 'toggleInspector', keys: 'Ctrl+Shift+2', description: 'Open or close the Inspector', matches: (e) => mod(e) && e.shiftKey && e.code === 'Digit2' },
  { action: 'toggleSettings', keys: 'Ctrl+Shift+3 or Ctrl+,', description: 'Open or close Settings', matches: (e) => mod(e) && ((e.shiftKey && e.code === 'Digit3') || (!e.shiftKey && e.key === ',')) },
  { action: 'toggleMeetingPanel', keys: 'Ctrl+Shift+4', description: 'Open or close the Meeting panel', matches: (e) => mod(e) && e.shiftKey && e.code === 'Digit4' },
  { action: 'toggleMeeting', keys: 'Ctrl+Shift+L', description: 'Start or stop a meeting', matches: (e) => mod(e) && e.shiftKey && e.code === 'KeyL' },
  { action: 'askScreen', keys: 'Ctrl+Shift+S', description: 'Ask about my screen (capture, crop, then ask)', matches: (e) => mod(e) && e.shiftKey && e.code === 'KeyS' },
  { action: 'toggleCompact', keys: 'Ctrl+Shift+5', description: 'Compact overlay for calls (stays on top in the desktop app)', matches: (e) => mod(e) && e.shiftKey && e.code === 'Digit5' },
  { action: 'pushToTalk', keys: 'hold Ctrl+Space', description: 'Talk while held (push to talk)', matches: (e) => mod(e) && !e.shiftKey && e.code === 'Space' },
];

export function shortcutFor(event: KeyLike): ShortcutAction | null {
  return shortcuts.find((shortcut) => shortcut.matches(event))?.action ?? null;
}

/** Whether focus is somewhere a bare key types text. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'submit', 'reset'].includes(target.type);
}
