/**
 * The agent's tool chain, measured apart from modelled. Each turn asks for a sum, the model calls
 * the calculator, then answers from its output: two responses and one tool call per turn.
 *
 * Measured (`kind: "measured"`), each client in a child process of its own on an emulator (zero
 * latency) in another, so the figures are the client's: CPU time per turn (`process.cpuUsage`
 * around the turn, in the client's process), bytes up and down per turn and TCP connections
 * (counted on the emulator's sockets, headers and framing included), requests per turn. Parley
 * over WebSocket and the peer (the `openai` SDK's `ResponsesWS`, minimal) run turn by turn
 * interleaved, then Parley over HTTP, with one tool and with the twelve built-in tools; results
 * are also given as ratios.
 *
 * Modelled (`kind: "modelled"`): wall time of the same chain on the emulator's latency model, at
 * several parameter sets named beside each result. Those times are the model's, not Parley's.
 *
 * CPU time on a shared machine moves by tens of percent between runs, so beside it: medians per
 * window (a garbage collection or a neighbour's burst moves a mean of ten turns, rarely a median),
 * `--repeat N` runs of the WebSocket pair with the spread of their ratios, and `--instructions`,
 * which runs both WebSocket clients under valgrind's callgrind through the same turns and counts
 * the instructions each client process executes per turn (all its threads), a figure the
 * machine's load does not move. `--cpu-prof DIR` writes each WebSocket client's profile of the
 * measured turns. `--tools one|builtin` runs one tool set; `--skip-http` leaves out the HTTP client.
 *
 * `npm run bench -- responses [--turns 30] [--model-turns 10] [--warmup-turns 5] [--per-turn]
 * [--repeat 1] [--instructions] [--cpu-prof DIR] [--tools one|builtin] [--skip-http]`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LatencyModel } from '../../app/emulator/latency';
import { startClientProcess, type ClientKind, type ClientProcess } from './clientProcess';
import { startEmulatorProcess, type EmulatorProcess, type WireMeters } from './emulatorProcess';
import { toolsFor, type ToolSet } from './responsesClients';
import { median, round } from './stats';

interface TurnSample {
  cpuUs: number;
  /** The part of `cpuUs` spent in the kernel. */
  systemUs: number;
  /** Garbage-collection pauses on the main thread. */
  gcUs: number;
  wallMs: number;
  bytesUp: number;
  bytesDown: number;
  requests: number;
}

interface Runner {
  client: ClientProcess;
  emulator: EmulatorProcess;
  samples: TurnSample[];
  connect: { cpuUs: number };
  meters: WireMeters;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((total, value) => total + value, 0) / values.length);
const ratio = (a: number, b: number): number => round(a / b, 2);

/** A client in its own process on an emulator in its own process: its CPU and its bytes are its own. */
async function runner(kind: ClientKind, set: ToolSet, latency: Partial<LatencyModel>, warmupTurns: number, callgrind = false): Promise<Runner> {
  const emulator = await startEmulatorProcess({ latency });
  const client = startClientProcess({ kind, baseUrl: emulator.baseUrl, set, warmupTurns }, { callgrind });
  await client.warm();
  // Counted from after the warm-up chain: an HTTP client may reuse the connection it pooled.
  const before = await emulator.meters();
  const connectCpuUs = await client.connect();
  const connected = await emulator.meters();
  return { client, emulator, samples: [], connect: { cpuUs: connectCpuUs }, meters: { ...connected, connections: before.connections } };
}

/** Turn `number` on every runner, in an order that rotates so none always goes first. */
async function interleavedTurn(runners: readonly Runner[], number: number): Promise<void> {
  for (let offset = 0; offset < runners.length; offset += 1) {
    const entry = runners[(number + offset) % runners.length] as Runner;
    const wallStarted = performance.now();
    const { cpuUs: cpu, systemUs, gcUs, count: requests } = await entry.client.turn(number);
    const wallMs = performance.now() - wallStarted;
    const meters = await entry.emulator.meters();
    entry.samples.push({ cpuUs: cpu, systemUs, gcUs, wallMs, bytesUp: meters.bytesUp - entry.meters.bytesUp, bytesDown: meters.bytesDown - entry.meters.bytesDown, requests });
    entry.meters = { ...entry.meters, bytesUp: meters.bytesUp, bytesDown: meters.bytesDown };
  }
}

function summarise(entry: Runner, connections: number, set: ToolSet, toolCount: number) {
  const { samples } = entry;
  const window = (from: number, to: number) => samples.slice(from, to);
  const first = window(0, 10);
  const last = window(Math.max(0, samples.length - 10), samples.length);
  // Fifty turns at each end as well: a window of ten holds one major collection or not, and the
  // peer's own first ten moved from 1.1 to 2.3 ms a turn between runs of the same code.
  const first50 = window(0, 50);
  const last50 = window(Math.max(0, samples.length - 50), samples.length);
  const cpu = (part: readonly TurnSample[]) => part.map((sample) => sample.cpuUs);
  return {
    bench: 'responses',
    kind: 'measured',
    client: entry.client.name as string,
    tools: set === 'one' ? 'one tool' : 'twelve built-in tools',
    tool_definitions: toolCount,
    turns: samples.length,
    cpu_us_per_turn: { turns_1_10: Math.round(mean(cpu(first))), last_10: Math.round(mean(cpu(last))), turns_1_50: Math.round(mean(cpu(first50))), last_50: Math.round(mean(cpu(last50))), all: Math.round(mean(cpu(samples))) },
    cpu_us_per_turn_median: { turns_1_10: Math.round(median(cpu(first))), last_10: Math.round(median(cpu(last))), all: Math.round(median(cpu(samples))) },
    cpu_system_us_per_turn_all: Math.round(mean(samples.map((sample) => sample.systemUs))),
    gc_pause_us_per_turn_all: Math.round(mean(samples.map((sample) => sample.gcUs))),
    cpu_last_10_over_first_10: ratio(mean(cpu(last)), mean(cpu(first))),
    cpu_last_50_over_first_50: ratio(mean(cpu(last50)), mean(cpu(first50))),
    bytes_up_per_turn: { turn_2: samples[1]?.bytesUp ?? null, last: samples.at(-1)?.bytesUp ?? null, mean: Math.round(mean(samples.map((sample) => sample.bytesUp))) },
    bytes_down_per_turn: { turn_2: samples[1]?.bytesDown ?? null, last: samples.at(-1)?.bytesDown ?? null, mean: Math.round(mean(samples.map((sample) => sample.bytesDown))) },
    requests_per_turn: round(mean(samples.map((sample) => sample.requests)), 2),
    /** TCP connections opened from connect to the last turn (a pooled one from the warm-up is reused, not counted). */
    connections_opened: connections,
    connect_cpu_us: entry.connect.cpuUs,
  };
}

type Summary = ReturnType<typeof summarise>;

function compare(name: string, a: Summary, b: Summary) {
  return {
    bench: 'responses',
    kind: 'measured',
    compare: name,
    tools: a.tools,
    turns: a.turns,
    cpu_turns_1_10: ratio(a.cpu_us_per_turn.turns_1_10, b.cpu_us_per_turn.turns_1_10),
    cpu_last_10: ratio(a.cpu_us_per_turn.last_10, b.cpu_us_per_turn.last_10),
    cpu_turns_1_50: ratio(a.cpu_us_per_turn.turns_1_50, b.cpu_us_per_turn.turns_1_50),
    cpu_last_50: ratio(a.cpu_us_per_turn.last_50, b.cpu_us_per_turn.last_50),
    cpu_all: ratio(a.cpu_us_per_turn.all, b.cpu_us_per_turn.all),
    cpu_median: { turns_1_10: ratio(a.cpu_us_per_turn_median.turns_1_10, b.cpu_us_per_turn_median.turns_1_10), last_10: ratio(a.cpu_us_per_turn_median.last_10, b.cpu_us_per_turn_median.last_10), all: ratio(a.cpu_us_per_turn_median.all, b.cpu_us_per_turn_median.all) },
    bytes_up_last: ratio(a.bytes_up_per_turn.last ?? 0, b.bytes_up_per_turn.last ?? 1),
    bytes_down_mean: ratio(a.bytes_down_per_turn.mean, b.bytes_down_per_turn.mean),
  };
}

/** The clients in `kinds` turn by turn, interleaved; each summarised. */
const zeroLatency: Partial<LatencyModel> = { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 };

async function measured(kinds: readonly ClientKind[], set: ToolSet, turns: number, warmupTurns: number, perTurn: boolean, print: (line: object) => void, profileDir?: string): Promise<Summary[]> {
  const runners: Runner[] = [];
  try {
    for (const kind of kinds) runners.push(await runner(kind, set, zeroLatency, warmupTurns));
    if (profileDir !== undefined) for (const entry of runners) await entry.client.profile('start');
    for (let turn = 1; turn <= turns; turn += 1) {
      await interleavedTurn(runners, turn);
      if (perTurn) for (const entry of runners) print({ bench: 'responses', kind: 'measured', tools: set, client: entry.client.name, turn, ...(entry.samples.at(-1) as TurnSample) });
    }
    if (profileDir !== undefined) for (const entry of runners) await entry.client.profile('stop', join(profileDir, `${entry.client.name}-${set}-${turns}.cpuprofile`));
    const toolCount = toolsFor(set).length;
    const summaries: Summary[] = [];
    for (const entry of runners) {
      const meters = await entry.emulator.meters();
      summaries.push(summarise(entry, meters.connections - entry.meters.connections, set, toolCount));
    }
    return summaries;
  } finally {
    for (const entry of runners) {
      await entry.client.close();
      await entry.emulator.close();
    }
  }
}

/**
 * Instructions per turn, counted by callgrind in each WebSocket client's process over the same
 * turns (interleaved as for CPU time, each on its own emulator): turns 1-10, the last 10, and all.
 * Under valgrind everything runs some 50 times slower, so these runs are apart from the timed ones.
 */
async function instructions(set: ToolSet, turns: number, warmupTurns: number, print: (line: object) => void): Promise<void> {
  const runners: Runner[] = [];
  try {
    for (const kind of ['parley-websocket', 'openai-sdk-ResponsesWS'] as const) runners.push(await runner(kind, set, zeroLatency, warmupTurns, true));
    const counters = runners.map((entry) => entry.client.instructions as NonNullable<ClientProcess['instructions']>);
    const windows = runners.map(() => ({ first: 0, middle: 0, last: 0 }));
    for (const counter of counters) await counter.zero();
    for (let turn = 1; turn <= turns; turn += 1) {
      await interleavedTurn(runners, turn);
      const window = turn === 10 ? 'first' : turn === turns - 10 ? 'middle' : turn === turns ? 'last' : null;
      if (window !== null) for (const [index, counter] of counters.entries()) (windows[index] as Record<string, number>)[window] = await counter.dump();
    }
    const perTurn = windows.map((counts) => ({ turns_1_10: Math.round(counts.first / 10), last_10: Math.round(counts.last / 10), all: Math.round((counts.first + counts.middle + counts.last) / turns) }));
    const [parley, sdk] = perTurn as [(typeof perTurn)[number], (typeof perTurn)[number]];
    print({
      bench: 'responses',
      kind: 'measured',
      metric: "instructions per turn (valgrind callgrind Ir, the client's process, all threads, node --predictable)",
      tools: set === 'one' ? 'one tool' : 'twelve built-in tools',
      turns,
      parley_websocket: parley,
      openai_sdk_ResponsesWS: sdk,
      ratio: { turns_1_10: ratio(parley.turns_1_10, sdk.turns_1_10), last_10: ratio(parley.last_10, sdk.last_10), all: ratio(parley.all, sdk.all) },
      parley_last_10_over_first_10: ratio(parley.last_10, parley.turns_1_10),
    });
  } finally {
    for (const entry of runners) {
      await entry.client.close();
      await entry.emulator.close();
    }
  }
}

/** The latency model's parameter sets: the default, no HTTP setup, and HTTP with prompt caching. */
const parameterSets: Array<{ name: string; latency: LatencyModel }> = [
  { name: 'emulator default', latency: { rttMs: 40, uncachedInputTokenMs: 0.05, outputTokensPerSecond: 80, httpSetupMs: 60 } },
  { name: 'no HTTP setup', latency: { rttMs: 40, uncachedInputTokenMs: 0.05, outputTokensPerSecond: 80, httpSetupMs: 0 } },
  { name: 'no HTTP setup, HTTP prompt-cached', latency: { rttMs: 40, uncachedInputTokenMs: 0.05, outputTokensPerSecond: 80, httpSetupMs: 0, httpPromptCaching: true } },
  { name: 'round trip only', latency: { rttMs: 40, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 } },
];

async function modelled(set: ToolSet, turns: number, print: (line: object) => void): Promise<void> {
  for (const { name, latency } of parameterSets) {
    const runners = [await runner('parley-websocket', set, latency, 0), await runner('parley-http', set, latency, 0)];
    try {
      for (let turn = 1; turn <= turns; turn += 1) await interleavedTurn(runners, turn);
      const [ws, http] = runners.map((entry) => entry.samples.reduce((total, sample) => total + sample.wallMs, 0)) as [number, number];
      print({
        bench: 'responses',
        kind: 'modelled',
        note: "wall time on the emulator's latency model: the model's output, not a measurement of Parley",
        parameters: name,
        latency: { rtt_ms: latency.rttMs, uncached_input_token_ms: latency.uncachedInputTokenMs, output_tokens_per_second: latency.outputTokensPerSecond, http_setup_ms_per_request: latency.httpSetupMs, http_prompt_caching: latency.httpPromptCaching === true },
        tools: set === 'one' ? 'one tool' : 'twelve built-in tools',
        turns,
        websocket_ms: round(ws),
        http_ms: round(http),
        http_over_websocket: ratio(http, ws),
      });
    } finally {
      for (const entry of runners) {
        await entry.client.close();
        await entry.emulator.close();
      }
    }
  }
}

export async function responsesBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      turns: { type: 'string', default: '30' },
      'model-turns': { type: 'string', default: '10' },
      'warmup-turns': { type: 'string', default: '5' },
      'per-turn': { type: 'boolean', default: false },
      repeat: { type: 'string', default: '1' },
      instructions: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      tools: { type: 'string' },
      'skip-http': { type: 'boolean', default: false },
    },
    strict: false,
  });
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a whole number of at least 1.');
  const sets: ToolSet[] = values.tools === undefined ? ['one', 'builtin'] : values.tools === 'one' || values.tools === 'builtin' ? [values.tools] : [];
  if (sets.length === 0) throw new Error('--tools must be one or builtin.');
  if (values.instructions === true && Number(values.turns) < 21) throw new Error('--instructions needs --turns of at least 21 (windows of ten at each end).');
  const profileDir = typeof values['cpu-prof'] === 'string' ? values['cpu-prof'] : undefined;
  const turns = Number(values.turns);
  const modelTurns = Number(values['model-turns']);
  const warmupTurns = Number(values['warmup-turns']);
  if (!Number.isInteger(turns) || turns < 2) throw new Error('--turns must be a whole number of at least 2.');
  if (!Number.isInteger(modelTurns) || modelTurns < 0 || !Number.isInteger(warmupTurns) || warmupTurns < 0) throw new Error('--model-turns and --warmup-turns must be whole numbers, zero or more.');
  for (const set of sets) {
    const runs: Array<ReturnType<typeof compare>> = [];
    let pair: [Summary, Summary] | null = null;
    for (let run = 0; run < repeat; run += 1) {
      pair = (await measured(['parley-websocket', 'openai-sdk-ResponsesWS'], set, turns, warmupTurns, values['per-turn'] === true, print, run === 0 ? profileDir : undefined)) as [Summary, Summary];
      runs.push(compare('parley-websocket / openai-sdk-ResponsesWS', ...pair));
      if (repeat > 1) for (const line of [...pair, runs.at(-1) as object]) print({ ...line, run: run + 1 });
    }
    const [ws, sdk] = pair as [Summary, Summary];
    if (repeat > 1) {
      const spread = (pick: (line: ReturnType<typeof compare>) => number) => ({ median: round(median(runs.map(pick)), 2), min: Math.min(...runs.map(pick)), max: Math.max(...runs.map(pick)) });
      print({ bench: 'responses', kind: 'measured', compare: 'parley-websocket / openai-sdk-ResponsesWS, CPU per turn over runs', tools: ws.tools, turns, runs: repeat, cpu_all: spread((line) => line.cpu_all), cpu_turns_1_10: spread((line) => line.cpu_turns_1_10), cpu_last_10: spread((line) => line.cpu_last_10), cpu_turns_1_50: spread((line) => line.cpu_turns_1_50), cpu_last_50: spread((line) => line.cpu_last_50), cpu_median_all: spread((line) => line.cpu_median.all), cpu_median_last_10: spread((line) => line.cpu_median.last_10) });
    }
    if (values['skip-http'] !== true) {
      // HTTP after, on its own: its growing resends are its cost, not the WebSocket clients'.
      const [http] = (await measured(['parley-http'], set, turns, warmupTurns, values['per-turn'] === true, print)) as [Summary];
      for (const summary of [ws, sdk, http]) print(summary);
      print(compare('parley-websocket / openai-sdk-ResponsesWS', ws, sdk));
      print(compare('parley-http / parley-websocket', http, ws));
      print({ bench: 'responses', kind: 'measured', compare: 'CPU per turn, last 10 turns / turns 1-10', tools: ws.tools, turns, parley_websocket: ws.cpu_last_10_over_first_10, openai_sdk_ResponsesWS: sdk.cpu_last_10_over_first_10, parley_http: http.cpu_last_10_over_first_10 });
      print({ bench: 'responses', kind: 'measured', compare: 'CPU per turn, last 50 turns / turns 1-50', tools: ws.tools, turns, parley_websocket: ws.cpu_last_50_over_first_50, openai_sdk_ResponsesWS: sdk.cpu_last_50_over_first_50, parley_http: http.cpu_last_50_over_first_50 });
    } else if (repeat === 1) {
      for (const summary of [ws, sdk]) print(summary);
      print(compare('parley-websocket / openai-sdk-ResponsesWS', ws, sdk));
    }
    if (values.instructions === true) await instructions(set, turns, warmupTurns, print);
  }
  if (modelTurns > 0) for (const set of sets) await modelled(set, modelTurns, print);
}
