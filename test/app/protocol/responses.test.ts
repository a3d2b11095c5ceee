import { assert, describe, expect, it } from 'vitest';
import { explainServerEvent, parseServerFrame, readWireError } from '../../../app/protocol/responses';
import { recordedLines } from '../../support/fixtures';

const recordings = [
  'openai-phase.1.chunks.txt',
  'openai-error.1.chunks.txt',
  'openai-reasoning-encrypted-content.1.chunks.txt',
  'openai-compaction.1.chunks.txt',
];

describe('parseServerFrame', () => {
  it.each(recordings)('accepts every event of the real recording %s', (name) => {
    const lines = recordedLines(name);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(parseServerFrame(line)).toMatchObject({ ok: true });
  });

  it('explains frames it cannot read instead of throwing', () => {
    expect(parseServerFrame('{"type":')).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
    expect(parseServerFrame('[1,2]')).toMatchObject({ ok: false, reason: 'not a JSON object' });
    expect(parseServerFrame('{"delta":"x"}')).toMatchObject({ ok: false, reason: expect.stringContaining('"type"') });
    const long = parseServerFrame(`{"type":"x","pad":"${'a'.repeat(300)}`);
    assert(!long.ok, 'a truncated frame parsed');
    expect(long.excerpt.length).toBeLessThan(130);
  });
});

describe('parseServerFrame: the events the session acts on', () => {
  const completed = { type: 'response.completed', sequence_number: 9, response: { id: 'resp_1', status: 'completed', output: [], usage: null } };
  const refusal = (frame: unknown) => {
    const parsed = parseServerFrame(JSON.stringify(frame));
    if (parsed.ok) throw new Error(`accepted ${JSON.stringify(frame)}`);
    return parsed;
  };

  it('refuses a response.completed without its response, saying so, as the end of its request', () => {
    expect(refusal({ type: 'response.completed' })).toMatchObject({
      reason: 'a "response.completed" event with response: expected object, received undefined',
      type: 'response.completed',
      lane: { kind: 'default' },
      ends: 'always',
    });
  });

  it('names the path of each wrong field, down into output items and message parts', () => {
    const call = { type: 'function_call', id: 'fc_1', name: 'calculator', arguments: '{}', status: 'completed' };
    expect(refusal({ ...completed, response: { ...completed.response, output: [call] } }).reason).toBe(
      'a "response.completed" event with response.output[0].call_id: expected string, received undefined',
    );
    const message = { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 7, annotations: [] }] };
    expect(refusal({ ...completed, response: { ...completed.response, output: [message] } }).reason).toContain('response.output[0].content[0].text: expected string, received number');
    expect(refusal({ type: 'response.output_text.delta', delta: null, stream_id: 'lane-a' })).toMatchObject({
      reason: expect.stringContaining('delta: expected string, received null'),
      lane: { kind: 'named', streamId: 'lane-a' },
      ends: 'never',
    });
  });

  it('refuses an error with neither shape, and one whose lane cannot be read', () => {
    expect(refusal({ type: 'error', status: 400 })).toMatchObject({ type: 'error', ends: 'before-created' });
    expect(refusal({ type: 'error', status: '400', error: { type: 'invalid_request_error', code: null, message: 'bad', param: null } }).reason).toContain('status');
    expect(refusal({ ...completed, stream_id: 12 })).toMatchObject({ lane: { kind: 'unreadable' }, ends: 'always' });
    expect(refusal({ type: 'response.failed', response: { id: 'resp_1', error: { code: 5, message: 'x' } } }).reason).toContain('response.error.code');
  });

  it('passes unknown event types, unknown item kinds and extra fields through untouched', () => {
    const frames = [
      { type: 'response.something_new', payload: { deep: [1, 2] } },
      { ...completed, response: { ...completed.response, output: [{ type: 'compaction', id: 'cmp_1', encrypted_content: 'x' }, { type: 'future_item' }] } },
      { type: 'response.output_text.delta', delta: 'hi', extra: { kept: true }, logprobs: [] },
      { type: 'error', sequence_number: 2, error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'quota', param: null } },
      { type: 'error', code: 'server_error', message: 'boom', param: null, sequence_number: 4 },
    ];
    for (const frame of frames) expect(parseServerFrame(JSON.stringify(frame))).toEqual({ ok: true, event: frame });
  });
});

describe('readWireError', () => {
  it('reads the nested in-stream error of the real recording', () => {
    const line = recordedLines('openai-error.1.chunks.txt').find((entry) => entry.includes('"type":"error"')) as string;
    const parsed = parseServerFrame(line);
    if (!parsed.ok) throw new Error(parsed.reason);
    const error = readWireError(parsed.event as never);
    expect(error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota', status: null });
    expect(error.message).toContain('exceeded your current quota');
  });

  it('reads the WebSocket request error with status and stream_id', () => {
    const error = readWireError({
      type: 'error',
      status: 400,
      stream_id: 'lane-1',
      error: { type: 'invalid_request_error', code: 'previous_response_not_found', message: "Previous response with id 'resp_abc' not found.", param: 'previous_response_id' },
    });
    expect(error).toEqual({
      code: 'previous_response_not_found',
      type: 'invalid_request_error',
      message: "Previous response with id 'resp_abc' not found.",
      param: 'previous_response_id',
      status: 400,
      streamId: 'lane-1',
    });
  });

  it('reads the flat in-stream shape the SDK types describe', () => {
    expect(readWireError({ type: 'error', code: 'server_error', message: 'boom', param: null, sequence_number: 4 })).toMatchObject({
      code: 'server_error',
      message: 'boom',
      type: null,
    });
  });
});

describe('parseServerFrame: the quick checks', () => {
  /** Every variant of `value` with one field removed, or set to a value of another kind, at any depth. */
  function mutations(value: unknown): unknown[] {
    if (typeof value !== 'object' || value === null) return [];
    const replacements: unknown[] = [undefined, null, 7, 'text', [], {}];
    const variants: unknown[] = [];
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      const withField = (next: unknown): unknown => {
        if (Array.isArray(value)) return value.map((entry, index) => (String(index) === key ? next : entry));
        const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
        if (next === undefined) delete copy[key];
        else copy[key] = next;
        return copy;
      };
      for (const replacement of replacements) variants.push(withField(replacement));
      for (const deeper of mutations(field)) variants.push(withField(deeper));
    }
    return variants;
  }

  const finished = {
    type: 'response.completed',
    stream_id: 'lane-a',
    response: {
      id: 'resp_1',
      output: [
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'function_call', call_id: 'call_1', name: 'calculator', arguments: '{}' },
        { type: 'message', content: [{ type: 'output_text', text: 'hi' }, { type: 'refusal', refusal: 'no' }] },
      ],
      usage: { input_tokens: 3, output_tokens: 2, input_tokens_details: { cached_tokens: 1 } },
    },
  };
  const frames = [
    { type: 'response.created', stream_id: 'lane-a', response: { id: 'resp_1' } },
    { type: 'response.output_text.delta', stream_id: 'lane-a', delta: 'hel' },
    finished,
    { ...finished, type: 'response.incomplete' },
  ];

  it('accept exactly what the schemas accept, for every field removed or of the wrong kind', () => {
    const variants = frames.flatMap((frame) => [frame, ...mutations(frame)]).filter((variant) => typeof (variant as { type?: unknown }).type === 'string');
    expect(variants.length).toBeGreaterThan(300);
    const disagreements = variants.filter((variant) => parseServerFrame(JSON.stringify(variant)).ok !== (explainServerEvent(variant as Record<string, unknown>) === null));
    expect(disagreements).toEqual([]);
    // Both verdicts occur, so the comparison means something.
    expect(variants.some((variant) => !parseServerFrame(JSON.stringify(variant)).ok)).toBe(true);
  });
});
