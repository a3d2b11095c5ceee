import { describe, expect, it } from 'vitest';
import { parseServerFrame, readWireError } from '../../../app/protocol/responses';
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
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.excerpt.length).toBeLessThan(130);
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
