/**
 * The desktop shell's half of "Ask about my screen" and of discretion: the primary screen
 * captured through desktopCapturer (with Parley's own window out of the way while it is taken),
 * and the window hidden from screen sharing and recordings when the setting asks for it.
 */
import type { BrowserWindow, DesktopCapturer, Screen } from 'electron';
import type { ScreenSource } from '../app/contract';

export interface ScreenCaptureDeps {
  desktopCapturer: Pick<DesktopCapturer, 'getSources'>;
  screen: Pick<Screen, 'getPrimaryDisplay'>;
  /** Parley's window of the moment, hidden while the picture is taken and shown again after. */
  window: () => Pick<BrowserWindow, 'isVisible' | 'hide' | 'showInactive'> | null;
}

/** The picker's thumbnails: enough to tell windows apart, small enough to send a dozen. */
export const thumbnailSize = { width: 320, height: 200 };

/** Lists every screen and window with its name and a small thumbnail (screens first). */
export function screenLister(deps: Pick<ScreenCaptureDeps, 'desktopCapturer'>): () => Promise<ScreenSource[]> {
  return async () => {
    const sources = await deps.desktopCapturer.getSources({ types: ['screen', 'window'], thumbnailSize });
    return sources.map((source) => ({
      id: source.id,
      name: source.name,
      kind: source.id.startsWith('screen:') ? ('screen' as const) : ('window' as const),
      thumbnail: source.thumbnail.isEmpty() ? '' : source.thumbnail.toDataURL(),
    }));
  };
}

/**
 * Captures at full pixel size, as a PNG data URL: the screen or window with `sourceId`, or the
 * primary screen without one.
 */
export function screenCapturer(deps: ScreenCaptureDeps): (sourceId?: string) => Promise<string> {
  return async (sourceId) => {
    const display = deps.screen.getPrimaryDisplay();
    const width = Math.round(display.size.width * display.scaleFactor);
    const height = Math.round(display.size.height * display.scaleFactor);
    const window = deps.window();
    const wasVisible = window?.isVisible() === true;
    if (wasVisible) window?.hide();
    try {
      if (sourceId !== undefined) {
        // A window is never larger than the screen it is on; the thumbnail keeps its aspect ratio.
        const sources = await deps.desktopCapturer.getSources({ types: [sourceId.startsWith('screen:') ? 'screen' : 'window'], thumbnailSize: { width, height } });
        const source = sources.find((candidate) => candidate.id === sourceId);
        if (source === undefined || source.thumbnail.isEmpty()) throw new Error('that screen or window is gone (closed or minimised?)');
        return source.thumbnail.toDataURL();
      }
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
