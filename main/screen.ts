/**
 * The desktop shell's half of "Ask about my screen" and of discretion: the primary screen
 * captured through desktopCapturer (with Parley's own window out of the way while it is taken),
 * and the window hidden from screen sharing and recordings when the setting asks for it.
 */
import type { BrowserWindow, DesktopCapturer, Screen } from 'electron';

export interface ScreenCaptureDeps {
  desktopCapturer: Pick<DesktopCapturer, 'getSources'>;
  screen: Pick<Screen, 'getPrimaryDisplay'>;
  /** Parley's window of the moment, hidden while the picture is taken and shown again after. */
  window: () => Pick<BrowserWindow, 'isVisible' | 'hide' | 'showInactive'> | null;
}

/** Captures the primary screen at its full pixel size, as a PNG data URL. */
export function screenCapturer(deps: ScreenCaptureDeps): () => Promise<string> {
  return async () => {
    const display = deps.screen.getPrimaryDisplay();
    const width = Math.round(display.size.width * display.scaleFactor);
    const height = Math.round(display.size.height * display.scaleFactor);
    const window = deps.window();
    const wasVisible = window?.isVisible() === true;
    if (wasVisible) window?.hide();
    try {
      const sources = await deps.desktopCapturer.getSources({ types: ['screen'], thumbnailSize: { width, height } });
      const source = sources.find((candidate) => candidate.display_id === String(display.id)) ?? sources[0];
      if (source === undefined || source.thumbnail.isEmpty()) throw new Error('the system offered no screen to capture');
      return source.thumbnail.toDataURL();
    } finally {
      if (wasVisible) window?.showInactive();
    }
  };
}

/** Applies the "Hide Parley from screen sharing and recordings" setting to the window. */
export function applyContentProtection(window: Pick<BrowserWindow, 'setContentProtection' | 'isDestroyed'> | null, hidden: boolean): void {
  if (window === null || window.isDestroyed()) return;
  window.setContentProtection(hidden);
}

/** The compact overlay's size: a transcript tail, the message box and hold-to-talk. */
export const compactSize = { width: 380, height: 460 };

/**
 * Compact mode for calls: the window shrinks to the overlay and floats above the others; off, it
 * goes back to the size it had.
 */
export interface CompactWindow {
  /** Turns the overlay on or off. */
  set(compact: boolean): void;
  /** While the overlay is on, the window's bounds from before it (the ones to keep); else null. */
  normalBounds(): Electron.Rectangle | null;
}

export function compactWindow(window: () => Pick<BrowserWindow, 'setAlwaysOnTop' | 'getBounds' | 'setBounds' | 'setMinimumSize' | 'isDestroyed'> | null): CompactWindow {
  let before: Electron.Rectangle | null = null;
  return {
    set: (compact) => {
      const target = window();
      if (target === null || target.isDestroyed()) return;
      target.setAlwaysOnTop(compact, 'floating');
      if (compact) {
        before ??= target.getBounds();
        target.setMinimumSize(320, 300);
        target.setBounds({ ...compactSize });
      } else if (before !== null) {
        target.setMinimumSize(480, 400);
        target.setBounds(before);
        before = null;
      }
    },
    normalBounds: () => (before === null ? null : { ...before }),
  };
}
