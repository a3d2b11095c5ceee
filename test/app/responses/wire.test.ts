/**
 * What the agent session makes of each kind of server answer, as the user sees it: the reply's
 * status and text, the problem shown when it fails (its words and its hint), the figures in the
 * turn's metrics, and which request a frame belongs to. A scripted server on loopback decides
 * every frame, so each case is exactly the one the service can send (PROTOCOL.md §3 shapes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { userMessage } from '../../../app/protocol/responses';
import { responsesSocketUrl } from '../../../app/responses/session';
import { calculatorTool, countingCalculator, testSession } from '../../support/sessions';
import { frameServer, type Frame, type FrameServer } from '../../support/scriptedResponses';

let running: FrameServer | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

/** Answers the n-th `response.create` (from 0, warmups included) with `reply(create, n, ws)`. */
async function serve(reply: (create: Frame, index: number, ws: WebSocket) => Frame[]): Promise<FrameServer> {
  running = await frameServer((create, { index, ws }) => reply(create, index, ws));
  return running;
}

const lane = (create: Frame, frame: Frame): Frame => (typeof create.stream_id === 'string' ? { ...frame, stream_id: create.stream_id } : frame);
const message = (text: string): Frame => ({ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] });
const usage = (input: number, cached: number, output: number): Frame => ({ input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output });
const response = (id: string, status: string, rest: Frame = {}): Frame => ({ id, object: 'response', created_at: 1, status, model: 'gpt-5-mini', output: [], usage: null, error: null, ...rest });
const created = (id: string): Frame => ({ type: 'response.created', sequence_number: 0, response: response(id, 'in_progress') });
const delta = (text: string): Frame => ({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: text, logprobs: [] });
const completed = (id: string, output: Frame[], used: Frame | null = null): Frame => ({ type: 'response.completed', sequence_number: 2, response: response(id, 'completed', { output, usage: used }) });
const failed = (id: string, error: Frame | null): Frame => ({ type: 'response.failed', sequence_number: 2, response: response(id, 'failed', { error }) });
const requestError = (status: number | undefined, code: string | null, text: string): Frame => ({ type: 'error', ...(status === undefined ? {} : { status }), error: { type: 'invalid_request_error', code, message: text, param: null } });
const reply = (create: Frame, id: string, text: string, used: Frame | null = null): Frame[] => [created(id), delta(text), completed(id, [message(text)], used)].map((frame) => lane(create, frame));

describe('a reply that ends early', () => {
  it('response.incomplete is an incomplete turn with the text so far, and the next turn chains to it', async () => {
    const server = await serve((create, index) =>
      index === 0 ? [created('resp_1'), delta('Hel'), { type: 'response.incomplete', sequence_number: 2, response: response('resp_1', 'incomplete', { output: [message('Hel')], incomplete_details: { reason: 'max_output_tokens' } }) }] : reply(create, 'resp_2', 'More.'),
    );
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'incomplete', text: 'Hel', responseId: 'resp_1' });
    await session.runTurn([userMessage('go on')]);
    expect(server.creates[1]?.previous_response_id).toBe('resp_1');
    session.close();
  });

  it('the text is the output\'s, even when the deltas said otherwise or were never sent', async () => {
    const server = await serve((create, index) =>
      index === 0
        ? [created('resp_1'), delta('draft'), completed('resp_1', [message('Final '), { type: 'function_call_output_ignored' }, message('answer.')])].map((frame) => lane(create, frame))
        : [created('resp_2'), delta('Only deltas.'), completed('resp_2', [])],
    );
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('one')])).toMatchObject({ status: 'completed', text: 'Final answer.' });
    // No message in the output: what streamed is what was said.
    expect(await session.runTurn([userMessage('two')])).toMatchObject({ status: 'completed', text: 'Only deltas.' });
    session.close();
  });
});

describe('a reply that fails', () => {
  it('response.failed shows the server\'s reason, with the generic hint, and keeps what the user said', async () => {
    const server = await serve((create, index) => (index === 0 ? [created('resp_1'), delta('Partly'), failed('resp_1', { code: 'server_error', message: 'The model broke.' })] : reply(create, 'resp_2', 'Fine.')));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const turn = await session.runTurn([userMessage('first words')]);
    expect(turn).toEqual({
      status: 'failed',
      text: 'Partly',
      problem: { code: 'server_error', message: 'The server could not answer: The model broke.', hint: 'Send your message again; if it keeps failing, start a new conversation.' },
      metrics: expect.objectContaining({ requests: 1 }),
    });
    await session.runTurn([userMessage('second words')]);
    // Not chained to the failed response, and the failed turn's words were kept.
    expect(server.creates[1]?.previous_response_id).toBeUndefined();
    expect(JSON.stringify(server.creates[1]?.input)).toContain('first words');
    session.close();
  });

  it('response.failed for a rate limit says so in its hint', async () => {
    const server = await serve(() => [created('resp_1'), failed('resp_1', { code: 'rate_limit_exceeded', message: 'Too many tokens.' })]);
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: Too many tokens.', hint: expect.stringContaining('rate limited') } });
    session.close();
  });

  it('response.failed without an error says the response failed', async () => {
    const server = await serve(() => [created('resp_1'), failed('resp_1', null)]);
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: The response failed.' } });
    session.close();
  });

  it('an error during the stream is the reason shown, not the response.failed after it', async () => {
    const server = await serve(() => [created('resp_1'), { type: 'error', code: 'server_error', message: 'Stream broke.', param: null, sequence_number: 2 }, failed('resp_1', { code: 'other', message: 'Generic.' })]);
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: Stream broke.' } });
    session.close();
  });

  it('a request the server refuses for what it carries is not kept: the next turn does not resend it', async () => {
    const server = await serve((create, index) => (index === 0 ? [requestError(400, 'invalid_value', 'Bad input.')] : reply(create, 'resp_2', 'Fine.')));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('refused words')])).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: Bad input.' }, metrics: { requests: 1 } });
    await session.runTurn([userMessage('next words')]);
    expect(JSON.stringify(server.creates[1]?.input)).not.toContain('refused words');
    session.close();
  });

  it('a request that timed out (408) or failed on the server (5xx) is kept: it was not refused for what it said', async () => {
    for (const status of [408, 500]) {
      const server = await serve((create, index) => (index === 0 ? [requestError(status, 'server_error', 'Try later.')] : reply(create, 'resp_2', 'Fine.')));
      const { session } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
      expect((await session.runTurn([userMessage('kept words')])).status).toBe('failed');
      await session.runTurn([userMessage('next words')]);
      expect(JSON.stringify(server.creates.at(-1)?.input), `status ${status}`).toContain('kept words');
      session.close();
      await server.close();
    }
  });

  it('words each kind of failure with the hint that helps', async () => {
    const cases: Array<[Frame, { code: string; message: string; hint: string }]> = [
      [requestError(401, 'other', 'Incorrect API key provided.'), { code: 'unauthorized', message: 'The server rejected the API key: Incorrect API key provided.', hint: 'Check OPENAI_API_KEY: it may be mistyped or revoked.' }],
      [requestError(400, 'invalid_api_key', 'Bad key.'), { code: 'unauthorized', message: 'The server rejected the API key: Bad key.', hint: expect.stringContaining('OPENAI_API_KEY') }],
      [requestError(undefined, 'insufficient_quota', 'Out of quota.'), { code: 'server_error', message: 'The server could not answer: Out of quota.', hint: 'You are rate limited or out of quota: wait a moment, or check your plan and billing.' }],
      [requestError(undefined, 'rate_limit_exceeded', 'Slow down.'), { code: 'server_error', message: expect.any(String), hint: expect.stringContaining('rate limited') }],
      [requestError(503, 'server_error', 'Overloaded.'), { code: 'server_error', message: 'The server could not answer: Overloaded.', hint: 'The service had a problem. Send your message again in a moment.' }],
      [requestError(500, null, 'Oops.'), { code: 'server_error', message: expect.any(String), hint: expect.stringContaining('The service had a problem') }],
      [requestError(499, null, 'Client closed.'), { code: 'server_error', message: expect.any(String), hint: 'Send your message again; if it keeps failing, start a new conversation.' }],
    ];
    for (const [frame, problem] of cases) {
      const server = await serve(() => [frame]);
      const { session } = testSession(server.baseUrl, { warmup: 'off' });
      const turn = await session.runTurn([userMessage('hello')]);
      expect(turn, JSON.stringify(frame)).toMatchObject({ status: 'failed', problem });
      session.close();
      await server.close();
    }
  });

  it('lets the host word an error it knows better, given the model in use', async () => {
    const server = await serve(() => [requestError(404, 'model_not_found', 'The model does not exist.')]);
    const seen: unknown[] = [];
    const { session } = testSession(
      server.baseUrl,
      { warmup: 'off' },
      { describeError: (error) => (seen.push(error), error.code === 'model_not_found' ? { code: 'server_error', message: `You cannot use ${error.model}.`, hint: 'Pick another model.' } : null) },
    );
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'failed', problem: { message: 'You cannot use gpt-5-mini.', hint: 'Pick another model.' } });
    expect(seen).toEqual([{ code: 'model_not_found', message: 'The model does not exist.', model: 'gpt-5-mini' }]);
    session.close();
  });
});

describe('a turn\'s figures', () => {
  it('add up tokens, cached tokens and cost over the tool loop\'s requests, and time the first byte and delta', async () => {
    const call: Frame = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'calculator', arguments: '{"expression":"2 + 3"}', status: 'completed' };
    const server = await serve((create, index) =>
      index === 0 ? [created('resp_1'), completed('resp_1', [call], usage(1000, 400, 50))] : [created('resp_2'), delta('5.'), completed('resp_2', [message('5.')], usage(2000, 1000, 10))],
    );
    const { runner } = countingCalculator();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off', tools: [calculatorTool] }, { runTool: runner });
    const startedAt = performance.now();
    const turn = await session.runTurn([userMessage('what is 2 + 3?')]);
    const tookMs = performance.now() - startedAt;
    expect(turn.status).toBe('completed');
    expect(turn.metrics).toMatchObject({ requests: 2, toolCalls: 1, inputTokens: 3000, cachedTokens: 1400, outputTokens: 60, chained: false });
    // gpt-5-mini: $0.25 per 1M uncached input, $0.025 cached, $2 output.
    expect(turn.metrics?.costUsd).toBeCloseTo((1600 * 0.25 + 1400 * 0.025 + 60 * 2) / 1e6, 12);
    const requests = of('request').map((event) => event.metrics);
    expect(requests.map((metrics) => metrics.usage)).toEqual([
      { input: 1000, cached: 400, output: 50 },
      { input: 2000, cached: 1000, output: 10 },
    ]);
    expect(requests.map((metrics) => metrics.responseId)).toEqual(['resp_1', 'resp_2']);
    const size = (frame: Frame) => Buffer.byteLength(JSON.stringify(frame));
    expect(requests[0]?.bytesDown).toBe(size(created('resp_1')) + size(completed('resp_1', [call], usage(1000, 400, 50))));
    // The first request had no text; the turn's first delta came in the second.
    expect(requests[0]?.timeToFirstTextMs).toBeNull();
    expect(requests[1]?.timeToFirstTextMs).toBeGreaterThanOrEqual(0);
    expect(turn.metrics?.timeToFirstDeltaMs).toBe(requests[1]?.timeToFirstTextMs);
    expect(turn.metrics?.timeToFirstByteMs).toBe(requests[0]?.timeToFirstByteMs);
    expect(requests[0]?.timeToFirstByteMs).toBeGreaterThanOrEqual(0);
    // The first byte came within the turn.
    expect(requests[0]?.timeToFirstByteMs).toBeLessThanOrEqual(tookMs);
    expect(turn.metrics?.bytesSent).toBe((requests[0]?.bytesUp ?? 0) + (requests[1]?.bytesUp ?? 0));
    expect(turn.metrics?.bytesReceived).toBe((requests[0]?.bytesDown ?? 0) + (requests[1]?.bytesDown ?? 0));
    expect(turn.metrics?.inputItemsSent).toBe(2);
    expect(requests[1]).toMatchObject({ chained: true, inputItems: 1 });
    session.close();
  });

  it('time the turn\'s first delta from the first request that had one', async () => {
    const call: Frame = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'calculator', arguments: '{"expression":"2 + 3"}', status: 'completed' };
    let clock = 0;
    const server = await serve((_create, index, ws) => {
      // The first request's delta comes 10 ms after it went out, the second's 50 ms.
      const wait = index === 0 ? 10 : 50;
      const frames = index === 0 ? [created('resp_1'), delta('Let me see. '), completed('resp_1', [message('Let me see. '), call])] : [created('resp_2'), delta('5.'), completed('resp_2', [message('5.')])];
      ws.send(JSON.stringify(frames[0]));
      clock += wait;
      setTimeout(() => frames.slice(1).forEach((frame) => ws.send(JSON.stringify(frame))), 5);
      return [];
    });
    const { runner } = countingCalculator();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off', tools: [calculatorTool] }, { now: () => clock, runTool: runner });
    const turn = await session.runTurn([userMessage('what is 2 + 3?')]);
    expect(of('request').map((event) => event.metrics.timeToFirstTextMs)).toEqual([10, 50]);
    expect(turn.metrics?.timeToFirstDeltaMs).toBe(10);
    session.close();
  });

  it('have no usage, no cost and no delta time when the server sends none, and no cost for an unpriced model', async () => {
    const server = await serve((create, index) => (index === 0 ? [created('resp_1'), completed('resp_1', [message('Hi.')])] : reply(create, 'resp_2', 'Hi.', usage(10, 0, 2))));
    const { session } = testSession(server.baseUrl, { warmup: 'off', model: 'some-unpriced-model' });
    const first = await session.runTurn([userMessage('hello')]);
    expect(first.metrics).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: null, timeToFirstDeltaMs: null });
    const second = await session.runTurn([userMessage('hello')]);
    expect(second.metrics).toMatchObject({ inputTokens: 10, outputTokens: 2, costUsd: null });
    session.close();
  });

  it('count no cached tokens when the usage has no details', async () => {
    const server = await serve((create) => reply(create, 'resp_1', 'Hi.', { input_tokens: 10, output_tokens: 2, total_tokens: 12 }));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn.metrics).toMatchObject({ inputTokens: 10, cachedTokens: 0, outputTokens: 2 });
    expect(turn.metrics?.costUsd).toBeCloseTo((10 * 0.25 + 2 * 2) / 1e6, 12);
    session.close();
  });

  it('a first turn chained to its warmup reports as its full-resend size what it would have sent unchained', async () => {
    const server = await serve((create) => reply(create, `resp_${server.creates.length}`, 'Hi.'));
    const warm = testSession(server.baseUrl, { warmup: 'always' });
    const chained = await warm.session.runTurn([userMessage('hello there')]);
    expect(chained.metrics).toMatchObject({ chained: true });
    warm.session.close();
    const cold = testSession(server.baseUrl, { warmup: 'off' });
    const unchained = await cold.session.runTurn([userMessage('hello there')]);
    expect(unchained.metrics).toMatchObject({ chained: false });
    expect(chained.metrics?.fullResendBytes).toBe(unchained.metrics?.bytesSent);
    expect(chained.metrics?.bytesSent).toBeGreaterThan(unchained.metrics?.bytesSent ?? Infinity);
    cold.session.close();
  });

  it('a turn\'s time runs from its start to its answer on the session\'s clock', async () => {
    let clock = 1000;
    const server = await serve((create) => {
      clock += 250;
      return reply(create, 'resp_1', 'Hi.');
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { now: () => clock });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn.metrics?.totalMs).toBe(250);
    expect(of('request')[0]?.metrics.totalMs).toBe(250);
    session.close();
  });
});

describe('frames and the requests they belong to', () => {
  it('an error with no lane fails every request waiting for its start, and spares one already answering', async () => {
    let answering: (() => void) | null = null;
    const server = await serve((create, _index, ws) => {
      if (create.stream_id === 'a') {
        // Lane a starts answering, and finishes only once lane b's request is in.
        answering = () => ws.send(JSON.stringify(lane(create, completed('resp_a', [message('A.')]))));
        return [lane(create, created('resp_a'))];
      }
      const error = requestError(500, 'server_error', 'Connection trouble.');
      setTimeout(() => answering?.(), 50);
      return [error];
    });
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const a = session.runTurn([userMessage('a')], {}, 'a');
    await expect.poll(() => server.creates.length).toBe(1);
    const b = await session.runTurn([userMessage('b')], {}, 'b');
    expect(b).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: Connection trouble.' } });
    expect(await a).toMatchObject({ status: 'completed', text: 'A.' });
    session.close();
  });

  it('a frame for a lane with nothing in flight is nobody\'s', async () => {
    const server = await serve((create) => [{ ...completed('resp_stray', [message('Stray.')]), stream_id: 'elsewhere' }, ...reply(create, 'resp_1', 'Mine.')]);
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'completed', text: 'Mine.', responseId: 'resp_1' });
    session.close();
  });

  it('a frame with no lane belongs to the main lane: a named lane does not take it', async () => {
    const server = await serve((create) => (create.stream_id === 'side' ? [completed('resp_main_looking', [message('Not yours.')]), ...reply(create, 'resp_side', 'Side.')] : reply(create, 'resp_main', 'Main.')));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('side')], {}, 'side')).toMatchObject({ text: 'Side.', responseId: 'resp_side' });
    session.close();
  });

  it('an unreadable frame that ends a reply is counted as received and timed', async () => {
    // The broken terminal event is the first and only frame of the reply.
    const broken = { type: 'response.completed', sequence_number: 2 };
    const server = await serve(() => [broken]);
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: expect.stringContaining('ended the reply with a frame Parley could not read') } });
    const [metrics] = of('request').map((event) => event.metrics);
    expect(metrics?.bytesDown).toBe(Buffer.byteLength(JSON.stringify(broken)));
    expect(metrics?.timeToFirstByteMs).toBeGreaterThanOrEqual(0);
    session.close();
  });

  it('a terminal frame whose lane cannot be read ends every request in flight, instead of leaving them waiting', async () => {
    let started = 0;
    const server = await serve((create, _index, ws) => {
      started += 1;
      if (started === 2) setTimeout(() => ws.send(JSON.stringify({ ...completed('resp_x', [message('Whose?')]), stream_id: 42 })), 20);
      return [lane(create, created(`resp_${String(create.stream_id)}`))];
    });
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const turns = await Promise.all([session.runTurn([userMessage('a')], {}, 'a'), session.runTurn([userMessage('b')], {}, 'b')]);
    for (const turn of turns) expect(turn).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: expect.stringContaining('could not read') } });
    session.close();
  });

  it('a frame that cannot be read and ends nothing is skipped, and says so', async () => {
    const server = await serve((create) => [created('resp_1'), { ...delta('x'), delta: 7 }, ...reply(create, 'resp_1', 'Hi.').slice(1)]);
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'completed', text: 'Hi.' });
    expect(of('frame.rejected')).toEqual([
      { type: 'frame.rejected', problem: { code: 'malformed_frame', message: expect.stringContaining('The server sent a frame Parley could not read'), hint: 'It was skipped. If replies look incomplete, send your message again.' } },
    ]);
    session.close();
  });
});

describe('the socket', () => {
  it('carries the API key, and two lanes starting at once share one socket', async () => {
    const server = await serve((create) => reply(create, `resp_${String(create.stream_id)}`, 'Hi.'));
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' });
    const turns = await Promise.all([session.runTurn([userMessage('a')], {}, 'a'), session.runTurn([userMessage('b')], {}, 'b')]);
    expect(turns.map((turn) => turn.status)).toEqual(['completed', 'completed']);
    expect(server.connections).toHaveLength(1);
    expect(server.headers).toEqual(['Bearer sk-test']);
    expect(of('socket').filter((event) => event.state.status === 'open').map((event) => event.socketId)).toEqual([1]);
    session.close();
  });

  it('derives its URL from the API root', () => {
    expect(responsesSocketUrl('https://api.openai.com/v1')).toBe('wss://api.openai.com/v1/responses');
    expect(responsesSocketUrl('http://127.0.0.1:4010/v1//')).toBe('ws://127.0.0.1:4010/v1/responses');
    expect(responsesSocketUrl('ws://127.0.0.1:4010/v1')).toBe('ws://127.0.0.1:4010/v1/responses');
    expect(responsesSocketUrl('wss://proxy.example/v1/')).toBe('wss://proxy.example/v1/responses');
  });
});

describe('what a request carries', () => {
  it('only the fields that apply: no lane, tools or compaction it does not use, and the reasoning effort chosen', async () => {
    const server = await serve((create) => reply(create, `resp_${String(create.generate)}`, 'Hi.'));
    const { session } = testSession(server.baseUrl, { warmup: 'always', compaction: { mode: 'off', thresholdTokens: 100_000 }, reasoningEffort: 'low' });
    await session.runTurn([userMessage('hello')]);
    const [warmup, turn] = server.creates;
    for (const create of [warmup, turn]) {
      expect(create).not.toHaveProperty('stream_id');
      expect(create).not.toHaveProperty('tools');
      expect(create).not.toHaveProperty('context_management');
      expect(create).toMatchObject({ model: 'gpt-5-mini', instructions: 'Be brief.', store: false, reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'] });
    }
    expect(warmup).toMatchObject({ generate: false, input: [] });
    expect(turn).not.toHaveProperty('generate');
    session.close();
  });

  it('server compaction is asked for on real requests, not on the warmup; a named lane says its stream_id', async () => {
    const server = await serve((create) => reply(create, `resp_${server.creates.length}`, 'Hi.'));
    const { session } = testSession(server.baseUrl, { warmup: 'always', compaction: { mode: 'server', thresholdTokens: 5000 } });
    await session.runTurn([userMessage('hello')], {}, 'side');
    const [warmup, turn] = server.creates;
    expect(warmup).not.toHaveProperty('context_management');
    expect(warmup).not.toHaveProperty('stream_id');
    expect(turn).toMatchObject({ stream_id: 'side', context_management: [{ type: 'compaction', compact_threshold: 5000 }] });
    expect(turn).not.toHaveProperty('reasoning');
    session.close();
  });

  it('a model that does not reason is not asked for encrypted reasoning', async () => {
    const server = await serve((create) => reply(create, 'resp_1', 'Hi.'));
    const { session } = testSession(server.baseUrl, { warmup: 'off', model: 'gpt-4.1-mini' });
    await session.runTurn([userMessage('hello')]);
    expect(server.creates[0]).not.toHaveProperty('include');
    session.close();
  });
});

describe('a reply cut short by the user', () => {
  it('a cancel mid-reply keeps the text shown so far', async () => {
    // The reply starts and then goes quiet: only the user's cancel ends it.
    const server = await serve((create) => [created('resp_1'), delta('Half an ans')].map((frame) => lane(create, frame)));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const controller = new AbortController();
    const turn = await session.runTurn([userMessage('one')], { signal: controller.signal, onTextDelta: () => controller.abort() });
    expect(turn).toMatchObject({ status: 'failed', text: 'Half an ans', problem: { message: 'Cancelled: the agent stopped before finishing.' } });
    session.close();
  });
});

describe('a reply that starts and then stalls, twice', () => {
  it('keeps the text of the second try', async () => {
    const server = await serve((create) => [created(`resp_${server.creates.length}`), delta(`Try ${server.creates.length}`)].map((frame) => lane(create, frame)));
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { stallTimeoutMs: 200 });
    const turn = await session.runTurn([userMessage('one')]);
    expect(turn).toMatchObject({ status: 'failed', text: 'Try 2', problem: { message: expect.stringContaining('a second try stalled too') } });
    session.close();
  });
});

describe('server-side compaction', () => {
  it('never calls /responses/compact, however long the conversation grows', async () => {
    // A server that does not compact: the ledger stays past the threshold.
    const server = await serve((create) => reply(create, `resp_${server.creates.length}`, 'Noted.'));
    const fetched: string[] = [];
    const { session } = testSession(server.baseUrl, { warmup: 'off', compaction: { mode: 'server', thresholdTokens: 1000 } }, {
      fetch: (input, init) => {
        fetched.push(String(input));
        return fetch(input, init);
      },
    });
    await session.runTurn([userMessage(`one ${'long '.repeat(2000)}`)]);
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.status).toBe('completed');
    expect(fetched).toEqual([]);
    expect(server.creates[1]?.context_management).toEqual([{ type: 'compaction', compact_threshold: 1000 }]);
    session.close();
  });
});

describe('a stored conversation', () => {
  it('resends a reasoning item the server stored, by its id, when the window goes again in full', async () => {
    const reasoning: Frame = { type: 'reasoning', id: 'rs_1', summary: [] };
    const server = await serve((create) => {
      const id = `resp_${server.creates.length}`;
      return [created(id), completed(id, [reasoning, message('Hi.')])].map((frame) => lane(create, frame));
    });
    const { session } = testSession(server.baseUrl, { warmup: 'off', store: true, model: 'gpt-5-mini' });
    await session.runTurn([userMessage('one')]);
    // New instructions: the chain is dropped and the window goes again.
    session.updateSettings({ instructions: 'Be terse.' });
    await session.runTurn([userMessage('two')]);
    expect(server.creates[1]?.previous_response_id).toBeUndefined();
    expect((server.creates[1]?.input as Array<{ id?: string }>).map((item) => item.id).filter((id) => id !== undefined)).toContain('rs_1');
    session.close();
  });
});

describe('a signal used again after its turn', () => {
  it('cancelling after the turn finished does nothing: the next turn keeps the socket and the chain', async () => {
    const server = await serve((create) => reply(create, `resp_${server.creates.length}`, 'Hi.'));
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' });
    const controller = new AbortController();
    expect((await session.runTurn([userMessage('one')], { signal: controller.signal })).status).toBe('completed');
    controller.abort();
    const next = await session.runTurn([userMessage('two')]);
    expect(next).toMatchObject({ status: 'completed', metrics: { chained: true } });
    expect(server.connections).toHaveLength(1);
    expect(of('socket').filter((event) => event.state.status === 'closed')).toEqual([]);
    session.close();
  });
});

describe('a connection the server closes', () => {
  it('normally, mid-reply: the turn fails in words, without a reconnect, and the next turn opens a new socket', async () => {
    const server = await serve((create, index, ws) => {
      if (index === 0) {
        setTimeout(() => ws.close(1000), 20);
        return [created('resp_1'), delta('Hal')];
      }
      return reply(create, 'resp_2', 'Back.');
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', text: 'Hal', problem: { code: 'connection_failed', message: 'The connection closed before the reply finished.', hint: 'Send your message again.' } });
    expect(of('reconnect')).toEqual([]);
    expect(await session.runTurn([userMessage('again')])).toMatchObject({ status: 'completed', text: 'Back.', metrics: { chained: false } });
    expect(server.connections).toHaveLength(2);
    session.close();
  });
});

describe('a continuation that fails', () => {
  it('refused: the next turn does not chain to its parent again (the server evicted it)', async () => {
    const server = await serve((create, index) => (index === 1 ? [requestError(400, 'invalid_value', 'Bad input.')] : reply(create, `resp_${index}`, 'Fine.')));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    await session.runTurn([userMessage('one')]);
    expect((await session.runTurn([userMessage('two')])).status).toBe('failed');
    expect(server.creates[1]?.previous_response_id).toBe('resp_0');
    await session.runTurn([userMessage('three')]);
    expect(server.creates[2]?.previous_response_id).toBeUndefined();
    session.close();
  });

  it('at the connection limit twice: one fresh socket, then the refusal is shown', async () => {
    const server = await serve((create) =>
      create.generate === false ? [] : [{ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'websocket_connection_limit_reached', message: 'Limit reached.', param: null } }],
    );
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: Limit reached.' } });
    expect(server.connections).toHaveLength(2);
    expect(of('rehydration')).toEqual([{ type: 'rehydration', lane: '', reason: 'websocket_connection_limit_reached', items: 1 }]);
    // The first socket is retired, and says why when it closes.
    await expect.poll(() => of('socket').filter((event) => event.socketId === 1 && event.state.status === 'closed').map((event) => (event.state as { reason?: string }).reason)).toEqual(['connection limit reached']);
    session.close();
  });
});

describe('the tool events', () => {
  it('say when each tool started and how it ended, with its duration on the session\'s clock', async () => {
    const call = (id: string, expression: string): Frame => ({ type: 'function_call', id: `fc_${id}`, call_id: id, name: 'calculator', arguments: JSON.stringify({ expression }), status: 'completed' });
    const server = await serve((create, index) =>
      index === 0 ? [created('resp_1'), completed('resp_1', [call('call_ok', '2 + 3'), call('call_bad', 'two plus three')])].map((frame) => lane(create, frame)) : reply(create, 'resp_2', 'Done.'),
    );
    let clock = 0;
    const { runner } = countingCalculator();
    const { session, of } = testSession(server.baseUrl, { warmup: 'off', tools: [calculatorTool] }, { now: () => clock, runTool: async (toolCall) => ((clock += 40), runner(toolCall)) });
    const turn = await session.runTurn([userMessage('sums')], {}, 'tools');
    expect(turn).toMatchObject({ status: 'completed', metrics: { toolCalls: 2 } });
    expect(of('tool')).toEqual([
      { type: 'tool', lane: 'tools', callId: 'call_ok', name: 'calculator', status: 'started' },
      { type: 'tool', lane: 'tools', callId: 'call_ok', name: 'calculator', status: 'done', durationMs: 40 },
      { type: 'tool', lane: 'tools', callId: 'call_bad', name: 'calculator', status: 'started' },
      { type: 'tool', lane: 'tools', callId: 'call_bad', name: 'calculator', status: 'failed', durationMs: 40 },
    ]);
    const outputs = server.creates[1]?.input as Array<{ call_id: string; output: string }>;
    expect(outputs.map((item) => item.call_id)).toEqual(['call_ok', 'call_bad']);
    expect(outputs[0]?.output).toBe('5');
    expect(JSON.parse(outputs[1]?.output ?? '{}').error).toContain('cannot evaluate');
    session.close();
  });
});

describe('the warmup event', () => {
  it('times the warmup on the session\'s clock', async () => {
    let clock = 0;
    const server = await serve((create) => {
      clock += 30;
      return reply(create, 'resp_w', '');
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'always' }, { now: () => clock });
    await session.connect();
    expect(of('warmup')).toEqual([{ type: 'warmup', socketId: 1, durationMs: 30, items: 0, responseId: 'resp_w' }]);
    session.close();
  });
});

describe('a late frame from a socket the request left', () => {
  it('is nobody\'s: the reply comes from the socket the request went out on', async () => {
    const send = (ws: WebSocket, frames: Frame[], ms: number) => setTimeout(() => frames.forEach((frame) => ws.send(JSON.stringify(frame))), ms);
    let connection = 0;
    const sockets = new Map<WebSocket, number>();
    const server = await serve((create, _index, ws) => {
      if (!sockets.has(ws)) sockets.set(ws, (connection += 1));
      const on = sockets.get(ws);
      if (create.stream_id === 'a') {
        // Lane a keeps the first socket busy for a while.
        send(ws, [completed('resp_a', [message('A.')])].map((frame) => lane(create, frame)), 500);
        return [lane(create, created('resp_a'))];
      }
      if (on === 1) {
        // The main lane's request is turned away, and a stray reply follows later on the same socket.
        send(ws, [created('resp_stale'), completed('resp_stale', [message('Stale.')])], 100);
        return [{ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'websocket_connection_limit_reached', message: 'Limit reached.', param: null } }];
      }
      send(ws, [completed('resp_fresh', [message('Fresh.')])], 300);
      return [created('resp_fresh')];
    });
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const a = session.runTurn([userMessage('a')], {}, 'a');
    await expect.poll(() => server.creates.length).toBe(1);
    const main = await session.runTurn([userMessage('main')]);
    expect(main).toMatchObject({ status: 'completed', text: 'Fresh.', responseId: 'resp_fresh' });
    expect(await a).toMatchObject({ status: 'completed', text: 'A.' });
    expect(server.connections).toHaveLength(2);
    session.close();
  });
});

describe('a refusal', () => {
  it('shows the words the model refused with, as they stream and when the reply ends', async () => {
    const words = "I'm sorry, I can't help with that.";
    const refusalDelta = (text: string): Frame => ({ type: 'response.refusal.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: text });
    const refused: Frame = { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: words }] };
    const server = await serve((create) => [created('resp_1'), refusalDelta("I'm sorry, "), refusalDelta("I can't help with that."), completed('resp_1', [refused])].map((frame) => lane(create, frame)));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const streamed: string[] = [];
    const turn = await session.runTurn([userMessage('something it will not do')], { onTextDelta: (text) => streamed.push(text) });
    expect(streamed.join('')).toBe(words);
    expect(turn).toMatchObject({ status: 'completed', text: words });
    session.close();
  });

  it('refuses a refusal part without its words as a broken frame, not as an empty reply', async () => {
    const server = await serve((create) => [created('resp_1'), completed('resp_1', [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'refusal' }] }])].map((frame) => lane(create, frame)));
    const { session } = testSession(server.baseUrl, { warmup: 'off' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: expect.stringContaining('content[0].refusal: expected string') } });
    session.close();
  });
});
