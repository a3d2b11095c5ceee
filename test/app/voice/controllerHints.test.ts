/** The controller's words for a failed device name a control the current mode really has. */
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels } from '../../../app/contract';
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
