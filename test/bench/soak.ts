/**
 * Accelerated soak: the real ResponsesSession against the embedded emulator with no simulated
 * latency, thousands of turns (text and tool turns alternating) with a fault every few turns, under
 * each compaction mode. Time is a manual clock on both sides, so sockets roll over and reach the
 * 60-minute limit as they would over a long day. Reports whether anything was lost, run twice or
 * left hanging, and how memory, tokens and CPU per turn moved from start to end. The emulator runs
 * in a child process, so memory and CPU are the client's alone: in-process, its parsing of
 * 600k-token requests raised the heap's high-water mark by 150 MB that was not Parley's.
 * `npm run bench -- soak [--turns 2000] [--fault-every 3] [--modes off,server,endpoint] [--threshold 1000]`
 * (run tsx with --expose-gc, e.g. `NODE_OPTIONS=--expose-gc`, for heap figures after a collection).
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import type { FaultInput } from '../../app/emulator/faults';
import { noLatency } from '../../app/emulator/latency';
import { userMessage } from '../../app/protocol/responses';
import { ResponsesSession, type ResponsesSessionEvent } from '../../app/responses/session';
import { defaultSessionSettings, type CompactionMode } from '../../app/responses/settings';
import { calculatorTool } from '../support/sessions';
import { startEmulatorProcess } from './emulatorProcess';

const faultCycle: readonly FaultInput[] = [
  { kind: 'drop_socket', afterDeltas: 2 },
  { kind: 'error_mid_stream', afterDeltas: 1 },
  { kind: 'evict_cache' },
  { kind: 'expire_connection' },
  { kind: 'rate_limit', retryAfterS: 0.01 },
  { kind: 'stall', ms: 60_000 },
  { kind: 'malformed_frame' },
  { kind: 'oversized_frame', bytes: 256 * 1024 },
  { kind: 'drop_socket', closeCode: 1011, afterDeltas: 0 },
];

/** Simulated time per turn: a socket that no fault replaced rolls over every sixth turn. */
const simulatedTurnMs = 10 * 60_000;
/** A turn that has not resolved in this much real time is counted as hung. */
const hangAfterMs = 30_000;
const sampleTurns = 100;
/**
 * How many requests (and stored responses) the emulator keeps. Its default, 1000, is bounded by
 * count, not size: after every fault or rollover the session resends the whole window, so 1000
 * kept `response.create`s held up to 1000 copies of the conversation (888 MB of heap at 2,000
 * turns with compaction off). The soak reads none of them, and the session uses `store: false`.
 */
export const soakHistoryLimit = 8;

interface Sample {
  rssMb: number;
  heapMb: number;
  /** What V8 has reserved for the heap: RSS beyond `heapMb` that a collection freed but kept. */
  heapTotalMb: number;
  /** Buffers outside the heap (socket frames, zlib). */
  externalMb: number;
}

export interface SoakReport {
  mode: CompactionMode;
  turns: number;
  thresholdTokens: number;
  faults: Record<string, number>;
  faultsInjected: number;
  crashes: number;
  lostTurns: number;
  duplicateToolRuns: number;
  hangs: number;
  failedTurns: number;
  /** Failed turns by the start of their problem's message. */
  failures: Record<string, number>;
  toolRuns: number;
  compactions: number;
  rollovers: number;
  rehydrations: number;
  start: Sample;
  end: Sample;
  rssGrowthMb: number;
  tokensPerTurn: { start: number; end: number };
  cpuMsPerTurn: { start: number; end: number };
  ledgerItems: number;
  /** The resendable window at the end, in MB: the conversation the session must keep. */
  ledgerMb: number;
  /** Requests the emulator still held at the end: its history must not grow with the run. */
  emulatorRequestsKept: number;
  simulated: true;
}

function sample(): Sample {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  return { rssMb: round(memory.rss / 2 ** 20), heapMb: round(memory.heapUsed / 2 ** 20), heapTotalMb: round(memory.heapTotal / 2 ** 20), externalMb: round(memory.external / 2 ** 20) };
}

const round = (value: number): number => Math.round(value * 10) / 10;
const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : round(values.reduce((sum, value) => sum + value, 0) / values.length));

export async function soak(mode: CompactionMode, turns: number, faultEvery: number, thresholdTokens: number): Promise<SoakReport> {
  const emulator = await startEmulatorProcess({ latency: noLatency, manualClock: { startMs: Date.now() }, historyLimit: soakHistoryLimit });
  let clientNow = 0;
  const runs = new Map<string, number>();
  const counts = { compaction: 0, rollover: 0, rehydration: 0 };
  let turnTokens = 0;
  const session = new ResponsesSession({
    baseUrl: emulator.baseUrl,
    apiKey: 'sk-soak',
    settings: {
      ...defaultSessionSettings,
      model: 'gpt-5-mini',
      instructions: 'Use the calculator for arithmetic.',
      tools: [calculatorTool],
      warmup: 'auto',
      compaction: { mode, thresholdTokens },
    },
    createWebSocket: (url, options) => new WebSocket(url, options),
    fetch: (input, init) => fetch(input, init),
    now: () => clientNow,
    sleep: async () => undefined,
    random: Math.random,
    // Short, so a stall fault costs a second, not 90; long enough that a loaded machine is not a stall.
    stallTimeoutMs: 1000,
    runTool: async (call) => {
      runs.set(call.callId, (runs.get(call.callId) ?? 0) + 1);
      const match = /(\d+)\s*\+\s*(\d+)/.exec(String((call.arguments as { expression?: unknown }).expression ?? ''));
      return String(Number(match?.[1] ?? 0) + Number(match?.[2] ?? 0));
    },
    onEvent: (event: ResponsesSessionEvent) => {
      if (event.type === 'compaction' || event.type === 'rollover' || event.type === 'rehydration') counts[event.type] += 1;
      if (event.type === 'request') turnTokens += event.metrics.usage?.input ?? 0;
    },
  });

  let crashes = 0;
  const onCrash = (): void => void (crashes += 1);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  const faults: Record<string, number> = {};
  let faultsInjected = 0;
  let lostTurns = 0;
  let hangs = 0;
  let failedTurns = 0;
  const failures: Record<string, number> = {};
  const tokens: number[] = [];
  const cpu: number[] = [];
  let emulatorRequestsKept: number;
  const start = sample();
  try {
    for (let turn = 1; turn <= turns; turn += 1) {
      if (turn % faultEvery === 0) {
        const fault = faultCycle[(faultsInjected += 1) % faultCycle.length] as FaultInput;
        faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
        await emulator.inject(fault);
      }
      const tool = turn % 2 === 0;
      const text = tool ? `what is ${turn} + 1?` : `turn ${turn}: tell me something about the sea and the ships that sail on it`;
      turnTokens = 0;
      const cpuBefore = process.cpuUsage();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        session.runTurn([userMessage(text)]),
        new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), hangAfterMs))),
      ]).catch(() => {
        crashes += 1;
        return null;
      });
      clearTimeout(timer);
      const used = process.cpuUsage(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
      tokens.push(turnTokens);
      if (outcome === 'hung') {
        hangs += 1;
        break;
      }
      if (outcome?.status === 'failed') {
        failedTurns += 1;
        const reason = outcome.problem.message.slice(0, 80);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
      // What the user said must reach the model, failed turn or not: the brain counts the user
      // messages it was given (a compaction item keeps the recent ones and a count of the rest).
      if (outcome?.status === 'completed' && !tool && !outcome.text.includes(turn === 1 ? 'your first message' : `message ${turn} of our conversation`)) lostTurns += 1;
      if (outcome?.status === 'completed' && tool && !outcome.text.includes(String(turn + 1))) lostTurns += 1;
      clientNow += simulatedTurnMs;
      await emulator.advance(simulatedTurnMs);
    }
  } finally {
    emulatorRequestsKept = await emulator.requestsKept();
    session.close();
    await emulator.close();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  // Let the closed sockets finish closing, so what is left is what the session kept.
  for (let tick = 0; tick < 20; tick += 1) await new Promise((resolve) => setImmediate(resolve));
  const end = sample();
  return {
    mode,
    turns,
    thresholdTokens,
    faults,
    faultsInjected,
    crashes,
    lostTurns,
    duplicateToolRuns: [...runs.values()].filter((count) => count > 1).length,
    hangs,
    failedTurns,
    failures,
    toolRuns: runs.size,
    compactions: counts.compaction,
    rollovers: counts.rollover,
    rehydrations: counts.rehydration,
    start,
    end,
    rssGrowthMb: round(end.rssMb - start.rssMb),
    tokensPerTurn: { start: mean(tokens.slice(0, sampleTurns)), end: mean(tokens.slice(-sampleTurns)) },
    cpuMsPerTurn: { start: mean(cpu.slice(0, sampleTurns)), end: mean(cpu.slice(-sampleTurns)) },
    ledgerItems: session.ledger.entries.length,
    ledgerMb: round(session.ledger.resendBytes({ store: false, reasoning: false }) / 2 ** 20),
    emulatorRequestsKept,
    simulated: true,
  };
}

export async function soakBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { turns: { type: 'string', default: '2000' }, 'fault-every': { type: 'string', default: '3' }, modes: { type: 'string', default: 'off,server,endpoint' }, threshold: { type: 'string', default: '1000' } },
  });
  const turns = Number(values.turns);
  const faultEvery = Number(values['fault-every']);
  const threshold = Number(values.threshold);
  if (!Number.isInteger(turns) || turns < 1) throw new Error(`--turns must be a positive whole number, not "${values.turns}".`);
  if (!Number.isInteger(faultEvery) || faultEvery < 1) throw new Error(`--fault-every must be a positive whole number, not "${values['fault-every']}".`);
  if (!Number.isInteger(threshold) || threshold < 1000) throw new Error(`--threshold must be a whole number of at least 1000 (the spec's minimum), not "${values.threshold}".`);
  const modes = values.modes.split(',');
  for (const mode of modes) if (mode !== 'off' && mode !== 'server' && mode !== 'endpoint') throw new Error(`--modes takes off, server and endpoint, not "${mode}".`);
  for (const mode of modes as CompactionMode[]) print(await soak(mode, turns, faultEvery, threshold));
}
