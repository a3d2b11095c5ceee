/**
 * The emulator's compaction items stay bounded like a real summary: however long the conversation
 * and however often it is compacted, an item keeps only the most recent messages (in gist form)
 * and a count of the user messages before them, and the brain still numbers the next message right.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { think, type BrainMessage } from '../../../app/emulator/brain';
import { noLatency } from '../../../app/emulator/latency';
import { encodeCompaction, keptMessages, toBrainMessages } from '../../../app/emulator/responses/items';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import type { ResponseInputItem } from '../../../app/protocol/responses';

/** `turns` exchanges: a user message and a long assistant reply each. */
function conversation(turns: number, from = 1): BrainMessage[] {
  return Array.from({ length: turns }, (_, index): BrainMessage[] => [
    { role: 'user', text: `turn ${from + index}: tell me something about the sea` },
    { role: 'assistant', text: `The sea, for turn ${from + index}, is wide. `.repeat(20) },
  ]).flat();
}

const item = (messages: readonly BrainMessage[]): ResponseInputItem => ({ type: 'compaction', encrypted_content: encodeCompaction(messages) }) as unknown as ResponseInputItem;
const ask = (text: string): ResponseInputItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

describe('a server-side compaction item', () => {
  it('keeps the most recent messages and a count, not the whole conversation', () => {
    const decoded = toBrainMessages([item(conversation(1000))]);
    expect(decoded).toHaveLength(keptMessages + 1);
    expect(decoded[0]).toEqual({ role: 'earlier', userMessages: 1000 - keptMessages / 2 });
    expect(decoded.at(-1)).toMatchObject({ role: 'assistant', text: expect.stringContaining('turn 1000') });
  });

  it('is no larger after 2,000 turns than after 100', () => {
    const small = encodeCompaction(conversation(100)).length;
    const large = encodeCompaction(conversation(2000)).length;
    expect(large).toBeLessThanOrEqual(small * 1.1);
  });

  it('numbers the next message right after compacting again and again', () => {
    // Each round: the window is the latest compaction item plus ten more exchanges.
    let window: ResponseInputItem[] = [];
    for (let round = 0; round < 30; round += 1) {
      const messages = [...toBrainMessages(window), ...conversation(10, round * 10 + 1)];
      window = [item(messages)];
    }
    const turn = think(toBrainMessages([...window, ask('and one more thing')]), []);
    expect(turn).toMatchObject({ kind: 'text', text: expect.stringContaining('message 301 of our conversation') });
  });

  it('leaves a short conversation whole, with no count', () => {
    expect(toBrainMessages([item(conversation(3))]).map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
  });
});

describe('POST /v1/responses/compact', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  const compact = async (input: readonly ResponseInputItem[]): Promise<Array<{ type: string; role?: string; encrypted_content?: string }>> => {
    emulator ??= await startEmulator({ latency: noLatency });
    const response = await fetch(`${emulator.baseUrl}/responses/compact`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-test', 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.4-mini', input }),
    });
    return ((await response.json()) as { output: Array<{ type: string; role?: string; encrypted_content?: string }> }).output;
  };
  const items = (turns: number): ResponseInputItem[] =>
    conversation(turns).map((message) => {
      const text = (message as { text: string }).text;
      return message.role === 'user' ? ask(text) : ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] } as ResponseInputItem);
    });

  it('returns every user message and one compaction item that does not grow with the conversation', async () => {
    const short = await compact(items(50));
    const long = await compact(items(500));
    // The spec's shape: all user messages, then a single compaction item.
    expect(long.filter((entry) => entry.role === 'user')).toHaveLength(500);
    expect(long.map((entry) => entry.type).slice(-2)).toEqual(['message', 'compaction']);
    const size = (output: typeof long): number => output.find((entry) => entry.type === 'compaction')?.encrypted_content?.length ?? Infinity;
    expect(size(long)).toBeLessThanOrEqual(size(short) * 1.1);
    // The brain counts the user messages in clear beside it.
    const turn = think(toBrainMessages([...(long as unknown as ResponseInputItem[]), ask('and one more')]), []);
    expect(turn).toMatchObject({ text: expect.stringContaining('message 501 of our conversation') });
  });
});
