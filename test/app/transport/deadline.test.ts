/**
 * The silence deadline: it expires `ms` after the last thing heard while running, and a paused
 * deadline keeps its timer for the next start instead of setting a new one.
 */
import { describe, expect, it } from 'vitest';
import { SilenceDeadline } from '../../../app/transport/deadline';
import { ManualClock } from '../../../app/testing/clock';

function deadline(ms = 1000) {
  const clock = new ManualClock();
  const expired: number[] = [];
  let timersSet = 0;
  const subject = new SilenceDeadline({
    ms,
    now: clock.now,
    setTimer: (after, fire) => {
      timersSet += 1;
      return clock.after(after, fire);
    },
    onExpired: (silentMs) => expired.push(silentMs),
  });
  return { clock, expired, subject, timersSet: () => timersSet };
}

describe('SilenceDeadline', () => {
  it('expires after ms of silence, counted from the last thing heard', () => {
    const { clock, expired, subject } = deadline();
    subject.start();
    clock.advanceSync(600);
    subject.heard();
    clock.advanceSync(999);
    expect(expired).toEqual([]);
    clock.advanceSync(1);
    expect(expired).toEqual([1000]);
    expect(subject.running).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('paused and started again, it reuses the timer still set and still expires on time', () => {
    const { clock, expired, subject, timersSet } = deadline();
    subject.start();
    clock.advanceSync(300);
    subject.pause();
    expect(subject.running).toBe(false);
    expect(clock.pending).toBe(1);
    clock.advanceSync(100);
    subject.start();
    expect(timersSet()).toBe(1);
    // The old timer fires at 1000, finds 600 ms of silence, and waits out the other 400.
    clock.advanceSync(999);
    expect(expired).toEqual([]);
    clock.advanceSync(1);
    expect(expired).toEqual([1000]);
  });

  it('paused, its timer lapses when it fires: no expiry, no timer left', () => {
    const { clock, expired, subject } = deadline();
    subject.start();
    subject.pause();
    clock.advanceSync(5000);
    expect(expired).toEqual([]);
    expect(clock.pending).toBe(0);
    // Started after the timer lapsed, it sets a new one.
    subject.start();
    expect(clock.pending).toBe(1);
  });

  it('stopped, its timer is cleared', () => {
    const { clock, expired, subject } = deadline();
    subject.start();
    subject.stop();
    expect(clock.pending).toBe(0);
    clock.advanceSync(5000);
    expect(expired).toEqual([]);
  });
});
