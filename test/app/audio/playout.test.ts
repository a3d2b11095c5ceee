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

describe('PlayoutBuffer: a device slow to flush', () => {
  it('counts what sounded while the device was dropping its audio as heard', () => {
    const clock = new ManualClock();
    // PulseAudio's drop returns once the server has it: the audio plays on until then.
    const sink = new RecordingSink({ latencyMs: 30, onFlush: () => clock.advanceSync(25) });
    const events: PlayoutEvent[] = [];
    const playout = new PlayoutBuffer({ sink, scheduler: clock, chunkMs: 40, onEvent: (event) => events.push(event) });
    playout.enqueue('a', ms(2000));
    clock.advanceSync(30 + 730);
    expect(playout.stop()).toEqual({ itemId: 'a', playedMs: 755, generatedMs: 2000 });
    expect(events.at(-1)).toEqual({ type: 'playout.stopped', itemId: 'a', playedMs: 755, generatedMs: 2000 });
    clock.advanceSync(1000);
    expect(playout.playedMs('a')).toBe(755);
  });
});

const level = (amplitude: number, count: number) => new Int16Array(count * 24).fill(amplitude);

describe('PlayoutBuffer: what is queued, sounding and heard', () => {
  it('counts queued and sounding audio as depth, and is playing only while there is some', () => {
    const { playout, advance } = rig(30);
    expect(playout.playing).toBe(false);
    expect(playout.currentItemId).toBeNull();
    playout.enqueue('a', ms(1000));
    // 30 ms of latency plus the whole second, written or waiting.
    expect(playout.depthMs).toBe(1030);
    expect(playout.playing).toBe(true);
    expect(playout.currentItemId).toBe('a');
    advance(500);
    expect(playout.depthMs).toBe(530);
    advance(530);
    expect(playout.depthMs).toBe(0);
    expect(playout.playing).toBe(false);
    expect(playout.currentItemId).toBeNull();
  });

  it('keeps the lead topped up every half chunk', () => {
    const { playout, advance, sink } = rig(0);
    playout.enqueue('a', ms(1000));
    expect(sink.writeSizes).toHaveLength(3);
    advance(20);
    expect(sink.writeSizes).toHaveLength(4);
  });

  it('defaults to 40 ms chunks three ahead', () => {
    const clock = new ManualClock();
    const sink = new RecordingSink();
    const playout = new PlayoutBuffer({ sink, scheduler: clock });
    playout.enqueue('a', ms(1000));
    expect(sink.writeSizes).toEqual([960, 960, 960]);
  });

  it('joins small pieces into whole chunks, samples in order', () => {
    const { playout, advance, sink } = rig(0);
    const pcm = Int16Array.from({ length: 24 * 160 }, (_, index) => index % 1000);
    // 130 ms fills the lead and leaves 10 ms waiting; three 10 ms pieces queue behind it.
    playout.enqueue('a', pcm.subarray(0, 24 * 130));
    for (let offset = 24 * 130; offset < pcm.length; offset += 240) playout.enqueue('a', pcm.subarray(offset, offset + 240));
    advance(1000);
    expect(sink.writeSizes).toEqual([960, 960, 960, 960]);
    expect(Int16Array.from(sink.written.flatMap((part) => [...part]))).toEqual(pcm);
  });

  it('ignores empty audio: nothing starts', () => {
    const { playout, events } = rig(0);
    playout.enqueue('a', new Int16Array(0));
    expect(events).toEqual([]);
    expect(playout.currentItemId).toBeNull();
    expect(playout.generatedMs('a')).toBe(0);
  });

  it('reports an item started once and drained once, however many pieces it came in', () => {
    const { playout, advance, events } = rig(0);
    playout.enqueue('a', ms(100));
    playout.enqueue('a', ms(100));
    advance(1000);
    expect(events.map((event) => `${event.type}:${event.itemId}`)).toEqual(['playout.started:a', 'playout.drained:a']);
  });

  it('knows nothing of an item it never got', () => {
    const { playout } = rig(0);
    expect(playout.playedMs('nope')).toBe(0);
    expect(playout.generatedMs('nope')).toBe(0);
  });

  it('a stop reports the item being heard, not one already finished', () => {
    const { playout, advance, events } = rig(0);
    playout.enqueue('a', ms(100));
    playout.enqueue('b', ms(100));
    advance(150);
    expect(playout.stop()).toEqual({ itemId: 'b', playedMs: 50, generatedMs: 100 });
    expect(events.filter((event) => event.type === 'playout.stopped')).toEqual([{ type: 'playout.stopped', itemId: 'b', playedMs: 50, generatedMs: 100 }]);
  });

  it('a stop with nothing playing reports nothing and sends no event', () => {
    const { playout, advance, events } = rig(0);
    expect(playout.stop()).toBeNull();
    playout.enqueue('a', ms(100));
    advance(500);
    expect(playout.stop()).toBeNull();
    expect(events.some((event) => event.type === 'playout.stopped')).toBe(false);
  });

  it('reports the loudest level heard in the look-back, and none once it has passed', () => {
    const { playout, advance } = rig(0);
    playout.enqueue('a', level(8000, 200));
    playout.enqueue('b', level(16000, 200));
    advance(100);
    const quiet = playout.audibleLevelDbfs() as number;
    expect(quiet).toBeCloseTo(20 * Math.log10(8000 / 32768), 0);
    advance(200);
    // The louder item is sounding now; the quieter one is still inside the look-back.
    expect(playout.audibleLevelDbfs()).toBeGreaterThan(quiet + 5);
    expect(playout.audibleLevelDbfs(playout.depthMs + 1000, 500)).toBeNull();
    // Audio written ahead but not yet sounding is not "heard" more than 50 ms early.
    expect(playout.audibleLevelDbfs(-100, 0)).toBeNull();
  });

  it('keeps its bookkeeping bounded: old chunks fold into the heard total, only the last finished items are kept', () => {
    const { playout, advance } = rig(0);
    playout.enqueue('long', ms(10_000));
    advance(10_000);
    expect(playout.playedMs('long')).toBe(10_000);
    // About 2 s of history in 40 ms chunks (plus what was written ahead), not 10 s (250).
    expect(playout.retained.chunks).toBeLessThan(60);
    expect(playout.retained.chunks).toBeGreaterThan(40);
    for (const id of ['b', 'c', 'd', 'e', 'f']) {
      playout.enqueue(id, ms(40));
      advance(100);
    }
    // The item being enqueued counts among the four remembered (see docs/mutation.md).
    expect(playout.playedMs('long')).toBe(0);
    expect(playout.playedMs('b')).toBe(0);
    expect(playout.playedMs('c')).toBe(40);
    expect(playout.playedMs('f')).toBe(40);
    expect(playout.retained.items).toBe(4);
  });

  it('never forgets an item still queued, however many are waiting', () => {
    const { playout } = rig(0);
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) playout.enqueue(id, ms(40));
    expect(playout.generatedMs('a')).toBe(40);
    expect(playout.retained.items).toBe(7);
  });

  it('the level heard is the loudest in the look-back, not the latest', () => {
    const { playout, advance } = rig(0);
    playout.enqueue('a', level(16000, 200));
    playout.enqueue('b', level(4000, 200));
    advance(300);
    expect(playout.audibleLevelDbfs()).toBeCloseTo(20 * Math.log10(16000 / 32768), 0);
  });

  it('forgets a finished item on request, but never the one playing', () => {
    const { playout, advance } = rig(0);
    playout.enqueue('a', ms(100));
    advance(200);
    playout.enqueue('b', ms(1000));
    playout.forget('a');
    playout.forget('b');
    expect(playout.generatedMs('a')).toBe(0);
    expect(playout.generatedMs('b')).toBe(1000);
  });
});
