/**
 * Deadlines on silence: a request that hears nothing from the server for a while is stalled,
 * however healthy its socket looks (the heartbeat in socket.ts catches a dead one; this catches a
 * server that forgot the request). Hearing something only notes the time, and one timer checks
 * it, so a stream of deltas costs no timer each. A deadline reused request after request can be
 * paused instead of stopped: its timer stays set and, when it fires with nothing to watch, simply
 * lapses, so back-to-back requests share one timer instead of setting and clearing one each.
 */

/** Runs `callback` after `ms`; returns what cancels it. Injected so tests drive time. */
export type SetTimer = (ms: number, callback: () => void) => () => void;

export const realTimer: SetTimer = (ms, callback) => {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
};

export interface SilenceDeadlineOptions {
  ms: number;
  now: () => number;
  setTimer: SetTimer;
  /** Nothing was heard for `silentMs` (at least `ms`) while running; the deadline has stopped. */
  onExpired: (silentMs: number) => void;
}

export class SilenceDeadline {
  readonly #options: SilenceDeadlineOptions;
  /** The timer, while one is set (running, or paused and not yet lapsed). */
  #cancel: (() => void) | null = null;
  #running = false;
  #lastHeardAt = 0;

  constructor(options: SilenceDeadlineOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts counting from now; while running it only restarts the count. */
  start(): void {
    this.#lastHeardAt = this.#options.now();
    this.#running = true;
    // A timer left by `pause` is due no later than `ms` from now; when it fires it re-arms for the rest.
    if (this.#cancel === null) this.#arm(this.#options.ms);
  }

  /** Something arrived: the silence starts again from now. */
  heard(): void {
    this.#lastHeardAt = this.#options.now();
  }

  /**
   * Stops counting but leaves the timer set (it lapses when it fires), for a deadline that will
   * start again soon. The pending timer keeps a Node process alive until it fires: use it where
   * something else (an open socket) does so anyway, and `stop` at the end.
   */
  pause(): void {
    this.#running = false;
  }

  /** Stops counting and clears the timer. */
  stop(): void {
    this.#running = false;
    this.#cancel?.();
    this.#cancel = null;
  }

  #arm(ms: number): void {
    this.#cancel = this.#options.setTimer(ms, () => {
      this.#cancel = null;
      if (!this.#running) return;
      const silentMs = this.#options.now() - this.#lastHeardAt;
      if (silentMs < this.#options.ms) this.#arm(this.#options.ms - silentMs);
      else {
        this.#running = false;
        this.#options.onExpired(silentMs);
      }
    });
  }
}
