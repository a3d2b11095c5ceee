/**
 * Push-to-talk on a real MicStream over the scripted microphone: what a press and a release send
 * to the server, what the user is told about a press too short to send, and when the mic runs.
 */
import { describe, expect, it } from 'vitest';
import type { RealtimeClientEvent } from '../../../app/protocol/realtime';
import { drainingPlayout, ManualClock, RecordingSink, ScriptedMic } from '../../../app/testing';
import { voiceMic } from '../../../app/voice/microphone';
import { PushToTalk } from '../../../app/voice/pushToTalk';
import type { VoiceSessionEvent, VoiceState } from '../../../app/voice/session';

function setUp(pushToTalk = true) {
  const device = new ScriptedMic();
  const { playout } = drainingPlayout({ sink: new RecordingSink(), scheduler: new ManualClock() });
  const sent: string[] = [];
  const appended: string[] = [];
  const events: VoiceSessionEvent[] = [];
  const states: VoiceState[] = [];
  const mode = { pushToTalk };
  const mic = voiceMic({
    mic: device,
    playout,
    frameMs: 20,
    encoding: 'pcm16',
    echoGate: () => false,
    append: (audio) => appended.push(audio),
    emit: (event) => events.push(event),
    setState: (state) => states.push(state),
  });
  const ptt = new PushToTalk({
    mic,
    enabled: () => mode.pushToTalk,
    send: (event: RealtimeClientEvent) => sent.push(event.type),
    emit: (event) => events.push(event),
    setState: (state) => states.push(state),
  });
  return { device, mic, ptt, sent, appended, events, states, mode };
}

describe('PushToTalk', () => {
  it('a press clears the server buffer and listens; a release commits what was said and says how long', async () => {
    const { device, ptt, sent, appended, events, states } = setUp();
    await ptt.press();
    expect(sent).toEqual(['input_audio_buffer.clear']);
    expect(device.running).toBe(true);
    expect(states).toEqual(['listening']);
    device.speak(300);
    expect(appended).toHaveLength(15);
    expect(await ptt.release()).toBe(300);
    expect(sent).toEqual(['input_audio_buffer.clear', 'input_audio_buffer.commit']);
    expect(events).toContainEqual({ type: 'commit', itemId: null, audioMs: 300 });
    expect(device.running).toBe(false);
  });

  it('drops a release under 100 ms, clears what was sent, and tells the user to hold the key', async () => {
    const { device, ptt, sent, events, states } = setUp();
    await ptt.press();
    device.speak(80);
    expect(await ptt.release()).toBeNull();
    expect(sent).toEqual(['input_audio_buffer.clear', 'input_audio_buffer.clear']);
    expect(events).toContainEqual({ type: 'ptt.dropped', audioMs: 80, hint: 'Hold the key while you speak: 80 ms is too short to send.' });
    expect(states.at(-1)).toBe('idle');
  });

  it('sends a release of exactly 100 ms', async () => {
    const { device, ptt, sent } = setUp();
    await ptt.press();
    device.speak(100);
    expect(await ptt.release()).toBe(100);
    expect(sent.at(-1)).toBe('input_audio_buffer.commit');
  });

  it('a release without a press sends nothing', async () => {
    const { ptt, sent, events } = setUp();
    expect(await ptt.release()).toBeNull();
    expect(sent).toEqual([]);
    expect(events).toEqual([]);
  });

  it('does nothing on the key while voice detection listens', async () => {
    const { device, ptt, mic, sent, states } = setUp(false);
    await mic.start();
    await ptt.press();
    expect(await ptt.release()).toBeNull();
    expect(sent).toEqual([]);
    expect(states).toEqual([]);
    expect(device.running).toBe(true);
  });

  it('follows the turn mode: voice detection starts the mic, push-to-talk stops it unless a press is held', async () => {
    const { device, ptt, mode } = setUp();
    await ptt.followTurnMode();
    expect(device.running).toBe(false);
    mode.pushToTalk = false;
    await ptt.followTurnMode();
    expect(device.running).toBe(true);
    mode.pushToTalk = true;
    await ptt.followTurnMode();
    expect(device.running).toBe(false);
    await ptt.press();
    await ptt.followTurnMode();
    expect(device.running).toBe(true);
  });
});

describe('voiceMic', () => {
  it('reports the level and, when the device fails, the problem and the error state', async () => {
    const { device, mic, events, states } = setUp(false);
    await mic.start();
    device.speak(20);
    expect(events.some((event) => event.type === 'mic.level' && event.dbfs > -20)).toBe(true);
    const problem = { code: 'connection_failed' as const, message: 'The microphone was unplugged.', hint: 'Plug it back in.' };
    device.fail(problem);
    expect(events.at(-1)).toEqual({ type: 'problem', problem });
    expect(states.at(-1)).toBe('error');
  });
});
