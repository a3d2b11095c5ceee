/**
 * The agent session over HTTP (`POST /v1/responses` with an SSE stream), where the transport
 * fails in its own ways: the server unreachable, an error status with or without a JSON body, a
 * rate limit with its retry-after, a stream that ends or is cut before the reply finished. The
 * emulator answers the normal cases; a scripted HTTP server on loopback stages the broken ones.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import { testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
let closeServer: (() => void) | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
  closeServer?.();
  closeServer = null;
});

/** An HTTP server whose every request is answered by `answer`, once its body has arrived. */
async function httpServer(answer: (response: ServerResponse, body: Record<string, unknown>) => void): Promise<{ baseUrl: string; bodies: Array<Record<string, unknown>>; paths: string[] }> {
  const bodies: Array<Record<string, unknown>> = [];
  const paths: string[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      paths.push(`${request.method} ${request.url} ${request.headers.authorization} ${request.headers.accept}`);
      const body = JSON.parse(text) as Record<string, unknown>;
      bodies.push(body);
      answer(response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closeServer = () => {
    server.closeAllConnections();
    server.close();
  };
  const { port } = server.address() as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}/v1`, bodies, paths };
}

const sse = (event: Record<string, unknown>) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
const created = { type: 'response.created', sequence_number: 0, response: { id: 'resp_1', object: 'response', status: 'in_progress', output: [] } };

describe('over HTTP', () => {
  it('posts each request as a stream with the key, and warms nothing (there is no socket to warm)', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const { session, of } = testSession(emulator.baseUrl, { warmup: 'always' }, { transport: 'http' });
    await session.connect();
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'completed', text: expect.stringContaining('your first message'), metrics: { chained: false } });
    expect(of('warmup')).toEqual([]);
    expect(of('socket')).toEqual([]);
    expect(emulator.requests).toHaveLength(1);
    expect(emulator.requests[0]).toMatchObject({ stream: true, store: false });
    expect(turn.metrics?.bytesSent).toBe(Buffer.byteLength(JSON.stringify(emulator.requests[0])));
    session.close();
  });

  it('compacts with /responses/compact without ever opening a socket', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const { session, of } = testSession(emulator.baseUrl, { warmup: 'off', compaction: { mode: 'endpoint', thresholdTokens: 1000 } }, { transport: 'http' });
    await session.runTurn([userMessage(`one ${'long '.repeat(900)}`)]);
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.status).toBe('completed');
    expect(of('compaction')).toMatchObject([{ mode: 'endpoint' }]);
    expect(of('socket')).toEqual([]);
    expect(session.socketInfo).toBeNull();
    session.close();
  });

  it('sends the key and asks for an event stream', async () => {
    const server = await httpServer((response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end(sse(created) + sse({ type: 'response.completed', sequence_number: 1, response: { id: 'resp_1', object: 'response', status: 'completed', output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi.', annotations: [] }] }], usage: null } }));
    });
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'completed', text: 'Hi.' });
    expect(server.paths).toEqual(['POST /v1/responses Bearer sk-test text/event-stream']);
    expect(server.bodies[0]).not.toHaveProperty('type');
    session.close();
  });

  it('waits out a 429 for its retry-after, then succeeds', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const slept: number[] = [];
    const { session, of } = testSession(emulator.baseUrl, { warmup: 'off' }, { transport: 'http', sleep: async (ms) => void slept.push(ms) });
    emulator.inject({ kind: 'rate_limit', retryAfterS: 3 });
    const waits: unknown[] = [];
    const turn = await session.runTurn([userMessage('hello')], { onWait: (wait) => waits.push(wait) });
    expect(turn.status).toBe('completed');
    expect(slept).toEqual([3000]);
    expect(waits).toEqual([{ reason: 'rate_limited', retryAfterMs: 3000 }]);
    expect(of('rate_limited')).toEqual([{ type: 'rate_limited', lane: '', retryAfterMs: 3000 }]);
    session.close();
  });

  it('a 429 without a readable retry-after waits a second', async () => {
    const server = await httpServer((response, body) => {
      if (JSON.stringify(body.input).includes('later')) {
        response.writeHead(200, { 'Content-Type': 'text/event-stream' });
        response.end(sse(created) + sse({ type: 'response.completed', sequence_number: 1, response: { id: 'resp_2', object: 'response', status: 'completed', output: [], usage: null } }));
        return;
      }
      response.writeHead(429, { 'Content-Type': 'application/json' });
      // No code: the status alone says it is a rate limit.
      response.end(JSON.stringify({ error: { message: 'Slow down.' } }));
    });
    const slept: number[] = [];
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http', sleep: async (ms) => void slept.push(ms) });
    const turn = await session.runTurn([userMessage('hello')]);
    // Three waits, then the fourth refusal is shown.
    expect(slept).toEqual([1000, 1000, 1000]);
    expect(server.bodies).toHaveLength(4);
    expect(turn).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: Slow down.', hint: expect.stringContaining('rate limited') } });
    // A rate limit is no refusal of what was said: the next request still carries it.
    await session.runTurn([userMessage('later')]);
    expect(JSON.stringify(server.bodies.at(-1)?.input)).toContain('hello');
    session.close();
  });

  it('a revoked key is said as such, and not retried', async () => {
    emulator = await startEmulator({ latency: noLatency, revokedKeys: ['sk-test'] });
    const { session } = testSession(emulator.baseUrl, { warmup: 'off' }, { transport: 'http' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'unauthorized', hint: expect.stringContaining('OPENAI_API_KEY') } });
    session.close();
  });

  it('an error status shows the body\'s message, or the status line when the body is not JSON', async () => {
    let next = 0;
    const server = await httpServer((response) => {
      next += 1;
      if (next === 1) {
        response.writeHead(400, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'Invalid input.', code: 'invalid_value' } }));
      } else if (next === 2) {
        response.writeHead(502, { 'Content-Type': 'text/html' });
        response.end('<html>Bad gateway</html>');
      } else {
        // JSON, but with no message or code in its error.
        response.writeHead(500, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 42 } }));
      }
    });
    const codes: unknown[] = [];
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http', describeError: (error) => (codes.push(error.code), null) });
    expect(await session.runTurn([userMessage('one')])).toMatchObject({ status: 'failed', problem: { code: 'server_error', message: 'The server could not answer: Invalid input.', hint: expect.stringContaining('start a new conversation') } });
    expect(await session.runTurn([userMessage('two')])).toMatchObject({ status: 'failed', problem: { code: 'server_error', message: 'The server could not answer: HTTP 502', hint: expect.stringContaining('The service had a problem') } });
    expect(await session.runTurn([userMessage('three')])).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: HTTP 500' } });
    // Only a string is a code.
    expect(codes).toEqual(['invalid_value', null, null]);
    // The refused input (400) was not kept; the one the gateway lost (502) was.
    expect(JSON.stringify(server.bodies[1]?.input)).not.toContain('one');
    session.close();
  });

  it('an unreachable server is named, with where to look', async () => {
    const { session } = testSession('http://127.0.0.1:9/v1', { warmup: 'off' }, { transport: 'http' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_failed', message: expect.stringMatching(/^Could not reach http:\/\/127\.0\.0\.1:9\/v1: .+\.$/), hint: 'Check your network and OPENAI_BASE_URL, then send your message again.' } });
    // Nothing came back: no first byte to time.
    expect(turn.metrics?.timeToFirstByteMs).toBeNull();
    expect(turn.metrics?.bytesReceived).toBe(0);
  });

  it('a stream that ends before the reply finished fails the turn at once, in words', async () => {
    const server = await httpServer((response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end(sse(created) + sse({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hal', logprobs: [] }));
    });
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http' });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', text: 'Hal', problem: { code: 'connection_failed', message: 'The server ended the stream before the response finished.' } });
    expect(turn.metrics?.bytesReceived).toBeGreaterThan(0);
    expect(turn.metrics?.timeToFirstByteMs).not.toBeNull();
    session.close();
  });

  it('a connection cut mid-stream fails the turn at once instead of waiting out the stall deadline', async () => {
    const server = await httpServer((response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(sse(created));
      // Cut once the client has read the first event.
      setImmediate(() => response.destroy());
    });
    // A deadline the test would time out waiting for: only the cut can end the turn in time.
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http', stallTimeoutMs: 60_000 });
    const turn = await session.runTurn([userMessage('hello')]);
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'connection_failed', message: expect.stringContaining('The connection closed before the reply finished') } });
    expect(server.bodies).toHaveLength(1);
    session.close();
  });

  it('an unreadable event that ends the reply fails it; one that does not is skipped', async () => {
    let next = 0;
    const server = await httpServer((response) => {
      next += 1;
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const body =
        next === 1
          ? sse(created) + sse({ type: 'response.output_text.delta', sequence_number: 1, delta: 7 }) + sse({ type: 'response.completed', sequence_number: 2 })
          : sse(created) + sse({ type: 'response.completed', sequence_number: 1, response: { id: 'resp_2', object: 'response', status: 'completed', output: [], usage: null } });
      response.end(body);
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http' });
    const turn = await session.runTurn([userMessage('hello')]);
    // The broken delta is skipped; the broken response.completed is what ends the reply.
    expect(turn).toMatchObject({
      status: 'failed',
      problem: {
        code: 'malformed_frame',
        message: expect.stringMatching(/^The server ended the reply with an event Parley could not read: a "response\.completed" event/),
        hint: 'Send your message again; if it keeps happening, the server or a proxy in between is sending replies Parley does not understand.',
      },
    });
    expect(of('frame.rejected')).toMatchObject([{ problem: { code: 'malformed_frame', message: expect.stringMatching(/^The server sent an event Parley could not read: a "response\.output_text\.delta" event/), hint: 'It was skipped.' } }]);
    expect((await session.runTurn([userMessage('again')])).status).toBe('completed');
    session.close();
  });

  it('an unreadable error ends a reply that has not started, and is skipped in one that has', async () => {
    let next = 0;
    const broken = sse({ type: 'error', status: 'four hundred' });
    const server = await httpServer((response) => {
      next += 1;
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end(next === 1 ? broken : sse(created) + broken + sse({ type: 'response.completed', sequence_number: 2, response: { id: 'resp_2', object: 'response', status: 'completed', output: [], usage: null } }));
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http' });
    expect(await session.runTurn([userMessage('one')])).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: expect.stringContaining('"error" event') } });
    expect(of('frame.rejected')).toEqual([]);
    expect(await session.runTurn([userMessage('two')])).toMatchObject({ status: 'completed' });
    expect(of('frame.rejected')).toHaveLength(1);
    session.close();
  });

  it('skips a broken event that ends nothing even before the reply has started', async () => {
    const server = await httpServer((response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end(sse({ type: 'response.output_text.delta', sequence_number: 0, delta: 7 }) + sse(created) + sse({ type: 'response.completed', sequence_number: 2, response: { id: 'resp_1', object: 'response', status: 'completed', output: [], usage: null } }));
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http' });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'completed' });
    expect(of('frame.rejected')).toMatchObject([{ problem: { message: expect.stringContaining('"response.output_text.delta" event') } }]);
    session.close();
  });

  it('lets the host word an error it knows better, with the error\'s code', async () => {
    const server = await httpServer((response) => {
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'No such model.', code: 'model_not_found' } }));
    });
    const seen: unknown[] = [];
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http', describeError: (error) => (seen.push(error), null) });
    expect(await session.runTurn([userMessage('hello')])).toMatchObject({ status: 'failed', problem: { message: 'The server could not answer: No such model.' } });
    expect(seen).toEqual([{ code: 'model_not_found', message: 'No such model.', model: 'gpt-5-mini' }]);
    session.close();
  });

  it('a host callback that throws fails the turn with a problem naming the event, and the next turn works', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const { session } = testSession(emulator.baseUrl, { warmup: 'off' }, { transport: 'http' });
    const turn = await session.runTurn([userMessage('hello')], {
      onTextDelta: () => {
        throw new Error('the window was closed');
      },
    });
    expect(turn).toMatchObject({ status: 'failed', problem: { code: 'internal', message: expect.stringMatching(/"response\.output_text\.delta" event \(the window was closed\)/), hint: 'Send your message again; if it keeps happening, restart Parley.' } });
    expect((await session.runTurn([userMessage('again')])).status).toBe('completed');
    session.close();
  });

  it('shows text split across packets inside a character whole', async () => {
    const event = sse({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'grüße aus 東京', logprobs: [] });
    const bytes = Buffer.from(event);
    // Cut inside 東 (three bytes in UTF-8).
    const cut = bytes.indexOf(Buffer.from('東')) + 1;
    const server = await httpServer((response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(sse(created));
      response.write(bytes.subarray(0, cut));
      setTimeout(() => {
        response.write(bytes.subarray(cut));
        response.end(sse({ type: 'response.completed', sequence_number: 2, response: { id: 'resp_1', object: 'response', status: 'completed', output: [], usage: null } }));
      }, 30);
    });
    const deltas: string[] = [];
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http' });
    const turn = await session.runTurn([userMessage('hello')], { onTextDelta: (delta) => deltas.push(delta) });
    expect(deltas).toEqual(['grüße aus 東京']);
    expect(turn).toMatchObject({ status: 'completed', text: 'grüße aus 東京' });
    session.close();
  });

  it('a slow but steady stream is not a stall; a silent one is retried once, then reported', async () => {
    const delta = (text: string) => sse({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: text, logprobs: [] });
    let requests = 0;
    const server = await httpServer((response) => {
      requests += 1;
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(sse(created));
      if (requests > 1) return; // silent from here on
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        if (sent <= 6) response.write(delta('.'));
        else {
          clearInterval(timer);
          response.end(sse({ type: 'response.completed', sequence_number: 2, response: { id: 'resp_1', object: 'response', status: 'completed', output: [], usage: null } }));
        }
      }, 100);
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { transport: 'http', stallTimeoutMs: 300 });
    const steady = await session.runTurn([userMessage('one')]);
    expect(steady).toMatchObject({ status: 'completed', text: '......' });
    expect(of('stalled')).toEqual([]);
    const silent = await session.runTurn([userMessage('two')]);
    expect(silent).toMatchObject({ status: 'failed', problem: { message: expect.stringContaining('stopped answering') } });
    expect(of('stalled').map((event) => event.retrying)).toEqual([true, false]);
    expect(requests).toBe(3);
    session.close();
  });
});
