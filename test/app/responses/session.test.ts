/**
 * ResponsesSession against the emulator over real loopback sockets, with a virtual clock where
 * the protocol's limits are measured in minutes.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../app/emulator/clock';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import { scriptedServer } from '../../support/scriptedResponses';
import { calculatorTool, countingCalculator, testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

async function emulate(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ latency: noLatency, ...options });
  return emulator;
}

const minutes = (count: number) => count * 60_000;
const inputOf = (index: number) => emulator?.requests[index]?.input as unknown[];

describe('incremental turns', () => {
  it('chains the second turn with previous_response_id and only the new input, store:false', async () => {
    const { baseUrl, requests } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    const deltas: string[] = [];
    const first = await session.runTurn([userMessage('hello')], { onTextDelta: (delta) => deltas.push(delta) });
    expect(first.status).toBe('completed');
    expect(deltas.join('')).toBe(first.text);
    const second = await session.runTurn([userMessage('what did I say?')]);
    expect(second.text).toContain('message 2 of our conversation');
    if (first.status !== 'completed' || second.status !== 'completed') throw new Error('unreachable');
    expect(requests.map((request) => request.previous_response_id ?? null)).toEqual([null, first.responseId]);
    expect(inputOf(1)).toEqual([userMessage('what did I say?')]);
    expect(requests.every((request) => request.store === false)).toBe(true);
    expect(second.metrics).toMatchObject({ chained: true, inputItemsSent: 1, requests: 1 });
    expect(second.metrics.bytesSent).toBeLessThan(first.metrics.bytesSent + 200);
    session.close();
  });

  it('resends the window when the settings change, then chains again', async () => {
    const { baseUrl, requests } = await emulate();
    const { session } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')]);
    session.updateSettings({ instructions: 'Be verbose.' });
    await session.runTurn([userMessage('two')]);
    await session.runTurn([userMessage('three')]);
    expect(requests.map((request) => [request.previous_response_id ?? null, (request.input as unknown[]).length])).toEqual([
      [null, 1],
      // The resend: 'one', the reply's reasoning item (with its encrypted content) and message, 'two'.
      [null, 4],
      [expect.stringMatching(/^resp_/), 1],
    ]);
    session.close();
  });
});

describe('warmup', () => {
  it('warms a new socket with generate:false, and the first turn chains to the warmup', async () => {
    const { baseUrl, requests } = await emulate();
    const { session, of } = testSession(baseUrl, { tools: [calculatorTool], warmup: 'always' });
    await session.connect();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ generate: false, instructions: 'Be brief.', tools: [calculatorTool], input: [] });
    const [warmup] = of('warmup');
    expect(warmup).toMatchObject({ socketId: 1, items: 0, responseId: expect.stringMatching(/^resp_/) });
    expect(warmup?.durationMs).toBeGreaterThanOrEqual(0);
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'completed', metrics: { chained: true } });
    expect(requests[1]?.previous_response_id).toBe(warmup?.responseId);
    session.close();
  });

  it('skips a warmup that could cache nothing worth its round trip (auto)', async () => {
    const { baseUrl, requests } = await emulate();
    const { session, of } = testSession(baseUrl, { tools: [calculatorTool], warmup: 'auto' });
    await session.connect();
    expect(of('warmup')).toEqual([]);
    expect(requests).toEqual([]);
    session.close();
  });
});

describe('the tool loop', () => {
  it('runs a 50-step tool loop, each call once, with flat upload per request', async () => {
    const { baseUrl, requests } = await emulate();
    const { runner, runs } = countingCalculator();
    const { session, of } = testSession(baseUrl, { tools: [calculatorTool], warmup: 'off' }, { runTool: runner });
    for (let step = 1; step <= 50; step += 1) {
      const turn = await session.runTurn([userMessage(`what is ${step} + 1?`)]);
      expect(turn.text).toBe(`${step} + 1 = ${step + 1}.`);
      expect(turn.metrics).toMatchObject({ requests: 2, toolCalls: 1 });
    }
    expect(runs).toHaveLength(50);
    expect(new Set(runs).size).toBe(50);
    expect(of('tool').filter((event) => event.status === 'done')).toHaveLength(50);
    const uploads = of('request').map((event) => event.metrics.bytesUp);
    expect(uploads.at(-1)).toBeLessThan((uploads[1] as number) * 2);
    expect(requests.slice(1).every((request) => request.previous_response_id)).toBe(true);
    session.close();
  });

  it('returns arguments that are not JSON to the model as a tool error, without running the tool', async () => {
    const { runner, runs } = countingCalculator();
    const server = await scriptedServer([
      [{ type: 'function_call', id: 'fc_1', call_id: 'call_bad', name: 'calculator', arguments: '{"expression": 1 +', status: 'completed' }],
      [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Sorry, let me fix that.', annotations: [] }] }],
    ]);
    const { session } = testSession(server.baseUrl, { tools: [calculatorTool], warmup: 'off' }, { runTool: runner });
    const turn = await session.runTurn([userMessage('what is 1 + 1?')]);
    expect(turn.text).toBe('Sorry, let me fix that.');
    expect(runs).toEqual([]);
    const output = (server.received[1]?.input as Array<{ type: string; call_id: string; output: string }>)[0];
    expect(output).toMatchObject({ type: 'function_call_output', call_id: 'call_bad' });
    expect(JSON.parse(output?.output ?? '{}').error).toMatch(/not valid JSON/);
    session.close();
    server.close();
  });
});

describe('rehydration', () => {
  it('resends the ledger once after previous_response_not_found', async () => {
    const { baseUrl, requests, inject } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')]);
    inject({ kind: 'evict_cache' });
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.text).toContain('message 2 of our conversation');
    expect(of('rehydration')).toEqual([{ type: 'rehydration', lane: '', reason: 'previous_response_not_found', items: 4 }]);
    expect(requests.map((request) => request.previous_response_id === undefined)).toEqual([true, false, true]);
    session.close();
  });

  it('reported the full-resend size of the chained attempt exactly: it is what the resend then sent', async () => {
    const { baseUrl, inject } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off', tools: [calculatorTool] });
    await session.runTurn([userMessage('what is 12 * 7?')]);
    await session.runTurn([userMessage('und jetzt: grüße aus 東京')]);
    inject({ kind: 'evict_cache' });
    await session.runTurn([userMessage('three')]);
    const [chainedAttempt, resend] = of('request').slice(-2).map((event) => event.metrics);
    expect(chainedAttempt).toMatchObject({ chained: true, responseId: null });
    expect(resend).toMatchObject({ chained: false });
    expect(chainedAttempt?.fullResendBytes).toBe(resend?.bytesUp);
    session.close();
  });

  it('reports the full-resend size of chained turns without serialising the history again', async () => {
    const { baseUrl } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off', tools: [calculatorTool] });
    // The first message counts each time anything serialises it: once on the wire, once into the ledger.
    let serialised = 0;
    const first = { ...userMessage('what is 12 * 7?'), toJSON: () => ((serialised += 1), userMessage('what is 12 * 7?')) };
    await session.runTurn([first as never]);
    const afterFirstTurn = serialised;
    for (let turn = 2; turn <= 12; turn += 1) await session.runTurn([userMessage(`what is ${turn} + 1?`)]);
    const requests = of('request').map((event) => event.metrics);
    expect(requests.slice(2).every((metrics) => metrics.chained && metrics.fullResendBytes > metrics.bytesUp)).toBe(true);
    expect(serialised).toBe(afterFirstTurn);
    session.close();
  });

  it('never loops: a second miss is reported, not retried', async () => {
    const server = await scriptedServer([], { alwaysMiss: true });
    const { session } = testSession(server.baseUrl, { warmup: 'always' });
    await session.connect();
    const turn = await session.runTurn([userMessage('hi')]);
    // The warmup id is unknown to this server: one rehydration, then the full resend also fails.
    expect(turn.status).toBe('failed');
    expect(server.received.filter((request) => request.generate !== false)).toHaveLength(2);
    session.close();
    server.close();
  });

  it('recovers from websocket_connection_limit_reached on a fresh socket with a full resend', async () => {
    const clock = new ManualClock();
    const { baseUrl, requests } = await emulate({ clock, connectionLimitMs: minutes(60) });
    // Rollover is set later than the server's limit, so the limit is hit first.
    const { session, of } = testSession(baseUrl, { warmup: 'off', rolloverAfterMs: minutes(90) }, { now: () => clock.now() });
    await session.runTurn([userMessage('one')]);
    clock.advance(minutes(61));
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.status).toBe('completed');
    expect(turn.text).toContain('message 2 of our conversation');
    expect(of('rehydration').map((event) => event.reason)).toEqual(['websocket_connection_limit_reached']);
    expect(of('socket').filter((event) => event.state.status === 'open').map((event) => event.socketId)).toEqual([1, 2]);
    expect((requests.at(-1)?.input as unknown[]).length).toBe(4);
    session.close();
  });
});

describe('rollover', () => {
  it('rolls over at the configured age between turns: warm new socket, chain moved, no turn lost', async () => {
    const clock = new ManualClock();
    const { baseUrl, requests } = await emulate({ clock });
    const { session, of } = testSession(baseUrl, { rolloverAfterMs: minutes(55) }, { now: () => clock.now() });
    const answers: string[] = [];
    // Turns at 0, 20, 40, 60 (rollover), 80, 100, 120 (rollover) minutes.
    for (let turn = 1; turn <= 7; turn += 1) {
      const outcome = await session.runTurn([userMessage(`turn ${turn}`)]);
      expect(outcome.status).toBe('completed');
      answers.push(outcome.text);
      clock.advance(minutes(20));
    }
    expect(answers.at(-1)).toContain('message 7 of our conversation');
    const rollovers = of('rollover');
    expect(rollovers.length).toBe(2);
    expect(rollovers[0]).toMatchObject({ fromSocketId: 1, toSocketId: 2, ageMs: minutes(60) });
    // After the first turn every turn was chained, even the first on each new socket (to its
    // warmup, which carried the conversation over), so each sent only its new message.
    const turns = requests.filter((request) => request.generate !== false).slice(1);
    expect(turns.every((request) => request.previous_response_id)).toBe(true);
    expect(turns.every((request) => (request.input as unknown[]).length === 1)).toBe(true);
    const warmups = requests.filter((request) => request.generate === false);
    expect(warmups.map((request) => (request.input as unknown[]).length)).toEqual([9, 18]);
    await expect.poll(() => of('socket').filter((event) => event.socketId === 1 && event.state.status === 'closed').length).toBe(1);
    session.close();
  });
});

describe('compaction', () => {
  it('server-side: context_management yields a compaction item and the window restarts there', async () => {
    const { baseUrl, requests, inject } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off', compaction: { mode: 'server', thresholdTokens: 1000 } });
    await session.runTurn([userMessage(`one ${'long '.repeat(700)}`)]);
    await session.runTurn([userMessage('two')]);
    expect(requests[0]?.context_management).toEqual([{ type: 'compaction', compact_threshold: 1000 }]);
    const [compaction] = of('compaction');
    expect(compaction).toMatchObject({ mode: 'server' });
    expect(compaction?.tokensAfter).toBeLessThan(compaction?.tokensBefore ?? 0);
    // A lost cache now resends the compacted window, and the emulator still sees every message.
    inject({ kind: 'evict_cache' });
    const turn = await session.runTurn([userMessage('three')]);
    expect(turn.text).toContain('message 3 of our conversation');
    expect((requests.at(-1)?.input as Array<{ type?: string }>)[0]?.type).toBe('compaction');
    session.close();
  });

  it('endpoint: /responses/compact replaces the window and the next request starts a new chain', async () => {
    const { baseUrl, requests } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } });
    let last = '';
    for (let turn = 1; turn <= 5; turn += 1) last = (await session.runTurn([userMessage(`turn ${turn} ${'long '.repeat(300)}`)])).text;
    // Nothing the user said was lost to compaction.
    expect(last).toContain('message 5 of our conversation');
    const compactions = of('compaction');
    expect(compactions.length).toBeGreaterThan(0);
    for (const compaction of compactions) {
      expect(compaction.mode).toBe('endpoint');
      expect(compaction.tokensAfter).toBeLessThan(compaction.tokensBefore);
    }
    const rebased = requests.filter((request) => (request.input as Array<{ type?: string }>).some((item) => item.type === 'compaction'));
    expect(rebased.length).toBe(compactions.length);
    expect(rebased.every((request) => request.previous_response_id === undefined)).toBe(true);
    session.close();
  });
});

describe('errors and reconnects', () => {
  it('reconnects after a drop mid-response, without running a tool twice or losing the input', async () => {
    const { baseUrl, inject } = await emulate();
    const { runner, runs } = countingCalculator();
    const { session, of } = testSession(baseUrl, { tools: [calculatorTool], warmup: 'off' }, { runTool: runner, sleep: async () => undefined });
    await session.runTurn([userMessage('hello')]);
    // The second request of the turn (answering from the tool output) is cut after two deltas.
    inject({ kind: 'stall', ms: 1 });
    inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 2 });
    let restarts = 0;
    const turn = await session.runTurn([userMessage('what is 2 + 3?')], { onRestart: () => (restarts += 1) });
    expect(turn.status).toBe('completed');
    expect(turn.text).toBe('2 + 3 = 5.');
    expect(runs).toHaveLength(1);
    expect(restarts).toBe(1);
    expect(of('reconnect')).toEqual([{ type: 'reconnect', attempt: 1, delayMs: expect.any(Number), code: 1011 }]);
    expect(of('rehydration').map((event) => event.reason)).toEqual(['reconnect']);
    // The rehydration counts what the resend carried: the window and the tool's output.
    expect(of('rehydration')[0]?.items).toBe((emulator?.requests.at(-1)?.input as unknown[]).length);
    const again = await session.runTurn([userMessage('and now?')]);
    expect(again.text).toContain('message 3 of our conversation');
    session.close();
  });

  it('waits out a 429 for its retry-after, then succeeds', async () => {
    const { baseUrl, inject } = await emulate();
    const slept: number[] = [];
    const { session, of } = testSession(baseUrl, { warmup: 'off' }, { sleep: async (ms) => void slept.push(ms) });
    inject({ kind: 'rate_limit', retryAfterS: 2 });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn.status).toBe('completed');
    expect(slept).toEqual([2000]);
    expect(of('rate_limited')).toEqual([{ type: 'rate_limited', lane: '', retryAfterMs: 2000 }]);
    session.close();
  });

  it('stops with a clear message on a revoked key and does not retry', async () => {
    const { baseUrl } = await emulate({ revokedKeys: ['sk-test'] });
    const { session, of } = testSession(baseUrl);
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'unauthorized', message: expect.stringContaining('HTTP 401') } });
    expect(of('reconnect')).toEqual([]);
    session.close();
  });

  it('explains a refused connection', async () => {
    const port = await closedPort();
    const { session } = testSession(`http://127.0.0.1:${port}/v1`);
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_refused', message: expect.stringContaining(`127.0.0.1:${port}`) } });
  });

  it('skips a malformed frame with a clear event and completes the turn', async () => {
    const { baseUrl, inject } = await emulate();
    const { session, of } = testSession(baseUrl, { warmup: 'off' });
    inject({ kind: 'malformed_frame' });
    expect((await session.runTurn([userMessage('hello')])).status).toBe('completed');
    expect(of('frame.rejected')[0]?.problem.code).toBe('malformed_frame');
    session.close();
  });
});

describe('lanes', () => {
  it('runs turns on named lanes in parallel over one socket, events routed by stream_id', async () => {
    const { baseUrl, requests } = await emulate({ latency: { ...noLatency, outputTokensPerSecond: 200 } });
    const { session } = testSession(baseUrl, { warmup: 'off' });
    const started = performance.now();
    const [left, right] = await Promise.all([
      session.runTurn([userMessage('left lane')], {}, 'left'),
      session.runTurn([userMessage('right lane')], {}, 'right'),
    ]);
    const bothMs = performance.now() - started;
    expect(left.text).toContain('"left lane"');
    expect(right.text).toContain('"right lane"');
    expect(requests.map((request) => request.stream_id).sort()).toEqual(['left', 'right']);
    // Overlapped: together they took far less than one after the other would have.
    expect(left.status).toBe('completed');
    expect(right.status).toBe('completed');
    expect(bothMs).toBeLessThan((left.metrics?.totalMs ?? 0) + (right.metrics?.totalMs ?? 0));
    const next = await session.runTurn([userMessage('more')], {}, 'left');
    expect(next.text).toContain('message 2 of our conversation');
    expect(requests.at(-1)).toMatchObject({ stream_id: 'left', previous_response_id: expect.stringMatching(/^resp_/) });
    session.close();
  });
});

describe('HTTP mode', () => {
  it('runs the same turns over POST /v1/responses, resending the full context every time', async () => {
    const { baseUrl, requests } = await emulate();
    const { runner } = countingCalculator();
    const { session } = testSession(baseUrl, { tools: [calculatorTool] }, { transport: 'http', runTool: runner });
    const first = await session.runTurn([userMessage('what is 2 * 21?')]);
    expect(first.text).toBe('2 × 21 = 42.');
    const second = await session.runTurn([userMessage('thanks')]);
    expect(second.text).toContain('message 2 of our conversation');
    expect(requests.every((request) => request.previous_response_id === undefined && request.stream === true)).toBe(true);
    expect(requests.map((request) => (request.input as unknown[]).length)).toEqual([1, 4, 7]);
  });
});

describe('the real recorded tool loop', () => {
  it('derives the tool calls and the final answer from openai-reasoning-encrypted-content', async () => {
    const { recordedLines } = await import('../../support/fixtures');
    const responses: string[][] = [];
    for (const line of recordedLines('openai-reasoning-encrypted-content.1.chunks.txt')) {
      if (line.includes('"type":"response.created"')) responses.push([]);
      responses.at(-1)?.push(line);
    }
    const server = await replayServer(responses);
    const calls: unknown[] = [];
    const { session } = testSession(server.baseUrl, { warmup: 'off', store: false }, { runTool: async (call) => (calls.push(call.arguments), String(calls.length)) });
    const deltas: string[] = [];
    const turn = await session.runTurn([userMessage('Compute (12 + 7) * 3 * 10.')], { onTextDelta: (delta) => deltas.push(delta) });
    expect(calls).toEqual([
      { a: 12, b: 7, op: 'add' },
      { a: 19, b: 3, op: 'multiply' },
      { a: 57, b: 10, op: 'multiply' },
    ]);
    expect(turn).toMatchObject({ status: 'completed', text: 'The final result is **570**.' });
    expect(deltas.join('')).toBe('The final result is **570**.');
    expect(turn.metrics).toMatchObject({ requests: 4, toolCalls: 3 });
    session.close();
    server.close();
  });
});

// Small protocol peers for cases the emulator cannot stage -------------------------------------

import { WebSocketServer } from 'ws';

/** Replays recorded responses, one per request, byte for byte. */
async function replayServer(responses: string[][]) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let next = 0;
  wss.on('connection', (ws) => ws.on('message', () => (responses[next++] ?? []).forEach((line) => ws.send(line))));
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}/v1`, close: () => wss.close() };
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
