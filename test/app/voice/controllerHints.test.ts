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
