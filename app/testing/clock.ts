/**
 * Client-side time for tests. `ManualClock` is the sessions' `now`/`sleep` and the playout's
 * `Scheduler`, driven by the test: nothing happens until it calls `advance`, so a test never waits
 * a real timeout. `fastScheduler` keeps real timers but runs them faster, for loopback tests whose
 * server paces output in real time.
 */
import type { Scheduler } from '../audio/playout';

interface Timer {
  due: number;
  order: number;
  fire: () => void;
}

export class ManualClock implements Scheduler {
  #now: number;
  #timers: Timer[] = [];
  #order = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  /** `Scheduler.after`: fires once `ms` have passed on this clock; returns its cancel. */
  readonly after = (ms: number, fire: () => void): (() => void) => {
    const timer: Timer = { due: this.#now + Math.max(0, ms), order: (this.#order += 1), fire };
    this.#timers.push(timer);
    return () => {
      const index = this.#timers.indexOf(timer);
      if (index >= 0) this.#timers.splice(index, 1);
    };
  };

  /** The sessions' `sleep`: resolves once the test has advanced the clock by `ms`. */
  readonly sleep = (ms: number): Promise<void> => new Promise((resolve) => void this.after(ms, resolve));

  /** `setTimeout`'s shape over this clock, for ports that take one. */
  readonly setTimeout = (fire: () => void, ms = 0): (() => void) => this.after(ms, fire);

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward, firing every timer that falls due in order at its own time, and lets the
   * promise callbacks each one starts settle before the next.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#takeDue(until);
      if (next === undefined) break;
      next.fire();
    }
    this.#now = until;
    await settle();
  }

  /** Like `advance`, for code under test that only schedules synchronously. */
  advanceSync(ms: number): void {
    const until = this.#now + ms;
    for (let next = this.#takeDue(until); next !== undefined; next = this.#takeDue(until)) next.fire();
    this.#now = until;
  }

  /** The earliest timer due by `until`, removed, with the clock moved to its time. */
  #takeDue(until: number): Timer | undefined {
    const next = this.#timers.filter((timer) => timer.due <= until).sort((a, b) => a.due - b.due || a.order - b.order)[0];
    if (next === undefined) return undefined;
    this.#timers.splice(this.#timers.indexOf(next), 1);
    this.#now = next.due;
    return next;
  }
}

/** Lets queued promise callbacks (and the ones they queue) run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await Promise.resolve();
}

/** Real timers with time running `speed` times faster, so seconds of playout take milliseconds. */
export function fastScheduler(speed: number): Scheduler {
  const origin = performance.now();
  return {
    now: () => (performance.now() - origin) * speed,
    after: (ms, fire) => {
      const handle = setTimeout(fire, ms / speed);
      return () => clearTimeout(handle);
    },
  };
}
