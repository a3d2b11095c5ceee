/**
 * When to reconnect and how long to wait (PROTOCOL.md §4 client 10, after the SDK's
 * `isRecoverableClose` and its backoff): only on closes a retry can fix, 500 ms doubling to 8 s,
 * with 0.75–1.0 jitter, at most five attempts per disconnect.
 */
const recoverable = new Set([1001, 1005, 1006, 1011, 1012, 1013, 1015]);

export function isRecoverableClose(code: number): boolean {
  return recoverable.has(code);
}

export interface BackoffPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultBackoff: BackoffPolicy = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 8000 };

/** The wait before attempt `attempt` (1-based), given a random number in [0, 1). */
export function backoffDelayMs(attempt: number, random: number, policy: BackoffPolicy = defaultBackoff): number {
  const base = Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return Math.round(base * (0.75 + 0.25 * random));
}

/** `retry-after` in seconds or an HTTP date, as milliseconds; null when absent or unreadable. */
export function retryAfterMs(headers: Record<string, string> | undefined, now: number): number | null {
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (value === undefined) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

export interface ReopenOptions {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Told before each attempt, with the wait before it (the first attempt does not wait). */
  onAttempt: (attempt: number, delayMs: number) => void;
  /** True when trying should stop (the session was closed). */
  stopped: () => boolean;
  policy?: BackoffPolicy;
}

/** Calls `open` until it succeeds: once at once, then with backoff; rethrows the last failure. */
export async function reopenWithBackoff(open: () => Promise<void>, options: ReopenOptions): Promise<void> {
  const policy = options.policy ?? defaultBackoff;
  for (let attempt = 1; ; attempt += 1) {
    const delayMs = attempt === 1 ? 0 : backoffDelayMs(attempt - 1, options.random(), policy);
    options.onAttempt(attempt, delayMs);
    await options.sleep(delayMs);
    try {
      await open();
      return;
    } catch (error) {
      if (attempt >= policy.maxAttempts || options.stopped()) throw error;
    }
  }
}
