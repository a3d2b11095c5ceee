/**
 * The agent session's own controls, as the host drives them: taking up a saved conversation
 * (`resume`), starting over (`reset`), taking the last turn back (`forgetTurn`), changing settings
 * between turns, closing, and what the inspector reads off it (chain head, socket, meters). Against
 * the emulator on loopback, which counts the user's messages it can see, so "the model no longer
 * sees the forgotten turn" is something the reply says.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { userMessage, type ResponseInputItem } from '../../../app/protocol/responses';
import { calculatorTool, testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

async function emulate(): Promise<Emulator> {
  emulator = await startEmulator({ latency: noLatency });
  return emulator;
}

const assistant = (text: string): ResponseInputItem => ({ type: 'message', id: 'msg_saved', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }) as ResponseInputItem;
const saved = (...items: ResponseInputItem[]) => ({ offset: 10, entries: items.map((item) => ({ item, stored: false })) });
const texts = (input: unknown) => (input as Array<{ content?: Array<{ text?: string }> }>).map((item) => item.content?.[0]?.text ?? null);

describe('resume', () => {
  it('takes up a saved conversation: the next turn resends its window unchained, and the model sees it', async () => {
    const { baseUrl, requests } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    session.resume(saved(userMessage('earlier one'), assistant('Reply one.'), userMessage('earlier two'), assistant('Reply two.')));
    expect(session.ledger.length).toBe(14);
    const turn = await session.runTurn([userMessage('now')]);
    expect(turn.text).toContain('message 3 of our conversation');
    expect(requests[0]?.previous_response_id).toBeUndefined();
    expect(texts(requests[0]?.input)).toEqual(['earlier one', 'Reply one.', 'earlier two', 'Reply two.', 'now']);
    expect(of('rehydration')).toEqual([{ type: 'rehydration', lane: '', reason: 'resume', items: 5 }]);
    // Once: the turn after chains to it, and says nothing of a resume.
    const next = await session.runTurn([userMessage('and then')]);
    expect(next.text).toContain('message 4 of our conversation');
    expect(requests[1]?.previous_response_id).toBe(turn.status === 'completed' ? turn.responseId : 'unreachable');
    expect(of('rehydration')).toHaveLength(1);
    session.close();
  });

  it('drops the chain it replaces, on the lane it names only', async () => {
    const { baseUrl, requests } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('main one')]);
    await session.runTurn([userMessage('side one')], {}, 'side');
    session.resume(saved(userMessage('saved')), 'side');
    const side = await session.runTurn([userMessage('side two')], {}, 'side');
    expect(side.text).toContain('message 2 of our conversation');
    expect(requests.at(-1)).toMatchObject({ stream_id: 'side' });
    expect(requests.at(-1)?.previous_response_id).toBeUndefined();
    expect(texts(requests.at(-1)?.input)).toEqual(['saved', 'side two']);
    expect(of('rehydration')).toEqual([{ type: 'rehydration', lane: 'side', reason: 'resume', items: 2 }]);
    // The main lane still chains, with only its new message.
    const main = await session.runTurn([userMessage('main two')]);
    expect(main.text).toContain('message 2 of our conversation');
    expect(requests.at(-1)?.previous_response_id).toMatch(/^resp_/);
    expect(texts(requests.at(-1)?.input)).toEqual(['main two']);
    session.close();
  });

  it('an empty saved conversation is a fresh start, with no resume to report', async () => {
    const { baseUrl } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')]);
    session.resume({ offset: 0, entries: [] });
    expect(session.chainHead).toBeNull();
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.text).toContain('your first message');
    expect(of('rehydration')).toEqual([]);
    session.close();
  });
});

describe('reset', () => {
  it('forgets the lane: the next turn starts a new chain the model sees as a first message', async () => {
    const { baseUrl, requests } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')], { turnId: 't1' });
    session.resume(saved(userMessage('saved')));
    session.reset();
    expect(session.ledger.entries).toEqual([]);
    expect(session.chainHead).toBeNull();
    // Nothing to take back any more.
    expect(session.forgetTurn('t1')).toBe('not_latest');
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.text).toContain('your first message');
    expect(requests.at(-1)?.previous_response_id).toBeUndefined();
    expect(texts(requests.at(-1)?.input)).toEqual(['two']);
    // The saved conversation it replaced is not resumed either.
    expect(of('rehydration')).toEqual([]);
    session.close();
  });

  it('leaves other lanes as they were', async () => {
    const { baseUrl } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('main')]);
    await session.runTurn([userMessage('side')], {}, 'side');
    session.reset('side');
    expect((await session.runTurn([userMessage('main again')])).text).toContain('message 2 of our conversation');
    expect((await session.runTurn([userMessage('side again')], {}, 'side')).text).toContain('your first message');
    session.close();
  });
});

describe('forgetTurn', () => {
  it('takes the latest turn back: the model no longer sees it, and the next request resends the window', async () => {
    const { baseUrl, requests } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('keep this')], { turnId: 't1' });
    await session.runTurn([userMessage('take this back')], { turnId: 't2' });
    expect(session.forgetTurn('t1')).toBe('not_latest');
    expect(session.forgetTurn('t2')).toBe('forgotten');
    expect(session.chainHead).toBeNull();
    expect(session.ledger.length).toBe(3);
    // Once: it is gone, and the turn before it is not now the latest to take back.
    expect(session.forgetTurn('t2')).toBe('not_latest');
    expect(session.forgetTurn('t1')).toBe('not_latest');
    const again = await session.runTurn([userMessage('instead')], { turnId: 't3' });
    expect(again.text).toContain('message 2 of our conversation');
    expect(requests.at(-1)?.previous_response_id).toBeUndefined();
    expect(texts(requests.at(-1)?.input)).not.toContain('take this back');
    expect(texts(requests.at(-1)?.input)).toContain('keep this');
    session.close();
  });

  it('refuses a turn still running, and one without an id', async () => {
    const { baseUrl, inject } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    expect(session.forgetTurn('t1')).toBe('not_latest');
    await session.runTurn([userMessage('no id')]);
    expect(session.forgetTurn('')).toBe('not_latest');
    inject({ kind: 'stall', ms: 200 });
    const running = session.runTurn([userMessage('slow')], { turnId: 't2' });
    await expect.poll(() => session.lanesInFlight).toBe(1);
    expect(session.forgetTurn('t2')).toBe('running');
    await running;
    expect(session.forgetTurn('t2')).toBe('forgotten');
    session.close();
  });

  it('refuses a turn a compaction has since folded into its summary, and keeps it', async () => {
    const { baseUrl } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off', compaction: { mode: 'server', thresholdTokens: 1000 } });
    await session.runTurn([userMessage(`one ${'long '.repeat(700)}`)], { turnId: 't1' });
    expect(session.forgetTurn('t1')).toBe('compacted');
    // Refused, so it stays the latest turn: asking again gets the same answer, and the chain stands.
    expect(session.forgetTurn('t1')).toBe('compacted');
    expect(session.chainHead).toMatch(/^resp_/);
    session.close();
  });

  it('names turns per lane', async () => {
    const { baseUrl } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('main')], { turnId: 'main-1' });
    await session.runTurn([userMessage('side')], { turnId: 'side-1' }, 'side');
    expect(session.forgetTurn('side-1')).toBe('not_latest');
    expect(session.forgetTurn('main-1', 'side')).toBe('not_latest');
    expect(session.forgetTurn('side-1', 'side')).toBe('forgotten');
    expect(session.chainHead).toMatch(/^resp_/);
    expect(session.forgetTurn('main-1')).toBe('forgotten');
    session.close();
  });
});

describe('settings changed between turns', () => {
  it('changes only what was given: the tools stay when the instructions change', async () => {
    const { baseUrl, requests } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off', tools: [calculatorTool] });
    await session.runTurn([userMessage('one')]);
    session.updateSettings({ instructions: 'Be verbose.' });
    await session.runTurn([userMessage('two')]);
    expect(requests.at(-1)).toMatchObject({ instructions: 'Be verbose.', tools: [calculatorTool], model: 'gpt-5-mini' });
    session.close();
  });

  it('changing the model drops the chain: the window goes again', async () => {
    const { baseUrl, requests } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')]);
    session.updateSettings({ model: 'gpt-5' });
    await session.runTurn([userMessage('two')]);
    expect(requests.at(-1)).toMatchObject({ model: 'gpt-5' });
    expect(requests.at(-1)?.previous_response_id).toBeUndefined();
    session.close();
  });
});

describe('what the inspector reads', () => {
  it('the socket, its meters, the chain head and the transport, before and after a turn', async () => {
    const { baseUrl } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    expect(session.transport).toBe('websocket');
    expect(session.socketInfo).toBeNull();
    expect(session.meters).toEqual({ bytesSent: 0, bytesReceived: 0 });
    expect(session.chainHead).toBeNull();
    expect(session.lanesInFlight).toBe(0);
    const before = performance.now();
    await session.connect();
    expect(session.socketInfo).toEqual({ id: 1, openedAt: expect.any(Number) });
    expect(session.socketInfo?.openedAt).toBeGreaterThanOrEqual(before);
    const turn = await session.runTurn([userMessage('hello')]);
    expect(session.chainHead).toBe(turn.status === 'completed' ? turn.responseId : 'unreachable');
    expect(session.meters.bytesSent).toBe(turn.metrics?.bytesSent);
    expect(session.meters.bytesReceived).toBeGreaterThan(0);
    expect(session.socketInfo?.id).toBe(1);
    session.close();
  });

  it('counts the lanes waiting for a reply', async () => {
    const { baseUrl, inject } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    inject({ kind: 'stall', ms: 300 });
    inject({ kind: 'stall', ms: 300 });
    const turns = [session.runTurn([userMessage('a')], {}, 'a'), session.runTurn([userMessage('b')], {}, 'b')];
    await expect.poll(() => session.lanesInFlight).toBe(2);
    await Promise.all(turns);
    expect(session.lanesInFlight).toBe(0);
    session.close();
  });

  it('over HTTP there is no socket to show, and nothing is chained', async () => {
    const { baseUrl } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'always' }, { transport: 'http' });
    expect(session.transport).toBe('http');
    await session.connect();
    expect(session.socketInfo).toBeNull();
    await session.runTurn([userMessage('hello')]);
    expect(session.chainHead).toBeNull();
    session.close();
  });
});

describe('close', () => {
  it('closes the socket, and a later turn fails in words instead of reconnecting', async () => {
    const { baseUrl } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')]);
    session.close();
    await expect.poll(() => of('socket').some((event) => event.state.status === 'closed')).toBe(true);
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_failed', message: 'The session is closed.' } });
    await expect(session.connect()).rejects.toThrow();
    expect(of('reconnect')).toEqual([]);
    expect(of('socket').filter((event) => event.state.status === 'connecting')).toHaveLength(1);
  });
});
