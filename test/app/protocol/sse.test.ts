import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../app/protocol/sse';

describe('SseParser', () => {
  it('yields each event data once complete, across arbitrary chunk boundaries', () => {
    const stream = 'event: response.created\ndata: {"a":1}\n\nevent: x\r\ndata: {"b":\ndata: 2}\r\n\r\n: comment\n\n';
    for (const size of [1, 3, 7, stream.length]) {
      const parser = new SseParser();
      const out: string[] = [];
      for (let start = 0; start < stream.length; start += size) out.push(...parser.push(stream.slice(start, start + size)));
      expect(out).toEqual(['{"a":1}', '{"b":\n2}']);
    }
  });
});
