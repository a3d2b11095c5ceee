import { noLatency } from '../../../app/emulator/latency';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { isTerminal, openRawClient, upgradeStatus, wsUrl, type Frame } from '../../support/wire';

let emulator: Emulator;
let url: string;

beforeEach(async () => {
  emulator = await startEmulator({ latency: noLatency, revokedKeys: ['sk-revoked'] });
  url = wsUrl(emulator.baseUrl, '/responses');
});
afterEach(() => emulator.close());

const hello = (extra: Record<string, unknown> = {}) => ({
  type: 'response.create',
  model: 'gpt-5.4-mini',
  store: false,
  input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }],
  ...extra,
});

describe('emulator /v1/responses WebSocket', () => {
  it('refuses a handshake without a bearer key (401) or with a revoked one, and accepts a key', async () => {
    expect(await upgradeStatus(url)).toBe(401);
    expect(await upgradeStatus(url, { Authorization: 'Bearer ' })).toBe(401);
    expect(await upgradeStatus(url, { Authorization: 'Bearer sk-revoked' })).toBe(401);
    expect(await upgradeStatus(url, { Authorization: 'Bearer sk-test' })).toBe(101);
    expect(await upgradeStatus(wsUrl(emulator.baseUrl, '/nope'), { Authorization: 'Bearer sk-test' })).toBe(404);
  });

  it('streams a text turn with the real event sequence and contiguous sequence numbers', async () => {
    const client = await openRawClient(url);
    client.send(hello());
    const frames = await client.collect(isTerminal);
    const types = frames.map((frame) => frame.type);
    const deltas = types.filter((type) => type === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThan(3);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      // A reasoning model's reasoning item comes first (no summary was asked for).
      'response.output_item.added',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(frames.map((frame) => frame.sequence_number)).toEqual(frames.map((_, index) => index));
    const text = frames
      .filter((frame) => frame.type === 'response.output_text.delta')
      .map((frame) => frame.delta)
      .join('');
    const done = frames.find((frame) => frame.type === 'response.output_text.done') as Frame;
    expect(done.text).toBe(text);
    expect(text).toMatch(/^Hello!/);
    const completed = frames.at(-1) as unknown as { response: { id: string; status: string; output: unknown[]; store: boolean } };
    expect(completed.response).toMatchObject({ status: 'completed', store: false });
    expect(completed.response.output).toHaveLength(2);
    client.close();
  });

  it('chains on previous_response_id within a connection and forgets it on another', async () => {
    const client = await openRawClient(url);
    client.send(hello());
    const first = (await client.collect(isTerminal)).at(-1) as unknown as { response: { id: string } };
    client.send(
      hello({
        previous_response_id: first.response.id,
        input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'and again' }] }],
      }),
    );
    const second = await client.collect(isTerminal);
    const secondText = (second.find((frame) => frame.type === 'response.output_text.done') as Frame).text;
    expect(secondText).toContain('message 2 of our conversation');
    client.close();

    const other = await openRawClient(url);
    other.send(hello({ previous_response_id: first.response.id }));
    const [error] = await other.collect(isTerminal);
    expect(error).toEqual({
      type: 'error',
      status: 400,
      error: {
        type: 'invalid_request_error',
        code: 'previous_response_not_found',
        message: `Previous response with id '${first.response.id}' not found.`,
        param: 'previous_response_id',
      },
    });
    other.close();
  });

  it('answers malformed and invalid requests with an error and keeps the connection open', async () => {
    const client = await openRawClient(url);
    client.send('{not json');
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', status: 400, error: { code: 'invalid_json' } });
    client.send({ type: 'response.cancel' });
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', error: { code: 'unknown_event_type', param: 'type' } });
    client.send(hello({ background: true }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', error: { param: 'background' } });
    client.send(hello({ model: undefined }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', error: { param: 'model' } });
    client.send(hello());
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
    client.close();
  });

  it('fails a response mid-stream on request: error, then response.failed', async () => {
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 2 });
    const client = await openRawClient(url);
    client.send(hello());
    const frames = await client.collect(isTerminal);
    expect(frames.slice(-2).map((frame) => frame.type)).toEqual(['error', 'response.failed']);
    expect(frames.filter((frame) => frame.type === 'response.output_text.delta')).toHaveLength(2);
    expect(frames.map((frame) => frame.sequence_number)).toEqual(frames.map((_, index) => index));
    client.close();
  });
});
