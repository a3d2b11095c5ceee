/**
 * Voice through the real audio loop (DESIGN.md): espeak-ng speech played into the "mouth" sink
 * reaches the native mic, the emulator's spoken reply reaches the "ear" sink through the native
 * speaker, and both are recorded and checked.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../app/emulator/clock';
import { requireAudioTools, saveFigures, saveWav, soundDurationMs, soundExtent, startPulse, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';
import { earCut, voiceLoop, type VoiceLoop } from '../support/loop';

let pulse: Pulse;
let loop: VoiceLoop | null = null;

beforeAll(async () => {
  requireAudioTools();
  pulse = await startPulse();
});
afterEach(async () => {
  await pulse.setEcho(false);
  await loop?.close();
  loop = null;
});
afterAll(() => pulse?.close());

const heardSeconds = (text: string) => Number(/I heard ([\d.]+) seconds/.exec(text)?.[1] ?? Number.NaN);

describe('voice through the real audio loop', () => {
  it('push-to-talk: spoken input reaches the model, and the spoken reply reaches the ear', async () => {
    loop = await voiceLoop({ turnMode: 'push_to_talk' });
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    const question = await speech('Hello Parley, what is on my calendar today?');
    await loop.session.press();
    await pulse.play(question);
    await loop.session.release();
    const reply = await loop.next('transcript.assistant.done');
    await loop.next('state', (event) => event.state === 'idle', 30_000);
    const recorded = await ear.stop();
    await saveWav('loop-reply.wav', recorded);
    // The model heard about as long as the user spoke (the mic adds its start-up and the release).
    const spokenMs = soundDurationMs(question);
    expect(heardSeconds(reply.text) * 1000).toBeGreaterThan(spokenMs * 0.7);
    // Everything generated was heard: the ear's sound spans the reply's audio.
    const generatedMs = loop.playout.generatedMs(reply.itemId);
    const extent = soundExtent(recorded);
    expect(extent).not.toBeNull();
    const heardMs = (extent?.endMs ?? 0) - (extent?.startMs ?? 0);
    expect(Math.abs(heardMs - soundExtent(loop.sink.samples)!.endMs + soundExtent(loop.sink.samples)!.startMs)).toBeLessThan(120);
    expect(generatedMs).toBeGreaterThan(1000);
  });

  it('server VAD: speaking, then pausing, makes a turn on its own', async () => {
    loop = await voiceLoop({ turnMode: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 } });
    await loop.session.connect();
    const started = loop.next('vad', (event) => event.speaking);
    const stopped = loop.next('vad', (event) => !event.speaking);
    const reply = loop.next('transcript.assistant.done');
    await pulse.play(await speech('Tell me a joke'));
    expect((await stopped).at).toBeGreaterThan((await started).at);
    expect(heardSeconds((await reply).text)).toBeGreaterThan(0.5);
  });

  it('server VAD: silence alone never makes a turn', async () => {
    loop = await voiceLoop({ turnMode: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 } });
    await loop.session.connect();
    await pulse.play(new Int16Array(24_000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(loop.events.filter((event) => event.type === 'vad' || event.type === 'commit')).toEqual([]);
  });

  it('barge-in: talking over the reply stops it, and the truncation matches what reached the ear within 40 ms', async () => {
    loop = await voiceLoop({ turnMode: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 } });
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    loop.session.sendText('Please tell me a long story about the sea and the ships that sail on it');
    await loop.next('state', (event) => event.state === 'speaking');
    // Let about a second and a half play, then talk over it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const interruption = pulse.play(await speech('Stop, stop'));
    const cut = await loop.next('barge_in');
    await interruption;
    await new Promise((resolve) => setTimeout(resolve, 400));
    const recorded = await ear.stop();
    await saveWav('loop-barge-in.wav', recorded);
    const written = loop.sink.samples;
    const { lastHeardMs, firstUnheardMs, truncateErrorMs, alignmentMs } = earCut(written, recorded, cut.audioEndMs);
    const silence = soundExtent(recorded);
    await saveFigures('barge-in', { audioEndMs: cut.audioEndMs, generatedMs: cut.generatedMs, lastHeardMs, firstUnheardMs, truncateErrorMs, alignmentMs });
    expect(cut.reason).toBe('speech');
    expect(cut.audioEndMs).toBeLessThan(cut.generatedMs);
    expect(truncateErrorMs).toBeLessThanOrEqual(40);
    expect(silence).not.toBeNull();
    expect(loop.events.some((event) => event.type === 'problem')).toBe(false);
  });

  it('echo: with the speaker audible in the mic, the reply is not interrupted by itself', async () => {
    loop = await voiceLoop({ turnMode: 'server_vad', echo: 'speakers', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 } });
    await pulse.setEcho(true);
    await loop.session.connect();
    loop.session.sendText('Tell me about echoes');
    const reply = await loop.next('transcript.assistant.done');
    await loop.next('state', (event) => event.state === 'listening', 30_000);
    expect(loop.events.filter((event) => event.type === 'barge_in')).toEqual([]);
    expect(loop.playout.playedMs(reply.itemId)).toBeGreaterThanOrEqual(loop.playout.generatedMs(reply.itemId) - 50);
  });

  it('G.711 μ-law: a spoken turn both ways', async () => {
    loop = await voiceLoop({ turnMode: 'push_to_talk', encoding: 'pcmu' });
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    await loop.session.press();
    await pulse.play(await speech('Testing the telephone format'));
    await loop.session.release();
    const reply = await loop.next('transcript.assistant.done');
    await loop.next('state', (event) => event.state === 'idle', 30_000);
    const recorded = await ear.stop();
    expect(heardSeconds(reply.text)).toBeGreaterThan(0.5);
    expect(soundDurationMs(recorded)).toBeGreaterThan(500);
  });

  it('a function call mid-conversation, spoken answer from the tool output', async () => {
    const calculator = { type: 'function' as const, name: 'calculator', description: 'Evaluates arithmetic.', parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] } };
    loop = await voiceLoop({ turnMode: 'push_to_talk', tools: [calculator] }, { runTool: async () => '42' });
    await loop.session.connect();
    loop.session.sendText('what is 6 * 7?');
    const reply = await loop.next('transcript.assistant.done', (event) => event.text.includes('42'));
    expect(reply.text).toBe('6 × 7 = 42.');
  });

  it('recovers from session expiry and keeps talking', async () => {
    const clock = new ManualClock();
    loop = await voiceLoop({ turnMode: 'push_to_talk' }, { emulator: { clock } });
    await loop.session.connect();
    loop.session.sendText('remember me');
    await loop.next('response', (event) => event.phase === 'done');
    clock.advance(60 * 60 * 1000);
    const recovered = await loop.next('recovered');
    expect(recovered.gapMs).toBeLessThan(5000);
    loop.session.sendText('still there?');
    expect((await loop.next('transcript.assistant.done', (event) => event.text.includes('still there'))).text).toContain('message 2');
  });

  it('says clearly when the microphone does not exist', async () => {
    loop = await voiceLoop({ turnMode: 'server_vad' }, { micDevice: 'pulse:no-such-microphone' });
    const problem = loop.next('problem');
    await loop.session.connect().catch(() => undefined);
    expect((await problem).problem.message).toMatch(/no-such-microphone/);
    await expect.poll(() => loop?.session.state).toBe('error');
  });
});
