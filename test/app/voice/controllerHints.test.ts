/** The controller's words for a failed device name a control the current mode really has. */
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels, type PushEvent } from '../../../app/contract';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { fastScheduler, RecordingSink, ScriptedMic } from '../../../app/testing';
import { testDeps } from '../../support/copilot';

let copilot: Copilot | null = null;
afterEach(async () => {
  await copilot?.close();
  copilot = null;
});

describe('a device problem in push-to-talk mode', () => {
  it('says to hold to talk again, not to turn voice on (push-to-talk has no such control)', async () => {
    const mic = new ScriptedMic();
    copilot = createCopilot({ ...testDeps({}), voice: { createMic: () => mic, createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(20) } });
    await copilot.start();
    mic.failNextStart({ code: 'internal', message: 'The microphone stopped.', hint: 'Check that the input device is still connected, then turn voice on again.' });
    await copilot.call(commandChannels.pressToTalk, {});
    expect(copilot.snapshot().voice.problem?.hint).toBe('Check that the input device is still connected, then hold to talk again.');
  });
});

describe('hold-to-talk after a voice preview', () => {
  it('talks over the preview without asking the server to cut an item the conversation never had', async () => {
    const mic = new ScriptedMic();
    const sink = new RecordingSink();
    const notices: string[] = [];
    copilot = createCopilot({ ...testDeps({}), voice: { createMic: () => mic, createSpeaker: () => sink, scheduler: fastScheduler(1) } });
    copilot.onEvent((event) => {
      if (event.type === 'notice') notices.push(event.problem.message);
    });
    await copilot.start();
    expect(await copilot.call(commandChannels.previewVoice, { voice: 'cedar' })).toEqual({ ok: true, value: null });
    await expect.poll(() => sink.writtenMs).toBeGreaterThan(0);
    expect(await copilot.call(commandChannels.pressToTalk, {})).toEqual({ ok: true, value: null });
    mic.speak(900);
    expect(await copilot.call(commandChannels.releaseToTalk, {})).toEqual({ ok: true, value: null });
    await expect.poll(() => copilot?.snapshot().turns.some((turn) => turn.role === 'assistant' && turn.status === 'completed')).toBe(true);
    expect(notices).toEqual([]);
  });
});

describe('a device problem in the voice-detection modes', () => {
  const hint = 'Check that the input device is still connected, then turn voice on again.';
  /** Voice in `patch`'s mode with a mic that fails as it starts; resolves with the hints of the notices about it. */
  async function failedMicHint(patch: Record<string, unknown>): Promise<Set<string>> {
    const mic = new ScriptedMic();
    copilot = createCopilot({ ...testDeps({}), voice: { createMic: () => mic, createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(20) } });
    const hints: string[] = [];
    copilot.onEvent((event) => {
      if (event.type === 'notice' && event.problem.message === 'The microphone stopped.') hints.push(event.problem.hint);
    });
    await copilot.start();
    expect(await copilot.call(commandChannels.updateSettings, { patch })).toMatchObject({ ok: true });
    mic.failNextStart({ code: 'internal', message: 'The microphone stopped.', hint });
    await copilot.call(commandChannels.startVoice, {});
    await copilot.call(commandChannels.pressToTalk, {});
    // Voice start and the press each try the mic: the same words either way.
    return new Set(hints);
  }

  it('says to press Start listening again in realtime voice detection', async () => {
    expect(await failedMicHint({ turnMode: 'server_vad' })).toEqual(new Set(['Check that the input device is still connected, then press Start listening again.']));
  });

  it('says to press Start listening again in pipeline voice detection', async () => {
    expect(await failedMicHint({ turnMode: 'pipeline', pipelineListen: 'server_vad' })).toEqual(new Set(['Check that the input device is still connected, then press Start listening again.']));
  });

  it('says to hold to talk again in pipeline push-to-talk', async () => {
    expect(await failedMicHint({ turnMode: 'pipeline', pipelineListen: 'push_to_talk' })).toEqual(new Set(['Check that the input device is still connected, then hold to talk again.']));
  });
});

describe('pipeline mode in the inspector', () => {
  it('records its voice events as the transcription socket’s, timed by the pipeline alone', async () => {
    const mic = new ScriptedMic();
    copilot = createCopilot({ ...testDeps({}), voice: { createMic: () => mic, createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(20) } });
    const app = copilot;
    const pushed: PushEvent[] = [];
    app.onEvent((event) => pushed.push(event));
    await app.start();
    expect(await app.call(commandChannels.updateSettings, { patch: { turnMode: 'pipeline' } })).toMatchObject({ ok: true });
    await app.call(commandChannels.pressToTalk, {});
    mic.speak(900);
    await app.call(commandChannels.releaseToTalk, {});
    await expect.poll(() => app.snapshot().events.some((event) => event.type === 'voice.timing')).toBe(true);
    await expect.poll(() => app.snapshot().voice.state).toBe('idle');
    const voiceEvents = app.snapshot().events.filter((event) => event.type.startsWith('voice.'));
    expect(voiceEvents.length).toBeGreaterThan(0);
    expect(new Set(voiceEvents.map((event) => event.socket))).toEqual(new Set(['transcription']));
    expect(voiceEvents.filter((event) => event.type === 'voice.timing')).toEqual([expect.objectContaining({ mode: 'pipeline' })]);
    // The windows heard of the timing with the summary, as an event that names what it is.
    expect(pushed.map((event) => String(event.type)).filter((type) => type === '' || type === 'undefined')).toEqual([]);
  });
});
