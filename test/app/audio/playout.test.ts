import { describe, expect, it } from 'vitest';
import { PlayoutBuffer, type PlayoutEvent } from '../../../app/audio/playout';
import { ManualClock, RecordingSink } from '../../../app/testing';

/** Virtual time and a sink that records writes: the played-position clock is pure arithmetic. */
function rig(latencyMs = 30) {
  const clock = new ManualClock();
  const sink = new RecordingSink({ latencyMs });
  const events: PlayoutEvent[] = [];
  const playout = new PlayoutBuffer({ sink, scheduler: clock, chunkMs: 40, onEvent: (event) => events.push(event) });
  return { playout, advance: (ms: number) => clock.advanceSync(ms), sink, events, flushes: () => sink.flushes };
}

const ms = (count: number) => new Int16Array(count * 24);

describe('PlayoutBuffer', () => {
  it('writes at most the lead ahead, in chunk-sized pieces', () => {
    const { playout, sink } = rig();
    playout.enqueue('a', ms(1000));
    // A 120 ms lead past what is sounding: three 40 ms chunks go out at once, the rest as time passes.
    expect(sink.writeSizes).toEqual([960, 960, 960]);
    expect(playout.generatedMs('a')).toBe(1000);
  });

  it('counts as heard only what has reached the listener, after the sink latency', () => {
    const { playout, advance } = rig(30);
    playout.enqueue('a', ms(500));
    expect(playout.playedMs('a')).toBe(0);
    advance(30);
    expect(playout.playedMs('a')).toBe(0);
    advance(100);
    expect(playout.playedMs('a')).toBe(100);
    advance(1000);
    expect(playout.playedMs('a')).toBe(500);
  });

  it('plays items in order and reports each drained', () => {
    const { playout, advance, events } = rig(0);
    playout.enqueue('a', ms(100));
    playout.enqueue('b', ms(100));
    advance(150);
    expect(playout.playedMs('a')).toBe(100);
    expect(playout.playedMs('b')).toBe(50);
    advance(100);
    expect(events.filter((event) => event.type === 'playout.drained').map((event) => event.itemId)).toEqual(['a', 'b']);
    expect(playout.playing).toBe(false);
  });

  it('keeps an underrun gap out of the played figure', () => {
    const { playout, advance } = rig(0);
    playout.enqueue('a', ms(100));
    advance(300);
    playout.enqueue('a', ms(100));
    advance(50);
    expect(playout.playedMs('a')).toBe(150);
  });

  it('stops within one chunk on barge-in and reports what was heard', () => {
    const { playout, advance, flushes, events } = rig(30);
    playout.enqueue('a', ms(2000));
    advance(30 + 730);
    const stopped = playout.stop();
    expect(stopped).toEqual({ itemId: 'a', playedMs: 730, generatedMs: 2000 });
    expect(flushes()).toBe(1);
    expect(playout.depthMs).toBe(0);
    advance(1000);
    // Nothing more is written or counted once stopped.
    expect(playout.playedMs('a')).toBe(730);
    expect(events.at(-1)).toEqual({ type: 'playout.stopped', itemId: 'a', playedMs: 730, generatedMs: 2000 });
    expect(playout.stop()).toBeNull();
  });
});
