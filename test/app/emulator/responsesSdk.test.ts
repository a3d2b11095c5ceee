/**
 * The official `openai` package against the emulator: if the SDK's own clients work unchanged,
 * the emulator speaks the protocol the way they expect.
 */
import OpenAI from 'openai';
import { ResponsesWS } from 'openai/resources/responses/ws';
import type { ResponsesServerEvent } from 'openai/resources/responses/responses';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';

let emulator: Emulator;
let client: OpenAI;
let sockets: ResponsesWS[];

beforeEach(async () => {
  emulator = await startEmulator({ latency: noLatency });
  client = new OpenAI({ apiKey: 'sk-test', baseURL: emulator.baseUrl, maxRetries: 0 });
  sockets = [];
});
afterEach(async () => {
  sockets.forEach((socket) => socket.close());
  await emulator.close();
});

function open(): ResponsesWS {
  const socket = new ResponsesWS(client);
  sockets.push(socket);
  return socket;
}

/** Sends one response.create and gathers its events up to the terminal one (or a request error). */
async function turn(socket: ResponsesWS, create: Parameters<ResponsesWS['send']>[0]): Promise<ResponsesServerEvent[]> {
  const events: ResponsesServerEvent[] = [];
  const done = new Promise<void>((resolve) => {
    const onEvent = (event: ResponsesServerEvent): void => {
      events.push(event);
      if (['response.completed', 'response.failed', 'response.incomplete'].includes(event.type)) {
        socket.off('event', onEvent);
        resolve();
      }
    };
    socket.on('event', onEvent);
    socket.on('error', () => resolve());
  });
  socket.send(create);
  await done;
  return events;
}

const tools = [
  {
    type: 'function' as const,
    name: 'calculator',
    description: 'Evaluates an arithmetic expression.',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'], additionalProperties: false },
    strict: true,
  },
];

describe('ResponsesWS (openai SDK) against the emulator', () => {
  it('streams a text turn and chains the next with previous_response_id', async () => {
    const socket = open();
    const first = await turn(socket, { type: 'response.create', model: 'gpt-5.4-mini', store: false, input: 'hello' });
    const completed = first.at(-1);
    if (completed?.type !== 'response.completed') throw new Error(`ended with ${completed?.type}`);
    expect(first.filter((event) => event.type === 'response.output_text.delta').length).toBeGreaterThan(3);

    const second = await turn(socket, { type: 'response.create', model: 'gpt-5.4-mini', store: false, previous_response_id: completed.response.id, input: 'and again' });
    const done = second.find((event) => event.type === 'response.output_text.done');
    expect(done?.type === 'response.output_text.done' && done.text).toContain('message 2 of our conversation');
  });

  it('runs a function-call loop: a call, its output in the next create, then the answer', async () => {
    const socket = open();
    const first = await turn(socket, { type: 'response.create', model: 'gpt-5.4-mini', store: false, tools, input: 'what is 12 * 7?' });
    const completed = first.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no completion');
    const call = completed.response.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error(`expected a function call, got ${call?.type}`);
    expect(call.name).toBe('calculator');
    expect(JSON.parse(call.arguments)).toEqual({ expression: '12 * 7' });
    const argumentDeltas = first.filter((event) => event.type === 'response.function_call_arguments.delta').map((event) => (event as { delta: string }).delta);
    expect(argumentDeltas.join('')).toBe(call.arguments);

    const second = await turn(socket, {
      type: 'response.create',
      model: 'gpt-5.4-mini',
      store: false,
      tools,
      previous_response_id: completed.response.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '84' }],
    });
    const answer = second.find((event) => event.type === 'response.output_text.done');
    expect(answer?.type === 'response.output_text.done' && answer.text).toBe('12 × 7 = 84.');
  });

  it('surfaces previous_response_not_found as an SDK error event', async () => {
    const socket = open();
    const errors: Array<{ message: string; code: string | null | undefined }> = [];
    socket.on('error', (error) => errors.push({ message: error.message, code: (error.error as { error?: { code?: string | null } } | undefined)?.error?.code }));
    const events = await turn(socket, { type: 'response.create', model: 'gpt-5.4-mini', store: false, previous_response_id: 'resp_gone', input: 'hi' });
    expect(events.filter((event) => event.type !== 'error')).toEqual([]);
    expect(errors).toEqual([{ message: expect.stringContaining("Previous response with id 'resp_gone' not found."), code: 'previous_response_not_found' }]);
  });
});

describe('the HTTP Responses API (openai SDK) against the emulator', () => {
  it('creates a response as JSON and as an SSE stream, and chains stored responses', async () => {
    const json = await client.responses.create({ model: 'gpt-5.4-mini', input: 'hello', store: true });
    expect(json.status).toBe('completed');
    expect(json.output_text).toMatch(/^Hello!/);

    const stream = await client.responses.create({ model: 'gpt-5.4-mini', input: 'next', previous_response_id: json.id, stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(text).toContain('message 2 of our conversation');
  });

  it('refuses store:false chaining over HTTP, which has no connection cache', async () => {
    const first = await client.responses.create({ model: 'gpt-5.4-mini', input: 'hello', store: false });
    await expect(client.responses.create({ model: 'gpt-5.4-mini', input: 'next', previous_response_id: first.id })).rejects.toMatchObject({
      status: 400,
      code: 'previous_response_not_found',
    });
  });

  it('compacts with client.responses.compact', async () => {
    const compacted = await client.responses.compact({ model: 'gpt-5.4-mini', input: [{ role: 'user', content: 'remember the milk' }] });
    expect(compacted.object).toBe('response.compaction');
    expect(compacted.output.map((item) => item.type)).toEqual(['message', 'compaction']);
  });

  it('reports a missing key (401) and a revoked key', async () => {
    await emulator.close();
    emulator = await startEmulator({ latency: noLatency, revokedKeys: ['sk-revoked'] });
    const revoked = new OpenAI({ apiKey: 'sk-revoked', baseURL: emulator.baseUrl, maxRetries: 0 });
    await expect(revoked.responses.create({ model: 'gpt-5.4-mini', input: 'hi' })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const missing = await fetch(`${emulator.baseUrl}/responses`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
  });

  it('lists models for a good key through the SDK, and answers a revoked key with the service\'s 401 body', async () => {
    await emulator.close();
    emulator = await startEmulator({ latency: noLatency, revokedKeys: ['sk-revoked-0123WXYZ'] });
    const good = new OpenAI({ apiKey: 'sk-good', baseURL: emulator.baseUrl, maxRetries: 0 });
    const ids = [];
    for await (const model of good.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-5.4-mini');
    const revoked = new OpenAI({ apiKey: 'sk-revoked-0123WXYZ', baseURL: emulator.baseUrl, maxRetries: 0 });
    await expect(revoked.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
    const raw = await fetch(`${emulator.baseUrl}/models`, { headers: { Authorization: 'Bearer sk-revoked-0123WXYZ' } });
    expect(raw.status).toBe(401);
    const body = (await raw.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    // Like the service, it quotes only the ends of the key.
    expect(body.error.message).not.toContain('sk-revoked-0123WXYZ');
  });
});
