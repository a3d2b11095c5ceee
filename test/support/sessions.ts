/** A ResponsesSession wired to real sockets and fetch, with a clock the test may drive. */
import { WebSocket } from 'ws';
import type { ResponsesSessionEvent, ResponsesSessionOptions } from '../../app/responses/session';
import { ResponsesSession } from '../../app/responses/session';
import { defaultSessionSettings, type SessionSettings } from '../../app/responses/settings';
import type { ToolRunner } from '../../app/responses/tools';

export const calculatorTool = {
  type: 'function' as const,
  name: 'calculator',
  description: 'Evaluates an arithmetic expression.',
  parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'], additionalProperties: false },
  strict: true,
};

/** Adds and multiplies whole numbers, for scripted tool loops; counts its runs by call id. */
export function countingCalculator(): { runner: ToolRunner; runs: string[] } {
  const runs: string[] = [];
  const runner: ToolRunner = async (call) => {
    runs.push(call.callId);
    const expression = String((call.arguments as { expression?: unknown }).expression ?? '');
    const match = /^\s*(\d+)\s*([+*])\s*(\d+)\s*$/.exec(expression);
    if (match === null) throw new Error(`cannot evaluate "${expression}"`);
    const [, a, op, b] = match;
    return String(op === '+' ? Number(a) + Number(b) : Number(a) * Number(b));
  };
  return { runner, runs };
}

export interface TestSession {
  session: ResponsesSession;
  events: ResponsesSessionEvent[];
  of<T extends ResponsesSessionEvent['type']>(type: T): Array<Extract<ResponsesSessionEvent, { type: T }>>;
}

export function testSession(
  baseUrl: string,
  settings: Partial<SessionSettings> = {},
  options: Partial<Omit<ResponsesSessionOptions, 'settings' | 'baseUrl'>> = {},
): TestSession {
  const events: ResponsesSessionEvent[] = [];
  const session = new ResponsesSession({
    baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultSessionSettings, model: 'gpt-5-mini', instructions: 'Be brief.', ...settings },
    createWebSocket: (url, wsOptions) => new WebSocket(url, wsOptions),
    fetch: (input, init) => fetch(input, init),
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return {
    session,
    events,
    of: (type) => events.filter((event) => event.type === type) as never,
  };
}
