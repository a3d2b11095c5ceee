/**
 * The same scripted tool chain over WebSocket mode and over HTTP, side by side on the emulator's
 * (simulated) latency model. Each turn asks for a sum, the agent calls the calculator, then
 * answers from its output: two model responses and one tool call per turn.
 * `npm run bench -- responses [--turns 30] [--rtt-ms 50]`; prints one JSON object per line.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startEmulator } from '../../app/emulator/server';
import { userMessage } from '../../app/protocol/responses';
import { ResponsesSession, type ResponsesSessionEvent, type TransportKind } from '../../app/responses/session';
import { defaultSessionSettings, type SessionSettings } from '../../app/responses/settings';
import { calculatorTool } from '../support/sessions';

interface Run {
  mode: string;
  totalMs: number;
  toolCalls: number;
  firstTurnMs: number;
  bytesUpPerTurn: number[];
}

async function runChain(baseUrl: string, transport: TransportKind, warmup: SessionSettings['warmup'], turns: number, print: (line: object) => void, mode: string): Promise<Run> {
  const requests: Array<Extract<ResponsesSessionEvent, { type: 'request' }>['metrics']> = [];
  let toolCalls = 0;
  const session = new ResponsesSession({
    baseUrl,
    apiKey: 'sk-bench',
    transport,
    settings: { ...defaultSessionSettings, model: 'gpt-5-mini', instructions: 'Use the calculator for arithmetic.', tools: [calculatorTool], warmup, compaction: { mode: 'off', thresholdTokens: 0 } },
    createWebSocket: (url, options) => new WebSocket(url, options),
    fetch: (input, init) => fetch(input, init),
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    runTool: async (call) => {
      toolCalls += 1;
      const [a, b] = String((call.arguments as { expression: string }).expression).split('+').map(Number);
      return String((a ?? 0) + (b ?? 0));
    },
    onEvent: (event) => {
      if (event.type === 'request') requests.push(event.metrics);
    },
  });
  const started = performance.now();
  // The socket opens (and warms) as the app opens it, at start; that time counts too.
  await session.connect();
  const bytesUpPerTurn: number[] = [];
  let firstTurnMs = 0;
  for (let turn = 1; turn <= turns; turn += 1) {
    const before = requests.length;
    const turnStarted = performance.now();
    const outcome = await session.runTurn([userMessage(`what is ${turn} + 1?`)]);
    if (outcome.status === 'failed') throw new Error(`${mode} turn ${turn} failed: ${outcome.problem.message}`);
    if (!outcome.text.includes(String(turn + 1))) throw new Error(`${mode} turn ${turn} answered "${outcome.text}"`);
    const turnRequests = requests.slice(before);
    const bytesUp = turnRequests.reduce((sum, request) => sum + request.bytesUp, 0);
    const ms = performance.now() - turnStarted;
    if (turn === 1) firstTurnMs = ms;
    bytesUpPerTurn.push(bytesUp);
    print({ mode, turn, ms: round(ms), bytes_up: bytesUp, requests: turnRequests.length, chained: turnRequests.every((request) => request.chained), simulated: true });
  }
  const totalMs = performance.now() - started;
  session.close();
  return { mode, totalMs, toolCalls, firstTurnMs, bytesUpPerTurn };
}

const round = (value: number) => Math.round(value * 10) / 10;

export async function responsesBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { turns: { type: 'string', default: '30' }, 'rtt-ms': { type: 'string', default: '50' } }, strict: false });
  const turns = Number(values.turns);
  const rttMs = Number(values['rtt-ms']);
  if (!Number.isInteger(turns) || turns < 2 || !Number.isFinite(rttMs) || rttMs < 0) throw new Error('--turns must be a whole number of at least 2 and --rtt-ms zero or more.');
  const emulator = await startEmulator({ latency: { rttMs } });
  try {
    const ws = await runChain(emulator.baseUrl, 'websocket', 'auto', turns, print, 'websocket');
    const http = await runChain(emulator.baseUrl, 'http', 'off', turns, print, 'http');
    const warm = await runChain(emulator.baseUrl, 'websocket', 'always', turns, print, 'websocket-warmup-always');
    const cold = await runChain(emulator.baseUrl, 'websocket', 'off', turns, print, 'websocket-warmup-off');
    print({
      summary: 'responses',
      simulated: true,
      latency_model: emulator.latency,
      turns,
      tool_calls: ws.toolCalls,
      ws_ms: round(ws.totalMs),
      http_ms: round(http.totalMs),
      speedup: Math.round((http.totalMs / ws.totalMs) * 100) / 100,
      ws_bytes_up_second_turn: ws.bytesUpPerTurn[1],
      ws_bytes_up_last_turn: ws.bytesUpPerTurn.at(-1),
      http_bytes_up_second_turn: http.bytesUpPerTurn[1],
      http_bytes_up_last_turn: http.bytesUpPerTurn.at(-1),
      ws_upload_growth: Math.round(((ws.bytesUpPerTurn.at(-1) ?? 0) / (ws.bytesUpPerTurn[1] ?? 1)) * 100) / 100,
      http_upload_growth: Math.round(((http.bytesUpPerTurn.at(-1) ?? 0) / (http.bytesUpPerTurn[1] ?? 1)) * 100) / 100,
      warmup_always: { total_ms: round(warm.totalMs), first_turn_ms: round(warm.firstTurnMs) },
      warmup_off: { total_ms: round(cold.totalMs), first_turn_ms: round(cold.firstTurnMs) },
    });
  } finally {
    await emulator.close();
  }
}
