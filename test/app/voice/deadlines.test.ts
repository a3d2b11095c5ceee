/**
 * Every voice request has a deadline: a reply the server stops streaming, and a `session.update`
 * or `session.created` it never answers, end in a clear problem instead of a voice that waits
 * forever. The sockets stay open and answer pings throughout (the heartbeat is not what saves us).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../app/testing';
import { ServerEventWaiters, UnansweredRequestError } from '../../../app/voice/waiters';
import { closeRig, rig } from './rig';

afterEach(closeRig);

describe('a voice reply the server stops streaming', () => {
  it('is cancelled and reported after the deadline, and the next turn is answered', async () => {
    const r = await rig({ turnMode: 'push_to_talk' }, { replyDeadlineMs: 1_000 });
    await r.session.connect();
    // The emulator holds the reply for ten minutes after its first events.
    r.emulator.inject({ kind: 'stall', ms: 600_000 }, 'realtime');
    r.session.sendText('tell me about the sea');
    await r.until('response', (event) => event.phase === 'created');

    const problem = await r.until('problem');
    expect(problem.problem.message).toMatch(/voice reply stalled: nothing came from the voice server for 1 s/);
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    expect(r.session.state).toBe('idle');

    // Not wedged: the next message gets a whole spoken reply on the same connection.
    const second = r.next('transcript.assistant.done');
    r.session.sendText('tell me about ships');
    const reply = await second;
    expect(reply.text).not.toBe('');
    expect(r.of('response').filter((event) => event.phase === 'done').map((event) => event.status)).toEqual(['cancelled', 'completed']);
    expect(r.of('problem')).toHaveLength(1);
  });

  it('is not given up while events keep coming, however long the reply', async () => {
    // Paced at 100 tokens a second, the reply streams for longer than the deadline.
    const r = await rig({ turnMode: 'push_to_talk' }, { replyDeadlineMs: 500, emulator: { latency: { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 100, httpSetupMs: 0 } } });
    await r.session.connect();
    const started = performance.now();
    r.session.sendText('tell me something long');
    await r.until('transcript.assistant.done');
    expect(performance.now() - started).toBeGreaterThan(500);
    expect(r.of('problem')).toEqual([]);
    expect(r.wire.sent('response.cancel')).toEqual([]);
    // A reply paced in real time: a loaded machine stretches it, not the deadline's rule.
  }, 20_000);
});

describe('server answers with a deadline', () => {
  const unanswered = (what: string) => ({ code: 'connection_failed' as const, message: `No answer to ${what}.`, hint: 'Try again.' });

  it('a session.update nobody answers fails at its deadline, and its late answer is still its own', async () => {
    const clock = new ManualClock();
    const waiters = new ServerEventWaiters('parley_voice_update', { ms: 15_000, setTimer: clock.after, unanswered });
    const first = waiters.update();
    const outcome = first.answered.then(
      () => 'answered',
      (error: unknown) => error,
    );
    clock.advanceSync(14_999);
    const second = waiters.update();
    clock.advanceSync(1);
    const failed = await outcome;
    expect(failed).toBeInstanceOf(UnansweredRequestError);
    expect((failed as UnansweredRequestError).problem.message).toBe('No answer to the new settings.');

    // The server answers the first update late: that answer must not settle the second one.
    expect(waiters.offer({ type: 'session.updated', event_id: 'e1', session: {} } as never)).toBe(true);
    let secondSettled = false;
    void second.answered.then(() => (secondSettled = true));
    await Promise.resolve();
    expect(secondSettled).toBe(false);
    waiters.offer({ type: 'session.updated', event_id: 'e2', session: {} } as never);
    await expect(second.answered).resolves.toBeUndefined();
  });

  it('an answer in time leaves no timer behind', async () => {
    const clock = new ManualClock();
    const waiters = new ServerEventWaiters('parley_voice_update', { ms: 15_000, setTimer: clock.after, unanswered });
    const created = waiters.created();
    expect(clock.pending).toBe(1);
    waiters.offer({ type: 'session.created', event_id: 'e1', session: {} } as never);
    await created;
    expect(clock.pending).toBe(0);
  });
});
