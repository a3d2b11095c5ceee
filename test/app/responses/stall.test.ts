/**
 * A reply that stops arriving while the socket still answers pings: every request has a deadline,
 * a stall is retried once on a fresh socket, and Cancel frees the lane at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import { calculatorTool, testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

const stallTimeoutMs = 300;

describe('a stalled reply', () => {
  it('is retried once on a fresh socket, and the turn completes', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const { session, of } = testSession(emulator.baseUrl, { warmup: 'off' }, { stallTimeoutMs });
    await session.runTurn([userMessage('one')]);
    emulator.inject({ kind: 'stall' });
    const restarts: number[] = [];
    const turn = await session.runTurn([userMessage('two')], { onRestart: () => restarts.push(1) });
    expect(turn).toMatchObject({ status: 'completed', text: expect.stringContaining('message 2 of our conversation') });
    expect(of('stalled')).toEqual([{ type: 'stalled', lane: '', silentMs: stallTimeoutMs, retrying: true }]);
    expect(restarts).toHaveLength(1);
    // The stalled socket was left; the retry went out on a new one.
    expect(new Set(of('socket').map((event) => event.socketId)).size).toBe(2);
    session.close();
  });

  it('stalling twice ends the turn with a clear problem, and the next turn works', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const { session } = testSession(emulator.baseUrl, { warmup: 'off' }, { stallTimeoutMs });
    emulator.inject({ kind: 'stall' });
    emulator.inject({ kind: 'stall' });
    const turn = await session.runTurn([userMessage('one')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_failed', message: expect.stringContaining('stopped answering') } });
    const next = await session.runTurn([userMessage('two')]);
    // What the user said in the failed turn was kept: the model hears both messages.
    expect(next).toMatchObject({ status: 'completed', text: expect.stringContaining('message 2 of our conversation') });
    session.close();
  });
});

describe('a slow but steady reply', () => {
  it('is not a stall: every event restarts the deadline', async () => {
    // About 1.5 s of deltas, five times the deadline, none of them far apart.
    emulator = await startEmulator({ latency: { ...noLatency, outputTokensPerSecond: 30 } });
    const { session, of } = testSession(emulator.baseUrl, { warmup: 'off' }, { stallTimeoutMs });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn.status).toBe('completed');
    expect(turn.metrics?.totalMs).toBeGreaterThan(stallTimeoutMs * 2);
    expect(of('stalled')).toEqual([]);
    session.close();
  });
});

describe('Cancel', () => {
  it('frees a lane stuck on a stalled reply at once, and the next turn starts on a fresh socket', async () => {
    emulator = await startEmulator({ latency: noLatency });
    // No deadline that could end it first: only the cancel can.
    const { session } = testSession(emulator.baseUrl, { warmup: 'off' }, { stallTimeoutMs: 10 * 60_000 });
    await session.runTurn([userMessage('one')]);
    emulator.inject({ kind: 'stall' });
    const controller = new AbortController();
    const stuck = session.runTurn([userMessage('two')], { signal: controller.signal });
    await expect.poll(() => session.lanesInFlight).toBe(1);
    controller.abort();
    expect(await stuck).toMatchObject({ status: 'failed', problem: { message: expect.stringContaining('Cancelled') } });
    expect(session.lanesInFlight).toBe(0);
    const next = await session.runTurn([userMessage('three')]);
    expect(next).toMatchObject({ status: 'completed', text: expect.stringContaining('message 3 of our conversation') });
    session.close();
  });
});

describe('the stall deadline', () => {
  it('takes one timer for a whole conversation over a WebSocket, and close clears it', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const pending = new Set<number>();
    let set = 0;
    const setTimer = (ms: number, fire: () => void): (() => void) => {
      const id = (set += 1);
      pending.add(id);
      const timer = setTimeout(() => {
        pending.delete(id);
        fire();
      }, ms);
      return () => {
        pending.delete(id);
        clearTimeout(timer);
      };
    };
    const { session, of } = testSession(emulator.baseUrl, { warmup: 'off', tools: [calculatorTool] }, { setTimer, runTool: async () => '2' });
    for (const text of ['one', 'what is 1 + 1?', 'three']) expect((await session.runTurn([userMessage(text)])).status).toBe('completed');
    // Four requests (the sum takes two), one timer, still set between them.
    expect(of('request')).toHaveLength(4);
    expect(set).toBe(1);
    expect(pending.size).toBe(1);
    session.close();
    expect(pending.size).toBe(0);
  });
});
