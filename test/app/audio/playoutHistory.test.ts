/**
 * The played history a long voice session leaves behind: what the echo gate scans on every mic
 * frame must not grow with the session, while the figures a truncation needs stay exact.
 */
import { describe, expect, it } from 'vitest';
import { PlayoutBuffer, type Scheduler } from '../../../app/audio/playout';
import type { SpeakerSink } from '../../../app/audio/ports';

/** Virtual time: timers fire as the clock is advanced, in order. */
function rig() {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const scheduler: Scheduler = {
    now: () => now,
    after(ms, fire) {
      const timer = { at: now + ms, fire };
      timers.push(timer);
      return () => void timers.splice(timers.indexOf(timer), 1);
    },
  };
  const sink: SpeakerSink = { sampleRate: 24_000, latencyMs: 30, open: async () => undefined, write: () => undefined, flush: () => undefined, close: async () => undefined };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      timers.splice(timers.indexOf(due), 1);
      now = Math.max(now, due.at);
      due.fire();
    }
    now = until;
  };
  return { playout: new PlayoutBuffer({ sink, scheduler, chunkMs: 40 }), advance };
}

const tone = (ms: number, amplitude: number) => new Int16Array(ms * 24).fill(amplitude);

describe('PlayoutBuffer history', () => {
  it('holds the same few items and chunks after two hundred replies as after one', () => {
    const { playout, advance } = rig();
    const retainedAfter: Array<{ items: number; chunks: number }> = [];
    for (let reply = 0; reply < 200; reply += 1) {
      playout.enqueue(`item_${reply}`, tone(3000, 8000));
      // The mic asks the echo gate once per 40 ms frame while the reply plays, then a pause.
      for (let frame = 0; frame < 100; frame += 1) {
        playout.audibleLevelDbfs();
        advance(40);
      }
      retainedAfter.push(playout.retained);
    }
    // Four finished items kept; chunks only for the last two seconds of history.
    expect(retainedAfter.at(-1)).toEqual(retainedAfter[4]);
    expect(Math.max(...retainedAfter.map((entry) => entry.items))).toBeLessThanOrEqual(5);
    expect(Math.max(...retainedAfter.map((entry) => entry.chunks))).toBeLessThanOrEqual(2000 / 40 + 10);
  });

  it('keeps played figures exact and the recent level audible once old chunks are folded', () => {
    const { playout, advance } = rig();
    playout.enqueue('long', tone(10_000, 16_000));
    advance(6030);
    expect(playout.retained.chunks).toBeLessThan(10_000 / 40);
    expect(playout.playedMs('long')).toBe(6000);
    expect(playout.audibleLevelDbfs()).toBeCloseTo(20 * Math.log10(16_000 / 32_768), 5);
    const cut = playout.stop();
    expect(cut).toEqual({ itemId: 'long', playedMs: 6000, generatedMs: 10_000 });
  });

  it('forgets the oldest finished items, never one still playing', () => {
    const { playout, advance } = rig();
    for (let reply = 0; reply < 6; reply += 1) {
      playout.enqueue(`done_${reply}`, tone(100, 1000));
      advance(200);
    }
    playout.enqueue('playing', tone(1000, 1000));
    advance(100);
    expect(playout.generatedMs('done_0')).toBe(0);
    expect(playout.generatedMs('done_5')).toBe(100);
    expect(playout.playedMs('done_5')).toBe(100);
    expect(playout.generatedMs('playing')).toBe(1000);
  });
});
