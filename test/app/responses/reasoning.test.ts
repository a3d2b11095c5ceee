/**
 * A reasoning agent model with `store: false`, through every path that resends the ledger: the
 * emulator refuses, as the real service does, a reasoning item sent back without its encrypted
 * content and a function call without its output, so a turn completes only if the resend is one
 * the service would accept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../app/emulator/clock';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import type { ResponsesSession } from '../../../app/responses/session';
import type { SessionSettings } from '../../../app/responses/settings';
import type { ToolRunner } from '../../../app/responses/tools';
import { calculatorTool, countingCalculator, testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

const minutes = (count: number) => count * 60_000;

interface Run {
  emulator: Emulator;
  session: ResponsesSession;
  clock: ManualClock;
  toolRuns: string[];
}

async function start(settings: Partial<SessionSettings> = {}, tool?: ToolRunner): Promise<Run> {
  const clock = new ManualClock();
  await emulator?.close();
  emulator = await startEmulator({ latency: noLatency, clock, connectionLimitMs: minutes(60) });
  const counting = countingCalculator();
  const runs = counting.runs;
  const runner: ToolRunner = tool ?? counting.runner;
  const { session } = testSession(
    emulator.baseUrl,
    { model: 'gpt-5-mini', store: false, tools: [calculatorTool], warmup: 'always', rolloverAfterMs: minutes(55), compaction: { mode: 'off', thresholdTokens: 100_000 }, ...settings },
    { now: () => clock.now(), sleep: async () => undefined, runTool: runner },
  );
  return { emulator, session, clock, toolRuns: runs };
}

/** A tool turn and a plain turn, so the ledger holds reasoning, a call, its output and messages. */
async function converse(run: Run, first: number): Promise<void> {
  // Long enough that a few turns pass the smallest threshold the service allows (1000 tokens).
  const tool = await run.session.runTurn([userMessage(`what is 12 * 7? ${'Please show your working. '.repeat(40)}`)]);
  expect(tool, JSON.stringify(tool.status === 'failed' ? tool.problem : null)).toMatchObject({ status: 'completed', text: expect.stringContaining('84') });
  const plain = await run.session.runTurn([userMessage(`plain turn ${first + 1}`)]);
  expect(plain).toMatchObject({ status: 'completed', text: expect.stringContaining(`message ${first + 1} of our conversation`) });
}

type Disruption = { name: string; settings?: Partial<SessionSettings>; disrupt: (run: Run) => void | Promise<void> };

const fault = (kind: Parameters<Emulator['inject']>[0]) => (run: Run) => run.emulator.inject(kind);

const disruptions: Disruption[] = [
  { name: 'the server loses its cache (previous_response_not_found)', disrupt: fault({ kind: 'evict_cache' }) },
  { name: 'the socket drops mid-reply and Parley reconnects', disrupt: fault({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 1 }) },
  { name: 'the socket reaches its connection limit', disrupt: fault({ kind: 'expire_connection' }) },
  { name: 'the socket is rolled over before its limit', disrupt: (run) => run.clock.advance(minutes(56)) },
  { name: 'a request is rate limited and retried', disrupt: fault({ kind: 'rate_limit', retryAfterS: 1 }) },
  { name: 'the instructions change', disrupt: (run) => run.session.updateSettings({ instructions: 'Answer in one line.' }) },
  { name: 'store is turned on', disrupt: (run) => run.session.updateSettings({ store: true }) },
  { name: 'the ledger is compacted by /responses/compact', settings: { compaction: { mode: 'endpoint', thresholdTokens: 1000 } }, disrupt: () => undefined },
  { name: 'the server compacts the context (context_management)', settings: { compaction: { mode: 'server', thresholdTokens: 1000 } }, disrupt: fault({ kind: 'evict_cache' }) },
];

describe('a reasoning model with store:false survives every resend', () => {
  it.each(disruptions)('$name', async ({ settings, disrupt }) => {
    const run = await start(settings);
    await run.session.connect();
    await converse(run, 1);
    await disrupt(run);
    await converse(run, 3);
    await converse(run, 5);
    // Each call ran exactly once, whatever was resent.
    expect(new Set(run.toolRuns).size).toBe(run.toolRuns.length);
    expect(run.toolRuns).toHaveLength(3);
    const requests = run.emulator.requests.filter((request) => request.generate !== false);
    const unstored = requests.filter((request) => request.store === false);
    expect(unstored.length).toBeGreaterThan(0);
    expect(unstored.every((request) => request.include?.includes('reasoning.encrypted_content'))).toBe(true);
    run.session.close();
  });

  it('a failed tool-result request still records the outputs, so the next turn is accepted', async () => {
    // The call is made and the tool runs; the request carrying its output back then fails.
    const failing = await start({ warmup: 'off' }, async () => {
      failing.emulator.inject({ kind: 'error_mid_stream', afterDeltas: 0 });
      return '84';
    });
    const failed = await failing.session.runTurn([userMessage('what is 12 * 7?')]);
    expect(failed.status).toBe('failed');
    const next = await failing.session.runTurn([userMessage('are you there?')]);
    expect(next).toMatchObject({ status: 'completed', text: expect.stringContaining('message 2 of our conversation') });
    failing.session.close();
  });

  it('sends a model that does not reason no reasoning items and no include', async () => {
    const run = await start({ warmup: 'off' });
    await converse(run, 1);
    run.session.updateSettings({ model: 'gpt-4.1-mini' });
    await converse(run, 3);
    const toOther = run.emulator.requests.filter((request) => request.model === 'gpt-4.1-mini');
    expect(toOther).toHaveLength(3);
    expect(toOther.every((request) => request.include === undefined)).toBe(true);
    const sentTypes = toOther.flatMap((request) => (request.input as Array<{ type?: string }>).map((item) => item.type));
    expect(sentTypes).toContain('function_call');
    expect(sentTypes).not.toContain('reasoning');
    run.session.close();
  });
});
