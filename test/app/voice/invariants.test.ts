/**
 * The voice invariants a user would notice, checked on the frames the emulator received over
 * real loopback sockets: a cut never truncates at 0 ms, never two responses in flight on the
 * default conversation, and a refused update never wedges the session.
 *
 * Pinned elsewhere, not repeated here: a hotkey barge-in sends `response.cancel` and the server's
 * `response.done` says `cancelled` (realtimeSession.test.ts, "on the hotkey: cancels the response
 * still streaming and truncates"); a cut before a single sample played truncates at exactly 1 ms
 * (realtimeSession.test.ts, "truncates at 1 ms, never 0, …"); a refused voice, then a turn-mode
 * change and a VAD turn (refusals.test.ts, first test).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { truncationPoint } from '../../../app/voice/bargeIn';
import type { RecordedFrame } from '../../../app/testing';
import { calculator, closeRig, paced, pressAfterHearing, rig } from './rig';

afterEach(closeRig);

describe('truncationPoint', () => {
  it('is the smaller of played and generated, floored to whole milliseconds, and at least 1', () => {
    expect(truncationPoint(90.9, 400)).toBe(90);
    expect(truncationPoint(500, 320.7)).toBe(320);
    expect(truncationPoint(0, 400)).toBe(1);
    expect(truncationPoint(0.4, 400)).toBe(1);
    expect(truncationPoint(0.4, 0.2)).toBe(1);
    expect(truncationPoint(1, 400)).toBe(1);
  });
});

describe('never truncate at 0 ms', () => {
  it('a cut right after the first audio delta, under 1 ms heard, truncates at 1 ms', async () => {
    // The first delta is queued; then less than a millisecond of it reaches the listener.
    const { r, cut } = await pressAfterHearing(0.4);
    expect(cut.playedMs).toBe(0.4);
    expect(r.wire.sent('conversation.item.truncate')).toEqual([expect.objectContaining({ item_id: cut.itemId, audio_end_ms: 1 })]);
    // The server took the cut: no error on the wire.
    await r.until('response', (event) => event.phase === 'done');
    expect(r.wire.received('error')).toEqual([]);
    await r.session.release();
  });

  it('a cut before any audio arrived sends no truncate at all', async () => {
    const r = await rig({ turnMode: 'push_to_talk' }, { emulator: paced });
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.until('response', (event) => event.phase === 'created');
    // Nothing has played: there is nothing to cut.
    expect(r.playout.playing).toBe(false);
    r.session.bargeIn('hotkey');
    // The cut is synchronous: a truncate would be on the wire already.
    expect(r.of('barge_in')).toEqual([]);
    expect(r.wire.sent('conversation.item.truncate')).toEqual([]);
  });
});

/**
 * Walks the wire in order: each `response.create` the client sent on the default conversation
 * while it knew of one already in flight (its own not yet answered, or one the server said it
 * had created and not yet finished). The server's VAD may start one the client has not heard of
 * yet; the client's create then meets `conversation_already_has_active_response`, which is no
 * second response in flight.
 */
function createsWhileBusy(frames: readonly RecordedFrame[]): Array<Record<string, unknown>> {
  let waiting: string | null = null;
  let active = false;
  const busy: Array<Record<string, unknown>> = [];
  for (const { direction, frame } of frames) {
    const response = frame.response as { conversation?: string; conversation_id?: string | null } | undefined;
    if (direction === 'client' && frame.type === 'response.create' && response?.conversation !== 'none') {
      if (waiting !== null || active) busy.push(frame);
      waiting = typeof frame.event_id === 'string' ? frame.event_id : '';
    } else if (direction === 'server' && frame.type === 'response.created' && response?.conversation_id !== null) {
      waiting = null;
      active = true;
    } else if (direction === 'server' && frame.type === 'response.done' && response?.conversation_id !== null) {
      active = false;
    } else if (direction === 'server' && frame.type === 'error' && (frame.error as { event_id?: string } | undefined)?.event_id === waiting) {
      waiting = null;
    }
  }
  return busy;
}

describe('never two responses in flight', () => {
  it('tool outputs returning, a typed message and a VAD turn at once send one response.create at a time', async () => {
    let finishTool: (output: string) => void = () => undefined;
    const toolOutput = new Promise<string>((resolve) => (finishTool = resolve));
    const r = await rig(
      { turnMode: 'server_vad', echo: 'headphones', tools: [calculator], vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } },
      { runTool: () => toolOutput, speed: 50 },
    );
    await r.session.connect();
    r.session.sendText('what is 2 + 3?');
    await r.until('tool', (event) => event.status === 'started');
    // The burst, in one tick: the tool's output goes back, the user types and speaks.
    finishTool('5');
    r.session.sendText('and one more thing');
    r.mic.silence(100);
    r.mic.speak(700);
    r.mic.silence(600);
    // Four replies: the tool call, its output's (which the user's speech may cut), the VAD turn's, the typed one's.
    const done = () => r.of('response').filter((event) => event.phase === 'done').length;
    await r.until('state', (event) => event.state === 'listening' && done() >= 4);
    expect(r.of('transcript.assistant.done').some((event) => event.text.includes('seconds of speech'))).toBe(true);
    // Every create the burst asked for went out (the first question, the tool output's, the typed one).
    expect(r.wire.sent('response.create').length).toBeGreaterThanOrEqual(3);
    expect(createsWhileBusy(r.wire.frames)).toEqual([]);
    expect(r.of('problem')).toEqual([]);
  });
});

describe('a refused update never wedges', () => {
  it('after a refused voice change, a turn-mode change applies and a push-to-talk turn still gets its answer', async () => {
    const r = await rig({ turnMode: 'server_vad', voice: 'marin', echo: 'headphones' });
    await r.session.connect();
    r.session.sendText('hello');
    await r.until('response', (event) => event.phase === 'done');

    await expect(r.session.updateSettings({ voice: 'cedar' })).rejects.toMatchObject({ code: 'cannot_update_voice' });
    await r.session.updateSettings({ turnMode: 'push_to_talk' });
    const updated = r.wire.received('session.updated').at(-1)?.session as { audio: { input: { turn_detection: unknown } } } | undefined;
    expect(updated?.audio.input.turn_detection).toBeNull();

    await r.session.press();
    r.mic.speak(800);
    await r.session.release();
    const reply = await r.until('transcript.assistant.done', (event) => event.text.includes('seconds of speech'));
    expect(reply.text).toMatch(/I heard 0\.8 seconds of speech/);
    expect(r.wire.sent('input_audio_buffer.commit')).toHaveLength(1);
    expect(r.of('problem')).toEqual([]);
  });
});

describe('the key pressed while a reply is coming but none of it has played', () => {
  it('cancels that reply, and none of its audio plays over the user', async () => {
    // A slow first event: the reply exists on the server well before its first audio.
    const r = await rig({ turnMode: 'push_to_talk' }, { emulator: { latency: { ...noLatency, outputTokensPerSecond: 40, rttMs: 400 } } });
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.until('response', (event) => event.phase === 'created');
    expect(r.playout.playing).toBe(false);
    await r.session.press();
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    const done = await r.until('response', (event) => event.phase === 'done');
    expect(done.status).toBe('cancelled');
    expect(r.sink.written).toEqual([]);
    await r.session.release();
  });
});
