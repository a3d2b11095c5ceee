/**
 * The emulator's events against real recorded OpenAI streams (test/fixtures/recorded):
 * same event order, same keys, same nesting, same terminal events. Reasoning summaries, which
 * the emulator does not write, are left out of the event order; reasoning items themselves are
 * compared on their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { recordedLines } from '../../support/fixtures';
import { isTerminal, openRawClient, wsUrl, type Frame, type RawClient } from '../../support/wire';

type Event = Record<string, unknown> & { type: string };

let emulator: Emulator;
let client: RawClient;
beforeAll(async () => {
  emulator = await startEmulator({ latency: noLatency });
  client = await openRawClient(wsUrl(emulator.baseUrl, '/responses'));
});
afterAll(async () => {
  client.close();
  await emulator.close();
});

function recorded(name: string): Event[][] {
  const responses: Event[][] = [];
  for (const line of recordedLines(name)) {
    const event = JSON.parse(line) as Event;
    if (event.type === 'response.created') responses.push([]);
    responses.at(-1)?.push(event);
  }
  return responses;
}

const isReasoning = (event: Event): boolean =>
  event.type.startsWith('response.reasoning') || ((event.item as { type?: string } | undefined)?.type === 'reasoning');

/** The order of event types, with runs of the same delta collapsed and reasoning left out. */
function sequence(events: readonly Event[]): string[] {
  const types = events.filter((event) => !isReasoning(event)).map((event) => event.type);
  return types.filter((type, index) => !(type.endsWith('.delta') && types[index - 1] === type));
}

/** Keys of an event and of the objects nested in it, as `path: keys`, for one event type. */
function shape(value: unknown, path = '', depth = 0, into: Record<string, string> = {}): Record<string, string> {
  if (depth > 2 || value === null || typeof value !== 'object') return into;
  if (Array.isArray(value)) return value.length > 0 ? shape(value[0], `${path}[]`, depth + 1, into) : into;
  const entries = Object.entries(value as Record<string, unknown>).filter(([key]) => key !== 'stream_id');
  into[path || '.'] = entries.map(([key]) => key).sort().join(',');
  for (const [key, child] of entries) if (key !== 'response' || depth === 0) shape(child, `${path}.${key}`, depth + 1, into);
  return into;
}

/** Shapes by event type; the response object's keys are compared separately. */
function shapesByType(events: readonly Event[]): Map<string, Record<string, string>> {
  const shapes = new Map<string, Record<string, string>>();
  for (const event of events) {
    if (isReasoning(event) || shapes.has(event.type)) continue;
    const { response: _response, ...rest } = event;
    shapes.set(event.type, shape(rest));
  }
  return shapes;
}

async function emulate(create: Record<string, unknown>): Promise<Event[]> {
  client.send({ type: 'response.create', model: 'gpt-5.4-mini', store: false, ...create });
  return (await client.collect(isTerminal)) as Frame[];
}

const calculator = {
  type: 'function',
  name: 'calculator',
  description: 'A minimal calculator for basic arithmetic.',
  parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'], additionalProperties: false },
  strict: true,
};

describe('event shapes match the recorded real streams', () => {
  it('a text turn', async () => {
    const real = recorded('openai-reasoning-encrypted-content.1.chunks.txt').at(-1) as Event[];
    const ours = await emulate({ input: 'hello' });
    expect(sequence(ours)).toEqual(sequence(real));
    const realShapes = shapesByType(real);
    for (const [type, ourShape] of shapesByType(ours)) expect({ type, ...ourShape }).toEqual({ type, ...realShapes.get(type) });
  });

  it('a function call, and the turn that answers from its output', async () => {
    const realResponses = recorded('openai-reasoning-encrypted-content.1.chunks.txt');
    const realCall = realResponses[0] as Event[];
    const ours = await emulate({ input: 'what is 12 + 7?', tools: [calculator] });
    expect(sequence(ours)).toEqual(sequence(realCall));
    const realShapes = shapesByType(realCall);
    for (const [type, ourShape] of shapesByType(ours)) expect({ type, ...ourShape }).toEqual({ type, ...realShapes.get(type) });

    const call = (ours.at(-1)?.response as { id: string; output: Array<{ type: string; call_id: string }> }).output.find((item) => item.type === 'function_call');
    const answer = await emulate({
      tools: [calculator],
      previous_response_id: (ours.at(-1)?.response as { id: string }).id,
      input: [{ type: 'function_call_output', call_id: call?.call_id, output: '19' }],
    });
    expect(sequence(answer)).toEqual(sequence(realResponses.at(-1) as Event[]));
  });

  it('a reasoning item, with its encrypted content only when included', async () => {
    const realItem = (recorded('openai-reasoning-encrypted-content.1.chunks.txt')[0] as Event[]).find((event) => event.type === 'response.output_item.done')?.item;
    const reasoningOf = (events: Event[]) => events.find((event) => event.type === 'response.output_item.done' && (event.item as { type: string }).type === 'reasoning')?.item;
    const included = reasoningOf(await emulate({ input: 'hello', include: ['reasoning.encrypted_content'] }));
    expect(Object.keys(included as object).sort()).toEqual(Object.keys(realItem as object).sort());
    expect(included).toMatchObject({ id: expect.stringMatching(/^rs_/), encrypted_content: expect.any(String) });
    expect(reasoningOf(await emulate({ input: 'hello' }))).not.toHaveProperty('encrypted_content');
  });

  it('a server-side compaction', async () => {
    const real = recorded('openai-compaction.1.chunks.txt')[0] as Event[];
    const ours = await emulate({ input: `tell me about testing ${'in depth '.repeat(500)}`, context_management: [{ type: 'compaction', compact_threshold: 1000 }] });
    expect(sequence(ours)).toEqual(sequence(real));
    const realShapes = shapesByType(real);
    const added = (events: Event[]) => shape(events.find((event) => event.type === 'response.output_item.added' && (event.item as { type: string }).type === 'compaction'));
    expect(added(ours)).toEqual(added(real));
    expect(shapesByType(ours).get('response.output_text.delta')).toEqual(realShapes.get('response.output_text.delta'));
  });

  it('a failure: error nested as the real server sends it, then response.failed', async () => {
    const real = recorded('openai-error.1.chunks.txt')[0] as Event[];
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 0 });
    const ours = await emulate({ input: 'hello' });
    expect(ours.slice(-2).map((event) => event.type)).toEqual(real.slice(-2).map((event) => event.type));
    expect(shape(ours.at(-2))).toEqual(shape(real.at(-2)));
    const failedError = (events: Event[]) => Object.keys((events.at(-1)?.response as { error: object }).error).sort();
    expect(failedError(ours)).toEqual(failedError(real));
  });

  it('response objects carry the real fields and invent none', async () => {
    const realResponses = [
      ...recorded('openai-reasoning-encrypted-content.1.chunks.txt').flat(),
      ...recorded('openai-compaction.1.chunks.txt').flat(),
      ...recorded('openai-error.1.chunks.txt').flat(),
    ]
      .filter((event) => event.type === 'response.completed' || event.type === 'response.created')
      .map((event) => event.response as Record<string, unknown>);
    const everyRealKey = new Set(realResponses.flatMap((response) => Object.keys(response)));
    const requiredKeys = Object.keys(realResponses[0] ?? {});
    const ours = await emulate({ input: 'hello' });
    for (const event of ours.filter((entry) => entry.type === 'response.created' || entry.type === 'response.completed')) {
      const keys = Object.keys(event.response as object);
      expect(keys.filter((key) => !everyRealKey.has(key))).toEqual([]);
      expect(requiredKeys.filter((key) => !keys.includes(key))).toEqual([]);
    }
    const usage = (ours.at(-1)?.response as { usage: Record<string, unknown> }).usage;
    expect(Object.keys(usage).sort()).toEqual(['input_tokens', 'input_tokens_details', 'output_tokens', 'output_tokens_details', 'total_tokens']);
  });
});
