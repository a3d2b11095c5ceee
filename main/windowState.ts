/**
 * The window's size and position across runs: saved in settings (`window`) as the user moves or
 * resizes it, and restored on start only where it would be visible on a connected display.
 */
import type { Rectangle } from 'electron';

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const defaultWindowSize = { width: 960, height: 720 };

function overlap(a: Rectangle, b: Rectangle): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

/**
 * The saved bounds when at least half the window lands on the displays connected now (a monitor
 * may have been unplugged since), else only the default size, which Electron centres.
 */
export function restoredBounds(saved: Bounds | null, displays: ReadonlyArray<{ workArea: Rectangle }>): Partial<Bounds> & { width: number; height: number } {
  if (saved === null) return { ...defaultWindowSize };
  const visible = displays.reduce((sum, display) => sum + overlap(saved, display.workArea), 0);
  if (visible >= (saved.width * saved.height) / 2) return { ...saved };
  return fitsOnSomeDisplay(saved, displays);
}

/** Keeps a saved size only if some display can hold it; otherwise the default size. */
function fitsOnSomeDisplay(saved: Bounds, displays: ReadonlyArray<{ workArea: Rectangle }>): { width: number; height: number } {
  const fits = displays.some(({ workArea }) => saved.width <= workArea.width && saved.height <= workArea.height);
  return fits ? { width: saved.width, height: saved.height } : { ...defaultWindowSize };
}

/** The window as far as tracking its bounds needs. */
export interface TrackedWindow {
  on(event: 'resize' | 'move' | 'close', listener: () => void): unknown;
  getNormalBounds(): Rectangle;
  isDestroyed(): boolean;
}

export interface TrackOptions {
  save(bounds: Bounds): Promise<void>;
  /** Moves and resizes arrive many times a second while dragging; save once it settles. */
  delayMs?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  onError?: (error: Error) => void;
  /**
   * The bounds to save instead of the window's own while it is reshaped for a while (the compact
   * overlay), so the next start opens at the normal size; null when it is not.
   */
  reshapedFrom?: () => Rectangle | null;
}

/** Saves the window's normal (not maximised or minimised) bounds after it settles and when it closes. */
export function trackWindowBounds(window: TrackedWindow, options: TrackOptions): () => void {
  const setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as NodeJS.Timeout));
  let timer: unknown = null;
  let last: string | null = null;

  const flush = (): void => {
    if (timer !== null) clearTimer(timer);
    timer = null;
    if (window.isDestroyed()) return;
    const { x, y, width, height } = options.reshapedFrom?.() ?? window.getNormalBounds();
    const bounds = { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) };
    const key = JSON.stringify(bounds);
    if (key === last) return;
    last = key;
    options.save(bounds).catch((error: unknown) => options.onError?.(error as Error));
  };
  const schedule = (): void => {
    if (timer !== null) clearTimer(timer);
    timer = setTimer(flush, options.delayMs ?? 500);
  };

  window.on('resize', schedule);
  window.on('move', schedule);
  window.on('close', flush);
  return () => {
    if (timer !== null) clearTimer(timer);
    timer = null;
  };
}
