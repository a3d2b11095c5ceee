import { describe, expect, it } from 'vitest';
import type { ToolActivity, Turn } from '../../app/contract';
import { toolsByTurn, toolsOf } from '../../renderer/lib/toolsByTurn';

const turn = (id: string, startedAt: number, role: Turn['role'], source: Turn['source'] = 'typed'): Turn => ({ id, role, source, text: '', status: 'completed', startedAt });
const tool = (callId: string, startedAt: number, caller: ToolActivity['caller'] = 'agent'): ToolActivity => ({
  callId,
  name: 'calculator',
  source: 'builtin',
  risk: 'safe',
  caller,
  arguments: {},
  status: 'succeeded',
  startedAt,
  durationMs: 1,
  resultPreview: null,
  error: null,
});

/** What the transcript did before it had an index: every tool entry against every turn. */
function byScan(turns: readonly Turn[], tools: readonly ToolActivity[]): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  turns.forEach((entry, position) => {
    const until = turns[position + 1]?.startedAt ?? Infinity;
    const owned = tools.filter((call) => entry.role === 'assistant' && call.startedAt >= entry.startedAt && call.startedAt < until && (entry.source === 'voice') === (call.caller === 'voice'));
    if (owned.length > 0) result[entry.id] = owned.map((call) => call.callId);
  });
  return result;
}

const asRecord = (turns: readonly Turn[], index: ReadonlyMap<string, readonly ToolActivity[]>) =>
  Object.fromEntries(turns.filter((entry) => toolsOf(index, entry).length > 0).map((entry) => [entry.id, toolsOf(index, entry).map((call) => call.callId)]));

describe('toolsByTurn', () => {
  it('puts each call under the reply it was made for, and voice calls under spoken replies only', () => {
    const turns = [turn('u1', 0, 'user'), turn('a1', 10, 'assistant'), turn('v1', 50, 'assistant', 'voice'), turn('u2', 100, 'user'), turn('a2', 110, 'assistant')];
    const tools = [tool('before', -5), tool('c1', 10), tool('c2', 40), tool('voice1', 60, 'voice'), tool('agentInVoice', 70), tool('c3', 500)];
    const index = toolsByTurn(turns, tools);
    expect(asRecord(turns, index)).toEqual({ a1: ['c1', 'c2'], v1: ['voice1'], a2: ['c3'] });
    expect(toolsOf(index, turns[0] as Turn)).toEqual([]);
  });

  it('agrees with checking every tool against every turn, in order or not', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round += 1) {
      let at = 0;
      const turns = Array.from({ length: Math.floor(random() * 12) }, (_, position) => {
        at += Math.floor(random() * 4);
        return turn(`t${position}`, round % 5 === 0 ? Math.floor(random() * 20) : at, random() < 0.5 ? 'user' : 'assistant', random() < 0.3 ? 'voice' : 'typed');
      });
      const tools = Array.from({ length: Math.floor(random() * 10) }, (_, position) => tool(`c${position}`, Math.floor(random() * 30) - 2, random() < 0.3 ? 'voice' : 'agent'));
      expect(asRecord(turns, toolsByTurn(turns, tools)), `round ${round}`).toEqual(byScan(turns, tools));
    }
  });
});
