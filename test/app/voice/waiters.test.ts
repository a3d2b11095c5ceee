/** What a voice session waits for from the server: each `session.update` settles on its own answer, and none hangs. */
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../../app/contract';
import { parseRealtimeFrame, type ParsedRealtimeFrame, type RealtimeEvent } from '../../../app/protocol/realtime';
import { ManualClock } from '../../../app/testing';
import { RealtimeRequestError, ServerEventWaiters, UnansweredRequestError } from '../../../app/voice/waiters';

function event(value: object): RealtimeEvent {
  const parsed = parseRealtimeFrame(JSON.stringify(value));
  if (parsed.kind !== 'event') throw new Error(`not an event: ${JSON.stringify(parsed)}`);
  return parsed.event;
}

function invalid(value: object): Extract<ParsedRealtimeFrame, { kind: 'invalid' }> {
  const parsed = parseRealtimeFrame(JSON.stringify(value));
  if (parsed.kind !== 'invalid') throw new Error(`not invalid: ${JSON.stringify(parsed)}`);
  return parsed;
}

const refusal = (eventId: string | null, code: string | null = 'invalid_value', message = 'Invalid value: threshold') =>
  event({ type: 'error', error: { type: 'invalid_request_error', message, code, event_id: eventId } });

/** How a promise settled, once the microtasks before it have run. */
async function outcome(promise: Promise<void>): Promise<'resolved' | 'pending' | Error> {
  return Promise.race([promise.then(() => 'resolved' as const, (error: Error) => error), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

const problem: Problem = { code: 'invalid_payload', message: 'unreadable', hint: 'try again' };

const deadlineMs = 10_000;
let clock = new ManualClock();

/** Waiters whose deadline runs on a manual clock, so a test decides when an answer is late. */
function waitersNamed(prefix: string): ServerEventWaiters {
  clock = new ManualClock();
  return new ServerEventWaiters(prefix, {
    ms: deadlineMs,
    setTimer: clock.after,
    unanswered: (what) => ({ code: 'server_error', message: `The voice server did not answer ${what}.`, hint: 'Parley reconnects.' }),
  });
}

describe('ServerEventWaiters', () => {
  it('names each update by the prefix and a count, and answers updates in order', async () => {
    const waiters = waitersNamed('voice_update');
    const first = waiters.update();
    const second = waiters.update();
    expect([first.eventId, second.eventId]).toEqual(['voice_update_1', 'voice_update_2']);
    expect(waiters.offer(event({ type: 'session.updated' }))).toBe(true);
    expect(await outcome(first.answered)).toBe('resolved');
    expect(await outcome(second.answered)).toBe('pending');
  });

  it('rejects only the update an error names, in plain words with the code, and the next answer goes to the next update', async () => {
    const waiters = waitersNamed('u');
    const first = waiters.update();
    const second = waiters.update();
    expect(waiters.offer(refusal('u_2'))).toBe(true);
    const refused = await outcome(second.answered);
    expect(refused).toBeInstanceOf(RealtimeRequestError);
    expect(refused).toMatchObject({ code: 'invalid_value', message: 'The voice server refused the new settings: Invalid value: threshold' });
    expect((refused as RealtimeRequestError).problem).toEqual({
      code: 'invalid_payload',
      message: 'The voice server refused the new settings: Invalid value: threshold',
      hint: 'The previous settings stay in effect; change the setting and try again.',
    });
    expect(await outcome(first.answered)).toBe('pending');
    waiters.offer(event({ type: 'session.updated' }));
    expect(await outcome(first.answered)).toBe('resolved');
  });

  it('says a voice change after the first reply applies to the next conversation', async () => {
    const waiters = waitersNamed('u');
    const update = waiters.update();
    waiters.offer(refusal('u_1', 'cannot_update_voice', 'Cannot update a conversation\'s voice'));
    expect(await outcome(update.answered)).toMatchObject({
      code: 'cannot_update_voice',
      problem: {
        code: 'invalid_payload',
        message: "The voice can't change after Parley has spoken in this conversation; it applies to the next conversation.",
        hint: 'Stop and start voice to hear the new voice now. Your other settings already apply.',
      },
    });
  });

  it('leaves an error that names no update, or another one, to the session', async () => {
    const waiters = waitersNamed('u');
    const update = waiters.update();
    expect(waiters.offer(refusal(null))).toBe(false);
    expect(waiters.offer(refusal('other_1'))).toBe(false);
    expect(waiters.offer(event({ type: 'input_audio_buffer.speech_started' }))).toBe(false);
    expect(await outcome(update.answered)).toBe('pending');
    expect(waiters.offer(refusal('u_1', null))).toBe(true);
    expect(await outcome(update.answered)).toMatchObject({ code: null });
  });

  it('answers session.created, and says when nothing waited for an answer', async () => {
    const waiters = waitersNamed('u');
    expect(waiters.offer(event({ type: 'session.created' }))).toBe(false);
    expect(waiters.offer(event({ type: 'session.updated' }))).toBe(false);
    const created = waiters.created();
    expect(waiters.offer(event({ type: 'session.created' }))).toBe(true);
    expect(await outcome(created)).toBe('resolved');
  });

  it('settles the waiter an unreadable answer was for, with the problem, and only that one', async () => {
    const waiters = waitersNamed('u');
    const unreadable = (type: 'session.created' | 'session.updated') => ({ kind: 'invalid' as const, type, reason: 'bad', clientEventId: null, responseId: null });
    expect(waiters.offerInvalid(unreadable('session.created'), problem)).toBe(false);
    const created = waiters.created();
    const first = waiters.update();
    const second = waiters.update();
    const third = waiters.update();
    const broken = { type: 'error', error: { type: 'invalid_request_error', message: 5, event_id: 'u_2' } };
    expect(waiters.offerInvalid(invalid(broken), problem)).toBe(true);
    expect(await outcome(second.answered)).toMatchObject({ problem, code: null });
    expect(await outcome(first.answered)).toBe('pending');
    expect(waiters.offerInvalid(unreadable('session.updated'), problem)).toBe(true);
    expect(await outcome(first.answered)).toMatchObject({ problem });
    expect(await outcome(created)).toBe('pending');
    expect(waiters.offerInvalid(unreadable('session.created'), problem)).toBe(true);
    expect(await outcome(created)).toMatchObject({ problem });
    expect(waiters.offerInvalid(invalid({ type: 'response.done', response: 5 }), problem)).toBe(false);
    expect(await outcome(third.answered)).toBe('pending');
  });

  it('fails a request the server does not answer by its deadline, and a late answer is still that request\'s', async () => {
    const waiters = waitersNamed('u');
    const created = waiters.created();
    const first = waiters.update();
    clock.advanceSync(deadlineMs - 1);
    expect(await outcome(first.answered)).toBe('pending');
    const second = waiters.update();
    clock.advanceSync(1);
    const late = await outcome(first.answered);
    expect(late).toBeInstanceOf(UnansweredRequestError);
    expect(late).toMatchObject({ code: null, problem: { code: 'server_error', message: 'The voice server did not answer the new settings.' } });
    expect(await outcome(created)).toMatchObject({ problem: { message: 'The voice server did not answer the new connection.' } });
    // The late session.updated answers the first update, not the second.
    waiters.offer(event({ type: 'session.updated' }));
    expect(await outcome(second.answered)).toBe('pending');
    waiters.offer(event({ type: 'session.updated' }));
    expect(await outcome(second.answered)).toBe('resolved');
    // Answered in time, it no longer has a deadline to fail at.
    clock.advanceSync(deadlineMs);
    expect(await outcome(second.answered)).toBe('resolved');
    expect(clock.pending).toBe(0);
  });

  it('rejects every waiter when the socket closes', async () => {
    const waiters = waitersNamed('u');
    const created = waiters.created();
    const update = waiters.update();
    const closed = new Error('closed');
    waiters.rejectAll(closed);
    expect(await outcome(created)).toBe(closed);
    expect(await outcome(update.answered)).toBe(closed);
    expect(waiters.offer(event({ type: 'session.updated' }))).toBe(false);
    // The reopened socket's own answers go to its own waiters.
    const reopened = waiters.created();
    expect(waiters.offer(event({ type: 'session.created' }))).toBe(true);
    expect(await outcome(reopened)).toBe('resolved');
  });
});
