/**
 * How far the agent session goes to recover, and where it stops: reconnect attempts and when
 * they give up, a key revoked while reconnecting, a close no retry can fix, a cancel before the
 * request went out, warming (when it is worth it, and when it fails), the rollover age, and a
 * failed `/responses/compact`. Real loopback sockets against the emulator or a scripted server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ManualClock } from '../../../app/emulator/clock';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import { calculatorTool, testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
let closeServer: (() => void) | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
  closeServer?.();
  closeServer = null;
});

async function emulate(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ latency: noLatency, ...options });
  return emulator;
}

const minutes = (count: number) => count * 60_000;

/**
 * A Responses endpoint whose first connection answers `first(create)` to each request (null:
 * cut the connection, as a crash would), and whose later connections are refused with `refuse`.
 */
async function flakyServer(refuse: number, first: (create: Record<string, unknown>) => Array<Record<string, unknown>> | null) {
  let connections = 0;
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/v1/responses',
    verifyClient: (_info, done) => {
      connections += 1;
      if (connections === 1) done(true);
      else done(false, refuse, 'Refused');
    },
  });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const frames = first(JSON.parse(data.toString()) as Record<string, unknown>);
      if (frames === null) ws.terminate();
      else for (const frame of frames) ws.send(JSON.stringify(frame));
    }),
  );
  await new Promise((resolve) => wss.once('listening', resolve));
  closeServer = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
  const { port } = wss.address() as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}/v1`, connections: () => connections };
}

const done = (id: string, generate: boolean) => [
  { type: 'response.created', sequence_number: 0, response: { id, object: 'response', status: 'in_progress', output: [] } },
  {
    type: 'response.completed',
    sequence_number: 1,
    response: { id, object: 'response', status: 'completed', usage: null, output: generate ? [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi.', annotations: [] }] }] : [] },
  },
];

describe('reconnecting', () => {
  it('gives up after five attempts, each waiting longer, and says why', async () => {
    const server = await emulate();
    const slept: number[] = [];
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, {
      // The server goes away for good while the first wait runs.
      sleep: async (ms) => {
        slept.push(ms);
        if (slept.length === 1) await server.close();
      },
    });
    await session.runTurn([userMessage('one')]);
    server.inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 1 });
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_refused' } });
    // The one delta that arrived before the drop is still the turn's text.
    expect(turn.text).toBe('You');
    expect(of('reconnect').map((event) => [event.attempt, event.code])).toEqual([
      [1, 1011],
      [2, 1011],
      [3, 1011],
      [4, 1011],
      [5, 1011],
    ]);
    expect(of('reconnect').map((event) => event.delayMs)).toEqual(slept);
    for (let index = 1; index < slept.length; index += 1) expect(slept[index]).toBeGreaterThan(slept[index - 1] ?? Infinity);
    expect(of('rehydration')).toEqual([]);
    session.close();
  });

  it('stops at once when the server turns the key away while reconnecting', async () => {
    const server = await flakyServer(401, (create) => (create.generate === false ? done('resp_w', false) : null));
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'unauthorized' } });
    expect(of('reconnect').map((event) => event.attempt)).toEqual([1]);
    expect(server.connections()).toBe(2);
    session.close();
  });

  it('keeps trying past a refusal that may pass (a 503 while the server restarts)', async () => {
    const server = await flakyServer(503, () => null);
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn.status).toBe('failed');
    expect(of('reconnect').map((event) => event.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(server.connections()).toBe(6);
    session.close();
  });

  it('does not reconnect after a close no retry can fix; the next turn opens a new socket', async () => {
    const server = await emulate();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    await session.runTurn([userMessage('one')]);
    server.inject({ kind: 'drop_socket', closeCode: 1008, afterDeltas: 1 });
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_failed', message: expect.stringContaining('code 1008') } });
    expect(of('reconnect')).toEqual([]);
    const next = await session.runTurn([userMessage('three')]);
    // The failed turn's words were kept: the model hears all three.
    expect(next).toMatchObject({ status: 'completed', text: expect.stringContaining('message 3 of our conversation') });
    expect(server.requests.at(-1)?.previous_response_id).toBeUndefined();
    session.close();
  });

  it('a reconnect while only one retry is allowed: a second drop in the same reply is reported', async () => {
    const server = await emulate();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    server.inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 1 });
    server.inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 1 });
    const restarts: number[] = [];
    const turn = await session.runTurn([userMessage('hello')], { onRestart: () => restarts.push(1) });
    expect(turn.status).toBe('failed');
    expect(of('reconnect')).toHaveLength(1);
    expect(restarts).toHaveLength(1);
    session.close();
  });
});

describe('a reply that stalls twice', () => {
  it('says how long nothing arrived, in seconds', async () => {
    const server = await emulate();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { stallTimeoutMs: 600 });
    server.inject({ kind: 'stall' });
    server.inject({ kind: 'stall' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_failed', message: 'The server stopped answering: nothing arrived for 1 s, and a second try stalled too.', hint: 'Send your message again in a moment; if it keeps happening, check your network or status.openai.com.' } });
    expect(of('stalled').map((event) => event.retrying)).toEqual([true, false]);
    session.close();
  });
});

describe('cancel', () => {
  it('a turn cancelled before it started sends nothing and has no figures', async () => {
    const server = await emulate();
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const controller = new AbortController();
    controller.abort();
    const turn = await session.runTurn([userMessage('hello')], { signal: controller.signal });
    expect(turn).toEqual({ status: 'failed', text: '', problem: { code: 'busy', message: 'Cancelled: the agent stopped before finishing.', hint: 'Ask again when you are ready.' }, metrics: null });
    expect(server.requests).toEqual([]);
    session.close();
  });
});

describe('a cancel while the ledger is being compacted', () => {
  it('sends no request at all', async () => {
    const server = await emulate();
    const controller = new AbortController();
    const { session } = testSession(
      server.baseUrl,
      { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } },
      {
        // The user cancels while /responses/compact is on its way.
        fetch: (input, init) => {
          if (String(input).endsWith('/responses/compact')) controller.abort();
          return fetch(input, init);
        },
      },
    );
    await session.runTurn([userMessage(`one ${'long '.repeat(900)}`)]);
    const turn = await session.runTurn([userMessage('two')], { signal: controller.signal });
    expect(turn).toMatchObject({ status: 'failed', problem: { message: 'Cancelled: the agent stopped before finishing.' } });
    expect(server.requests).toHaveLength(1);
    session.close();
  });
});

describe('a compaction that cannot reach the server', () => {
  it('fails the turn with the reason, before its request goes out', async () => {
    const server = await emulate();
    const { session } = testSession(
      server.baseUrl,
      { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } },
      // /responses/compact goes to a port nothing listens on, as when the network drops just then.
      { fetch: (input, init) => fetch(String(input).endsWith('/responses/compact') ? 'http://127.0.0.1:9/v1/responses/compact' : input, init) },
    );
    await session.runTurn([userMessage(`one ${'long '.repeat(900)}`)]);
    const turn = await session.runTurn([userMessage('two')]);
    // Nothing of a reply was received, so the turn shows no text.
    expect(turn).toMatchObject({
      status: 'failed',
      text: '',
      problem: { code: 'connection_failed', message: expect.stringMatching(new RegExp(`^Could not reach ${server.baseUrl} to compact the conversation: fetch failed \\(.+\\)\\.$`)), hint: 'Check your network and OPENAI_BASE_URL, then send your message again.' },
    });
    expect(server.requests).toHaveLength(1);
    session.close();
  });

  // One good item is not enough: every item must be an object with a type.
  it.each([
    { bad: 'null', output: [userMessage('kept'), null] },
    { bad: 'a string', output: [userMessage('kept'), 'summary'] },
    { bad: 'an object without a type', output: [userMessage('kept'), { summary: 'no type' }] },
  ])('fails the turn in words when the compacted conversation holds $bad', async ({ output }) => {
    const server = await emulate();
    const { session } = testSession(
      server.baseUrl,
      { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } },
      { fetch: async (input, init) => (String(input).endsWith('/responses/compact') ? Response.json({ output }) : fetch(input, init)) },
    );
    await session.runTurn([userMessage(`one ${'long '.repeat(900)}`)]);
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: 'The server answered the compaction with something other than a compacted conversation.', hint: 'Send your message again; if it keeps happening, set Compaction to "server" in Settings.' } });
    expect(server.requests).toHaveLength(1);
    session.close();
  });

  it('fails the turn in words when the compaction answer is not a compacted conversation (a proxy page, say)', async () => {
    const server = await emulate();
    const { session } = testSession(
      server.baseUrl,
      { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } },
      { fetch: async (input, init) => (String(input).endsWith('/responses/compact') ? new Response('<html>Login required</html>', { status: 200, headers: { 'Content-Type': 'text/html' } }) : fetch(input, init)) },
    );
    await session.runTurn([userMessage(`one ${'long '.repeat(900)}`)]);
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: 'The server answered the compaction with something other than a compacted conversation.' } });
    // The turn's own request never went out over a conversation that was not replaced.
    expect(server.requests).toHaveLength(1);
    session.close();
  });
});

describe('warming', () => {
  it('auto warms when the instructions alone are worth caching', async () => {
    const server = await emulate();
    const { session, of } = testSession(server.baseUrl, { warmup: 'auto', instructions: 'Be careful. '.repeat(400) });
    const startedAt = performance.now();
    await session.connect();
    expect(of('warmup')).toHaveLength(1);
    // The inspector shows how long the warmup took: some of the connect, never more.
    expect(of('warmup')[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(of('warmup')[0]?.durationMs).toBeLessThanOrEqual(performance.now() - startedAt);
    expect(server.requests[0]).toMatchObject({ generate: false });
    session.close();
  });

  it('auto warms when the tools are worth caching, even with short instructions', async () => {
    const server = await emulate();
    const tools = Array.from({ length: 12 }, (_, index) => ({ ...calculatorTool, name: `calculator_${index}`, description: 'Evaluates an arithmetic expression. '.repeat(10) }));
    const { session, of } = testSession(server.baseUrl, { warmup: 'auto', tools });
    await session.connect();
    expect(of('warmup')).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ generate: false, tools });
    session.close();
  });

  it('off never warms, even a socket that carries a conversation over', async () => {
    const clock = new ManualClock();
    const server = await emulate({ clock });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off', rolloverAfterMs: minutes(55) }, { now: () => clock.now() });
    await session.runTurn([userMessage('one')]);
    clock.advance(minutes(56));
    await session.runTurn([userMessage('two')]);
    expect(of('rollover')).toHaveLength(1);
    expect(of('warmup')).toEqual([]);
    expect(server.requests.every((request) => request.generate !== false)).toBe(true);
    session.close();
  });

  it('a warmup the server refuses leaves nothing to chain to: the first turn goes in full', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/responses' });
    const received: Array<Record<string, unknown>> = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const create = JSON.parse(data.toString()) as Record<string, unknown>;
        received.push(create);
        const frames = create.generate === false ? [{ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'invalid_value', message: 'No warmups here.', param: null } }] : done('resp_turn', true);
        for (const frame of frames) ws.send(JSON.stringify(frame));
      }),
    );
    await new Promise((resolve) => wss.once('listening', resolve));
    closeServer = () => wss.close();
    const { port } = wss.address() as { port: number };
    const { session, of } = testSession(`http://127.0.0.1:${port}/v1`, { warmup: 'always' });
    await session.connect();
    expect(of('warmup')).toEqual([]);
    expect(session.chainHead).toBeNull();
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'completed', metrics: { chained: false } });
    expect(received[1]?.previous_response_id).toBeUndefined();
    session.close();
    for (const ws of wss.clients) ws.terminate();
  });

  it('the warmup of a rolled-over socket carries the window, and reports how many items', async () => {
    const clock = new ManualClock();
    const server = await emulate({ clock });
    // The session's clock does not start at zero: the age is measured from when the socket opened.
    const start = minutes(7);
    const { session, of } = testSession(server.baseUrl, { warmup: 'auto', rolloverAfterMs: minutes(55) }, { now: () => start + clock.now() });
    await session.runTurn([userMessage('one')]);
    clock.advance(minutes(55));
    // At exactly the rollover age the socket is replaced.
    await session.runTurn([userMessage('two')]);
    const [rollover] = of('rollover');
    expect(rollover).toMatchObject({ fromSocketId: 1, toSocketId: 2, ageMs: minutes(55), gapMs: 0 });
    const warmups = of('warmup');
    expect(warmups).toHaveLength(1);
    const warmupRequest = server.requests.find((request) => request.generate === false);
    expect(warmups[0]?.items).toBe((warmupRequest?.input as unknown[]).length);
    expect(warmups[0]).toMatchObject({ socketId: 2 });
    session.close();
  });
});

describe('rollover with another lane answering', () => {
  it('waits for that reply to finish before closing the old socket', async () => {
    const clock = new ManualClock();
    const server = await emulate();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off', rolloverAfterMs: minutes(55) }, { now: () => clock.now() });
    await session.runTurn([userMessage('main one')]);
    // The side lane's reply takes a while; the main lane's next turn finds the socket too old.
    server.inject({ kind: 'stall', ms: 300 });
    const side = session.runTurn([userMessage('side one')], {}, 'side');
    await expect.poll(() => session.lanesInFlight).toBe(1);
    clock.advance(minutes(56));
    const main = await session.runTurn([userMessage('main two')]);
    expect(main).toMatchObject({ status: 'completed', text: expect.stringContaining('message 2 of our conversation') });
    expect(of('rollover')).toHaveLength(1);
    expect(of('socket').filter((event) => event.socketId === 1 && event.state.status === 'closed')).toEqual([]);
    expect(await side).toMatchObject({ status: 'completed', text: expect.stringContaining('your first message') });
    await expect.poll(() => of('socket').filter((event) => event.socketId === 1 && event.state.status === 'closed').length).toBe(1);
    session.close();
  });
});

describe('compaction by /responses/compact', () => {
  it('sends the model, the instructions and the window with the key, and starts a new chain from the result', async () => {
    const server = await emulate();
    const calls: Array<{ url: string; body: Record<string, unknown>; auth: string | null; type: string | null }> = [];
    const { session, of } = testSession(
      server.baseUrl,
      { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } },
      {
        fetch: (input, init) => {
          calls.push({ url: String(input), body: JSON.parse(String(init?.body)) as Record<string, unknown>, auth: new Headers(init?.headers).get('authorization'), type: new Headers(init?.headers).get('content-type') });
          return fetch(input, init);
        },
      },
    );
    await session.runTurn([userMessage(`one ${'long '.repeat(900)}`)]);
    await session.runTurn([userMessage('two')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ url: `${server.baseUrl}/responses/compact`, auth: 'Bearer sk-test', type: 'application/json', body: { model: 'gpt-5-mini', instructions: 'Be brief.' } });
    expect(JSON.stringify(calls[0]?.body.input)).toContain('long long');
    expect(of('compaction')).toMatchObject([{ mode: 'endpoint' }]);
    // The turn after compaction starts a new chain on the compacted window.
    expect(server.requests[1]?.previous_response_id).toBeUndefined();
    expect((server.requests[1]?.input as Array<{ type?: string }>).some((item) => item.type === 'compaction')).toBe(true);
    session.close();
  });

  it('a compaction the server refuses fails the turn in words, before its request goes out', async () => {
    // Chained requests stay small; the compaction request carries the whole window and is too big.
    const server = await emulate({ maxMessageBytes: 6000 });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } });
    const outcomes = [];
    for (let turn = 1; turn <= 6; turn += 1) {
      const outcome = await session.runTurn([userMessage(`turn ${turn} ${'long '.repeat(300)}`)]);
      outcomes.push(outcome.status);
      if (outcome.status === 'failed') {
        expect(outcome).toMatchObject({ problem: { code: 'server_error', message: expect.stringMatching(/^The server could not answer: The request body exceeds 6000 bytes/) } });
        // Nothing was sent, so there is nothing to measure.
        expect(outcome.metrics).toBeNull();
        break;
      }
    }
    // It fails once the window passes the threshold, before that turn's request goes out.
    expect(outcomes.slice(0, -1).every((status) => status === 'completed')).toBe(true);
    expect(outcomes.at(-1)).toBe('failed');
    expect(outcomes.length).toBeGreaterThan(1);
    expect(server.requests).toHaveLength(outcomes.length - 1);
    expect(of('compaction')).toEqual([]);
    session.close();
  });
});
