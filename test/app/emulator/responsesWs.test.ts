/**
 * PROTOCOL.md §4 "Emulator must", items 10–15: the Responses WebSocket, driven by a raw `ws`
 * client so every field on the wire is visible.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../app/emulator/clock';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../app/emulator/server';
import { isTerminal, openRawClient, wsUrl, type Frame, type RawClient } from '../../support/wire';

let emulator: Emulator;
const clients: RawClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((client) => client.close());
  await emulator.close();
});

async function another(): Promise<RawClient> {
  const client = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
  clients.push(client);
  return client;
}
async function fresh(options: EmulatorOptions = {}): Promise<RawClient> {
  emulator = await startEmulator({ latency: noLatency, ...options });
  return another();
}

const say = (text: string, extra: Record<string, unknown> = {}) => ({
  type: 'response.create',
  model: 'gpt-5.4-mini',
  store: false,
  input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
  ...extra,
});
const responseOf = (frame: Frame | undefined) => (frame as unknown as { response: { id: string; status: string; output: Array<Record<string, unknown>> } }).response;
const outputText = (frames: Frame[]) => frames.find((frame) => frame.type === 'response.output_text.done')?.text as string;
const terminalOn = (lane: string) => (frame: Frame) => isTerminal(frame) && frame.stream_id === lane;

describe('10: each response is one contiguous, terminated sequence', () => {
  it('numbers events 0..n, starts with response.created and ends with exactly one terminal event', async () => {
    const client = await fresh();
    for (const text of ['hello', 'again']) {
      client.send(say(text));
      const frames = await client.collect(isTerminal);
      expect(frames[0]?.type).toBe('response.created');
      expect(frames.map((frame) => frame.sequence_number)).toEqual(frames.map((_, index) => index));
      expect(frames.filter((frame) => ['response.completed', 'response.failed', 'response.incomplete'].includes(frame.type))).toHaveLength(1);
    }
  });

  it('reports a failure as error, then response.failed', async () => {
    const client = await fresh();
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 1 });
    client.send(say('hello'));
    const frames = await client.collect(isTerminal);
    expect(frames.slice(-2).map((frame) => frame.type)).toEqual(['error', 'response.failed']);
    expect(responseOf(frames.at(-1))).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
  });
});

describe('11: lanes', () => {
  it('runs one lane first-in first-out without overlap', async () => {
    const client = await fresh({ latency: { ...noLatency, outputTokensPerSecond: 400 } });
    client.send(say('one', { stream_id: 'a' }));
    client.send(say('two', { stream_id: 'a' }));
    let completed = 0;
    const frames = await client.collect((frame) => terminalOn('a')(frame) && ++completed === 2);
    const created = frames.flatMap((frame, index) => (frame.type === 'response.created' ? [index] : []));
    const finished = frames.flatMap((frame, index) => (frame.type === 'response.completed' ? [index] : []));
    expect(created).toHaveLength(2);
    // The second response starts only after the first has finished, and answers in order.
    expect(created[1]).toBeGreaterThan(finished[0] as number);
    expect(outputText(frames)).toContain('"one"');
    expect(frames.every((frame) => frame.stream_id === 'a')).toBe(true);
  });

  it('runs different lanes concurrently, their events interleaved', async () => {
    const client = await fresh({ latency: { ...noLatency, outputTokensPerSecond: 200 } });
    client.send(say('first lane', { stream_id: 'left' }));
    client.send(say('second lane', { stream_id: 'right' }));
    let finished = 0;
    const frames = await client.collect((frame) => frame.type === 'response.completed' && ++finished === 2);
    const lanes = frames.map((frame) => frame.stream_id);
    const firstRightCreated = frames.findIndex((frame) => frame.type === 'response.created' && frame.stream_id === 'right');
    const leftCompleted = frames.findIndex((frame) => frame.type === 'response.completed' && frame.stream_id === 'left');
    expect(firstRightCreated).toBeLessThan(leftCompleted);
    expect(new Set(lanes)).toEqual(new Set(['left', 'right']));
  });

  it('echoes stream_id on every event only when the request named a lane, request errors included', async () => {
    const client = await fresh();
    client.send(say('plain'));
    const plain = await client.collect(isTerminal);
    expect(plain.some((frame) => 'stream_id' in frame)).toBe(false);
    client.send(say('named', { stream_id: 'lane-1' }));
    expect((await client.collect(isTerminal)).every((frame) => frame.stream_id === 'lane-1')).toBe(true);
    client.send(say('orphan', { stream_id: 'lane-2', previous_response_id: 'resp_missing' }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', stream_id: 'lane-2', error: { code: 'previous_response_not_found' } });
  });
});

describe('12: the connection-local cache with store:false', () => {
  it('answers an unknown previous_response_id with the exact error shape', async () => {
    const client = await fresh();
    client.send(say('hello', { previous_response_id: 'resp_abc' }));
    expect((await client.collect(isTerminal))[0]).toEqual({
      type: 'error',
      status: 400,
      error: { type: 'invalid_request_error', code: 'previous_response_not_found', message: "Previous response with id 'resp_abc' not found.", param: 'previous_response_id' },
    });
  });

  it('keeps only each lane latest response', async () => {
    const client = await fresh();
    client.send(say('one'));
    const first = responseOf((await client.collect(isTerminal)).at(-1));
    client.send(say('two', { previous_response_id: first.id }));
    await client.collect(isTerminal);
    client.send(say('fork from the first', { previous_response_id: first.id }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', error: { code: 'previous_response_not_found' } });
  });

  it('evicts the parent after a failed same-lane continuation', async () => {
    const client = await fresh();
    client.send(say('one'));
    const parent = responseOf((await client.collect(isTerminal)).at(-1));
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 0 });
    client.send(say('two', { previous_response_id: parent.id }));
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.failed');
    client.send(say('retry', { previous_response_id: parent.id }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', error: { code: 'previous_response_not_found' } });
  });

  it('keeps the parent after a failed cross-lane fork', async () => {
    const client = await fresh();
    client.send(say('one', { stream_id: 'main' }));
    const parent = responseOf((await client.collect(isTerminal)).at(-1));
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 0 });
    client.send(say('fork', { stream_id: 'side', previous_response_id: parent.id }));
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.failed');
    client.send(say('continue', { stream_id: 'main', previous_response_id: parent.id }));
    const frames = await client.collect(isTerminal);
    expect(frames.at(-1)?.type).toBe('response.completed');
    expect(outputText(frames)).toContain('message 2 of our conversation');
  });

  it('hydrates store:true responses on another connection, but never store:false ones', async () => {
    const client = await fresh();
    client.send(say('kept', { store: true }));
    const kept = responseOf((await client.collect(isTerminal)).at(-1));
    client.send(say('not kept', { store: false }));
    const notKept = responseOf((await client.collect(isTerminal)).at(-1));
    const other = await another();
    other.send(say('from storage', { previous_response_id: kept.id }));
    expect(outputText(await other.collect(isTerminal))).toContain('message 2 of our conversation');
    other.send(say('from cache', { previous_response_id: notKept.id }));
    expect((await other.collect(isTerminal))[0]).toMatchObject({ error: { code: 'previous_response_not_found' } });
  });
});

describe('13: lane and flight limits', () => {
  it('queues the 17th in-flight response instead of rejecting it', async () => {
    const client = await fresh();
    for (let lane = 0; lane < 16; lane += 1) emulator.inject({ kind: 'stall', ms: 60_000 });
    for (let lane = 0; lane < 17; lane += 1) client.send(say(`lane ${lane}`, { stream_id: `l${lane}` }));
    // Sixteen responses start and stall; the seventeenth has not even been created.
    let inProgress = 0;
    const started = await client.collect((frame) => frame.type === 'response.in_progress' && ++inProgress === 16);
    expect(started.filter((frame) => frame.type === 'response.created')).toHaveLength(16);
    expect(started.some((frame) => frame.stream_id === 'l16')).toBe(false);
    expect(started.some((frame) => frame.type === 'error')).toBe(false);
  });

  it('runs the 17th as soon as a slot frees', async () => {
    const client = await fresh({ latency: { ...noLatency, outputTokensPerSecond: 500 } });
    for (let lane = 0; lane < 17; lane += 1) client.send(say(`lane ${lane}`, { stream_id: `l${lane}` }));
    let completed = 0;
    const frames = await client.collect((frame) => frame.type === 'response.completed' && ++completed === 17);
    const seventeenthCreated = frames.findIndex((frame) => frame.type === 'response.created' && frame.stream_id === 'l16');
    const firstCompleted = frames.findIndex((frame) => frame.type === 'response.completed');
    expect(seventeenthCreated).toBeGreaterThan(firstCompleted);
  });

  it('refuses a 33rd named lane and malformed stream ids', async () => {
    const client = await fresh();
    for (let lane = 0; lane < 32; lane += 1) client.send(say('hi', { stream_id: `lane${lane}` }));
    let done = 0;
    await client.collect((frame) => isTerminal(frame) && ++done === 32);
    client.send(say('one too many', { stream_id: 'lane32' }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', status: 400, stream_id: 'lane32', error: { code: 'websocket_stream_limit_reached', message: expect.stringContaining('32') } });
    for (const bad of ['', 'has space', 'x'.repeat(257), 'emoji🙂']) {
      client.send(say('bad', { stream_id: bad }));
      const [error] = await client.collect(isTerminal);
      expect(error).toMatchObject({ type: 'error', status: 400, error: { code: 'invalid_stream_id', param: 'stream_id' } });
      expect(error).not.toHaveProperty('stream_id');
    }
  });
});

describe('14: the connection age limit', () => {
  it('answers response.create on an aged connection with websocket_connection_limit_reached', async () => {
    const clock = new ManualClock();
    const client = await fresh({ clock });
    client.send(say('young'));
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
    clock.advance(60 * 60 * 1000);
    client.send(say('old', { stream_id: 'lane' }));
    expect((await client.collect(isTerminal))[0]).toEqual({
      type: 'error',
      status: 400,
      error: {
        type: 'invalid_request_error',
        code: 'websocket_connection_limit_reached',
        message: 'Responses websocket connection limit reached (60 minutes). Create a new websocket connection to continue.',
        param: null,
      },
    });
    const replacement = await another();
    replacement.send(say('new socket'));
    expect((await replacement.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
  });

  it('drops the cache with the socket', async () => {
    const client = await fresh();
    client.send(say('hello'));
    const { id } = responseOf((await client.collect(isTerminal)).at(-1));
    client.close();
    const next = await another();
    next.send(say('continue', { previous_response_id: id }));
    expect((await next.collect(isTerminal))[0]).toMatchObject({ error: { code: 'previous_response_not_found' } });
  });
});

describe('15: warmup, stream, background and compaction', () => {
  it('warms up with generate:false: created then completed, no output, a chainable id', async () => {
    const client = await fresh();
    client.send({ type: 'response.create', model: 'gpt-5.4-mini', store: false, generate: false, instructions: 'Be brief.', input: [] });
    const warmup = await client.collect(isTerminal);
    expect(warmup.map((frame) => frame.type)).toEqual(['response.created', 'response.completed']);
    const { id, output } = responseOf(warmup.at(-1));
    expect(output).toEqual([]);
    expect((warmup.at(-1) as unknown as { response: { usage: { output_tokens: number } } }).response.usage.output_tokens).toBe(0);
    client.send(say('hello', { previous_response_id: id }));
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
  });

  it('accepts and ignores stream:true, and rejects background:true', async () => {
    const client = await fresh();
    client.send(say('hello', { stream: true }));
    expect((await client.collect(isTerminal)).at(-1)?.type).toBe('response.completed');
    client.send(say('hello', { background: true }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', status: 400, error: { param: 'background' } });
  });

  it('refuses a model it does not serve, naming it', async () => {
    const client = await fresh();
    client.send(say('hello', { model: 'gpt-4-32k' }));
    expect((await client.collect(isTerminal))[0]).toEqual({
      type: 'error',
      status: 400,
      error: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model `gpt-4-32k` does not exist or you do not have access to it.', param: 'model' },
    });
  });

  it('refuses a compact_threshold below the spec minimum of 1000', async () => {
    const client = await fresh();
    client.send(say('hello', { context_management: [{ type: 'compaction', compact_threshold: 60 }] }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', status: 400, error: { code: 'integer_below_min_value', param: 'context_management[0].compact_threshold' } });
  });

  it('compacts with context_management: one compaction item after the message', async () => {
    const client = await fresh();
    client.send(say('a long conversation worth compacting '.repeat(150), { context_management: [{ type: 'compaction', compact_threshold: 1000 }] }));
    const frames = await client.collect(isTerminal);
    const output = responseOf(frames.at(-1)).output;
    // A reasoning model thinks first; the compaction item comes last, after the message.
    expect(output.map((item) => item.type)).toEqual(['reasoning', 'message', 'compaction']);
    expect(output[2]).toMatchObject({ id: expect.stringMatching(/^cmp_/), encrypted_content: expect.any(String) });
    const added = frames.filter((frame) => frame.type === 'response.output_item.added');
    expect(added.map((frame) => frame.output_index)).toEqual([0, 1, 2]);
  });

  it('compacts over POST /v1/responses/compact, and accepts the compaction back as input', async () => {
    const client = await fresh();
    const input = ['first', 'second'].map((text) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }));
    const response = await fetch(`${emulator.baseUrl}/responses/compact`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-test', 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.4-mini', input }),
    });
    const compacted = (await response.json()) as { object: string; output: Array<{ type: string }> };
    expect(compacted.object).toBe('response.compaction');
    expect(compacted.output.map((item) => item.type)).toEqual(['message', 'message', 'compaction']);
    client.send(say('third', { input: [...compacted.output, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'third' }] }] }));
    // Unpruned window: the two user messages and the compaction item, then the new message.
    expect(outputText(await client.collect(isTerminal))).toContain('message 3 of our conversation');
  });
});

describe('response.steer', () => {
  it('ends the active response as incomplete (steered) and continues in a successor', async () => {
    const client = await fresh({ latency: { ...noLatency, outputTokensPerSecond: 50 } });
    client.send(say('hello'));
    const start = await client.collect((frame) => frame.type === 'response.output_text.delta');
    const activeId = responseOf(start[0]).id;
    client.send({ type: 'response.steer', previous_response_id: activeId, input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'actually, be brief' }] }] });
    const frames = await client.collect((frame) => frame.type === 'response.completed');
    expect(frames.find((frame) => frame.type === 'response.steer.accepted')).toMatchObject({ steer: { previous_response_id: activeId } });
    const incomplete = frames.find((frame) => frame.type === 'response.incomplete');
    expect(responseOf(incomplete)).toMatchObject({ id: activeId, status: 'incomplete', incomplete_details: { reason: 'steered' } });
    const successor = frames.filter((frame) => frame.type === 'response.created').at(-1);
    expect(responseOf(successor)).toMatchObject({ previous_response_id: activeId });
    expect(outputText(frames.slice(frames.indexOf(successor as Frame)))).toContain('actually, be brief');
  });

  it('fails to steer a completed or unknown response', async () => {
    const client = await fresh();
    client.send(say('hello'));
    const { id } = responseOf((await client.collect(isTerminal)).at(-1));
    const steer = (target: string) => ({ type: 'response.steer', previous_response_id: target, input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }] });
    client.send(steer(id));
    expect((await client.collect((frame) => frame.type === 'response.steer.failed'))[0]).toMatchObject({ error: { code: 'response_already_completed' } });
    client.send(steer('resp_nope'));
    expect((await client.collect((frame) => frame.type === 'response.steer.failed'))[0]).toMatchObject({ error: { code: 'response_not_found' } });
  });
});

describe('16, 17, 19: what the real service refuses in a resend, and compaction', () => {
  const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
  const firstTurn = async (client: RawClient, extra: Record<string, unknown> = {}) => {
    client.send(say('hello', extra));
    return responseOf((await client.collect(isTerminal)).at(-1));
  };

  it('refuses a reasoning item sent back by id alone under store:false, as the service does', async () => {
    const client = await fresh();
    const first = await firstTurn(client);
    const reasoning = first.output.find((item) => item.type === 'reasoning');
    expect(reasoning).not.toHaveProperty('encrypted_content');
    client.send(say('again', { input: [user('hello'), ...first.output, user('again')] }));
    expect((await client.collect(isTerminal))[0]).toEqual({
      type: 'error',
      status: 404,
      error: {
        type: 'invalid_request_error',
        code: null,
        message: `Item with id '${String(reasoning?.id)}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
        param: 'input',
      },
    });
  });

  it('accepts it back with the encrypted content it issued, and refuses content it did not', async () => {
    const client = await fresh();
    const include = ['reasoning.encrypted_content'];
    const first = await firstTurn(client, { include });
    client.send(say('again', { include, input: [user('hello'), ...first.output, user('again')] }));
    const frames = await client.collect(isTerminal);
    expect(outputText(frames)).toContain('message 2 of our conversation');
    const forged = first.output.map((item) => (item.type === 'reasoning' ? { ...item, encrypted_content: 'gAAAA-not-ours' } : item));
    client.send(say('again', { include, input: [user('hello'), ...forged, user('again')] }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({ type: 'error', status: 400, error: { code: 'invalid_encrypted_content', param: 'input' } });
  });

  it('refuses a function call whose output never came, chained or resent', async () => {
    const client = await fresh();
    const tools = [{ type: 'function', name: 'calculator', parameters: { type: 'object', properties: { expression: { type: 'string' } } } }];
    const first = await firstTurn(client, { tools, input: [user('what is 12 * 7?')] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toBeDefined();
    client.send(say('never mind', { tools, previous_response_id: first.id }));
    expect((await client.collect(isTerminal))[0]).toMatchObject({
      type: 'error',
      status: 400,
      error: { type: 'invalid_request_error', message: `No tool output found for function call ${String(call?.call_id)}.`, param: 'input' },
    });
  });

  it('continues a compacted chain from the compacted window, not the history plus the compaction', async () => {
    const client = await fresh();
    const compacting = { context_management: [{ type: 'compaction', compact_threshold: 1000 }] };
    const first = await firstTurn(client, { ...compacting, input: [user('hello '.repeat(800))] });
    expect(first.output.map((item) => item.type)).toContain('compaction');
    client.send(say('two', { previous_response_id: first.id }));
    // Counted twice, the first message would make this "message 3".
    expect(outputText(await client.collect(isTerminal))).toContain('message 2 of our conversation');
  });

  it('returns /responses/compact items with ids and status', async () => {
    await fresh();
    const response = await fetch(`${emulator.baseUrl}/responses/compact`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-test', 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.4-mini', input: [user('first')] }),
    });
    const { output } = (await response.json()) as { output: Array<Record<string, unknown>> };
    expect(output).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'first' }] },
      { id: expect.stringMatching(/^cmp_/), type: 'compaction', encrypted_content: expect.any(String) },
    ]);
  });
});
