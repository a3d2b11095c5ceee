import { noLatency } from '../../../app/emulator/latency';
import { createServer } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import { ResponsesSession, type ResponsesSessionEvent } from '../../../app/responses/session';
import { wsUrl } from '../../support/wire';

let emulator: Emulator;
let events: ResponsesSessionEvent[];

function sessionFor(url: string, apiKey = 'sk-test'): ResponsesSession {
  // Each session reports into the current test's list, never a later test's.
  const log = events;
  return new ResponsesSession({
    url,
    apiKey,
    model: 'gpt-5.4-mini',
    instructions: 'Be brief.',
    createWebSocket: (target, options) => new WebSocket(target, options),
    now: () => performance.now(),
    onEvent: (event) => log.push(event),
  });
}

beforeEach(async () => {
  events = [];
  emulator = await startEmulator({ latency: noLatency, revokedKeys: ['sk-revoked'] });
});
afterEach(() => emulator.close());

describe('ResponsesSession against the emulator', () => {
  it('streams a reply and chains the next turn with previous_response_id and only the new input', async () => {
    const session = sessionFor(wsUrl(emulator.baseUrl, '/responses'));
    const deltas: string[] = [];
    const first = await session.runTurn([userMessage('hello')], { onTextDelta: (delta) => deltas.push(delta) });
    expect(first.status).toBe('completed');
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(first.text);
    expect(first.text).toContain('your first message');

    const second = await session.runTurn([userMessage('what did I say?')]);
    expect(second.status).toBe('completed');
    expect(second.text).toContain('message 2 of our conversation');
    if (first.status !== 'completed' || second.status !== 'completed') throw new Error('unreachable');
    expect(second.metrics).toMatchObject({ chained: true, inputItemsSent: 1 });
    expect(second.metrics.timeToFirstDeltaMs).not.toBeNull();

    expect(emulator.requests.map((request) => request.previous_response_id ?? null)).toEqual([null, first.responseId]);
    expect(emulator.requests.every((request) => request.store === false)).toBe(true);
    expect(emulator.requests[1]?.input).toEqual([userMessage('what did I say?')]);
    expect(session.chainHead).toBe(second.responseId);
    session.close();
  });

  it('resends the whole ledger on a new socket after the old one dropped, without replaying', async () => {
    const session = sessionFor(wsUrl(emulator.baseUrl, '/responses'));
    await session.runTurn([userMessage('hello')]);
    emulator.dropConnections();
    await expect.poll(() => events.some((event) => event.type === 'socket' && event.state.status === 'closed')).toBe(true);

    const after = await session.runTurn([userMessage('still there?')]);
    expect(after).toMatchObject({ status: 'completed' });
    // The emulator counts user messages from the context it was given: all of it arrived.
    expect(after.text).toContain('message 2 of our conversation');
    const resent = emulator.requests.at(-1);
    expect(resent?.previous_response_id ?? null).toBeNull();
    expect(resent?.input).toHaveLength(3);
    session.close();
  });

  it('fails a turn whose socket drops mid-reply, keeps what streamed, and does not resend it', async () => {
    const session = sessionFor(wsUrl(emulator.baseUrl, '/responses'));
    emulator.inject({ kind: 'drop_socket', afterDeltas: 3 });
    const outcome = await session.runTurn([userMessage('hello')]);
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') throw new Error('unreachable');
    expect(outcome.problem.code).toBe('connection_failed');
    expect(outcome.text.split(' ').length).toBeGreaterThanOrEqual(3);
    expect(emulator.requests).toHaveLength(1);
    // The failed turn is not in the ledger: the next one starts the conversation afresh.
    const next = await session.runTurn([userMessage('hello again')]);
    expect(next.text).toContain('your first message');
    session.close();
  });

  it('skips a malformed server frame with a clear event and still completes the turn', async () => {
    const session = sessionFor(wsUrl(emulator.baseUrl, '/responses'));
    emulator.inject({ kind: 'malformed_frame' });
    const outcome = await session.runTurn([userMessage('hello')]);
    expect(outcome.status).toBe('completed');
    const rejected = events.find((event) => event.type === 'frame.rejected');
    expect(rejected).toMatchObject({ type: 'frame.rejected', problem: { code: 'malformed_frame' } });
    session.close();
  });

  it('reports an in-stream server error with the server message and recovers on the next turn', async () => {
    const session = sessionFor(wsUrl(emulator.baseUrl, '/responses'));
    await session.runTurn([userMessage('hello')]);
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 1 });
    const failed = await session.runTurn([userMessage('second')]);
    expect(failed).toMatchObject({ status: 'failed', problem: { code: 'server_error' } });
    if (failed.status !== 'failed') throw new Error('unreachable');
    expect(failed.problem.message).toContain('told to fail');
    // The failed continuation evicted its parent, so the session resends the ledger instead of chaining.
    const next = await session.runTurn([userMessage('third')]);
    expect(next.status).toBe('completed');
    expect(next.text).toContain('message 2 of our conversation');
    expect(emulator.requests.at(-1)?.previous_response_id ?? null).toBeNull();
    session.close();
  });

  it('explains a revoked key (401) and a refused connection', async () => {
    const revoked = await sessionFor(wsUrl(emulator.baseUrl, '/responses'), 'sk-revoked').runTurn([userMessage('hello')]);
    expect(revoked).toMatchObject({ status: 'failed', problem: { code: 'unauthorized' } });

    const port = await closedPort();
    const refused = await sessionFor(`ws://127.0.0.1:${port}/v1/responses`).runTurn([userMessage('hello')]);
    expect(refused).toMatchObject({ status: 'failed', problem: { code: 'connection_refused' } });
    if (refused.status !== 'failed') throw new Error('unreachable');
    expect(refused.problem.message).toContain(`127.0.0.1:${port}`);
  });

  it('rehydrates once when the server has lost the chain (previous_response_not_found)', async () => {
    // A server that forgets every response: each chained request is refused, the resend succeeds.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const received: Array<Record<string, unknown>> = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const request = JSON.parse(data.toString()) as Record<string, unknown>;
        received.push(request);
        const send = (event: object) => ws.send(JSON.stringify(event));
        if (request.previous_response_id) {
          send({ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'previous_response_not_found', message: 'gone', param: 'previous_response_id' } });
          return;
        }
        const response = { id: `resp_${received.length}`, object: 'response', status: 'completed', output: [] };
        send({ type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress' } });
        send({ type: 'response.completed', sequence_number: 1, response });
      }),
    );
    await new Promise((resolve) => wss.once('listening', resolve));
    const { port } = wss.address() as { port: number };
    const session = sessionFor(`ws://127.0.0.1:${port}`);
    await session.runTurn([userMessage('one')]);
    const second = await session.runTurn([userMessage('two')]);
    expect(second.status).toBe('completed');
    expect(received.map((request) => request.previous_response_id ?? null)).toEqual([null, 'resp_1', null]);
    expect((received[2]?.input as unknown[]).length).toBe(2);
    expect(events.filter((event) => event.type === 'rehydrated')).toHaveLength(1);
    session.close();
    wss.close();
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
