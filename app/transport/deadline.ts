/**
 * Deadlines on silence: a request that hears nothing from the server for a while is stalled,
 * however healthy its socket looks (the heartbeat in socket.ts catches a dead one; this catches a
 * server that forgot the request). Hearing something only notes the time, and one timer checks
 * it, so a stream of deltas costs no timer each.
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
  #cancel: (() => void) | null = null;
  #lastHeardAt = 0;

  constructor(options: SilenceDeadlineOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#cancel !== null;
  }

  /** Starts counting from now; while running it only restarts the count. */
  start(): void {
    this.#lastHeardAt = this.#options.now();
    if (this.#cancel === null) this.#arm(this.#options.ms);
  }

  /** Something arrived: the silence starts again from now. */
  heard(): void {
    this.#lastHeardAt = this.#options.now();
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = null;
  }

  #arm(ms: number): void {
    this.#cancel = this.#options.setTimer(ms, () => {
      this.#cancel = null;
      const silentMs = this.#options.now() - this.#lastHeardAt;
      if (silentMs < this.#options.ms) this.#arm(this.#options.ms - silentMs);
      else this.#options.onExpired(silentMs);
    });
  }
}
