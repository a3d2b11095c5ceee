/**
 * The fault matrix: every fault the emulator can inject, at every point of a conversation it can
 * hit, on both sockets. Whatever happens, no user message is lost (the next reply counts them all),
 * no tool runs twice for one call_id, every function call in the ledger has exactly one output, and
 * every turn resolves (a stall meets a short deadline instead of the default 90 s).
 */
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { PlayoutBuffer } from '../../app/audio/playout';
import type { FaultInput } from '../../app/emulator/faults';
import { noLatency } from '../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../app/emulator/server';
import { userMessage, type ResponseInputItem } from '../../app/protocol/responses';
import { RealtimeSession, type RealtimeSessionEvent } from '../../app/voice/realtimeSession';
import { defaultVoiceSettings } from '../../app/voice/settings';
import type { ResponsesSessionEvent, TurnOutcome } from '../../app/responses/session';
import type { ToolRunner } from '../../app/responses/tools';
import { fastScheduler, RecordingSink, ScriptedMic } from '../../app/testing';
import { calculatorTool, testSession } from '../support/sessions';

export const faultKinds = ['drop_socket', 'error_mid_stream', 'evict_cache', 'expire_connection', 'rate_limit', 'stall', 'malformed_frame', 'oversized_frame'] as const;
export type FaultKind = (typeof faultKinds)[number];
/** Where the fault lands: between turns, in a streamed answer, in a call's arguments, in the request carrying the tool's output, in the resend after a lost cache. */
export const faultStates = ['idle', 'text', 'tool_arguments', 'tool_output', 'rehydration'] as const;
export type FaultState = (typeof faultStates)[number];

const stallTimeoutMs = 150;
/** Faults that act on the open connections at once rather than on the next response. */
const atOnce = new Set<FaultKind>(['evict_cache', 'expire_connection']);

/** The fault as injected; `afterDeltas` puts a cut inside the stream the state names. */
function faultOf(kind: FaultKind, afterDeltas: number): FaultInput {
  switch (kind) {
    case 'drop_socket':
      return { kind, afterDeltas };
    case 'error_mid_stream':
      return { kind, afterDeltas };
    case 'rate_limit':
      return { kind, retryAfterS: 0.01 };
    case 'stall':
      // Long enough that only the client's deadline ends it.
      return { kind, ms: 60_000 };
    case 'oversized_frame':
      return { kind, bytes: 2 * 1024 * 1024 };
    default:
      return { kind };
  }
}

/**
 * Every recoverable fault is recovered within the turn, a resend after a lost cache that meets the
 * connection limit included. A turn fails only where the server failed the response itself.
 */
function expectedAgentOutcome(kind: FaultKind): 'completed' | 'failed' {
  return kind === 'error_mid_stream' ? 'failed' : 'completed';
}

const matrix = faultKinds.flatMap((kind) => faultStates.map((state) => ({ kind, state })));

let emulator: Emulator | null = null;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await emulator?.close();
  emulator = null;
});

/** Counts runs per call_id; a hook may inject a fault while the tool runs (the tool output state). */
function countingRunner(onRun: () => void = () => undefined): { runner: ToolRunner; runs: Map<string, number> } {
  const runs = new Map<string, number>();
  const runner: ToolRunner = async (call) => {
    runs.set(call.callId, (runs.get(call.callId) ?? 0) + 1);
    onRun();
    const match = /(\d+)\s*\+\s*(\d+)/.exec(String((call.arguments as { expression?: unknown }).expression ?? ''));
    return String(Number(match?.[1] ?? 0) + Number(match?.[2] ?? 0));
  };
  return { runner, runs };
}

function userTexts(items: readonly ResponseInputItem[]): string[] {
  return items.flatMap((item) => {
    const message = item as { type?: string; role?: string; content?: Array<{ text?: string }> };
    return message.type === 'message' && message.role === 'user' ? [message.content?.map((part) => part.text ?? '').join('') ?? ''] : [];
  });
}

/** call_id → [function calls, outputs] in the ledger. */
function callBalance(items: readonly ResponseInputItem[]): Map<string, [number, number]> {
  const balance = new Map<string, [number, number]>();
  for (const item of items) {
    const entry = item as { type?: string; call_id?: string };
    if (entry.call_id === undefined) continue;
    const counts = balance.get(entry.call_id) ?? [0, 0];
    if (entry.type === 'function_call') counts[0] += 1;
    if (entry.type === 'function_call_output') counts[1] += 1;
    balance.set(entry.call_id, counts);
  }
  return balance;
}

describe('agent socket (Responses)', () => {
  it.each(matrix)('$kind while $state: no lost turn, no duplicate run, no hang', async ({ kind, state }) => {
    const server = await startEmulator({ latency: noLatency });
    emulator = server;
    const toolTurn = state !== 'text' && state !== 'idle';
    const fault = (afterDeltas: number): void => server.inject(faultOf(kind, afterDeltas));
    let armOnRun = false;
    let armOnRehydration = false;
    let armOnArguments = false;
    const { runner, runs } = countingRunner(() => {
      if (!armOnRun) return;
      armOnRun = false;
      if (state === 'rehydration') {
        // The request carrying the output misses the cache, and the fault hits its resend.
        server.inject({ kind: 'evict_cache' });
        armOnRehydration = true;
      } else fault(2);
    });
    const onEvent = (event: ResponsesSessionEvent): void => {
      if (event.type !== 'rehydration' || !armOnRehydration) return;
      armOnRehydration = false;
      fault(2);
    };
    const createWebSocket = (url: string, options: object): WebSocket => {
      const ws = new WebSocket(url, options);
      // Heard before the session's own handler: an at-once fault lands inside the arguments' stream.
      ws.on('message', (data) => {
        if (!armOnArguments || !String(data).includes('"response.function_call_arguments.delta"')) return;
        armOnArguments = false;
        fault(0);
      });
      return ws;
    };
    const { session, events } = testSession(
      server.baseUrl,
      { tools: [calculatorTool], warmup: 'off' },
      { runTool: runner, stallTimeoutMs, sleep: async () => undefined, onEvent: (event) => (events.push(event), onEvent(event)), createWebSocket },
    );
    cleanups.push(() => session.close());

    const first = await session.runTurn([userMessage('hello')]);
    expect(first.status).toBe('completed');

    let armOnText = false;
    if (state === 'idle') fault(0);
    if (state === 'text') {
      if (atOnce.has(kind)) armOnText = true;
      else fault(2);
    }
    if (state === 'tool_arguments') {
      if (atOnce.has(kind)) armOnArguments = true;
      else fault(1);
    }
    if (state === 'tool_output' || state === 'rehydration') armOnRun = true;
    const faulted = toolTurn ? 'what is 12 + 30?' : 'tell me about the sea';
    const outcome: TurnOutcome = await session.runTurn([userMessage(faulted)], {
      onTextDelta: () => {
        if (!armOnText) return;
        armOnText = false;
        fault(0);
      },
    });
    // Every arming point was reached: the fault really hit the state it names.
    expect({ armOnText, armOnArguments, armOnRun, armOnRehydration }).toEqual({ armOnText: false, armOnArguments: false, armOnRun: false, armOnRehydration: false });

    const probe = await session.runTurn([userMessage('are you still there')]);
    expect(probe.status).toBe('completed');
    // The brain counts the user messages it was given: none went missing, none arrived twice.
    expect(probe.status === 'completed' ? probe.text : '').toContain('message 3 of our conversation');
    expect(userTexts(session.ledger.window())).toEqual(['hello', faulted, 'are you still there']);
    expect([...runs.values()].filter((count) => count !== 1)).toEqual([]);
    // Each call the ledger holds ran once; a call cut off mid-arguments never ran at all.
    expect([...runs.keys()].sort()).toEqual([...callBalance(session.ledger.window()).keys()].sort());
    expect([...callBalance(session.ledger.window()).values()].filter(([calls, outputs]) => calls !== 1 || outputs !== 1)).toEqual([]);
    expect(events.filter((event) => event.type === 'tool' && event.status === 'started')).toHaveLength(runs.size);
    expect(outcome.status).toBe(expectedAgentOutcome(kind));
  });
});

/** The voice session has no reply deadline: a stall there is one the server ends. */
const voiceFault = (kind: FaultKind, afterDeltas: number): FaultInput => (kind === 'stall' ? { kind, ms: 200 } : faultOf(kind, afterDeltas));

describe('voice socket (Realtime)', () => {
  it.each(matrix)('$kind while $state: no lost turn, no duplicate run, no hang', async ({ kind, state }) => {
    const server = await startEmulator({ latency: noLatency });
    emulator = server;
    const toolTurn = state === 'tool_arguments' || state === 'tool_output';
    const fault = (afterDeltas: number): void => server.inject(voiceFault(kind, afterDeltas), 'realtime');
    const events: RealtimeSessionEvent[] = [];
    const listeners = new Set<(event: RealtimeSessionEvent) => void>();
    const next = <T extends RealtimeSessionEvent['type']>(type: T, match: (event: Extract<RealtimeSessionEvent, { type: T }>) => boolean = () => true): Promise<Extract<RealtimeSessionEvent, { type: T }>> =>
      new Promise((resolve) => {
        const listener = (event: RealtimeSessionEvent): void => {
          if (event.type !== type || !match(event as never)) return;
          listeners.delete(listener);
          resolve(event as never);
        };
        listeners.add(listener);
      });
    let armOnRun = false;
    let armOnArguments = false;
    let armOnText = false;
    let armOnReconnect = false;
    const { runner, runs } = countingRunner(() => {
      if (!armOnRun) return;
      armOnRun = false;
      fault(2);
    });
    const playout: PlayoutBuffer = new PlayoutBuffer({
      sink: new RecordingSink(),
      scheduler: fastScheduler(50),
      onEvent: (event) => {
        if (event.type === 'playout.drained') voice.playbackDrained();
      },
    });
    const voice: RealtimeSession = new RealtimeSession({
      baseUrl: server.baseUrl,
      apiKey: 'sk-test',
      settings: { ...defaultVoiceSettings, turnMode: 'push_to_talk', tools: [{ type: 'function', name: calculatorTool.name, description: calculatorTool.description, parameters: calculatorTool.parameters }] },
      createWebSocket: (url, options) => {
        const ws = new WebSocket(url, options);
        ws.on('message', (data) => {
          if (!armOnArguments || !String(data).includes('"response.function_call_arguments.delta"')) return;
          armOnArguments = false;
          fault(0);
        });
        return ws;
      },
      mic: new ScriptedMic(),
      playout,
      now: () => performance.now(),
      sleep: async () => undefined,
      random: () => 0.5,
      runTool: runner,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'transcript.assistant' && armOnText) {
          armOnText = false;
          fault(0);
        }
        if (event.type === 'reconnect' && armOnReconnect) {
          armOnReconnect = false;
          fault(0);
        }
        for (const listener of [...listeners]) listener(event);
      },
    });
    cleanups.push(() => voice.close());
    /** The voice is back to waiting for the user: the reply finished playing, or failed, or the socket was rebuilt. */
    const settled = (): Promise<unknown> => expect.poll(() => voice.state, { timeout: 5000, interval: 5 }).toBe('idle');

    await voice.connect();
    const firstReply = next('transcript.assistant.done');
    voice.sendText('hello');
    await firstReply;
    await settled();

    if (state === 'idle') fault(0);
    if (state === 'text') {
      if (atOnce.has(kind)) armOnText = true;
      else fault(2);
    }
    if (state === 'tool_arguments') {
      if (atOnce.has(kind)) armOnArguments = true;
      else fault(1);
    }
    if (state === 'tool_output') armOnRun = true;
    if (state === 'rehydration') {
      // A dropped socket: the fault lands while the session rebuilds itself.
      armOnReconnect = true;
      const recovered = next('recovered');
      server.dropConnections(1011);
      await recovered;
      await settled();
    }
    const faulted = toolTurn ? 'what is 12 + 30?' : 'tell me about the sea';
    const leftIdle = next('state', (event) => event.state !== 'idle');
    voice.sendText(faulted);
    await leftIdle;
    await settled();
    expect({ armOnText, armOnArguments, armOnRun, armOnReconnect }).toEqual({ armOnText: false, armOnArguments: false, armOnRun: false, armOnReconnect: false });

    const probeReply = next('transcript.assistant.done', (event) => event.text.includes('are you still there'));
    voice.sendText('are you still there');
    const probe = await probeReply;
    // The emulator counts the user messages it holds: the faulted one arrived (or was replayed) once.
    expect(probe.text).toContain('message 3 of our conversation');
    expect([...runs.values()].filter((count) => count !== 1)).toEqual([]);
  });
});
