/**
 * The two clients the responses benchmark drives through the same tool chain: Parley's
 * `ResponsesSession` (WebSocket or HTTP) and, as the peer, a minimal client on the `openai` SDK's
 * `ResponsesWS` that chains with `previous_response_id` and answers each function call. Each turn
 * asks "what is N + 1?": the model calls the calculator, then answers from its output.
 */
import OpenAI from 'openai';
import type { FunctionTool, ResponseOutputItem, ResponsesServerEvent } from 'openai/resources/responses/responses';
import { ResponsesWS } from 'openai/resources/responses/ws';
import { WebSocket } from 'ws';
import { createBuiltinTools } from '../../app/agent/builtins';
import { ToolRegistry } from '../../app/agent/registry';
import { userMessage } from '../../app/protocol/responses';
import { ResponsesSession, type TransportKind } from '../../app/responses/session';
import { defaultSessionSettings } from '../../app/responses/settings';
import { calculatorTool } from '../support/sessions';
import type { BenchClient } from './clientProcess';

/** A chain client's turn resolves with the number of requests it took. */
type ChainClient = BenchClient;

export type ToolSet = 'one' | 'builtin';

const model = 'gpt-5-mini';
const instructions = 'Use the calculator for arithmetic.';

/**
 * The tool definitions a request carries: the one-tool chain's calculator, or the twelve built-in
 * tools as the app registers them (their ports are never called: the benchmark runs the sum).
 */
export function toolsFor(set: ToolSet): FunctionTool[] {
  if (set === 'one') return [calculatorTool];
  const registry = new ToolRegistry();
  const unused = (): never => {
    throw new Error('not used by the benchmark');
  };
  const tools = createBuiltinTools({
    notes: { fs: unused as never, folder: '/nonexistent' },
    clipboard: { readText: unused, writeText: unused } as never,
    files: { fs: unused as never, folders: () => [] },
    fetch: { fetch: unused as never },
  });
  for (const tool of tools) registry.register(tool);
  return registry.forResponses();
}

function sum(args: unknown): string {
  const expression = String((args as { expression?: unknown }).expression ?? '');
  return String(expression.split('+').reduce((total, part) => total + Number(part), 0));
}

function expectAnswer(name: string, number: number, text: string): void {
  if (!text.includes(String(number + 1))) throw new Error(`${name} turn ${number} answered "${text}"`);
}

export function parleyClient(baseUrl: string, transport: TransportKind, tools: FunctionTool[]): ChainClient {
  let requests = 0;
  const name = `parley-${transport}`;
  const session = new ResponsesSession({
    baseUrl,
    apiKey: 'sk-bench',
    transport,
    settings: { ...defaultSessionSettings, model, instructions, tools, warmup: transport === 'websocket' ? 'auto' : 'off', compaction: { mode: 'off', thresholdTokens: 0 } },
    createWebSocket: (url, options) => new WebSocket(url, options),
    fetch: (input, init) => fetch(input, init),
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    runTool: async (call) => sum(call.arguments),
    onEvent: (event) => {
      if (event.type === 'request') requests += 1;
    },
  });
  return {
    name,
    connect: () => session.connect(),
    async turn(number) {
      const before = requests;
      const outcome = await session.runTurn([userMessage(`what is ${number} + 1?`)]);
      if (outcome.status === 'failed') throw new Error(`${name} turn ${number} failed: ${outcome.problem.message}`);
      expectAnswer(name, number, outcome.text);
      return requests - before;
    },
    close: () => session.close(),
  };
}

/** The SDK's own WebSocket client, used the way its documentation shows, and nothing more. */
export function sdkClient(baseUrl: string, tools: FunctionTool[]): ChainClient {
  const name = 'openai-sdk-ResponsesWS';
  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: baseUrl, maxRetries: 0 });
  let socket: ResponsesWS | null = null;
  let previous: string | undefined;
  let waiting: { resolve: (output: ResponseOutputItem[]) => void; reject: (error: Error) => void } | null = null;

  const request = (input: Parameters<ResponsesWS['send']>[0] extends infer E ? (E extends { type: 'response.create'; input?: infer I } ? I : never) : never) =>
    new Promise<ResponseOutputItem[]>((resolve, reject) => {
      waiting = { resolve, reject };
      (socket as ResponsesWS).send({ type: 'response.create', model, instructions, tools, store: false, input, ...(previous === undefined ? {} : { previous_response_id: previous }) });
    });

  const onEvent = (event: ResponsesServerEvent): void => {
    if (event.type === 'response.completed') {
      previous = event.response.id;
      waiting?.resolve(event.response.output);
    } else if (event.type === 'response.failed' || event.type === 'error') {
      waiting?.reject(new Error(`${name}: ${JSON.stringify(event).slice(0, 300)}`));
    }
  };

  return {
    name,
    async connect() {
      socket = new ResponsesWS(client);
      socket.on('event', onEvent);
      await new Promise<void>((resolve, reject) => {
        socket?.socket.once('open', () => resolve());
        socket?.socket.once('error', () => reject(new Error(`${name} could not connect`)));
      });
    },
    async turn(number) {
      let output = await request([{ role: 'user', content: `what is ${number} + 1?` }]);
      let requests = 1;
      for (;;) {
        const calls = output.filter((item) => item.type === 'function_call');
        if (calls.length === 0) break;
        output = await request(calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: sum(JSON.parse(call.arguments)) })));
        requests += 1;
      }
      const text = output.flatMap((item) => (item.type === 'message' ? item.content.map((part) => (part.type === 'output_text' ? part.text : '')) : [])).join('');
      expectAnswer(name, number, text);
      return requests;
    },
    close: () => socket?.close(),
  };
}
