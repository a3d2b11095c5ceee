import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpeakerSink, type SpeakerClass } from '../../app/audio/native/speakerSink';
import { PlayoutBuffer, type Scheduler } from '../../app/audio/playout';
import type { SpeakerSink } from '../../app/audio/ports';
import { dbfs, dominantFrequency, envelope, rate, saveFigures, saveWav, sineTone, soundSpans, startPulse, type Pulse, type Recording, type Span } from '../support/pulse';

const require = createRequire(import.meta.url);
// Loaded only through the sink, after its device check: loading speaker with no sound device aborts the process.
const loadSpeaker = (): SpeakerClass => require('speaker') as SpeakerClass;

let pulse: Pulse;
const sinks: SpeakerSink[] = [];

beforeAll(async () => {
  pulse = await startPulse();
}, 30_000);

afterAll(async () => {
  for (const sink of sinks) await sink.close();
  await pulse?.close();
});

async function openEarSink(): Promise<SpeakerSink> {
  const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:ear' });
  sinks.push(sink);
  await sink.open();
  return sink;
}

async function recordEar(): Promise<Recording> {
  const recording = pulse.record('ear.monitor');
  await recording.started();
  return recording;
}

const toneSpans = (samples: Int16Array): Span[] => soundSpans(samples, { thresholdDbfs: -40, windowMs: 2, bridgeMs: 20 });
const index = (ms: number): number => Math.round((ms * rate) / 1000);

/** Waits until `count` sounds have played and been followed by `quietMs` of silence. */
function soundsThenQuiet(recording: Recording, count: number, quietMs = 300): Promise<void> {
  return recording.waitFor(
    (samples) => {
      const spans = toneSpans(samples);
      const last = spans.at(-1);
      return spans.length >= count && last !== undefined && (samples.length * 1000) / rate - last.endMs >= quietMs;
    },
    15_000,
    `${count} sound(s) followed by ${quietMs} ms of silence`,
  );
}

describe('SpeakerSink on speaker → PulseAudio "ear"', () => {
  it('plays 1 s of 440 Hz as 1 s of 440 Hz', async ({ annotate }) => {
    const recording = await recordEar();
    const sink = await openEarSink();
    const writtenAt = performance.now();
    sink.write(sineTone(1000, 440));
    await soundsThenQuiet(recording, 1);
    const samples = await recording.stop();
    await saveWav('speaker-tone-440hz', samples);

    const spans = toneSpans(samples);
    expect(spans).toHaveLength(1);
    const [span] = spans as [Span];
    const durationMs = span.endMs - span.startMs;
    const steady = samples.subarray(index(span.startMs + 50), index(span.endMs - 50));
    const hz = dominantFrequency(steady);
    const levelDbfs = dbfs(Math.max(...envelope(steady, 100)));
    const firstSoundMs = recording.timeOf(index(span.startMs)) - writtenAt;
    await annotate(`heard ${durationMs} ms at ${hz} Hz, ${levelDbfs.toFixed(1)} dBFS; first sound ${firstSoundMs.toFixed(1)} ms after the write (latencyMs ${sink.latencyMs})`);
    await saveFigures('speaker', { toneDurationMs: durationMs, toneHz: hz, toneLevelDbfs: Number(levelDbfs.toFixed(1)), toneFirstSoundMs: Number(firstSoundMs.toFixed(1)) });

    expect(Math.abs(durationMs - 1000)).toBeLessThanOrEqual(60);
    expect(Math.abs(hz - 440)).toBeLessThanOrEqual(2);
    // A 0.5 full-scale sine is -9 dBFS; PulseAudio's resampling and channel mapping keep the level.
    expect(Math.abs(levelDbfs + 9)).toBeLessThanOrEqual(3);
  }, 30_000);

  it('falls silent within 60 ms of flush(), and plays the next sound at once', async ({ annotate }) => {
    const recording = await recordEar();
    const sink = await openEarSink();
    const writtenAt = performance.now();
    sink.write(sineTone(2000, 440));
    await sleep(500);
    const flushedAt = performance.now();
    sink.flush();
    const flushCallMs = performance.now() - flushedAt;
    await sleep(300);
    const againAt = performance.now();
    sink.write(sineTone(200, 880));
    await soundsThenQuiet(recording, 2);
    const samples = await recording.stop();
    await saveWav('speaker-flush', samples);

    const spans = toneSpans(samples);
    expect(spans).toHaveLength(2);
    const [first, second] = spans as [Span, Span];
    const firstSoundMs = recording.timeOf(index(first.startMs)) - writtenAt;
    const silentAfterFlushMs = recording.timeOf(index(first.endMs)) - flushedAt;
    const afterReopenMs = recording.timeOf(index(second.startMs)) - againAt;
    const secondHz = dominantFrequency(samples.subarray(index(second.startMs + 20), index(second.endMs - 20)));
    await annotate(
      `first sound ${firstSoundMs.toFixed(1)} ms after the write (latencyMs ${sink.latencyMs}); silent ${silentAfterFlushMs.toFixed(1)} ms after flush() (the call took ${flushCallMs.toFixed(2)} ms); next sound ${afterReopenMs.toFixed(1)} ms after its write`,
    );
    await saveFigures('speaker', {
      latencyMsReported: sink.latencyMs,
      firstSoundMs: Number(firstSoundMs.toFixed(1)),
      silentAfterFlushMs: Number(silentAfterFlushMs.toFixed(1)),
      flushCallMs: Number(flushCallMs.toFixed(2)),
      firstSoundAfterFlushMs: Number(afterReopenMs.toFixed(1)),
    });

    expect(silentAfterFlushMs).toBeLessThanOrEqual(60);
    expect(flushCallMs).toBeLessThan(50);
    // The recording's clock is good to about one 10 ms fragment either way.
    expect(Math.abs(firstSoundMs - sink.latencyMs)).toBeLessThanOrEqual(30);
    expect(afterReopenMs).toBeLessThanOrEqual(sink.latencyMs + 30);
    expect(Math.abs(second.endMs - second.startMs - 200)).toBeLessThanOrEqual(30);
    expect(Math.abs(secondHz - 880)).toBeLessThanOrEqual(3);
  }, 30_000);

  it('plays into the sink its device names, not the default', async () => {
    const ear = await recordEar();
    const mouth = pulse.record('mouth.monitor');
    await mouth.started();
    const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:mouth' });
    sinks.push(sink);
    await sink.open();
    sink.write(sineTone(300, 550));
    await soundsThenQuiet(mouth, 1, 200);
    const [heardByMouth, heardByEar] = [await mouth.stop(), await ear.stop()];
    expect(toneSpans(heardByMouth)).toHaveLength(1);
    expect(dominantFrequency(heardByMouth.subarray(index(toneSpans(heardByMouth)[0]?.startMs ?? 0)))).toBeCloseTo(550, -1);
    expect(toneSpans(heardByEar)).toEqual([]);
  }, 30_000);

  it("keeps PlayoutBuffer's played-position clock true to what was heard at a barge-in", async ({ annotate }) => {
    const recording = await recordEar();
    const sink = await openEarSink();
    const scheduler: Scheduler = {
      now: () => performance.now(),
      after: (ms, fire) => {
        const timer = setTimeout(fire, ms);
        return () => clearTimeout(timer);
      },
    };
    // A lead well past the default 80 ms, so a busy test machine cannot underrun it: this test is about the clock.
    const playout = new PlayoutBuffer({ sink, scheduler, leadMs: 200 });
    // Audio arrives faster than real time, as Realtime deltas do.
    const reply = sineTone(3000, 440);
    for (let offset = 0; offset < reply.length; offset += index(100)) playout.enqueue('item_1', reply.subarray(offset, offset + index(100)));
    await sleep(700);
    const stopped = playout.stop();
    await soundsThenQuiet(recording, 1);
    const samples = await recording.stop();
    await saveWav('speaker-playout-barge-in', samples);

    const spans = toneSpans(samples);
    expect(spans).toHaveLength(1);
    const [span] = spans as [Span];
    const heardMs = span.endMs - span.startMs;
    expect(stopped).not.toBeNull();
    const playedMs = stopped?.playedMs ?? 0;
    await annotate(`PlayoutBuffer says ${playedMs.toFixed(1)} ms were played; the ear heard ${heardMs} ms`);
    await saveFigures('speaker', { bargeInPlayedMs: Number(playedMs.toFixed(1)), bargeInHeardMs: heardMs });
    expect(Math.abs(playedMs - heardMs)).toBeLessThanOrEqual(40);
  }, 30_000);
});
