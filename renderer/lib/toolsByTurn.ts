import type { ToolActivity, Turn } from '../../app/contract';

const none: readonly ToolActivity[] = [];

/** Whether a reply can own a tool call: agent calls go under typed replies, voice calls under spoken ones. */
const owns = (turn: Turn, tool: ToolActivity): boolean => turn.role === 'assistant' && (turn.source === 'voice') === (tool.caller === 'voice');

/**
 * The tool calls each reply made: those that started between the reply's start and the next
 * turn's, keyed by turn id. Built once per change, so rendering a turn is a lookup rather than a
 * scan of every tool entry (which, per shown turn on every update, was a quarter of the
 * renderer's work in a long session). Turns arrive in start order, so each tool finds its turn
 * by binary search; turns out of order fall back to checking each turn.
 */
export function toolsByTurn(turns: readonly Turn[], tools: readonly ToolActivity[]): ReadonlyMap<string, readonly ToolActivity[]> {
  const index = new Map<string, ToolActivity[]>();
  if (tools.length === 0 || turns.length === 0) return index;
  const add = (turn: Turn, tool: ToolActivity): void => {
    const list = index.get(turn.id);
    if (list === undefined) index.set(turn.id, [tool]);
    else list.push(tool);
  };
  const ordered = turns.every((turn, position) => position === 0 || (turns[position - 1] as Turn).startedAt <= turn.startedAt);
  for (const tool of tools) {
    if (!ordered) {
      turns.forEach((turn, position) => {
        const until = turns[position + 1]?.startedAt ?? Infinity;
        if (owns(turn, tool) && tool.startedAt >= turn.startedAt && tool.startedAt < until) add(turn, tool);
      });
      continue;
    }
    // The last turn that started at or before the call.
    let low = 0;
    let high = turns.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((turns[middle] as Turn).startedAt <= tool.startedAt) low = middle + 1;
      else high = middle;
    }
    const turn = turns[low - 1];
    if (turn !== undefined && owns(turn, tool)) add(turn, tool);
  }
  return index;
}

export function toolsOf(index: ReadonlyMap<string, readonly ToolActivity[]>, turn: Turn): readonly ToolActivity[] {
  return index.get(turn.id) ?? none;
}
