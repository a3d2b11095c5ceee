/**
 * The sink's hand-over rules with a stand-in for speaker's native class, where the real device
 * cannot be made to hold a write in flight on cue: one write at a time, never flush or close
 * under a write in flight, a fresh device after flush.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Spawn } from '../../app/audio/native/processes';
import { createSpeakerSink, type SpeakerStream, type SpeakerStreamOptions } from '../../app/audio/native/speakerSink';

interface FakeStream extends SpeakerStream {
  options: SpeakerStreamOptions;
  writes: number[];
  pending: (() => void)[];
  closedWith: boolean | null;
  /** Completes the write in flight, as the libuv thread would. */
  finishWrite(): void;
}

function fakeSpeaker() {
  const streams: FakeStream[] = [];
  class FakeSpeaker implements FakeStream {
    options: SpeakerStreamOptions;
    writes: number[] = [];
    pending: (() => void)[] = [];
    closedWith: boolean | null = null;
    constructor(options: SpeakerStreamOptions) {
      this.options = options;
      streams.push(this);
    }
    write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean {
      if (this.closedWith !== null) throw new Error('write after close');
      if (chunk.byteLength === 0) {
        queueMicrotask(() => callback());
        return false;
      }
      this.writes.push(chunk.byteLength / 2);
      this.pending.push(() => callback());
      return false;
    }
    finishWrite(): void {
      this.pending.shift()?.();
    }
    close(flush: boolean): void {
      if (this.pending.length > 0) throw new Error('closed with a write in flight');
      this.closedWith = flush;
    }
    on(): this {
      return this;
    }
  }
  return { FakeSpeaker, streams };
}

const noSpawn: Spawn = () => {
  throw new Error('no child processes off Linux with a fixed latency');
};

async function openSink(options: { bufferMs?: number } = {}) {
  const { FakeSpeaker, streams } = fakeSpeaker();
  const sink = createSpeakerSink({ loadSpeaker: () => FakeSpeaker, spawn: noSpawn, platform: 'darwin', latencyMs: 12, ...options });
  await sink.open();
  return { sink, streams };
}

describe('SpeakerSink hand-over', () => {
  it('opens the device at open(), 24 kHz mono s16, and reports the latency it was given', async () => {
    const { sink, streams } = await openSink();
    expect(streams).toHaveLength(1);
    // Off Linux speaker keeps its own 1024-frame native writes (on ALSA: bufferMs, one write per hand-over).
    expect(streams[0]?.options).toEqual({ channels: 1, sampleRate: 24_000, bitDepth: 16, signed: true, samplesPerFrame: 1024 });
    expect(sink.latencyMs).toBe(12);
    await sink.close();
  });

  it('hands over whole 20 ms pieces, one write in flight, never more than bufferMs ahead', async () => {
    const { sink, streams } = await openSink({ bufferMs: 60 });
    const stream = streams[0] as FakeStream;
    const startedAt = performance.now();
    sink.write(new Int16Array(24_000)); // 1 s, returns at once
    expect(stream.writes).toEqual([1440]); // all the room there is, in one write
    stream.finishWrite();
    await sleep(0);
    expect(stream.writes).toEqual([1440]); // full: waits for the listener to catch up
    for (let round = 0; round < 4; round += 1) {
      await sleep(25);
      stream.finishWrite();
    }
    const handedMs = stream.writes.reduce((sum, samples) => sum + samples, 0) / 24;
    expect(stream.writes.every((samples) => samples % 480 === 0)).toBe(true);
    expect(handedMs).toBeGreaterThan(60);
    expect(handedMs - (performance.now() - startedAt)).toBeLessThanOrEqual(61);
    stream.finishWrite();
    await sink.close();
  });

  it('flush() waits for the write in flight, then drops and closes, and the next audio goes to a fresh device', async () => {
    const { sink, streams } = await openSink();
    const first = streams[0] as FakeStream;
    sink.write(new Int16Array(24_000));
    expect(first.pending).toHaveLength(1);
    sink.flush();
    expect(first.closedWith).toBeNull(); // not under the write in flight
    first.finishWrite();
    expect(first.closedWith).toBe(true); // close(true): drop what the device holds, no drain
    expect(first.writes).toEqual([4800]); // nothing more after the flush
    await sleep(10);
    expect(streams).toHaveLength(2);
    const second = streams[1] as FakeStream;
    sink.write(new Int16Array(480));
    expect(second.writes).toEqual([480]);
    second.finishWrite();
    await sink.close();
    expect(second.closedWith).toBe(true);
  });

  it('close() resolves only once the device is closed', async () => {
    const { sink, streams } = await openSink();
    const stream = streams[0] as FakeStream;
    sink.write(new Int16Array(480));
    let closed = false;
    const closing = sink.close().then(() => (closed = true));
    await sleep(5);
    expect(closed).toBe(false);
    stream.finishWrite();
    await closing;
    expect(stream.closedWith).toBe(true);
    sink.write(new Int16Array(480)); // ignored once closed
    expect(stream.writes).toEqual([480]);
  });
});
