import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isRecoverableClose, retryAfterMs } from '../../../app/transport/reconnect';

describe('reconnect policy', () => {
  it('reconnects only on closes a retry can fix', () => {
    expect([1001, 1005, 1006, 1011, 1012, 1013, 1015].every(isRecoverableClose)).toBe(true);
    expect([1000, 1002, 1003, 1007, 1008, 1009, 1010, 3000, 4000].some(isRecoverableClose)).toBe(false);
  });

  it('backs off from 500 ms, doubling to an 8 s cap, with 0.75–1.0 jitter', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, 0.999999))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelayMs(1, 0)).toBe(375);
    expect(backoffDelayMs(5, 0)).toBe(6000);
  });

  it('reads retry-after as seconds or an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, 0)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 1970 00:00:05 GMT' }, 1000)).toBe(4000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, 0)).toBeNull();
    expect(retryAfterMs(undefined, 0)).toBeNull();
  });
});
