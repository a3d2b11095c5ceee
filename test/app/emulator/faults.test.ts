/** Each fault the emulator can inject produces exactly its documented error or close code. */
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { controlPath, startEmulator, type Emulator } from '../../../app/emulator/server';
import { maxQueued } from '../../../app/emulator/responses/connection';
import { isTerminal, openRawClient, wsUrl, type RawClient } from '../../support/wire';

let emulator: Emulator;
let client: RawClient;
beforeEach(async () => {
  emulator = await startEmulator({ latency: noLatency });
  client = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
});
afterEach(async () => {
  client.close();
  await emulator.close();
});

const hello = (extra: Record<string, unknown> = {}) => ({ type: 'response.create', model: 'gpt-5.4-mini', store: false, input: 'hello', ...extra });
const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

describe('faults', () => {
  it.each([1011, 1012, 4000])('drop_socket closes with the chosen code %i after the given deltas', async (closeCode) => {
    emulator.inject({ kind: 'drop_socket', closeCode, afterDeltas: 2 });
    const code = closed(client.ws);
    client.send(hello());
    expect(await code).toBe(closeCode);
  });

  it('drop_socket without a code cuts the TCP connection (1006 at the client)', async () => {
    emulator.inject({ kind: 'drop_socket', afterDeltas: 0 });
    const code = closed(client.ws);
    client.send(hello());
    expect(await code).toBe(1006);
  });

  it('error_mid_stream sends error then response.failed after the given deltas', async () => {
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 3 });
    client.send(hello());
    const frames = await client.collect(isTerminal);
    expect(frames.filter((frame) => frame.type === 'response.output_text.delta')).toHaveLength(3);
    expect(frames.slice(-2).map((frame) => frame.type)).toEqual(['error', 'response.failed']);
  });

  it('evict_cache makes the next chained request miss', async () => {
    client.send(hello());
    const { id } = (await client.collect(isTerminal)).at(-1)?.response as { id: string };
    emulator.inject({ kind: 'evict_cache' });
    client.send(hello({ previous_response_id: id }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ error: { code: 'previous_response_not_found' } });
  });

  it('expire_connection makes the next create hit the connection limit at once', async () => {
    emulator.inject({ kind: 'expire_connection' });
    client.send(hello());
    expect((await client.collect(isTerminal))[0]).toMatchObject({ status: 400, error: { code: 'websocket_connection_limit_reached', param: null } });
  });

  it('rate_limit answers 429 with retry-after headers, over the socket and over HTTP', async () => {
    emulator.inject({ kind: 'rate_limit', retryAfterS: 3 });
    client.send(hello({ stream_id: 'lane' }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({
      type: 'error',
      status: 429,
      stream_id: 'lane',
      error: { code: 'rate_limit_exceeded', headers: { 'retry-after': '3', 'x-ratelimit-remaining-requests': '0' } },
    });
    emulator.inject({ kind: 'rate_limit', retryAfterS: 2 });
    const response = await fetch(`${emulator.baseUrl}/responses`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ model: 'gpt-5.4-mini', input: 'hi' }) });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
  });

  it('stall holds a response after in_progress while other connections carry on', async () => {
    emulator.inject({ kind: 'stall' });
    client.send(hello());
    const stalled = await client.collect((frame) => frame.type === 'response.in_progress');
    expect(stalled.map((frame) => frame.type)).toEqual(['response.created', 'response.in_progress']);
    const other = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
    other.send(hello());
    expect((await other.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
    other.close();
  });

  it('malformed_frame sends a frame that is not JSON, then the response as usual', async () => {
    const plain = new WebSocket(wsUrl(emulator.baseUrl, '/responses'), { headers: { Authorization: 'Bearer k' } });
    await new Promise((resolve) => plain.once('open', resolve));
    const raw: string[] = [];
    const completed = new Promise<void>((resolve) =>
      plain.on('message', (data) => {
        raw.push(data.toString());
        if (data.toString().includes('"response.completed"')) resolve();
      }),
    );
    emulator.inject({ kind: 'malformed_frame' });
    plain.send(JSON.stringify(hello()));
    await completed;
    expect(() => JSON.parse(raw[0] as string)).toThrow(SyntaxError);
    expect(JSON.parse(raw[1] as string)).toMatchObject({ type: 'response.created', sequence_number: 0 });
    plain.close();
  });

  it('oversized_frame trips a client payload limit (close 1009)', async () => {
    const small = new WebSocket(wsUrl(emulator.baseUrl, '/responses'), { headers: { Authorization: 'Bearer k' }, maxPayload: 64 * 1024 });
    await new Promise((resolve) => small.once('open', resolve));
    emulator.inject({ kind: 'oversized_frame', bytes: 128 * 1024 });
    const errors: string[] = [];
    small.on('error', (error) => errors.push((error as NodeJS.ErrnoException).code ?? ''));
    const code = closed(small);
    small.send(JSON.stringify(hello()));
    await code;
    expect(errors).toContain('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });

  it('takes faults over the loopback control endpoint and explains bad ones', async () => {
    const post = (body: unknown) => fetch(`${emulator.baseUrl.replace(/\/v1$/, '')}${controlPath}`, { method: 'POST', body: JSON.stringify(body) });
    const ok = await post({ kind: 'error_mid_stream', afterDeltas: 0, protocol: 'responses' });
    expect(ok.status).toBe(200);
    client.send(hello());
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.failed');

    const bad = await post({ kind: 'set_on_fire' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_fault');
    const badProtocol = await post({ kind: 'stall', protocol: 'smtp' });
    expect(((await badProtocol.json()) as { error: { message: string } }).error.message).toContain('"protocol"');
  });
});

describe('bad input', () => {
  it('answers malformed frames and wrong field types with errors and keeps the connection open', async () => {
    const cases: Array<[unknown, string]> = [
      ['{not json', 'invalid_json'],
      ['[1,2,3]', 'invalid_message'],
      [{ type: 'response.cancel' }, 'unknown_event_type'],
      [{ no: 'type' }, 'unknown_event_type'],
      [hello({ model: 42 }), 'missing_required_parameter'],
      [hello({ input: 42 }), 'invalid_type'],
      [hello({ input: [1, 2] }), 'invalid_type'],
      [hello({ previous_response_id: 7 }), 'invalid_type'],
      [hello({ tools: 'calculator' }), 'invalid_type'],
    ];
    for (const [message, code] of cases) {
      client.send(message);
      expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', status: 400, error: { code } });
    }
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.collect(isTerminal))[0]).toMatchObject({ error: { code: 'invalid_message' } });
    client.send(hello());
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
  });

  it('closes with 1009 on a frame over the size limit, and the server carries on', async () => {
    await emulator.close();
    emulator = await startEmulator({ latency: noLatency, maxMessageBytes: 4096 });
    const big = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
    const code = closed(big.ws);
    big.send(hello({ input: 'x'.repeat(10_000) }));
    expect(await code).toBe(1009);
    const next = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
    next.send(hello());
    expect((await next.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
    next.close();
  });

  it('refuses a flood beyond the queue limit with an error, keeping what it accepted', async () => {
    // The first response stalls, so everything after it waits in the lane's queue.
    emulator.inject({ kind: 'stall', ms: 60_000 });
    const total = 300;
    for (let index = 0; index < total; index += 1) client.send(hello());
    const expectedRefusals = total - 1 - maxQueued;
    let refusedCount = 0;
    const frames = await client.collect((frame) => frame.type === 'error' && ++refusedCount === expectedRefusals);
    const refused = frames.filter((frame) => frame.type === 'error');
    expect(refused.every((frame) => (frame.error as { code: string }).code === 'websocket_queue_full' && frame.status === 429)).toBe(true);
    expect(frames.some((frame) => frame.type === 'response.completed')).toBe(false);
    // The server is still there for everyone else.
    const other = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
    other.send(hello());
    expect((await other.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
    other.close();
  });

  it('answers bad HTTP bodies with 400 and oversized ones with 413', async () => {
    const post = (body: string) => fetch(`${emulator.baseUrl}/responses`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body });
    expect((await post('{oops')).status).toBe(400);
    expect((await post(JSON.stringify({ input: 'no model' }))).status).toBe(400);
    await emulator.close();
    emulator = await startEmulator({ latency: noLatency, maxMessageBytes: 1024 });
    const huge = await fetch(`${emulator.baseUrl}/responses`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ model: 'm', input: 'x'.repeat(5000) }) });
    expect(huge.status).toBe(413);
  });
});
