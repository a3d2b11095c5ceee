import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../app/contract';
import { createSoxMic, type RecorderName } from '../../app/audio/native/soxMic';
import { createSpeakerSink, type SpeakerClass } from '../../app/audio/native/speakerSink';
import { concatPcm16 } from '../../app/audio/pcm';
import { delayMs, dominantFrequency, rate, saveFigures, saveWav, sineTone, soundExtent, soundSpans, startPulse, until, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';

const require = createRequire(import.meta.url);
const loadSpeaker = (): SpeakerClass => require('speaker') as SpeakerClass;

let pulse: Pulse;

beforeAll(async () => {
  pulse = await startPulse();
}, 30_000);

afterAll(async () => {
  await pulse?.close();
});

interface Captured {
  chunks: { at: number; pcm: Int16Array }[];
  problems: Problem[];
  startCalledAt: number;
  readonly samples: Int16Array;
}

function capture(): Captured & { onChunk: (pcm: Int16Array) => void; onError: (problem: Problem) => void } {
  const captured = {
    chunks: [] as { at: number; pcm: Int16Array }[],
    problems: [] as Problem[],
    startCalledAt: performance.now(),
    get samples() {
      return concatPcm16(captured.chunks.map((chunk) => chunk.pcm));
    },
    onChunk: (pcm: Int16Array) => void captured.chunks.push({ at: performance.now(), pcm }),
    onError: (problem: Problem) => void captured.problems.push(problem),
  };
  return captured;
}

const speechSpan = { thresholdDbfs: -45, windowMs: 10, bridgeMs: 400 };
const toneSpan = { thresholdDbfs: -45, windowMs: 10 };

describe('MicSource on a recorder ← PulseAudio "mouth"', () => {
  const cases: { recorder: RecorderName; device: string | undefined }[] = [
    { recorder: 'sox', device: undefined },
    { recorder: 'arecord', device: 'pulse:mouth.monitor' },
  ];
  for (const { recorder, device } of cases) {
    it(`${recorder} (${device ?? 'default input'}) delivers speech played into the mouth as 24 kHz chunks with the same envelope`, async ({ annotate }) => {
      const spoken = await speech('Parley is listening. One, two, three.');
      const mic = createSoxMic({ spawn, recorder, ...(device === undefined ? {} : { device }) });
      expect(mic.sampleRate).toBe(24_000);
      const captured = capture();
      await mic.start(captured.onChunk, captured.onError);
      expect(captured.problems).toEqual([]);
      const firstChunkMs = (captured.chunks[0]?.at ?? NaN) - captured.startCalledAt;
      await sleep(200);
      await pulse.play(spoken);
      await sleep(400);
      await mic.stop();
      const chunkCount = captured.chunks.length;
      await sleep(100);
      expect(captured.chunks).toHaveLength(chunkCount); // nothing after stop()
      expect(captured.problems).toEqual([]);
      const heard = captured.samples;
      await saveWav(`mic-${recorder}-speech`, heard);

      // 24 kHz: what arrived matches the wall-clock time it took to arrive.
      const first = captured.chunks[0];
      const last = captured.chunks.at(-1);
      expect(first && last).toBeTruthy();
      const wallMs = (last?.at ?? 0) - (first?.at ?? 0);
      const deliveredMs = ((heard.length - (first?.pcm.length ?? 0)) * 1000) / rate;
      expect(Math.abs(deliveredMs - wallMs) / wallMs).toBeLessThan(0.05);

      // The same speech: envelopes line up, and onset and duration agree.
      const windowMs = 10;
      const { delayMs: lagMs, correlation } = delayMs(spoken, heard, { windowMs, maxMs: (heard.length * 1000) / rate });
      const source = soundExtent(spoken, speechSpan);
      const recorded = soundExtent(heard, speechSpan);
      expect(source).not.toBeNull();
      expect(recorded).not.toBeNull();
      const sourceMs = (source?.endMs ?? 0) - (source?.startMs ?? 0);
      const recordedMs = (recorded?.endMs ?? 0) - (recorded?.startMs ?? 0);
      const onsetErrorMs = (recorded?.startMs ?? 0) - ((source?.startMs ?? 0) + lagMs);
      const chunkMs = captured.chunks.map((chunk) => (chunk.pcm.length * 1000) / rate).sort((a, b) => a - b);
      const medianChunkMs = chunkMs[chunkMs.length >> 1] ?? NaN;
      await annotate(
        `envelope correlation ${correlation.toFixed(3)}; speech ${recordedMs} ms heard vs ${sourceMs} ms played (onset off by ${onsetErrorMs} ms); chunks ${medianChunkMs.toFixed(1)} ms (median), first after ${firstChunkMs.toFixed(0)} ms`,
      );
      await saveFigures(`mic-${recorder}`, {
        envelopeCorrelation: Number(correlation.toFixed(3)),
        speechHeardMs: recordedMs,
        speechPlayedMs: sourceMs,
        onsetErrorMs,
        medianChunkMs: Number(medianChunkMs.toFixed(1)),
        firstChunkAfterStartMs: Number(firstChunkMs.toFixed(0)),
      });
      expect(correlation).toBeGreaterThan(0.9);
      expect(Math.abs(recordedMs - sourceMs)).toBeLessThanOrEqual(60);
      expect(Math.abs(onsetErrorMs)).toBeLessThanOrEqual(30);
      expect(medianChunkMs).toBeLessThanOrEqual(50);
    }, 30_000);
  }

  for (const recorder of ['sox', 'arecord'] as RecorderName[]) {
    it(`${recorder} records the source its device names, not the default`, async () => {
      const mic = createSoxMic({ spawn, recorder, device: 'pulse:ear.monitor' });
      const captured = capture();
      await mic.start(captured.onChunk, captured.onError);
      await sleep(100);
      await pulse.play(sineTone(300, 770), { sink: 'ear' });
      await pulse.play(sineTone(300, 330), { sink: 'mouth' });
      await sleep(300);
      await mic.stop();
      expect(captured.problems).toEqual([]);
      const spans = soundSpans(captured.samples, speechSpan);
      expect(spans).toHaveLength(1);
      const [span] = spans;
      const hz = dominantFrequency(captured.samples.subarray(Math.round(((span?.startMs ?? 0) + 50) * 24), Math.round(((span?.endMs ?? 0) - 50) * 24)));
      expect(Math.abs(hz - 770)).toBeLessThanOrEqual(3);
    }, 30_000);
  }

  it('hears the speaker through the echo loopback only while echo is on', async ({ annotate }) => {
    const mic = createSoxMic({ spawn });
    const sink = createSpeakerSink({ loadSpeaker, spawn, device: 'pulse:ear' });
    await sink.open();
    const captured = capture();
    const ear = pulse.record('ear.monitor');
    const mouth = pulse.record('mouth.monitor');
    await Promise.all([ear.started(), mouth.started()]);
    await mic.start(captured.onChunk, captured.onError);
    try {
      await pulse.setEcho(true);
      await sleep(500); // the loopback settles its latency
      sink.write(sineTone(300, 660));
      await until(() => soundSpans(captured.samples, toneSpan).length === 1, 5000, 'the echo reached the microphone');
      await sleep(400);
      await pulse.setEcho(false);
      await sleep(200);
      sink.write(sineTone(300, 660));
      await sleep(800);
    } finally {
      await mic.stop();
      await sink.close();
      await pulse.setEcho(false);
    }
    const [played, echoed] = [await ear.stop(), await mouth.stop()];
    const heard = captured.samples;
    await saveWav('mic-echo', heard);
    expect(captured.problems).toEqual([]);
    expect(soundSpans(played, toneSpan)).toHaveLength(2); // the speaker played both tones
    const spans = soundSpans(heard, toneSpan);
    expect(spans).toHaveLength(1); // the microphone heard only the one played while echo was on
    const [span] = spans;
    const hz = dominantFrequency(heard.subarray(Math.round(((span?.startMs ?? 0) + 50) * 24), Math.round(((span?.endMs ?? 0) - 50) * 24)));
    expect(Math.abs(hz - 660)).toBeLessThanOrEqual(3);
    // The echo's delay, on the recordings' shared clock: speaker onset in the ear, echo onset in the mouth.
    const earOnset = soundSpans(played, toneSpan)[0]?.startMs ?? NaN;
    const mouthOnset = soundSpans(echoed, toneSpan)[0]?.startMs ?? NaN;
    const echoDelayMs = mouth.timeOf(Math.round(mouthOnset * 24)) - ear.timeOf(Math.round(earOnset * 24));
    await annotate(`echo heard at ${hz} Hz for ${(span?.endMs ?? 0) - (span?.startMs ?? 0)} ms, ${echoDelayMs.toFixed(0)} ms after the speaker played it (loopback set to 30 ms)`);
    await saveFigures('mic-echo', { echoHz: hz, echoDelayMs: Number(echoDelayMs.toFixed(0)) });
    expect(echoDelayMs).toBeGreaterThan(5);
    expect(echoDelayMs).toBeLessThan(250);
  }, 30_000);
});
