import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { McpManager, registryName, type McpManagerOptions, type McpServerStatus } from '../../../app/agent/mcp';
import { unsafePatternReason, withoutUnsafePatterns } from '../../../app/agent/mcpSchema';
import { ToolRegistry } from '../../../app/agent/registry';
import type { McpServerSettings } from '../../../app/settings/schema';
import { hostileMcpServer, rawTool } from '../../support/mcp/hostileServer';
import { startHttpMcpServer, type HttpMcpServer } from '../../support/mcp/httpServer';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const filesystemServer = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
const flaky: McpServerSettings = { name: 'flaky', transport: 'stdio', command: process.execPath, args: ['--import', 'tsx', 'test/support/mcp/flakyServer.ts'], enabled: true };

/** What the host does: stdio servers as child processes (stderr kept), HTTP servers by URL. */
function createTransport(server: McpServerSettings) {
  return server.transport === 'stdio'
    ? new StdioClientTransport({ command: server.command, args: server.args, cwd: repoRoot, stderr: 'pipe' })
    : new StreamableHTTPClientTransport(new URL(server.url));
}

/** Records every status with the registry's tools at that moment, and waits for one to come. */
class StatusLog {
  entries: Array<McpServerStatus & { tools: string[] }> = [];
  #waiters = new Set<() => void>();

  constructor(private registry: ToolRegistry) {}

  readonly onStatus = (status: McpServerStatus) => {
    this.entries.push({ ...status, tools: this.registry.list().filter((tool) => tool.source === status.name).map((tool) => tool.name) });
    for (const waiter of this.#waiters) waiter();
  };

  /** The first status from index `from` on that matches; waits for it if it has not come yet. */
  waitFor(match: (status: McpServerStatus) => boolean, from = 0): Promise<McpServerStatus & { tools: string[]; index: number }> {
    return new Promise((resolve) => {
      const check = () => {
        const index = this.entries.findIndex((status, position) => position >= from && match(status));
        if (index === -1) return false;
        this.#waiters.delete(check);
        resolve({ ...this.entries[index]!, index });
        return true;
      };
      if (!check()) this.#waiters.add(check);
    });
  }
}

const managers: McpManager[] = [];

function setup(options: Partial<McpManagerOptions> = {}) {
  const registry = new ToolRegistry();
  const log = new StatusLog(registry);
  const delays: number[] = [];
  const manager = new McpManager({
    registry,
    createTransport,
    onStatus: log.onStatus,
    // Reconnect at once in tests, but remember what the backoff asked for.
    sleep: async (ms) => void delays.push(ms),
    ...options,
  });
  managers.push(manager);
  const call = (name: string, args: Record<string, unknown> = {}, signal = new AbortController().signal) => {
    const tool = registry.get(name);
    if (tool === undefined) throw new Error(`${name} is not registered`);
    return tool.execute(args, { signal });
  };
  return { registry, log, delays, manager, call };
}

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

describe('registry names for MCP tools', () => {
  it('are <server>__<tool>, sanitised and at most 64 characters, without clashes', () => {
    expect(registryName('files', 'read_text_file')).toBe('files__read_text_file');
    expect(registryName('my-server', 'do.thing/now')).toBe('my-server__do_thing_now');
    const long = registryName('server', 'a'.repeat(80));
    const other = registryName('server', `${'a'.repeat(79)}b`);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^server__a+_[0-9a-f]{6}$/);
    expect(other).not.toBe(long);
    expect(registryName('s', 'a.b', new Set(['s__a_b']))).toMatch(/^s__a_b_[0-9a-f]{6}$/);
  });
});

// Real server processes start in a few hundred milliseconds; a loaded CI machine may need more.
describe('McpManager with @modelcontextprotocol/server-filesystem', { timeout: 20_000 }, () => {
  let root: string;

  beforeAll(async () => {
    root = await fs.realpath(await fs.mkdtemp(join(tmpdir(), 'parley-mcp-fs-')));
    await fs.writeFile(join(root, 'hello.txt'), 'Hello from the temp folder.\n');
  });

  it('lists its tools into the registry, calls them, and surfaces its errors', async () => {
    const { registry, log, manager, call } = setup();
    await manager.update([{ name: 'files', transport: 'stdio', command: process.execPath, args: [filesystemServer, root], enabled: true }]);
    const connected = await log.waitFor((status) => status.state === 'connected');
    expect(log.entries[0]).toMatchObject({ name: 'files', state: 'connecting', toolCount: 0 });
    expect(connected.toolCount).toBeGreaterThan(5);
    expect(connected.message).toBe(`${connected.toolCount} tools.`);
    expect(connected.tools).toContain('files__read_text_file');

    const read = registry.get('files__read_text_file');
    expect(read).toMatchObject({ source: 'files', risk: 'private' });
    expect(read?.description).toMatch(/read/i);
    expect(registry.get('files__write_file')?.risk).toBe('write');
    // The server's schema validates arguments before anything runs.
    expect(registry.validate('files__read_text_file', {})).toMatchObject({ ok: false, message: expect.stringContaining("must have required property 'path'") });

    expect(await call('files__read_text_file', { path: join(root, 'hello.txt') })).toBe('Hello from the temp folder.\n');
    await expect(call('files__read_text_file', { path: '/etc/hostname' })).rejects.toThrow(/Access denied - path outside allowed directories: \/etc\/hostname not in/);
    await expect(call('files__read_text_file', { path: join(root, 'missing.txt') })).rejects.toThrow(/ENOENT|no such file/i);

    await manager.update([]);
    expect(registry.list()).toEqual([]);
    expect(log.entries.at(-1)).toMatchObject({ name: 'files', state: 'disconnected', toolCount: 0, message: 'Removed from settings.' });
  });
});

describe('McpManager with a server that fails, crashes and hangs', { timeout: 20_000 }, () => {
  it('registers read-only tools as private and others as write, and turns tool errors into thrown errors', async () => {
    const { registry, log, manager, call } = setup();
    await manager.update([flaky]);
    await log.waitFor((status) => status.state === 'connected');
    expect(Object.fromEntries(registry.list().map((tool) => [tool.name, tool.risk]))).toEqual({
      flaky__echo: 'private',
      flaky__whoami: 'private',
      flaky__fail: 'write',
      flaky__crash: 'write',
      flaky__hang: 'write',
      flaky__freeze: 'write',
      flaky__grow: 'write',
    });
    expect(await call('flaky__echo', { text: 'hi' })).toBe('echo: hi');
    await expect(call('flaky__fail')).rejects.toThrow('The flaky server failed on purpose.');
  });

  it('picks up tools a server adds later', async () => {
    const { log, manager, call } = setup();
    await manager.update([flaky]);
    const first = await log.waitFor((status) => status.state === 'connected');
    expect(await call('flaky__grow')).toBe('grown');
    const grown = await log.waitFor((status) => status.state === 'connected' && status.toolCount === 8, first.index + 1);
    expect(grown.tools).toContain('flaky__extra');
    expect(await call('flaky__extra')).toBe('extra!');
  });

  it('survives a crash: tools removed, error with the reason, then restarted with its tools back', async () => {
    const { registry, log, delays, manager, call } = setup();
    await manager.update([flaky]);
    await log.waitFor((status) => status.state === 'connected');
    const firstPid = await call('flaky__whoami');

    await expect(call('flaky__crash')).rejects.toThrow('The MCP server "flaky" closed the connection while running "crash".');
    const failed = await log.waitFor((status) => status.state === 'error');
    expect(failed.message).toBe('The server process exited. Its last output: flaky server: crashing on purpose Retrying in 1 s.');
    expect(failed).toMatchObject({ toolCount: 0, tools: [], retryInMs: 1000 });

    const back = await log.waitFor((status) => status.state === 'connected', failed.index);
    expect(back.tools).toHaveLength(7);
    expect(delays).toEqual([1000]);
    const secondPid = await call('flaky__whoami');
    expect(secondPid).not.toBe(firstPid);
    expect(await call('flaky__echo', { text: 'still here' })).toBe('echo: still here');
    expect(registry.list()).toHaveLength(7);
  });

  it('backs off longer after quick repeated crashes, and starts over once the server has worked a while', async () => {
    let clock = 0;
    const { log, delays, manager, call } = setup({ now: () => clock });
    await manager.update([flaky]);
    let connected = await log.waitFor((status) => status.state === 'connected');
    for (const [advance, expected] of [[0, [1000]], [0, [1000, 2000]], [60_000, [1000, 2000, 1000]]] as const) {
      clock += advance;
      await expect(call('flaky__crash')).rejects.toThrow(/closed the connection/);
      connected = await log.waitFor((status) => status.state === 'connected', connected.index + 1);
      expect(delays).toEqual(expected);
    }
  });

  it('abandons a hanging call on the signal or its time limit, and keeps working', async () => {
    const { log, manager, call } = setup({ toolTimeoutMs: 1000 });
    await manager.update([flaky]);
    await log.waitFor((status) => status.state === 'connected');
    const pid = await call('flaky__whoami');

    const controller = new AbortController();
    const hanging = call('flaky__hang', {}, controller.signal);
    controller.abort(new Error('The tool call timed out after 15 s.'));
    await expect(hanging).rejects.toThrow('The tool call timed out after 15 s.');

    await expect(call('flaky__hang')).rejects.toThrow('The MCP server "flaky" did not finish "hang" within 1 s.');

    // Same process, still answering: the abandoned calls did not take it down.
    expect(await call('flaky__whoami')).toBe(pid);
    expect(await call('flaky__echo', { text: 'after the hang' })).toBe('echo: after the hang');
    expect(log.entries.filter((status) => status.state === 'error')).toEqual([]);
  });

  it('restarts a server that stops answering altogether', async () => {
    const { log, manager, call } = setup({ pingTimeoutMs: 500 });
    await manager.update([flaky]);
    await log.waitFor((status) => status.state === 'connected');
    const pid = await call('flaky__whoami');

    await expect(call('flaky__freeze', {}, AbortSignal.timeout(300))).rejects.toThrow(/aborted|timed? ?out/i);
    const failed = await log.waitFor((status) => status.state === 'error');
    expect(failed.message).toBe('The server stopped responding ("freeze" did not complete and a ping got no answer within 0.5 s). Retrying in 1 s.');
    expect(failed.tools).toEqual([]);
    await log.waitFor((status) => status.state === 'connected', failed.index);
    expect(await call('flaky__whoami')).not.toBe(pid);
  });

  it('backs off 1 s, 2 s, 4 s … up to 30 s while a server cannot start', async () => {
    const delays: number[] = [];
    let reachedCap!: () => void;
    const capped = new Promise<void>((resolve) => (reachedCap = resolve));
    const { log, manager } = setup({
      sleep: async (ms, signal) => {
        delays.push(ms);
        if (delays.length < 8) return;
        reachedCap();
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    });
    await manager.update([{ name: 'ghost', transport: 'stdio', command: '/nonexistent/parley-mcp-server', args: [], enabled: true }]);
    await capped;
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(log.entries.find((status) => status.state === 'error')).toMatchObject({
      name: 'ghost',
      toolCount: 0,
      message: 'The command "/nonexistent/parley-mcp-server" was not found. Retrying in 1 s.',
    });
    await manager.close();
    expect(log.entries.at(-1)).toMatchObject({ name: 'ghost', state: 'disconnected', message: 'Parley is shutting down.' });
  });

  it('follows settings: disabling removes the tools, re-enabling brings them back, close stops all', async () => {
    const { registry, log, manager } = setup();
    await manager.update([flaky]);
    await log.waitFor((status) => status.state === 'connected');
    await manager.update([{ ...flaky, enabled: false }]);
    expect(registry.list()).toEqual([]);
    expect(log.entries.at(-1)).toMatchObject({ state: 'disconnected', toolCount: 0, message: 'Disabled in settings.' });
    const mark = log.entries.length;
    await manager.update([flaky, { name: 'builtin', transport: 'stdio', command: 'x', args: [], enabled: true }]);
    expect(await log.waitFor((status) => status.name === 'builtin', mark)).toMatchObject({ state: 'error', message: expect.stringContaining('reserved') });
    await log.waitFor((status) => status.state === 'connected', mark);
    expect(registry.list()).toHaveLength(7);
    expect(manager.statuses().map((status) => [status.name, status.state])).toEqual([
      ['flaky', 'connected'],
      ['builtin', 'error'],
    ]);
    await manager.close();
    expect(registry.list()).toEqual([]);
    expect(log.entries.at(-1)).toMatchObject({ name: 'flaky', state: 'disconnected', message: 'Parley is shutting down.' });
  });
});

describe('McpManager over streamable HTTP', { timeout: 20_000 }, () => {
  let server: HttpMcpServer | undefined;

  afterEach(async () => {
    await server?.close();
  });

  it('lists and calls the tools of an HTTP server, and notices when it goes away', async () => {
    server = await startHttpMcpServer();
    const { registry, log, manager, call } = setup({ pingTimeoutMs: 1000 });
    await manager.update([{ name: 'web', transport: 'http', url: server.url, enabled: true }]);
    await log.waitFor((status) => status.state === 'connected');
    expect(registry.get('web__shout')).toMatchObject({ risk: 'private', source: 'web' });
    expect(await call('web__shout', { text: 'hello' })).toBe('HELLO');

    await server.close();
    server = undefined;
    await expect(call('web__shout', { text: 'anyone?' })).rejects.toThrow(/The MCP server "web" could not run "shout"/);
    const failed = await log.waitFor((status) => status.state === 'error');
    expect(failed.message).toMatch(/^The server stopped responding/);
    expect(failed.tools).toEqual([]);
  });
});

describe('schema patterns from MCP servers', () => {
  it('keeps patterns that cannot backtrack badly', () => {
    for (const pattern of ['^[a-z0-9-]+$', '^\\d{4}-\\d{2}-\\d{2}$', '^(foo|bar)$', '^https?://', '^[A-Z]{2}(-[0-9]{3})*$', '^(ab|cd)+$', '^\\p{L}+$', '[\\]()|*]+']) {
      expect([pattern, unsafePatternReason(pattern)]).toEqual([pattern, null]);
    }
  });

  it('refuses nested quantifiers, ambiguous repeated choices, backreferences, lookarounds and many open-ended repeats', () => {
    const cases: Array<[string, RegExp]> = [
      ['^(a+)+$', /nested quantifiers/],
      ['^(\\w+\\s?)*$', /nested quantifiers/],
      ['(x+x+)+y', /nested quantifiers/],
      ['(.*){1,100}', /nested quantifiers/],
      ['(?:a|a)*', /branches can match the same text/],
      ['(a|aa)+b', /branches can match the same text/],
      ['([a-z]|[0-9])+', /branches can match the same text/],
      ['(a)\\1', /backreference/],
      ['(?<x>a)\\k<x>', /backreference/],
      ['^(?=.*\\d).+$', /lookahead/],
      ['(?<!a)b', /lookbehind/],
      ['.*.*.*=', /open-ended repeats/],
      ['(', /not a valid regular expression/],
      ['a'.repeat(1001), /longer than 1000/],
    ];
    for (const [pattern, reason] of cases) expect([pattern, unsafePatternReason(pattern)]).toEqual([pattern, expect.stringMatching(reason)]);
  });

  it('drops unsafe patterns anywhere in a schema, and only those', () => {
    const { schema, dropped } = withoutUnsafePatterns({
      type: 'object',
      properties: {
        pattern: { type: 'string', pattern: '^[a-z]+$' },
        list: { type: 'array', items: { type: 'string', pattern: '(a|a)*' } },
        either: { anyOf: [{ type: 'string', pattern: '^(a+)+$' }, { type: 'number' }] },
      },
      patternProperties: { '^(x+)+$': { type: 'string' }, '^y_[0-9]+$': { type: 'number' } },
      additionalProperties: false,
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        pattern: { type: 'string', pattern: '^[a-z]+$' },
        list: { type: 'array', items: { type: 'string' } },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
      },
      patternProperties: { '^y_[0-9]+$': { type: 'number' } },
    });
    expect(dropped).toEqual([
      'the property-name pattern /^(x+)+$/ of arguments (it has a variable repeat inside a repeated group (nested quantifiers))',
      'the pattern of the items of "list" (/(a|a)*/: it repeats a choice whose branches can match the same text)',
      'the pattern of "either" (/^(a+)+$/: it has a variable repeat inside a repeated group (nested quantifiers))',
    ]);
  });
});

/** Timers the test fires by hand: what was scheduled, and for how long. */
class ManualTimers {
  pending = new Map<number, { ms: number; run: () => void }>();
  scheduled = 0;
  #nextId = 0;
  #waiters = new Set<() => void>();

  readonly schedule = (ms: number, run: () => void): (() => void) => {
    const id = this.#nextId++;
    this.pending.set(id, { ms, run });
    this.scheduled++;
    for (const waiter of [...this.#waiters]) waiter();
    return () => this.pending.delete(id);
  };

  /** Resolves once `count` timers have been scheduled in all. */
  untilScheduled(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.scheduled < count) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.run();
  }
}

/** Lets every queued message and callback run (one turn of the event loop; no fixed wait). */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

const hostileSettings: McpServerSettings = { name: 'hostile', transport: 'stdio', command: 'in-memory', args: [], enabled: true };

describe('McpManager with a hostile server', { timeout: 20_000 }, () => {
  it('drops a schema pattern that would freeze the app, says so in the catalog entry, and still checks safe ones', async () => {
    const hostile = hostileMcpServer([rawTool('match', { text: { type: 'string', pattern: '^(a+)+$' }, slug: { type: 'string', pattern: '^[a-z0-9-]+$' } })]);
    const { registry, log, manager } = setup({ createTransport: () => hostile.connect() });
    await manager.update([hostileSettings]);
    await log.waitFor((status) => status.state === 'connected');

    // 2^26 steps for Ajv's synchronous /^(a+)+$/ (over a second); with the pattern dropped, no time at all.
    const started = performance.now();
    expect(registry.validate('hostile__match', { text: `${'a'.repeat(26)}!`, slug: 'fine' })).toEqual({ ok: true });
    expect(performance.now() - started).toBeLessThan(250);
    expect(registry.validate('hostile__match', { text: 'aaa', slug: 'Not a slug' })).toMatchObject({ ok: false, message: expect.stringContaining('/slug must match pattern') });
    expect(registry.list().find((tool) => tool.name === 'hostile__match')?.description).toBe(
      'The match tool.\n\nParley does not check the pattern of "text" (/^(a+)+$/: it has a variable repeat inside a repeated group (nested quantifiers)): checking could freeze the app.',
    );
  });

  it('lists tools once per flood of list_changed, after 250 ms of quiet, and leaves an unchanged catalog alone', async () => {
    const hostile = hostileMcpServer([rawTool('lookup', { q: { type: 'string' } })]);
    const timers = new ManualTimers();
    const { registry, log, manager } = setup({ createTransport: () => hostile.connect(), schedule: timers.schedule });
    await manager.update([hostileSettings]);
    const first = await log.waitFor((status) => status.state === 'connected');
    expect(hostile.listCalls).toBe(1);
    let catalogChanges = 0;
    registry.onChange(() => catalogChanges++);

    await hostile.spamListChanged(1000);
    await timers.untilScheduled(1000);
    // Each notification restarted the one timer; nothing was listed yet.
    expect([...timers.pending.values()].map((timer) => timer.ms)).toEqual([250]);
    expect(hostile.listCalls).toBe(1);
    timers.fire();
    await hostile.untilListCalls(2);

    hostile.tools = [...hostile.tools, rawTool('extra', {})];
    await hostile.spamListChanged(1000);
    await timers.untilScheduled(2000);
    timers.fire();
    const grown = await log.waitFor((status) => status.state === 'connected' && status.toolCount === 2, first.index + 1);
    expect(grown.tools).toEqual(['hostile__lookup', 'hostile__extra']);
    expect(hostile.listCalls).toBe(3);
    // The unchanged list touched nothing; the one real change is one new catalog, however many tools it holds.
    expect(catalogChanges).toBe(1);
    expect(log.entries.filter((status) => status.state === 'connected')).toHaveLength(2);
  });

  it('never has two tool listings in flight: changes during one are listed once, after it', async () => {
    const hostile = hostileMcpServer([rawTool('lookup', { q: { type: 'string' } })]);
    const timers = new ManualTimers();
    const { log, manager } = setup({ createTransport: () => hostile.connect(), schedule: timers.schedule });
    await manager.update([hostileSettings]);
    const first = await log.waitFor((status) => status.state === 'connected');

    const release = hostile.holdLists();
    await hostile.spamListChanged(1);
    await timers.untilScheduled(1);
    timers.fire();
    await hostile.untilListCalls(2); // held at the server

    hostile.tools = [...hostile.tools, rawTool('extra', {})];
    for (const total of [6, 11]) {
      await hostile.spamListChanged(5);
      await timers.untilScheduled(total);
      timers.fire();
      await drain();
    }
    expect(hostile.listCalls).toBe(2);

    release();
    const grown = await log.waitFor((status) => status.state === 'connected' && status.toolCount === 2, first.index + 1);
    expect(grown.tools).toEqual(['hostile__lookup', 'hostile__extra']);
    expect(hostile.listCalls).toBe(3);
  });
});
