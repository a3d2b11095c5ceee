/**
 * Bounded buffers: a long session keeps the inspector's event log and the transcript at their
 * caps, however the entries arrive, and what they keep is the newest.
 */
import { describe, expect, it } from 'vitest';
import type { PushEvent, Turn, TurnMetrics } from '../../app/contract';
import { maxTurns, Transcript } from '../../app/host/transcript';
import { noLatency } from '../../app/emulator/latency';
import { startEmulator } from '../../app/emulator/server';
import { InspectorLog, recentTurnCount } from '../../app/inspector/log';

const turn = (index: number, role: Turn['role'] = 'user'): Turn => ({ id: `turn-${index}`, role, source: 'typed', text: `message ${index}`, status: 'completed', startedAt: index });

const metrics = (index: number): TurnMetrics => ({
  turnId: `turn-${index}`,
  fullResendBytes: 100,
  timeToFirstByteMs: 5,
  timeToFirstDeltaMs: 6,
  totalMs: 10,
  bytesSent: 50,
  bytesReceived: 80,
  inputItemsSent: 1,
  chained: true,
  requests: 1,
  toolCalls: 0,
  inputTokens: 10,
  cachedTokens: 0,
  outputTokens: 5,
  costUsd: 0.001,
});

describe('the transcript', () => {
  it('keeps the newest turns at its cap through a day of typed turns (start, deltas, finish)', () => {
    const events: PushEvent[] = [];
    const transcript = new Transcript((event) => events.push(event));
    const total = maxTurns * 2 + 17;
    for (let index = 0; index < total; index += 1) {
      const reply = transcript.start({ ...turn(index, 'assistant'), text: '', status: 'streaming' });
      transcript.delta(reply.id, 'a');
      transcript.finish({ ...reply, text: 'a', status: 'completed' });
    }
    expect(transcript.turns).toHaveLength(maxTurns);
    expect(transcript.turns.at(-1)?.id).toBe(`turn-${total - 1}`);
    expect(transcript.turns[0]?.id).toBe(`turn-${total - maxTurns}`);
  });

  it('keeps voice turns that arrive already finished at its cap too', () => {
    const transcript = new Transcript(() => undefined);
    const total = maxTurns + 500;
    for (let index = 0; index < total; index += 1) transcript.finish(turn(index));
    expect(transcript.turns).toHaveLength(maxTurns);
    expect(transcript.turns.at(-1)?.id).toBe(`turn-${total - 1}`);
  });
});

describe('the inspector log', () => {
  it('keeps the newest events at its capacity and a bounded latency history, while counting everything', () => {
    const capacity = 300;
    const log = new InspectorLog(capacity);
    const total = capacity * 10;
    for (let index = 0; index < total; index += 1) {
      log.record({ type: 'rehydration', at: index, reason: 'reconnect', items: 1, socket: 'agent' });
      log.record({ type: 'turn.finished', at: index, status: 'completed', metrics: metrics(index), socket: 'agent' });
    }
    expect(log.events).toHaveLength(capacity);
    expect(log.events.at(-1)).toMatchObject({ type: 'turn.finished', at: total - 1 });
    expect(log.recent(50)).toHaveLength(50);
    expect(log.summary.recentTurns).toHaveLength(recentTurnCount);
    expect(log.summary.recentTurns.at(-1)?.turnId).toBe(`turn-${total - 1}`);
    // The counters are derived as events arrive, so the cap does not forget them.
    expect(log.summary.rehydrations).toBe(total);
    expect(log.summary.responsesSent).toBe(total);
  });

  it('holds at the default capacity the app uses', () => {
    const log = new InspectorLog();
    for (let index = 0; index < 10_000; index += 1) log.record({ type: 'tool', at: index, name: 'calculator', status: 'done', socket: 'agent' });
    expect(log.events).toHaveLength(2000);
  });
});

describe('the emulator', () => {
  it('keeps only its newest requests and stored responses, so a day in browser mode stays bounded', async () => {
    const emulator = await startEmulator({ latency: noLatency, historyLimit: 3 });
    try {
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) {
        const response = await fetch(`${emulator.baseUrl}/responses`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ model: 'gpt-5.4-mini', input: `hello ${index}`, store: true }) });
        ids.push(((await response.json()) as { id: string }).id);
      }
      expect(emulator.requests.map((request) => request.input)).toEqual(['hello 2', 'hello 3', 'hello 4']);
      const chain = async (id: string): Promise<number> =>
        (await fetch(`${emulator.baseUrl}/responses`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ model: 'gpt-5.4-mini', input: 'again', previous_response_id: id }) })).status;
      // The oldest stored response was forgotten; a recent one still chains.
      expect(await chain(ids[0] as string)).toBe(400);
      expect(await chain(ids[4] as string)).toBe(200);
    } finally {
      await emulator.close();
    }
  });
});
