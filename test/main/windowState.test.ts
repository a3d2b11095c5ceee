import { describe, expect, it } from 'vitest';
import { defaultWindowSize, restoredBounds, trackWindowBounds, type Bounds } from '../../main/windowState';
import { BrowserWindow } from '../support/fakeElectron';

const laptop = { workArea: { x: 0, y: 0, width: 1440, height: 900 } };
const monitor = { workArea: { x: 1440, y: 0, width: 2560, height: 1440 } };

describe('restoredBounds', () => {
  it('uses the default size the first time', () => {
    expect(restoredBounds(null, [laptop])).toEqual(defaultWindowSize);
  });

  it('restores size and position that are on a connected display', () => {
    const saved = { x: 2000, y: 100, width: 1000, height: 800 };
    expect(restoredBounds(saved, [laptop, monitor])).toEqual(saved);
    // Straddling two displays counts what is visible on both.
    const straddling = { x: 1000, y: 100, width: 1000, height: 700 };
    expect(restoredBounds(straddling, [laptop, monitor])).toEqual(straddling);
  });

  it('drops the position when that display is gone, keeping a size that still fits', () => {
    expect(restoredBounds({ x: 2000, y: 100, width: 1000, height: 800 }, [laptop])).toEqual({ width: 1000, height: 800 });
    expect(restoredBounds({ x: 2000, y: 100, width: 2400, height: 1400 }, [laptop])).toEqual(defaultWindowSize);
  });

  it('drops the position when most of the window would be off screen', () => {
    expect(restoredBounds({ x: 1200, y: 700, width: 800, height: 600 }, [laptop])).toEqual({ width: 800, height: 600 });
  });
});

describe('trackWindowBounds', () => {
  function track() {
    const window = new BrowserWindow({ x: 10, y: 20, width: 800, height: 600 });
    const saved: Bounds[] = [];
    const timers: Array<() => void> = [];
    trackWindowBounds(window as never, {
      save: async (bounds) => {
        saved.push(bounds);
      },
      setTimer: (callback) => timers.push(callback),
      clearTimer: () => timers.splice(0),
    });
    return { window, saved, settle: () => timers.splice(0).forEach((callback) => callback()) };
  }

  it('saves once the window settles after moves and resizes', () => {
    const { window, saved, settle } = track();
    window.setBounds({ x: 50 });
    window.setBounds({ width: 900 });
    window.setBounds({ x: 60.4, y: 70 });
    expect(saved).toEqual([]);
    settle();
    expect(saved).toEqual([{ x: 60, y: 70, width: 900, height: 600 }]);
  });

  it('saves on close, and not twice for the same bounds', () => {
    const { window, saved, settle } = track();
    window.setBounds({ height: 650 });
    settle();
    window.close();
    expect(saved).toEqual([{ x: 10, y: 20, width: 800, height: 650 }]);
    const other = track();
    other.window.setBounds({ width: 1000 });
    other.window.close();
    expect(other.saved).toEqual([{ x: 10, y: 20, width: 1000, height: 600 }]);
  });
});
