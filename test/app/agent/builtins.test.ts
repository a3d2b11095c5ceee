import * as fs from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinTools, type FetchPort } from '../../../app/agent/builtins';
import { ToolRegistry, type ToolDefinition } from '../../../app/agent/registry';

const noSignal = new AbortController().signal;

function toolFrom(tools: ToolDefinition[], name: string): (args?: Record<string, unknown>, signal?: AbortSignal) => Promise<string> {
  const tool = tools.find((definition) => definition.name === name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  return (args = {}, signal = noSignal) => tool.execute(args, { signal });
}

/** Every built-in with harmless ports, for the checks that do not touch the ports. */
function builtins(overrides: { folders?: string[]; fetch?: FetchPort; now?: () => Date; localTimeZone?: () => string } = {}) {
  let clipboard = '';
  const folders = overrides.folders ?? [];
  return createBuiltinTools({
    time: { now: overrides.now, localTimeZone: overrides.localTimeZone },
    notes: { fs, folder: join(tmpdir(), 'parley-unused-notes') },
    clipboard: { readText: () => clipboard, writeText: (text) => void (clipboard = text) },
    files: { fs, folders: () => folders },
    fetch: { fetch: overrides.fetch ?? (async () => Promise.reject(new Error('no network in this test'))) },
  });
}

describe('the built-in tools', () => {
  it('register with the names, risks and valid schemas the co-pilot expects', () => {
    const registry = new ToolRegistry();
    for (const tool of builtins()) registry.register(tool);
    expect(Object.fromEntries(registry.list().map((tool) => [tool.name, tool.risk]))).toEqual({
      get_time: 'safe',
      calculate: 'safe',
      save_note: 'write',
      list_notes: 'private',
      search_notes: 'private',
      read_clipboard: 'private',
      write_clipboard: 'write',
      list_files: 'private',
      search_files: 'private',
      read_file: 'private',
      write_file: 'write',
      fetch_page: 'network',
    });
    expect(registry.list().every((tool) => tool.source === 'builtin')).toBe(true);
    expect(registry.validate('calculate', {})).toMatchObject({ ok: false });
    expect(registry.validate('get_time', { timezone: 'Europe/Paris' })).toEqual({ ok: true });
  });

  it('say in a sentence what each call that asks first will do, quoting long values cut', () => {
    const tools = builtins();
    const summary = (name: string, args: Record<string, unknown>) => tools.find((tool) => tool.name === name)?.summarize?.(args);
    expect(summary('save_note', { text: 'buy milk' })).toBe('save a note: “buy milk”');
    expect(summary('save_note', { text: `call the plumber\nabout ${'the leak '.repeat(10)}` })).toBe('save a note: “call the plumber about the leak the leak the leak the leak…”');
    expect(summary('read_file', { path: '/home/me/notes.md' })).toBe('read the file “/home/me/notes.md”');
    expect(summary('list_files', {})).toBe('list your workspace folders');
    expect(summary('search_files', { query: 'TODO' })).toBe('search your workspace folders for “TODO”');
    expect(summary('fetch_page', { url: 'https://example.com/a' })).toBe('fetch the web page “https://example.com/a”');
    expect(summary('write_clipboard', { text: 'hello' })).toBe('put text on your clipboard: “hello”');
    // Every tool that may ask has its own sentence; only the safe ones, which never ask, go without.
    expect(tools.filter((tool) => tool.risk !== 'safe' && tool.summarize === undefined).map((tool) => tool.name)).toEqual([]);
  });
});

describe('get_time', () => {
  const instant = new Date('2025-03-14T14:09:26.500Z');

  it("tells the date, time, weekday and offset in the user's zone", async () => {
    const getTime = toolFrom(builtins({ now: () => instant, localTimeZone: () => 'Asia/Tokyo' }), 'get_time');
    expect(JSON.parse(await getTime())).toEqual({
      timezone: 'Asia/Tokyo',
      date: '2025-03-14',
      time: '23:09:26',
      weekday: 'Friday',
      iso: '2025-03-14T23:09:26+09:00',
      utcOffset: '+09:00',
      utc: '2025-03-14T14:09:26.500Z',
    });
  });

  it('answers for another zone, daylight saving included', async () => {
    const getTime = toolFrom(builtins({ now: () => instant }), 'get_time');
    expect(JSON.parse(await getTime({ timezone: 'America/New_York' }))).toMatchObject({ time: '10:09:26', iso: '2025-03-14T10:09:26-04:00' });
    expect(JSON.parse(await getTime({ timezone: 'Asia/Kolkata' }))).toMatchObject({ time: '19:39:26', utcOffset: '+05:30' });
  });

  it('refuses an unknown zone with a message saying what to give', async () => {
    const getTime = toolFrom(builtins(), 'get_time');
    await expect(getTime({ timezone: 'Mars/Olympus_Mons' })).rejects.toThrow(/Unknown time zone "Mars\/Olympus_Mons".*IANA/);
  });
});

describe('calculate', () => {
  const calculate = toolFrom(builtins(), 'calculate');

  it('evaluates arithmetic, functions and unit conversions', async () => {
    expect(await calculate({ expression: '(12.5 * 3) / 4' })).toBe('9.375');
    expect(await calculate({ expression: '0.1 + 0.2' })).toBe('0.3');
    expect(await calculate({ expression: 'sqrt(2) ^ 2' })).toBe('2');
    expect(await calculate({ expression: '15% * 80' })).toBe('12');
    expect(await calculate({ expression: 'mean([3, 5, 10])' })).toBe('6');
    expect(await calculate({ expression: '10!' })).toBe('3628800');
    expect(await calculate({ expression: '5 km to mi' })).toMatch(/^3\.10685\d* mi$/);
  });

  it('refuses assignments, definitions, import and createUnit', async () => {
    await expect(calculate({ expression: 'x = 5' })).rejects.toThrow(/Assignments and function definitions are not allowed/);
    await expect(calculate({ expression: 'f(x) = x^2' })).rejects.toThrow(/not allowed/);
    await expect(calculate({ expression: 'import({pi: 3}, {override: true})' })).rejects.toThrow(/"import" is not available/);
    await expect(calculate({ expression: 'createUnit("parsec2")' })).rejects.toThrow(/"createUnit" is not available/);
    await expect(calculate({ expression: 'evaluate("1+1")' })).rejects.toThrow(/not available/);
    // The constants stay what they were.
    expect(await calculate({ expression: 'round(pi, 4)' })).toBe('3.1416');
  });

  it('explains bad input', async () => {
    await expect(calculate({ expression: '2 +' })).rejects.toThrow(/Could not calculate "2 \+": Unexpected end of expression/);
    await expect(calculate({ expression: 'apples * 3' })).rejects.toThrow(/Unknown name "apples"/);
    await expect(calculate({ expression: '   ' })).rejects.toThrow(/empty/);
    await expect(calculate({ expression: '1:1e9' })).rejects.toThrow(/Ranges/);
    await expect(calculate({ expression: '1+'.repeat(600) + '1' })).rejects.toThrow(/too long/);
  });
});

describe('notes', () => {
  let folder: string;
  let clock: number;
  const now = () => new Date((clock += 60_000));

  beforeEach(async () => {
    folder = join(await fs.mkdtemp(join(tmpdir(), 'parley-notes-')), 'notes');
    clock = Date.parse('2025-01-01T09:00:00Z');
  });

  const tools = () => createBuiltinTools({
    time: {},
    notes: { fs, folder, now },
    clipboard: { readText: () => '', writeText: () => undefined },
    files: { fs, folders: () => [] },
    fetch: { fetch: async () => Promise.reject(new Error('unused')) },
  });

  it('saves notes that a later session lists newest first, with dates', async () => {
    const save = toolFrom(tools(), 'save_note');
    expect(JSON.parse(await save({ text: 'Buy milk' }))).toMatchObject({ saved: true, title: 'Buy milk', createdAt: '2025-01-01T09:01:00.000Z' });
    await save({ text: 'TODO: call the plumber\nabout the sink', title: 'Plumber' });
    await save({ text: 'Remember: todo list for the trip' });

    const list = toolFrom(tools(), 'list_notes');
    const listed = JSON.parse(await list());
    expect(listed.total).toBe(3);
    expect(listed.notes.map((note: { title: string; createdAt: string }) => [note.title, note.createdAt])).toEqual([
      ['Remember: todo list for the trip', '2025-01-01T09:03:00.000Z'],
      ['Plumber', '2025-01-01T09:02:00.000Z'],
      ['Buy milk', '2025-01-01T09:01:00.000Z'],
    ]);
    expect(listed.notes[1].text).toBe('TODO: call the plumber\nabout the sink');
    expect(JSON.parse(await list({ limit: 1 }))).toMatchObject({ total: 3, shown: 1, note: 'Showing the 1 newest of 3 notes.' });
    // Written atomically: no temporary files are left behind.
    expect((await fs.readdir(folder)).every((name) => name.endsWith('.json'))).toBe(true);
  });

  it('finds TODOs case-insensitively, with dates', async () => {
    const all = tools();
    await toolFrom(all, 'save_note')({ text: 'TODO: renew passport' });
    await toolFrom(all, 'save_note')({ text: 'Groceries: eggs, flour' });
    await toolFrom(all, 'save_note')({ text: 'Project notes\n- [ ] todo: write tests' });
    const found = JSON.parse(await toolFrom(all, 'search_notes')({ query: 'TODO' }));
    expect(found.total).toBe(2);
    expect(found.notes.map((note: { createdAt: string; text: string }) => [note.createdAt, note.text])).toEqual([
      ['2025-01-01T09:03:00.000Z', 'Project notes\n- [ ] todo: write tests'],
      ['2025-01-01T09:01:00.000Z', 'TODO: renew passport'],
    ]);
    expect(JSON.parse(await toolFrom(all, 'search_notes')({ query: 'dentist' }))).toMatchObject({ total: 0, note: 'No note matches.' });
  });

  it('says when there are no notes, refuses empty ones, and skips damaged files', async () => {
    const all = tools();
    expect(JSON.parse(await toolFrom(all, 'list_notes')())).toMatchObject({ total: 0, note: 'There are no saved notes yet.' });
    await expect(toolFrom(all, 'save_note')({ text: '   ' })).rejects.toThrow(/empty/);
    await toolFrom(all, 'save_note')({ text: 'kept' });
    await fs.writeFile(join(folder, 'broken.json'), '{ not json', 'utf8');
    expect(JSON.parse(await toolFrom(all, 'list_notes')()).notes.map((note: { text: string }) => note.text)).toEqual(['kept']);
  });
});

describe('clipboard', () => {
  it('writes text the user can paste and reads it back', async () => {
    let board = 'copied earlier';
    const tools = createBuiltinTools({
      notes: { fs, folder: tmpdir() },
      clipboard: { readText: async () => board, writeText: async (text) => void (board = text) },
      files: { fs, folders: () => [] },
      fetch: { fetch: async () => Promise.reject(new Error('unused')) },
    });
    expect(await toolFrom(tools, 'read_clipboard')()).toBe('copied earlier');
    expect(await toolFrom(tools, 'write_clipboard')({ text: 'The answer is 42' })).toBe('Copied 16 characters to the clipboard.');
    expect(board).toBe('The answer is 42');
    board = '';
    expect(await toolFrom(tools, 'read_clipboard')()).toMatch(/empty/);
    board = 'x'.repeat(50_000);
    expect(await toolFrom(tools, 'read_clipboard')()).toMatch(/\[Truncated: showing the first 20,000 of 50,000 characters/);
  });
});

describe('workspace files', () => {
  let base: string;
  let work: string;
  let outside: string;
  let granted: string[];
  let tools: ToolDefinition[];

  beforeEach(async () => {
    base = await fs.realpath(await fs.mkdtemp(join(tmpdir(), 'parley-files-')));
    work = join(base, 'work');
    outside = join(base, 'outside');
    await fs.mkdir(join(work, 'sub'), { recursive: true });
    await fs.mkdir(outside);
    await fs.writeFile(join(work, 'notes.md'), '# Project\nTODO: fix the login bug\nDone: ship it\n');
    await fs.writeFile(join(work, 'sub', 'todo.txt'), 'nothing to see\n');
    await fs.writeFile(join(work, 'sub', 'code.ts'), 'const a = 1; // todo tidy up\n');
    await fs.writeFile(join(work, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3]));
    await fs.writeFile(join(outside, 'secret.txt'), 'TODO: the secret plan\n');
    await fs.symlink(outside, join(work, 'escape'));
    await fs.symlink(join(outside, 'secret.txt'), join(work, 'link.txt'));
    granted = [work];
    tools = builtins({ folders: granted });
  });

  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it('refuses everything when no folder is granted, saying where to grant one', async () => {
    granted.length = 0;
    await expect(toolFrom(tools, 'list_files')()).rejects.toThrow(/No workspace folders are granted.*Settings → Workspace folders/);
    await expect(toolFrom(tools, 'read_file')({ path: join(work, 'notes.md') })).rejects.toThrow(/No workspace folders are granted/);
  });

  it('lists a granted folder', async () => {
    const listing = JSON.parse(await toolFrom(tools, 'list_files')({ path: work }));
    expect(listing.path).toBe(work);
    expect(listing.entries.map((entry: { name: string; type: string }) => `${entry.type}:${entry.name}`)).toEqual([
      'folder:sub',
      'link:escape',
      'file:image.bin',
      'link:link.txt',
      'file:notes.md',
    ]);
    expect(listing.entries.find((entry: { name: string }) => entry.name === 'notes.md')).toMatchObject({ size: 48, modified: expect.any(String) });
    expect(JSON.parse(await toolFrom(tools, 'list_files')()).path).toBe(work);
    expect(JSON.parse(await toolFrom(tools, 'list_files')({ path: 'sub' })).entries).toHaveLength(2);
  });

  it('reads text files by absolute or relative path', async () => {
    expect(await toolFrom(tools, 'read_file')({ path: join(work, 'notes.md') })).toBe('# Project\nTODO: fix the login bug\nDone: ship it\n');
    expect(await toolFrom(tools, 'read_file')({ path: 'sub/code.ts' })).toContain('todo tidy up');
    await expect(toolFrom(tools, 'read_file')({ path: 'missing.txt' })).rejects.toThrow(/"missing.txt" does not exist/);
    await expect(toolFrom(tools, 'read_file')({ path: 'sub' })).rejects.toThrow(/is a folder/);
  });

  it('cuts a long file into parts only between whole UTF-8 characters, and reads on from there', async () => {
    const limit = 20_000;
    for (const char of ['é', '€', '𝄞']) {
      const size = Buffer.byteLength(char);
      // The character ends `over` bytes past the limit (0: exactly at it).
      for (let over = 0; over < size; over += 1) {
        const before = limit - size + over;
        const path = join(work, `utf8-${size}-${over}.txt`);
        await fs.writeFile(path, `${'a'.repeat(before)}${char}tail`);
        const first = await toolFrom(tools, 'read_file')({ path });
        const kept = over === 0 ? before + size : before;
        expect(first.startsWith(`${'a'.repeat(before)}${over === 0 ? char : ''}\n\n`), `${char} ${over}`).toBe(true);
        expect(first).toContain(`showed bytes 0–${kept} of ${before + size + 4}. Call read_file with offset ${kept} to read on.`);
        const rest = await toolFrom(tools, 'read_file')({ path, offset: kept });
        expect(rest.startsWith(over === 0 ? 'tail' : `${char}tail`), `${char} ${over}`).toBe(true);
        expect(rest).toContain(`[End of file: showed bytes ${kept}–${before + size + 4} of ${before + size + 4}.]`);
      }
    }
  });

  it('refuses a file with a zero byte in its first 8 KB as binary, and reads one whose zero comes later', async () => {
    await fs.writeFile(join(work, 'late-zero.txt'), Buffer.concat([Buffer.from('x'.repeat(8192)), Buffer.from([0]), Buffer.from('y')]));
    expect(await toolFrom(tools, 'read_file')({ path: 'late-zero.txt' })).toMatch(/^x{8192}/);
    await expect(toolFrom(tools, 'read_file')({ path: 'image.bin' })).rejects.toThrow('"image.bin" looks like a binary file; read_file reads text files only.');
  });

  it('refuses a sibling folder whose name starts with the grant\'s (work-secrets beside work)', async () => {
    const sibling = `${work}-secrets`;
    await fs.mkdir(sibling);
    await fs.writeFile(join(sibling, 'keys.txt'), 'the keys\n');
    for (const path of [join(sibling, 'keys.txt'), '../work-secrets/keys.txt']) {
      await expect(toolFrom(tools, 'read_file')({ path })).rejects.toThrow(`is outside the folders Parley may use. Granted folders: ${work}.`);
    }
    await expect(toolFrom(tools, 'list_files')({ path: sibling })).rejects.toThrow(/outside the folders/);
    await expect(toolFrom(tools, 'write_file')({ path: join(sibling, 'new.txt'), content: 'x' })).rejects.toThrow(/outside the folders/);
    await expect(fs.readdir(sibling)).resolves.toEqual(['keys.txt']);
  });

  it('refuses paths outside the granted folders, by .. or absolute path, naming the granted folders', async () => {
    for (const path of ['../outside/secret.txt', join(outside, 'secret.txt'), '/etc/hostname', `${work}/../outside/secret.txt`]) {
      await expect(toolFrom(tools, 'read_file')({ path })).rejects.toThrow(`is outside the folders Parley may use. Granted folders: ${work}.`);
    }
    await expect(toolFrom(tools, 'list_files')({ path: base })).rejects.toThrow(/outside the folders/);
    // Not even whether a file exists out there leaks.
    await expect(toolFrom(tools, 'read_file')({ path: join(outside, 'nope.txt') })).rejects.toThrow(/outside the folders/);
  });

  it('refuses symbolic links that lead out of the granted folders', async () => {
    await expect(toolFrom(tools, 'read_file')({ path: 'escape/secret.txt' })).rejects.toThrow(/outside the folders Parley may use \(it leads to .*secret\.txt through a symbolic link\)/);
    await expect(toolFrom(tools, 'read_file')({ path: join(work, 'link.txt') })).rejects.toThrow(/through a symbolic link/);
    await expect(toolFrom(tools, 'list_files')({ path: 'escape' })).rejects.toThrow(/through a symbolic link/);
    await expect(toolFrom(tools, 'write_file')({ path: 'escape/planted.txt', content: 'x' })).rejects.toThrow(/through a symbolic link/);
    await expect(fs.access(join(outside, 'planted.txt'))).rejects.toThrow();
  });

  it('searches names and contents case-insensitively without following links out', async () => {
    const result = JSON.parse(await toolFrom(tools, 'search_files')({ query: 'TODO' }));
    expect(result.matches).toEqual([
      { path: join(work, 'notes.md'), line: 2, text: 'TODO: fix the login bug' },
      { path: join(work, 'sub', 'code.ts'), line: 1, text: 'const a = 1; // todo tidy up' },
      { path: join(work, 'sub', 'todo.txt') },
    ]);
    expect(JSON.stringify(result)).not.toContain('secret');
    const scoped = JSON.parse(await toolFrom(tools, 'search_files')({ query: 'todo', path: 'sub' }));
    expect(scoped.matches.map((match: { path: string }) => match.path)).toEqual([join(work, 'sub', 'code.ts'), join(work, 'sub', 'todo.txt')]);
    await expect(toolFrom(tools, 'search_files')({ query: 'TODO', path: outside })).rejects.toThrow(/outside the folders/);
  });

  it('stops a search when the call is cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('Cancelled by the user.'));
    await expect(toolFrom(tools, 'search_files')({ query: 'TODO' }, controller.signal)).rejects.toThrow('Cancelled by the user.');
  });

  it('refuses binary files and reads long files in parts', async () => {
    await expect(toolFrom(tools, 'read_file')({ path: 'image.bin' })).rejects.toThrow(/binary file; read_file reads text files only/);
    const line = 'Zoë’s line of text — with some multibyte characters.\n';
    const long = line.repeat(1000);
    await fs.writeFile(join(work, 'long.txt'), long);
    const size = Buffer.byteLength(long);
    const first = await toolFrom(tools, 'read_file')({ path: 'long.txt' });
    const offset = Number(/Call read_file with offset (\d+)/.exec(first)?.[1]);
    expect(first).toContain(`[Truncated: showed bytes 0–${offset} of ${size}.`);
    expect(offset).toBeGreaterThan(19_990);
    expect(offset).toBeLessThanOrEqual(20_000);
    expect(first).not.toContain('\uFFFD');
    const second = await toolFrom(tools, 'read_file')({ path: 'long.txt', offset });
    expect(second).not.toContain('\uFFFD');
    const text = (part: string) => part.slice(0, part.lastIndexOf('\n\n['));
    // The parts join up exactly: nothing lost or doubled at the cut, even mid-character.
    expect(long.startsWith(text(first) + text(second))).toBe(true);
  });

  it('writes files inside the granted folders, creating folders as needed', async () => {
    expect(await toolFrom(tools, 'write_file')({ path: 'drafts/new/plan.md', content: '# Plan\n' })).toBe(`Created ${join(work, 'drafts', 'new', 'plan.md')} (7 characters).`);
    expect(await fs.readFile(join(work, 'drafts', 'new', 'plan.md'), 'utf8')).toBe('# Plan\n');
    expect(await toolFrom(tools, 'write_file')({ path: join(work, 'notes.md'), content: 'replaced' })).toMatch(/^Replaced /);
    expect(await fs.readFile(join(work, 'notes.md'), 'utf8')).toBe('replaced');
    await expect(toolFrom(tools, 'write_file')({ path: '../outside/new.txt', content: 'x' })).rejects.toThrow(/outside the folders/);
    await expect(toolFrom(tools, 'write_file')({ path: 'sub', content: 'x' })).rejects.toThrow(/is a folder/);
    await expect(fs.access(join(outside, 'new.txt'))).rejects.toThrow();
  });

  it('follows the granted folders as settings change', async () => {
    granted.splice(0, 1, outside);
    expect(await toolFrom(tools, 'read_file')({ path: join(outside, 'secret.txt') })).toContain('secret plan');
    await expect(toolFrom(tools, 'read_file')({ path: join(work, 'notes.md') })).rejects.toThrow(`Granted folders: ${outside}.`);
  });
});

describe('fetch_page', () => {
  let server: ReturnType<typeof createServer>;
  let origin: string;
  const requests: string[] = [];
  const arrived = new Set<(path: string) => void>();

  const routes: Record<string, (response: ServerResponse) => void> = {
    '/page': (response) =>
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          '<!doctype html><html><head><title>Parley &amp; friends</title><style>body { color: red }</style><script>var secret = "tracking";</script></head>' +
            '<body><nav><a href="/">Home</a></nav><h1>Welcome</h1><p>Voice   and\n text <b>co-pilot</b> &mdash; fast.</p><ul><li>One</li><li>Two</li></ul>' +
            '<script>alert("x")</script><!-- hidden --></body></html>',
        ),
    '/plain': (response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('Just text.\n'),
    '/image': (response) => response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(100)),
    '/missing': (response) => response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>'),
    '/redirect': (response) => response.writeHead(302, { location: '/hop/1' }).end(),
    '/hop/1': (response) => response.writeHead(301, { location: '/page' }).end(),
    '/loop': (response) => response.writeHead(302, { location: '/loop' }).end(),
    '/huge': (response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      const paragraph = `<p>${'All work and no play makes a long page. '.repeat(25)}</p>\n`;
      let sent = 0;
      const pump = () => {
        while (sent < 3_000_000) {
          sent += paragraph.length;
          if (!response.write(paragraph)) return void response.once('drain', pump);
        }
        response.end();
      };
      response.on('error', () => undefined);
      pump();
    },
    '/slow': () => undefined, // never answers
  };

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const path = request.url ?? '/';
      requests.push(path);
      for (const listener of arrived) listener(path);
      (routes[path] ?? ((res: ServerResponse) => res.writeHead(404).end()))(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetchPage = (options: { timeoutMs?: number } = {}) =>
    toolFrom(createBuiltinTools({ notes: { fs, folder: tmpdir() }, clipboard: { readText: () => '', writeText: () => undefined }, files: { fs, folders: () => [] }, fetch: { fetch, allowLoopback: true, ...options } }), 'fetch_page');

  it("returns a page's title and readable text, without scripts, styles or tags", async () => {
    const page = await fetchPage()({ url: `${origin}/page` });
    expect(page).toBe(`Title: Parley & friends\nURL: ${origin}/page\n\nWelcome\n\nVoice and text co-pilot — fast.\n\n- One\n- Two`);
  });

  it('returns plain text as it is and follows redirects to the final page', async () => {
    expect(await fetchPage()({ url: `${origin}/plain` })).toBe(`URL: ${origin}/plain\n\nJust text.`);
    expect(await fetchPage()({ url: `${origin}/redirect` })).toContain(`URL: ${origin}/page\n\nWelcome`);
    await expect(fetchPage()({ url: `${origin}/loop` })).rejects.toThrow(/redirected more than 5 times/);
  });

  it('refuses non-text content and reports HTTP errors', async () => {
    await expect(fetchPage()({ url: `${origin}/image` })).rejects.toThrow(`fetch_page reads web pages and text only; ${origin}/image is image/png.`);
    await expect(fetchPage()({ url: `${origin}/missing` })).rejects.toThrow(`${origin}/missing answered HTTP 404.`);
  });

  it('reads at most 1 MB of a huge page and returns about 20 KB of text', async () => {
    const page = await fetchPage()({ url: `${origin}/huge` });
    expect(page).toMatch(/\[Truncated: showing the first 20,000 of [\d,]+ characters of the page\.\]/);
    expect(page).toContain('[The page is larger than 1 MB; only its first 1 MB was read.]');
    expect(page.length).toBeLessThan(20_400);
  });

  it('gives up when the user cancels, and after its time limit', async () => {
    const controller = new AbortController();
    const listener = (path: string) => {
      if (path === '/slow') controller.abort(new Error('Cancelled by the user.'));
    };
    arrived.add(listener);
    await expect(fetchPage()({ url: `${origin}/slow` }, controller.signal)).rejects.toThrow('Cancelled by the user.');
    arrived.delete(listener);
    await expect(fetchPage({ timeoutMs: 200 })({ url: `${origin}/slow` })).rejects.toThrow(`Fetching ${origin}/slow took longer than 0.2 s and was stopped.`);
  });

  it('refuses other schemes and addresses on this computer or the local network, before any request', async () => {
    const calls: string[] = [];
    const spy: FetchPort = async (url) => {
      calls.push(url);
      throw new Error('must not be called');
    };
    const tool = (lookup?: (host: string) => Promise<string[]>) =>
      toolFrom(createBuiltinTools({ notes: { fs, folder: tmpdir() }, clipboard: { readText: () => '', writeText: () => undefined }, files: { fs, folders: () => [] }, fetch: { fetch: spy, lookup } }), 'fetch_page');
    await expect(tool()({ url: 'file:///etc/passwd' })).rejects.toThrow('fetch_page only fetches http and https pages, not file: addresses.');
    await expect(tool()({ url: 'data:text/plain,hello' })).rejects.toThrow(/not data: addresses/);
    await expect(tool()({ url: 'ftp://example.com/file' })).rejects.toThrow(/not ftp: addresses/);
    await expect(tool()({ url: 'not a url' })).rejects.toThrow(/is not a web address/);
    for (const url of [`${origin}/page`, 'http://localhost:8080/', 'http://[::1]/', 'http://10.0.0.1/', 'http://192.168.1.1/admin', 'http://169.254.169.254/latest', 'http://2130706433/', 'http://[::ffff:127.0.0.1]/']) {
      await expect(tool()({ url })).rejects.toThrow(/does not fetch addresses on this computer or the local network/);
    }
    await expect(tool(async () => ['192.168.0.20'])({ url: 'http://printer.example/' })).rejects.toThrow('(printer.example is 192.168.0.20)');
    expect(calls).toEqual([]);
  });

  it('refuses a redirect from a public page into the local network', async () => {
    const calls: string[] = [];
    const redirecting: FetchPort = async (url) => {
      calls.push(url);
      return new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:9/admin' } });
    };
    const tool = toolFrom(createBuiltinTools({ notes: { fs, folder: tmpdir() }, clipboard: { readText: () => '', writeText: () => undefined }, files: { fs, folders: () => [] }, fetch: { fetch: redirecting } }), 'fetch_page');
    await expect(tool({ url: 'https://example.com/' })).rejects.toThrow(/does not fetch addresses on this computer/);
    expect(calls).toEqual(['https://example.com/']);
  });
});
