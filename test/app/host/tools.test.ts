/** Tools through the composition root: permission prompts, denial, bad arguments, throws, timeouts, cancel. */
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels, type PermissionRequest, type PushEvent, type ToolActivity } from '../../../app/contract';
import type { ToolDefinition, ToolRegistry } from '../../../app/agent/registry';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { nextEvent, testDeps } from '../../support/copilot';

let copilot: Copilot | null = null;
afterEach(async () => {
  await copilot?.close();
  copilot = null;
});

const notes = ['2026-01-03 TODO: renew passport', '2026-02-11 TODO: call the plumber', '2026-03-01 buy milk'];

function searchNotes(overrides: Partial<ToolDefinition> = {}): ToolDefinition {
  return {
    name: 'search_notes',
    description: 'Searches the user notes.',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
    risk: 'private',
    source: 'builtin',
    execute: async (args) => JSON.stringify(notes.filter((note) => note.includes(String(args.query)))),
    ...overrides,
  };
}

function start(install: (registry: ToolRegistry) => void) {
  const events: PushEvent[] = [];
  copilot = createCopilot({ ...testDeps({}), installTools: (registry) => install(registry) });
  copilot.onEvent((event) => events.push(event));
  const app = copilot;
  const finished = () => nextEvent(app.onEvent, (event): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.role === 'assistant');
  const permission = () => nextEvent(app.onEvent, (event): event is { type: 'permission'; request: PermissionRequest } => event.type === 'permission');
  const activities = (name: string) => events.filter((event): event is { type: 'tool'; activity: ToolActivity } => event.type === 'tool' && event.activity.name === name).map((event) => event.activity.status);
  return { app, events, finished, permission, activities };
}

describe('tools through the copilot', () => {
  it('asks before a private tool runs, runs it once allowed, and answers from its result', async () => {
    const { app, finished, permission, activities } = start((registry) => registry.register(searchNotes()));
    await app.start();
    const done = finished();
    const asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO items in my notes' });
    const { request } = await asked;
    expect(request).toMatchObject({ name: 'search_notes', risk: 'private', arguments: { query: 'TODO' }, reason: 'It reads your data.' });
    expect(app.snapshot().permissions).toHaveLength(1);
    expect(await app.call(commandChannels.answerPermission, { requestId: request.requestId, decision: 'once' })).toEqual({ ok: true, value: null });
    const { turn } = await done;
    expect(turn.text).toContain('renew passport');
    expect(activities('search_notes')).toEqual(['requested', 'waiting_permission', 'running', 'succeeded']);
    expect(app.snapshot().tools.at(-1)).toMatchObject({ name: 'search_notes', status: 'succeeded', resultPreview: expect.stringContaining('plumber'), caller: 'agent' });
    expect(app.snapshot().permissions).toEqual([]);
  });

  it('refuses a message sent while a prompt waits, in words, and takes it once the prompt is answered', async () => {
    const { app, finished, permission } = start((registry) => registry.register(searchNotes({ summarize: (args) => `search your notes for “${String(args.query)}”` })));
    await app.start();
    const done = finished();
    const asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO items in my notes' });
    const { request } = await asked;
    expect(request.summary).toBe('Parley wants to search your notes for “TODO”');
    const refused = await app.call(commandChannels.sendMessage, { text: 'what time is it?' });
    expect(refused).toEqual({
      ok: false,
      problem: { code: 'busy', message: 'Not sent: Parley is waiting for your answer first (Parley wants to search your notes for “TODO”).', hint: 'Answer the prompt (Allow or Deny), then send your message again.' },
    });
    expect(app.snapshot().turns.map((turn) => turn.text)).not.toContain('what time is it?');
    await app.call(commandChannels.answerPermission, { requestId: request.requestId, decision: 'once' });
    await done;
    const next = finished();
    expect(await app.call(commandChannels.sendMessage, { text: 'what time is it?' })).toMatchObject({ ok: true });
    await next;
  });

  it('asks again after "always" is revoked in settings', async () => {
    let runs = 0;
    const { app, finished, permission } = start((registry) => registry.register(searchNotes({ execute: async () => (runs += 1, '[]') })));
    await app.start();
    let done = finished();
    let asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes' });
    await app.call(commandChannels.answerPermission, { requestId: (await asked).request.requestId, decision: 'always' });
    await done;
    expect(app.snapshot().permissions).toEqual([]);
    const view = await app.call(commandChannels.getSettings, undefined);
    expect(view).toMatchObject({ ok: true, value: { settings: { toolPermissions: { search_notes: 'allow' } } } });
    expect(await app.call(commandChannels.updateSettings, { patch: { toolPermissions: {} } })).toMatchObject({ ok: true });
    done = finished();
    asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes again' });
    const { request } = await asked;
    expect(request.name).toBe('search_notes');
    await app.call(commandChannels.answerPermission, { requestId: request.requestId, decision: 'once' });
    await done;
    expect(runs).toBe(2);
  });

  it('tells the model a denial and does not run the tool; "always" stops asking', async () => {
    let runs = 0;
    const { app, finished, permission, activities } = start((registry) => registry.register(searchNotes({ execute: async () => (runs += 1, '[]') })));
    await app.start();
    let done = finished();
    let asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes' });
    await app.call(commandChannels.answerPermission, { requestId: (await asked).request.requestId, decision: 'deny' });
    expect((await done).turn.text).toContain('denied');
    expect(runs).toBe(0);
    expect(activities('search_notes')).toContain('denied');

    done = finished();
    asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes again' });
    await app.call(commandChannels.answerPermission, { requestId: (await asked).request.requestId, decision: 'always' });
    await done;
    expect(runs).toBe(1);
    done = finished();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes once more' });
    await done;
    expect(runs).toBe(2);
    expect(await app.call(commandChannels.answerPermission, { requestId: 'gone', decision: 'once' })).toMatchObject({ ok: false });
  });

  it('returns invalid arguments, a throwing tool and a timeout to the model as clear errors', async () => {
    const { app, finished } = start((registry) => {
      // A constraint the emulator's brain does not read, so it sends arguments the schema refuses.
      registry.register(searchNotes({ risk: 'safe', parameters: { type: 'object', properties: { query: { type: 'string', pattern: '^[0-9]+$' } }, required: ['query'] } }));
    });
    await app.start();
    let done = finished();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes' });
    expect((await done).turn.text).toMatch(/Invalid arguments for search_notes: \/query must match pattern/);
    await app.close();

    const throwing = start((registry) => registry.register(searchNotes({ risk: 'safe', execute: async () => { throw new Error('the notes folder is missing'); } })));
    await throwing.app.start();
    done = throwing.finished();
    await throwing.app.call(commandChannels.sendMessage, { text: 'find the TODO notes' });
    expect((await done).turn.text).toContain('the notes folder is missing');
    await throwing.app.close();

    const slow = start((registry) => registry.register(searchNotes({ risk: 'safe', timeoutMs: 50, execute: (_args, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) })));
    await slow.app.start();
    done = slow.finished();
    await slow.app.call(commandChannels.sendMessage, { text: 'find the TODO notes' });
    expect((await done).turn.text).toContain('did not finish within 50 ms');
    expect(slow.activities('search_notes').at(-1)).toBe('failed');
  });

  it('cancels a turn waiting on a tool: the prompt closes, the turn says cancelled', async () => {
    const { app, finished, permission, events } = start((registry) => registry.register(searchNotes()));
    await app.start();
    const done = finished();
    const asked = permission();
    await app.call(commandChannels.sendMessage, { text: 'find the TODO notes' });
    await asked;
    expect(app.snapshot().agentBusy).toBe(true);
    expect(await app.call(commandChannels.cancelAgent, {})).toEqual({ ok: true, value: null });
    const { turn } = await done;
    expect(turn).toMatchObject({ status: 'failed', problem: { message: expect.stringContaining('Cancelled') } });
    expect(events.some((event) => event.type === 'permission.closed')).toBe(true);
    expect(app.snapshot().agentBusy).toBe(false);
    expect(await app.call(commandChannels.cancelAgent, {})).toMatchObject({ ok: false, problem: { message: 'Nothing is running to cancel.' } });
  });
});
