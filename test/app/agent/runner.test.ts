/**
 * ToolExecutor, the one place tool calls run for both sessions: what the model is told, what the
 * user is asked, and what the tool panel shows, for each way a call can go.
 */
import { describe, expect, it } from 'vitest';
import type { PermissionDecision, PermissionRequest, ToolActivity } from '../../../app/contract';
import { ToolRegistry, type ToolDefinition } from '../../../app/agent/registry';
import { ToolExecutor, type PermissionPolicy } from '../../../app/agent/runner';
import { ManualClock } from '../../../app/testing';

const echo: ToolDefinition = {
  name: 'echo',
  description: 'Says it back.',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
  risk: 'private',
  source: 'builtin',
  execute: async (args) => `said: ${String(args.text)}`,
};

function rig(options: { tools?: ToolDefinition[]; policy?: PermissionPolicy; answer?: PermissionDecision } = {}) {
  const registry = new ToolRegistry();
  for (const tool of options.tools ?? [echo]) registry.register(tool);
  const clock = new ManualClock(1000);
  const activity: ToolActivity[] = [];
  const asked: PermissionRequest[] = [];
  const always: string[] = [];
  const executor = new ToolExecutor({
    registry,
    policy: options.policy ?? (() => 'allow'),
    askUser: async (request) => (asked.push(request), options.answer ?? 'once'),
    allowAlways: (name) => void always.push(name),
    onActivity: (entry) => activity.push(entry),
    now: clock.now,
    newId: () => `req_${asked.length + 1}`,
  });
  const statuses = () => activity.map((entry) => entry.status);
  return { executor, activity, asked, always, statuses, clock };
}

const call = (args: unknown, name = 'echo') => ({ callId: 'call_1', name, arguments: args });

describe('ToolExecutor', () => {
  it('runs an allowed call and shows it requested, running, then succeeded with a preview', async () => {
    const r = rig();
    expect(await r.executor.run(call({ text: 'hi' }), 'agent')).toBe('said: hi');
    expect(r.statuses()).toEqual(['requested', 'running', 'succeeded']);
    expect(r.activity.at(-1)).toEqual({
      callId: 'call_1',
      name: 'echo',
      source: 'builtin',
      risk: 'private',
      caller: 'agent',
      arguments: { text: 'hi' },
      status: 'succeeded',
      startedAt: 1000,
      durationMs: 0,
      resultPreview: 'said: hi',
      error: null,
    });
    expect(r.asked).toEqual([]);
  });

  it('flattens and shortens the preview to 240 characters', async () => {
    const long: ToolDefinition = { ...echo, name: 'long', execute: async () => `a\n\n  b ${'x'.repeat(400)}` };
    const r = rig({ tools: [long] });
    await r.executor.run(call({ text: '' }, 'long'), 'voice');
    const preview = r.activity.at(-1)?.resultPreview ?? '';
    expect(preview.startsWith('a b xxx')).toBe(true);
    expect(preview).toHaveLength(240);
    expect(preview.endsWith('…')).toBe(true);
    const short: ToolDefinition = { ...echo, name: 'short', execute: async () => 'y'.repeat(240) };
    const s = rig({ tools: [short] });
    await s.executor.run(call({ text: '' }, 'short'), 'voice');
    expect(s.activity.at(-1)?.resultPreview).toBe('y'.repeat(240));
  });

  it('refuses an unknown tool and bad arguments without running anything', async () => {
    const r = rig();
    await expect(r.executor.run(call({}, 'nope'), 'agent')).rejects.toThrow('There is no tool named "nope".');
    expect(r.activity.at(-1)).toMatchObject({ status: 'failed', source: 'unknown', risk: 'safe', error: 'There is no tool named "nope".', durationMs: 0 });
    await expect(r.executor.run(call({ text: 5 }), 'agent')).rejects.toThrow(/Invalid arguments for echo/);
    expect(r.statuses().filter((status) => status === 'running')).toEqual([]);
  });

  it('asks when the policy says so, with the risk in words and the call detail', async () => {
    const described: ToolDefinition = { ...echo, describeCall: async (args) => `It reads ${String(args.text)}.` };
    const r = rig({ tools: [described], policy: () => 'ask' });
    expect(await r.executor.run(call({ text: 'notes.md' }), 'agent')).toBe('said: notes.md');
    expect(r.asked).toEqual([{ requestId: 'req_1', callId: 'call_1', name: 'echo', risk: 'private', arguments: { text: 'notes.md' }, summary: 'Parley wants to use the tool “echo”', reason: 'It reads your data. It reads notes.md.' }]);
    expect(r.statuses()).toEqual(['requested', 'waiting_permission', 'running', 'succeeded']);
    expect(r.always).toEqual([]);
  });

  it("says what the call will do in the tool's own words, or names the tool and its server", async () => {
    const summarized: ToolDefinition = { ...echo, summarize: (args) => `say ${String(args.text)} back` };
    const own = rig({ tools: [summarized], policy: () => 'ask' });
    await own.executor.run(call({ text: 'hello' }), 'agent');
    expect(own.asked[0]?.summary).toBe('Parley wants to say hello back');
    const throwing: ToolDefinition = { ...echo, source: 'github', summarize: () => { throw new Error('no'); } };
    const fallback = rig({ tools: [throwing], policy: () => 'ask' });
    await fallback.executor.run(call({ text: 'hello' }), 'agent');
    expect(fallback.asked[0]?.summary).toBe('Parley wants to use the tool “echo” from the MCP server “github”');
  });

  it('asks without detail when describing the call fails, and remembers "always"', async () => {
    const failing: ToolDefinition = { ...echo, risk: 'write', describeCall: async () => Promise.reject(new Error('no')) };
    const r = rig({ tools: [failing], policy: () => 'ask', answer: 'always' });
    await r.executor.run(call({ text: 'x' }), 'voice');
    expect(r.asked[0]?.reason).toBe('It changes something on your computer.');
    expect(r.always).toEqual(['echo']);
  });

  it('tells the model a denial as an answer, not an error, whether the user or the policy said no', async () => {
    const user = rig({ policy: () => 'ask', answer: 'deny' });
    const answer = JSON.parse(await user.executor.run(call({ text: 'x' }), 'agent'));
    expect(answer.error).toBe('Permission to run echo was denied. The user said no. Do not retry; tell the user you could not do it without permission.');
    expect(user.activity.at(-1)).toMatchObject({ status: 'denied', error: 'The user said no.' });
    const policy = rig({ policy: () => 'deny' });
    expect(JSON.parse(await policy.executor.run(call({ text: 'x' }), 'agent')).error).toContain('Tool permissions in settings deny it.');
    expect(policy.asked).toEqual([]);
  });

  it('reports a tool that throws, naming it', async () => {
    const broken: ToolDefinition = { ...echo, execute: async () => Promise.reject(new Error('disk full')) };
    const r = rig({ tools: [broken] });
    await expect(r.executor.run(call({ text: 'x' }), 'agent')).rejects.toThrow('echo failed: disk full');
    expect(r.activity.at(-1)).toMatchObject({ status: 'failed', error: 'echo failed: disk full' });
  });

  it('stops a tool at its time limit and says how long it had', async () => {
    const slow: ToolDefinition = { ...echo, timeoutMs: 5, execute: (_args, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) };
    const r = rig({ tools: [slow] });
    await expect(r.executor.run(call({ text: 'x' }), 'agent')).rejects.toThrow('echo did not finish within 5 ms and was stopped.');
    expect(r.activity.at(-1)?.status).toBe('failed');
  });

  it('cancels every running tool: each says the user cancelled it', async () => {
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hanging: ToolDefinition = { ...echo, execute: () => (started(), new Promise<string>(() => undefined)) };
    const r = rig({ tools: [hanging] });
    const result = r.executor.run(call({ text: 'x' }), 'agent');
    await running;
    r.executor.cancelAll();
    await expect(result).rejects.toThrow('echo was cancelled by the user.');
    expect(r.activity.at(-1)).toMatchObject({ status: 'cancelled', error: 'echo was cancelled by the user.' });
    // Nothing is left to cancel afterwards.
    r.executor.cancelAll();
  });

  it('gives each caller a runner that says who called', async () => {
    const r = rig();
    await r.executor.runnerFor('voice')(call({ text: 'x' }));
    expect(r.activity.at(-1)?.caller).toBe('voice');
  });
});
