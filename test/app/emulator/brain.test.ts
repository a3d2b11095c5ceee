/**
 * The emulator's brain with the app's real tools: it calls them with arguments their schemas
 * accept and answers from their outputs in sentences, never by pasting the JSON back.
 */
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { calculate, createBuiltinTools, createFileTools, createTimeTools, describeTime } from '../../../app/agent/builtins';
import { ToolRegistry, type ToolDefinition } from '../../../app/agent/registry';
import { ToolExecutor, type PermissionPolicy } from '../../../app/agent/runner';
import { delegationTool } from '../../../app/agent/supervisor';
import { commandChannels, type PushEvent } from '../../../app/contract';
import { think, type BrainMessage } from '../../../app/emulator/brain';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { ToolCalls } from '../../../app/responses/tools';
import { nextEvent, testDeps } from '../../support/copilot';

/** 14:05:09 in Paris, a Tuesday. */
const now = () => new Date('2026-12-01T13:05:09Z');
const paris = () => 'Europe/Paris';

let work = '';
beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'parley-brain-'));
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** The agent's built-ins as the app registers them, on a scratch notes folder and workspace. */
function builtins(): ToolDefinition[] {
  return createBuiltinTools({
    time: { now, localTimeZone: paris },
    notes: { fs, folder: join(work, 'notes'), now },
    clipboard: { readText: () => '', writeText: () => undefined },
    files: { fs, folders: () => [work] },
    fetch: { fetch: async () => Promise.reject(new Error('no network in this test')) },
  });
}

function registryOf(tools: ToolDefinition[]): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of tools) registry.register(tool);
  return registry;
}

interface Exchange {
  call: { name: string; arguments: unknown };
  /** Whether the arguments passed the tool's schema and the tool ran without error. */
  ran: boolean;
  reply: string;
}

/**
 * One user message through the brain, its tool call run by the app's tool executor (schema check
 * included) and the output wrapped as the sessions wrap it, then the brain's answer.
 */
async function ask(registry: ToolRegistry, text: string, policy: PermissionPolicy = () => 'allow'): Promise<Exchange> {
  const tools = registry.forResponses();
  const conversation: BrainMessage[] = [{ role: 'user', text }];
  const turn = think(conversation, tools);
  expect(turn.kind).toBe('tool_call');
  const { name, arguments: args } = turn as Extract<typeof turn, { kind: 'tool_call' }>;
  const executor = new ToolExecutor({ registry, policy, askUser: async () => 'once', allowAlways: () => undefined, onActivity: () => undefined, now: () => 0, newId: () => 'request' });
  const outcome = await new ToolCalls().run({ type: 'function_call', id: 'fc_1', call_id: 'call_1', name, arguments: args, status: 'completed' }, executor.runnerFor('agent'));
  const answer = think([...conversation, { role: 'tool_call', callId: 'call_1', name, arguments: args }, { role: 'tool_output', callId: 'call_1', output: outcome.output }], tools);
  expect(answer.kind).toBe('text');
  return { call: { name, arguments: JSON.parse(args) }, ran: outcome.ok, reply: (answer as Extract<typeof answer, { kind: 'text' }>).text };
}

/** A sentence a user would read: capitalised, finished, and no JSON in it. */
function expectSentence(reply: string): void {
  expect(reply).toMatch(/^[A-Z0-9].*[.!?]$/s);
  expect(reply).not.toMatch(/[{}"[\]]/);
}

describe('the brain with the real clock', () => {
  it('asks for the local time without a zone and says the time, zone and date', async () => {
    const exchange = await ask(registryOf(builtins()), 'what time is it?');
    expect(exchange.call).toEqual({ name: 'get_time', arguments: {} });
    expect(exchange.ran).toBe(true);
    expect(exchange.reply).toBe("It's 14:05 in Europe/Paris (Tuesday 1 December 2026).");
    expectSentence(exchange.reply);
  });

  it('passes a zone the user names', async () => {
    const exchange = await ask(registryOf(builtins()), 'What time is it in Asia/Tokyo?');
    expect(exchange.call).toEqual({ name: 'get_time', arguments: { timezone: 'Asia/Tokyo' } });
    expect(exchange.reply).toBe("It's 22:05 in Asia/Tokyo (Tuesday 1 December 2026).");
  });

  it('fills a required zone with a real IANA name, never "local"', async () => {
    const strictClock: ToolDefinition = {
      name: 'current_time',
      description: 'The time in a zone.',
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'], additionalProperties: false },
      risk: 'safe',
      source: 'test',
      execute: async (args) => JSON.stringify(describeTime(now(), String(args.zone))),
    };
    const exchange = await ask(registryOf([strictClock]), 'what time is it?');
    const zone = (exchange.call.arguments as { zone: string }).zone;
    expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone })).not.toThrow();
    expect(exchange.ran).toBe(true);
    expect(exchange.reply).toMatch(/^It's \d\d:\d\d in \S+ \(Tuesday 1 December 2026\)\.$/);
  });
});

describe('the brain with the real calculator', () => {
  // mathjs loads on the first calculation and takes seconds on a busy machine; load it before timing tests.
  beforeAll(() => calculate('1'), 30_000);

  it('answers with the expression and its result', async () => {
    const exchange = await ask(registryOf(builtins()), 'what is 12 × 7?');
    expect(exchange.call).toEqual({ name: 'calculate', arguments: { expression: '12 * 7' } });
    expect(exchange.reply).toBe('12 × 7 = 84.');
    expectSentence(exchange.reply);
  });

  it('says what went wrong when the tool fails', async () => {
    const exchange = await ask(registryOf(builtins()), 'calculate 2 ^ (3');
    expect(exchange.ran).toBe(false);
    expect(exchange.reply).toMatch(/^The calculator couldn't do that: Could not calculate .+\.$/);
    expect(exchange.reply).not.toContain('{');
    expect(exchange.reply).not.toContain('calculate failed');
  });
});

describe('the brain with the real notes', () => {
  it('saves a dictated note and says so', async () => {
    const registry = registryOf(builtins());
    const exchange = await ask(registry, 'Make a note: buy milk');
    expect(exchange.call).toEqual({ name: 'save_note', arguments: { text: 'buy milk' } });
    expect(exchange.reply).toBe('I saved your note “buy milk”.');
    expectSentence(exchange.reply);
    expect(JSON.parse(await (registry.get('list_notes') as ToolDefinition).execute({}, { signal: new AbortController().signal })).notes).toMatchObject([{ text: 'buy milk' }]);
  });

  it('searches the notes and lists what matched, with dates', async () => {
    const registry = registryOf(builtins());
    await ask(registry, 'note: TODO renew the passport');
    await ask(registry, 'note: buy milk');
    const found = await ask(registry, 'find the TODO items in my notes');
    expect(found.call).toEqual({ name: 'search_notes', arguments: { query: 'TODO' } });
    expect(found.reply).toBe('I found 1 note matching “TODO”: TODO renew the passport (1 December 2026).');
    expectSentence(found.reply);
    const none = await ask(registry, 'search my notes for XYZ');
    expect(none.reply).toBe('I found nothing matching “XYZ”.');
  });

  it('says a denied tool did not run, without the JSON around the reason', async () => {
    const exchange = await ask(registryOf(builtins()), 'find the TODO items in my notes', () => 'deny');
    expect(exchange.reply).toMatch(/^The search couldn't do that: Permission to run search_notes was denied\./);
    expect(exchange.reply).not.toMatch(/[{}]/);
  });
});

describe('the brain with the real file search', () => {
  it('lists the matching lines', async () => {
    await fs.writeFile(join(work, 'plan.md'), '# Plan\nTODO: fix the login bug\n');
    const exchange = await ask(registryOf(createFileTools({ fs, folders: () => [work] })), 'search my files for TODO');
    expect(exchange.call).toEqual({ name: 'search_files', arguments: { query: 'TODO' } });
    expect(exchange.reply).toBe(`I found 1 result matching “TODO”: ${join(await fs.realpath(work), 'plan.md')} line 2: TODO: fix the login bug.`);
    expectSentence(exchange.reply);
  });
});

describe('the brain with the real delegation tool', () => {
  it('relays what the tool says to tell the user', async () => {
    const requests: string[] = [];
    const delegate = delegationTool({ runAgentTurn: async (request) => (requests.push(request), { ok: true, text: 'done' }), tellVoice: () => undefined, newId: () => 'task-0001' });
    const exchange = await ask(registryOf([delegate, ...builtins()]), 'research the best coffee grinders');
    expect(exchange.call).toEqual({ name: 'delegate_to_agent', arguments: { task: 'research the best coffee grinders' } });
    expect(exchange.reply).toBe("I'm on it; the agent is working on that now.");
    expect(requests).toEqual(['research the best coffee grinders']);
  });
});

describe('prompts the brain has no tool for', () => {
  it('keeps the honest reply that counts the messages', () => {
    const turn = think([{ role: 'user', text: 'what time is it?' }], []);
    expect(turn).toEqual({ kind: 'text', text: 'You said: "what time is it?". This is your first message; I am the offline emulator, so set OPENAI_API_KEY to talk to a real model.' });
  });
});

describe('replies asked for by name, to try the UI with', () => {
  const reply = (text: string): string => {
    const turn = think([{ role: 'user', text }], registryOf(builtins()).forResponses());
    expect(turn.kind).toBe('text');
    return (turn as Extract<typeof turn, { kind: 'text' }>).text;
  };

  it('writes a long reply, several screens of paragraphs, still counting the messages', () => {
    const text = reply('Please write a long reply');
    expect(text.split(/\s+/).length).toBeGreaterThan(500);
    expect(text.split('\n\n').length).toBeGreaterThan(20);
    expect(text).toContain('this is your first message');
  });

  it('shows Markdown of each common kind, and hostile markup, without calling a tool', () => {
    const sample = reply('show me a markdown sample');
    for (const part of ['## ', '**bold**', '- a list item', '```js\n', '](https://example.org/docs)', '| --- |']) expect(sample).toContain(part);
    const hostile = reply('hostile markdown please');
    for (const part of ['<script>', 'onerror=', '](javascript:', '](file:', 'onclick=']) expect(hostile).toContain(part);
  });
});

describe('the app against the emulator', () => {
  let copilot: Copilot | null = null;
  afterEach(async () => {
    await copilot?.close();
    copilot = null;
  });

  it('answers "what time is it?" typed into the agent with the time', async () => {
    copilot = createCopilot({ ...testDeps({}), installTools: (registry) => createTimeTools({ now, localTimeZone: paris }).forEach((tool) => registry.register(tool)) });
    await copilot.start();
    const done = nextEvent(copilot.onEvent, (event): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.role === 'assistant');
    expect(await copilot.call(commandChannels.sendMessage, { text: 'what time is it?' })).toMatchObject({ ok: true });
    const { turn } = await done;
    expect(turn).toMatchObject({ status: 'completed', text: "It's 14:05 in Europe/Paris (Tuesday 1 December 2026)." });
    expect(copilot.snapshot().tools.map((tool) => [tool.name, tool.status])).toEqual([['get_time', 'succeeded']]);
  });
});
