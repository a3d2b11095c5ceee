/**
 * The emulator's sense of time for connection ages and limits. Tests drive a `ManualClock`
 * instead of waiting 60 real minutes; pacing of streamed output always uses real time.
 */
export interface EmulatorClock {
  now(): number;
  /** Calls `fire` once `ms` have passed on this clock; returns a function that cancels it. */
  setTimer(ms: number, fire: () => void): () => void;
}

export const systemClock: EmulatorClock = {
  now: () => Date.now(),
  setTimer(ms, fire) {
    // setTimeout caps at 2^31-1 ms; a longer wait re-arms itself.
    const maxDelay = 2_147_483_647;
    let handle: NodeJS.Timeout;
    const due = Date.now() + ms;
    const arm = (): void => {
      const left = due - Date.now();
      handle = setTimeout(left > maxDelay ? arm : fire, Math.min(Math.max(left, 0), maxDelay));
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

export class ManualClock implements EmulatorClock {
  #now: number;
  #timers = new Set<{ due: number; fire: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fire: () => void): () => void {
    const timer = { due: this.#now + ms, fire };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** Moves time forward and fires every timer that fell due, in order. */
  advance(ms: number): void {
    this.#now += ms;
    const due = [...this.#timers].filter((timer) => timer.due <= this.#now).sort((a, b) => a.due - b.due);
    for (const timer of due) {
      this.#timers.delete(timer);
      timer.fire();
    }
  }
}
