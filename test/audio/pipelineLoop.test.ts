/**
 * Pipeline voice mode through the real audio loop: espeak-ng speech into the "mouth" reaches the
 * native mic and the transcription session; the agent's reply, spoken by the speech endpoint,
 * reaches the "ear" through the native speaker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { userMessage } from '../../app/protocol/responses';
import type { ResponsesSession } from '../../app/responses/session';
import type { PipelineAgent } from '../../app/voice/pipeline';
import { requireAudioTools, saveFigures, saveWav, soundDurationMs, soundExtent, startPulse, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';
import { pipelineLoop, type PipelineLoop } from '../support/loop';
import { calculatorTool, countingCalculator } from '../support/sessions';

let pulse: Pulse;
let loop: PipelineLoop | null = null;

beforeAll(async () => {
  requireAudioTools();
  pulse = await startPulse();
});
afterEach(async () => {
  await loop?.close();
  loop = null;
});
afterAll(() => pulse?.close());

const heardSeconds = (text: string) => Number(/\[([\d.]+) s of speech\]/.exec(text)?.[1] ?? Number.NaN);

/** The emulator hears only "[n s of speech]": the words the user meant go to the agent in its place. */
const meaning =
  (text: string) =>
  (agent: ResponsesSession): PipelineAgent => ({
    runTurn: (input, handlers) => agent.runTurn([...input.filter((item) => !('role' in item) || item.role !== 'user'), userMessage(text)], handlers),
  });

describe('pipeline mode through the real audio loop', () => {
  it('push-to-talk: spoken input is transcribed, and the spoken reply reaches the ear', async () => {
    loop = await pipelineLoop({ listen: 'push_to_talk' });
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    const question = await speech('Hello Parley, what is on my calendar today?');
    await loop.session.press();
    await pulse.play(question);
    await loop.session.release();
    const user = await loop.next('transcript.user', (event) => event.final);
    const reply = await loop.next('transcript.assistant.done');
    const timing = await loop.next('timing');
    await loop.next('state', (event) => event.state === 'idle', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const recorded = await ear.stop();
    await saveWav('pipeline-reply.wav', recorded);
    expect(heardSeconds(user.text) * 1000).toBeGreaterThan(soundDurationMs(question) * 0.7);
    expect(reply.text.length).toBeGreaterThan(0);
    const written = soundExtent(loop.sink.samples);
    const heard = soundExtent(recorded);
    expect(written).not.toBeNull();
    expect(heard).not.toBeNull();
    expect(Math.abs((heard?.endMs ?? 0) - (heard?.startMs ?? 0) - ((written?.endMs ?? 0) - (written?.startMs ?? 0)))).toBeLessThan(150);
    await saveFigures('pipeline-turn', { ...timing.timing });
    expect(timing.timing.totalMs).not.toBeNull();
  });

  it('a tool call inside a spoken turn: the answer from the tool is spoken', async () => {
    const calculator = countingCalculator();
    loop = await pipelineLoop({ listen: 'push_to_talk' }, { tools: [calculatorTool], runTool: calculator.runner, agent: meaning('What is 6 * 7?') });
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    await loop.session.press();
    await pulse.play(await speech('What is six times seven?'));
    await loop.session.release();
    const reply = await loop.next('transcript.assistant.done');
    await loop.next('state', (event) => event.state === 'idle', 30_000);
    const recorded = await ear.stop();
    expect(calculator.runs).toHaveLength(1);
    expect(reply.text).toContain('42');
    expect(soundDurationMs(recorded)).toBeGreaterThan(300);
  });

  it('barge-in: talking over the reply stops it at the ear and keeps what was heard', async () => {
    loop = await pipelineLoop(
      { listen: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 } },
      { agent: meaning('Please tell me a long story about the sea and the ships that sail on it, in many sentences.') },
    );
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    await pulse.play(await speech('Tell me a story'));
    await loop.next('state', (event) => event.state === 'speaking');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const interruption = pulse.play(await speech('Stop, stop'));
    const cut = await loop.next('barge_in');
    await interruption;
    await new Promise((resolve) => setTimeout(resolve, 400));
    const recorded = await ear.stop();
    await saveWav('pipeline-barge-in.wav', recorded);
    expect(cut.reason).toBe('speech');
    expect(cut.playedMs).toBeGreaterThan(500);
    expect(cut.playedMs).toBeLessThan(cut.generatedMs);
    expect(cut.heardText.length).toBeGreaterThan(0);
    // Nothing more of that reply went to the speaker after the cut (the interruption's own reply may follow).
    const nextReplyAt = loop.events.find((event) => event.at > cut.at && event.type === 'transcript.assistant' && event.itemId !== cut.itemId)?.at ?? Number.POSITIVE_INFINITY;
    expect(loop.sink.writes.filter((write) => write.at > cut.at + 5 && write.at < nextReplyAt)).toEqual([]);
    await saveFigures('pipeline-barge-in', { playedMs: Math.round(cut.playedMs), generatedMs: Math.round(cut.generatedMs), heardWords: cut.heardText.split(/\s+/).length });
  });

  it('a transcription socket drop mid-utterance: the user is told, and the next utterance works', async () => {
    loop = await pipelineLoop({ listen: 'push_to_talk' });
    await loop.session.connect();
    await loop.session.press();
    const speaking = pulse.play(await speech('This sentence will be cut off by a dropped connection'));
    await new Promise((resolve) => setTimeout(resolve, 700));
    loop.emulator.dropConnections(1001);
    const problem = loop.next('problem');
    const recovered = loop.next('recovered');
    await speaking;
    expect((await problem).problem.message).toMatch(/dropped while you were speaking/);
    await recovered;
    await loop.session.release();
    await loop.session.press();
    await pulse.play(await speech('Are you back?'));
    await loop.session.release();
    const user = await loop.next('transcript.user', (event) => event.final);
    expect(heardSeconds(user.text)).toBeGreaterThan(0.4);
    await loop.next('transcript.assistant.done');
  });
});
