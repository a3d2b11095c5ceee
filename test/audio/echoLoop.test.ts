/**
 * Talking over Parley on laptop speakers, through the real PulseAudio loop: the speaker's output
 * reaches the mic through a sox echo path (delay, attenuation, a little reverb), the mic side
 * cancels it and listens with the local speech detector, and the user's espeak-ng voice is mixed
 * in at the echo's own level.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activeLevelDbfs, atLevel, earSilentAt, realtimeThisProcess, requireAudioTools, saveFigures, saveWav, speechOnsetAt, startPulse, until, type EchoPath, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';
import { earCut, echoLoop, type EchoLoop } from '../support/loop';

let pulse: Pulse;
let loop: EchoLoop | null = null;
let restoreScheduling = (): void => undefined;

const path: EchoPath = { delayMs: 80, gainDb: -15, reverb: 20 };

beforeAll(async () => {
  requireAudioTools();
  pulse = await startPulse();
  restoreScheduling = realtimeThisProcess();
});
afterEach(async () => {
  await pulse.setEchoPath(null);
  await loop?.close();
  loop = null;
});
afterAll(async () => {
  restoreScheduling();
  await pulse?.close();
});

describe('talking over Parley through laptop speakers', { timeout: 90_000 }, () => {
  it('self-interruption: Parley speaking through the echo path, with voice detection on, is never taken for the user', async () => {
    await pulse.setEchoPath(path);
    loop = await echoLoop({ mode: 'canceller', detect: true });
    const replies = ['Here is what I found about the weather in Lisbon this week.', 'The meeting moved to Thursday at three, and Anna will bring the slides.', 'Sure. I will remind you about it tomorrow morning at nine.'];
    const outcomes: string[] = [];
    for (const [index, text] of replies.entries()) outcomes.push(await loop.speak(`reply-${index}`, await speech(text)));
    expect(outcomes).toEqual(['drained', 'drained', 'drained']);
    expect(loop.bargeIns).toEqual([]);
  });

  it('barge-in at equal level: the user speaking as loud as the echo is heard, playout stops, and the truncation is what reached the ear', async () => {
    await pulse.setEchoPath(path);
    loop = await echoLoop({ mode: 'canceller', detect: true });
    const reply = await speech('Let me tell you a long story about the sea, the ships that sail on it, and the people who wait for them at home. Every morning the boats go out past the harbour wall, and every evening they come back with the tide.');
    const user = atLevel(await speech('Wait, stop, that is enough.', { voice: 'en-gb' }), activeLevelDbfs(reply) + path.gainDb);
    const ear = pulse.record('ear.monitor');
    const mouth = pulse.record('mouth.monitor');
    await Promise.all([ear.started(), mouth.started()]);
    const spoken = loop.speak('story', reply);
    // Talk once the canceller has learnt the room (its own estimate), two seconds in at the earliest.
    await until(() => (loop?.playout.playedMs('story') ?? 0) >= 2000 && (loop?.canceller?.erleDb ?? 0) >= 12, 10_000, 'the canceller removing 12 dB of echo while the reply plays');
    const bargeIn = loop.nextBargeIn(10_000);
    const interruption = pulse.play(user);
    const cut = await bargeIn;
    expect(await spoken).toBe('stopped');
    await interruption;
    const [earAudio, mouthAudio] = await Promise.all([settleAndStop(ear, cut.stoppedAt + 400), settleAndStop(mouth, cut.stoppedAt + 400)]);
    await saveWav('echo-barge-in-ear.wav', earAudio);
    await saveWav('echo-barge-in-mic.wav', mouthAudio);
    const written = loop.sink.samples;
    const { lastHeardMs, firstUnheardMs, truncateErrorMs } = earCut(written, earAudio, cut.audioEndMs);
    const onsetAt = speechOnsetAt(user, mouthAudio, mouth);
    const silentAt = earSilentAt(earAudio, ear);
    await saveFigures('echo-loop', { audioEndMs: cut.audioEndMs, lastHeardMs, firstUnheardMs, truncateErrorMs, onsetToSilenceMs: Math.round(silentAt - onsetAt), detectedAfterOnsetMs: Math.round(cut.speechAt - onsetAt) });
    expect(cut.audioEndMs).toBeGreaterThan(1500);
    expect(truncateErrorMs).toBeLessThanOrEqual(40);
    // 165-232 ms in 13 runs on 7 December (the bench's goal is a median of 250 ms over 20 tries);
    // a user heard only at their next word is silent 700 ms or more after they began.
    expect(silentAt - onsetAt).toBeLessThan(350);
  });
});

/** Stops a recording once it holds audio captured up to `at`. */
async function settleAndStop(recording: ReturnType<Pulse['record']>, at: number): Promise<Int16Array> {
  await until(() => recording.timeOf(recording.samples.length - 1) >= at, 5000, 'the recording covers the stop');
  return recording.stop();
}
