import { describe, expect, it, vi } from 'vitest';
import type { CopilotBridge, PushEvent, Turn } from '../../app/contract';
import { maxTurns as hostMaxTurns } from '../../app/host/transcript';
import { emptySummary } from '../../app/inspector/log';
import { Conversation, maxTurns } from '../../renderer/lib/state/Conversation.svelte';

/** The two bridge calls the store makes on its own: the push subscription and the snapshot. */
function pushingBridge(snapshotTurns: Turn[] = []) {
  const listeners = new Set<(event: PushEvent) => void>();
  const bridge = {
    onEvent: (listener: (event: PushEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: async () => ({
      ok: true as const,
      value: {
        connection: { status: 'open' as const, mode: 'offline-emulator' as const, endpoint: 'ws://127.0.0.1:1/v1/responses' },
        startedAt: 0,
        events: [],
        turns: snapshotTurns,
        tools: [],
        permissions: [],
        agentBusy: false,
        toolCatalog: [],
        voice: { state: 'off' as const, turnMode: 'push_to_talk' as const, muted: false, problem: null },
        inspector: emptySummary(),
      },
    }),
  } as unknown as CopilotBridge;
  return { bridge, push: (event: PushEvent) => listeners.forEach((listener) => listener(event)) };
}

const turn = (index: number, status: Turn['status'] = 'completed', text = `reply ${index}`): Turn => ({
  id: `t${index}`,
  role: index % 2 === 0 ? 'user' : 'assistant',
  source: 'typed',
  text,
  status,
  startedAt: index,
});

/** One exchange as the host pushes it: the message, then the reply streamed and finished. */
function exchange(push: (event: PushEvent) => void, user: number): void {
  push({ type: 'turn.started', turn: turn(user) });
  push({ type: 'turn.started', turn: turn(user + 1, 'streaming', '') });
  push({ type: 'turn.delta', turnId: `t${user + 1}`, delta: `reply ${user + 1}` });
  push({ type: 'turn.finished', turn: turn(user + 1) });
}

describe('the renderer conversation store', () => {
  it('keeps no more turns than the host does, however long the conversation runs', () => {
    const { bridge, push } = pushingBridge();
    const conversation = new Conversation(bridge);
    conversation.start();
    const exchanges = maxTurns / 2 + 400;
    for (let index = 0; index < exchanges; index += 1) exchange(push, index * 2);
    expect(maxTurns).toBe(hostMaxTurns);
    expect(conversation.turns.length).toBeLessThanOrEqual(maxTurns);
    expect(conversation.turns.length).toBeGreaterThan(maxTurns - 600);
    // The oldest went, the newest are all there, in order, each once.
    expect(conversation.turns.at(-1)).toMatchObject({ id: `t${exchanges * 2 - 1}`, text: `reply ${exchanges * 2 - 1}`, status: 'completed' });
    expect(conversation.turns.some((entry) => entry.id === 't0')).toBe(false);
    const ids = conversation.turns.map((entry) => Number(entry.id.slice(1)));
    expect(ids).toEqual(ids.map((_, position) => (ids[0] as number) + position));
  });

  it('says it is streaming exactly while a reply streams, also after the oldest turns were dropped', () => {
    const { bridge, push } = pushingBridge();
    const conversation = new Conversation(bridge);
    conversation.start();
    for (let index = 0; index < maxTurns / 2 + 10; index += 1) exchange(push, index * 2);
    expect(conversation.streaming).toBe(false);
    const next = maxTurns + 20;
    push({ type: 'turn.started', turn: turn(next) });
    push({ type: 'turn.started', turn: turn(next + 1, 'streaming', '') });
    expect(conversation.streaming).toBe(true);
    push({ type: 'turn.delta', turnId: `t${next + 1}`, delta: 'half' });
    // A retry starts the reply over under the same id: one turn, streaming again from nothing.
    push({ type: 'turn.started', turn: turn(next + 1, 'streaming', '') });
    push({ type: 'turn.delta', turnId: `t${next + 1}`, delta: 'whole' });
    expect(conversation.turns.filter((entry) => entry.id === `t${next + 1}`)).toEqual([expect.objectContaining({ text: 'whole', status: 'streaming' })]);
    push({ type: 'turn.finished', turn: { ...turn(next + 1, 'failed', 'whole'), problem: { code: 'server_error', message: 'The server could not answer.', hint: 'Send it again.' } } });
    expect(conversation.streaming).toBe(false);
    push({ type: 'conversation.reset' });
    expect(conversation.turns).toEqual([]);
  });

  it('puts the snapshot turns before the ones pushed while it loaded, once each, and streams on from them', async () => {
    const { bridge, push } = pushingBridge([turn(0), turn(1, 'streaming', 'so far')]);
    const conversation = new Conversation(bridge);
    conversation.start();
    push({ type: 'turn.delta', turnId: 't1', delta: ' lost' });
    push({ type: 'turn.started', turn: turn(2) });
    await vi.waitFor(() => expect(conversation.turns.map((entry) => entry.id)).toEqual(['t0', 't1', 't2']));
    expect(conversation.streaming).toBe(true);
    push({ type: 'turn.delta', turnId: 't1', delta: ' and more' });
    expect(conversation.turns[1]?.text).toBe('so far and more');
    push({ type: 'turn.finished', turn: turn(1, 'completed', 'so far and more') });
    expect(conversation.streaming).toBe(false);
  });
});

describe('the global ask-about-my-screen hotkey', () => {
  it('starts the flow in the page each time main says it was pressed, until unsubscribed', () => {
    const { bridge, push } = pushingBridge();
    const conversation = new Conversation(bridge);
    const stop = conversation.start();
    const asked = vi.fn();
    const unsubscribe = conversation.onAskScreen(asked);
    push({ type: 'screen.ask' });
    push({ type: 'screen.ask' });
    expect(asked).toHaveBeenCalledTimes(2);
    unsubscribe();
    push({ type: 'screen.ask' });
    expect(asked).toHaveBeenCalledTimes(2);
    stop();
  });
});
