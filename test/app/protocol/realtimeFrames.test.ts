/** The edge parser for Realtime server frames (PROTOCOL.md §4 client 19): validated once, unknown types passed by. */
import { describe, expect, it } from 'vitest';
import { parseRealtimeFrame } from '../../../app/protocol/realtime';

describe('parseRealtimeFrame', () => {
  it('gives a known event with the fields a session reads, and leaves out the rest', () => {
    const parsed = parseRealtimeFrame(JSON.stringify({ type: 'response.done', event_id: 'event_1', response: { id: 'resp_1', status: 'completed', conversation_id: null, usage: null, output: [] } }));
    expect(parsed).toEqual({ kind: 'event', event: { type: 'response.done', response: { id: 'resp_1', status: 'completed', conversation_id: null, usage: null } } });
  });

  it('passes an unknown event type by', () => {
    expect(parseRealtimeFrame(JSON.stringify({ type: 'rate_limits.updated', rate_limits: 'anything' }))).toEqual({ kind: 'unknown', type: 'rate_limits.updated' });
  });

  it('names what is missing or wrong in a known event, and what it may have answered', () => {
    expect(parseRealtimeFrame(JSON.stringify({ type: 'response.done', event_id: 'event_2' }))).toMatchObject({ kind: 'invalid', type: 'response.done', reason: expect.stringMatching(/^response: /), responseId: null });
    expect(parseRealtimeFrame(JSON.stringify({ type: 'error', error: { code: 7, event_id: 'parley_voice_update_3' } }))).toMatchObject({
      kind: 'invalid',
      type: 'error',
      clientEventId: 'parley_voice_update_3',
    });
    // A user message must carry its content; another item only its type.
    expect(parseRealtimeFrame(JSON.stringify({ type: 'conversation.item.added', item: { type: 'message', role: 'user' } }))).toMatchObject({ kind: 'invalid' });
    expect(parseRealtimeFrame(JSON.stringify({ type: 'conversation.item.added', item: { type: 'message', role: 'assistant' } }))).toMatchObject({ kind: 'event' });
  });

  it('says why a frame cannot be read at all', () => {
    expect(parseRealtimeFrame('{"type":')).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(/^not JSON/) });
    expect(parseRealtimeFrame('[1]')).toEqual({ kind: 'unreadable', reason: 'not a JSON object' });
    expect(parseRealtimeFrame('{"type":7}')).toEqual({ kind: 'unreadable', reason: 'missing a string "type" field' });
  });
});
