/**
 * The file tools' refusals, limits and notes as the model (and the user reading the activity list)
 * sees them: what each refusal says, where a listing, a search or a part of a file stops and how
 * it says so, and what the tools' schemas let through. Real temp folders throughout.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTools, fileLimits, type FilePorts } from '../../../app/agent/builtins/files';
import { ToolRegistry, type ToolDefinition } from '../../../app/agent/registry';

const noSignal = new AbortController().signal;
const realFs = fs as unknown as FilePorts['fs'];

type Call = (args?: Record<string, unknown>) => Promise<string>;

function toolsOf(definitions: ToolDefinition[]): Record<'list_files' | 'search_files' | 'read_file' | 'write_file', Call> {
  const byName = (name: string): Call => {
    const tool = definitions.find((definition) => definition.name === name);
    if (tool === undefined) throw new Error(`no tool ${name}`);
    return (args = {}) => tool.execute(args, { signal: noSignal });
  };
  return { list_files: byName('list_files'), search_files: byName('search_files'), read_file: byName('read_file'), write_file: byName('write_file') };
}

let base: string;
let work: string;
let other: string;
let granted: string[];

const tools = (fileSystem: FilePorts['fs'] = realFs, now?: () => number) => toolsOf(createFileTools({ fs: fileSystem, folders: () => granted, now }));

beforeEach(async () => {
  base = await fs.realpath(await fs.mkdtemp(join(tmpdir(), 'parley-files-tools-')));
  work = join(base, 'work');
  other = join(base, 'other');
  await fs.mkdir(join(work, 'sub'), { recursive: true });
  await fs.mkdir(other);
  await fs.writeFile(join(work, 'notes.md'), 'my notes\n');
  granted = [work];
});

afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe('the file tools refuse in words that say what to do', () => {
  it('when no granted folder exists any more, naming them', async () => {
    granted = [join(base, 'gone'), join(base, 'also-gone')];
    await expect(tools().list_files()).rejects.toThrow(
      `None of the granted workspace folders exists any more (${join(base, 'gone')}, ${join(base, 'also-gone')}). Add a folder under Settings → Workspace folders to let Parley use it.`,
    );
  });

  it('for an empty or missing path or query', async () => {
    await expect(tools().read_file({ path: '   ' })).rejects.toThrow('The path is empty.');
    await expect(tools().read_file()).rejects.toThrow('The path is empty.');
    await expect(tools().search_files({ query: '  ' })).rejects.toThrow('The search query is empty.');
    await expect(tools().search_files()).rejects.toThrow('The search query is empty.');
  });

  it('for a folder given where a file is wanted, and a file where a folder is', async () => {
    await expect(tools().list_files({ path: 'notes.md' })).rejects.toThrow('"notes.md" is a file, not a folder; use read_file to read it.');
    await expect(tools().search_files({ query: 'x', path: 'notes.md' })).rejects.toThrow('"notes.md" is a file; give a folder to search in.');
    await expect(tools().write_file({ path: work, content: 'x' })).rejects.toThrow(`"${work}" is a folder; give a file path.`);
    await expect(tools().read_file({ path: 'sub' })).rejects.toThrow('"sub" is a folder; use list_files to see what it holds.');
  });

  it('for a folder or file that does not exist', async () => {
    await expect(tools().list_files({ path: 'missing' })).rejects.toThrow('"missing" does not exist.');
    await expect(tools().search_files({ query: 'x', path: 'missing' })).rejects.toThrow('"missing" does not exist.');
  });

  it('for a path that goes through a file as if it were a folder', async () => {
    await expect(tools().read_file({ path: 'notes.md/inside.txt' })).rejects.toThrow('"notes.md/inside.txt" does not exist.');
    await expect(tools().write_file({ path: 'notes.md/inside.txt', content: 'x' })).rejects.toThrow(
      `"notes.md/inside.txt" cannot be written: ${join(work, 'notes.md')} is a file, not a folder.`,
    );
    expect(await fs.readFile(join(work, 'notes.md'), 'utf8')).toBe('my notes\n');
  });

  it('for a loop of symbolic links, with the system\'s reason rather than "does not exist"', async () => {
    await fs.symlink(join(work, 'loop'), join(work, 'loop'));
    await expect(tools().read_file({ path: 'loop/inside.txt' })).rejects.toThrow(/ELOOP/);
  });

  it('for a link out, reached through a granted folder given by a link of its own, among several grants', async () => {
    await fs.symlink(work, join(base, 'work-link'));
    await fs.writeFile(join(other, 'secret.txt'), 'the secret\n');
    await fs.symlink(other, join(work, 'escape'));
    granted = [join(base, 'work-link'), join(base, 'third')];
    await fs.mkdir(join(base, 'third'));
    await expect(tools().read_file({ path: join(base, 'work-link', 'escape', 'secret.txt') })).rejects.toThrow(
      `outside the folders Parley may use (it leads to ${join(other, 'secret.txt')} through a symbolic link)`,
    );
  });
});

describe('several granted folders', () => {
  beforeEach(async () => {
    await fs.writeFile(join(other, 'only-here.txt'), 'found in the second folder\n');
    granted = [work, other];
  });

  it('list_files without a path lists the granted folders themselves', async () => {
    for (const path of [undefined, '  ']) {
      expect(JSON.parse(await tools().list_files(path === undefined ? {} : { path }))).toEqual({
        note: 'The granted workspace folders; list one of them by its path.',
        entries: [
          { name: work, type: 'folder' },
          { name: other, type: 'folder' },
        ],
      });
    }
  });

  it('a relative path is read from the folder where it exists', async () => {
    expect(await tools().read_file({ path: 'only-here.txt' })).toBe('found in the second folder\n');
  });

  it('search_files without a path (or a blank one) searches them all', async () => {
    for (const path of [undefined, ' ']) {
      const result = JSON.parse(await tools().search_files(path === undefined ? { query: 'second' } : { query: 'second', path }));
      expect(result.matches).toEqual([{ path: join(other, 'only-here.txt'), line: 1, text: 'found in the second folder' }]);
    }
  });
});

describe('list_files', () => {
  it('with one granted folder and a blank path lists that folder', async () => {
    expect(JSON.parse(await tools().list_files({ path: ' ' })).path).toBe(work);
  });

  it('says a folder is empty, and adds no note to a listing it shows whole', async () => {
    expect(JSON.parse(await tools().list_files({ path: 'sub' }))).toEqual({ path: join(work, 'sub'), entries: [], note: 'The folder is empty.' });
    expect(JSON.parse(await tools().list_files())).not.toHaveProperty('note');
  });

  it('shows what is neither a file, a folder nor a link as "other"', async () => {
    await promisify(execFile)('mkfifo', [join(work, 'sub', 'pipe')]);
    expect(JSON.parse(await tools().list_files({ path: 'sub' })).entries).toEqual([{ name: 'pipe', type: 'other' }]);
  });

  it(`shows at most ${fileLimits.listEntries} entries and says how many there are`, async () => {
    const many = join(work, 'many');
    await fs.mkdir(many);
    await Promise.all(Array.from({ length: fileLimits.listEntries + 1 }, (_, index) => fs.mkdir(join(many, `d${String(index).padStart(4, '0')}`))));
    const listing = JSON.parse(await tools().list_files({ path: 'many' }));
    expect(listing.entries).toHaveLength(fileLimits.listEntries);
    expect(listing.entries.at(-1)).toEqual({ name: `d${String(fileLimits.listEntries - 1).padStart(4, '0')}`, type: 'folder' });
    expect(listing.note).toBe(`Showing ${fileLimits.listEntries} of ${fileLimits.listEntries + 1} entries.`);
  });

  it('leaves out whole entries from a listing too long for the model, and still says how many there are', async () => {
    const long = join(work, 'long');
    await fs.mkdir(long);
    const names = Array.from({ length: 300 }, (_, index) => `${String(index).padStart(3, '0')}-${'n'.repeat(100)}`);
    await Promise.all(names.map((name) => fs.writeFile(join(long, name), '')));
    const text = await tools().list_files({ path: 'long' });
    expect(text.length).toBeLessThanOrEqual(20_000);
    const listing = JSON.parse(text);
    expect(listing.entries.length).toBeGreaterThan(50);
    expect(listing.entries.map((entry: { name: string }) => entry.name)).toEqual(names.slice(0, listing.entries.length));
    expect(listing.note).toBe(`Showing ${listing.entries.length} of 300 entries.`);
  });
});

describe('read_file', () => {
  it('says a file is empty', async () => {
    await fs.writeFile(join(work, 'empty.txt'), '');
    expect(await tools().read_file({ path: 'empty.txt' })).toBe('"empty.txt" is empty.');
  });

  it('refuses an offset at or past the end', async () => {
    await expect(tools().read_file({ path: 'notes.md', offset: 9 })).rejects.toThrow('The offset 9 is past the end of "notes.md" (9 bytes).');
    expect(await tools().read_file({ path: 'notes.md', offset: 8 })).toBe('\n\n\n[End of file: showed bytes 8–9 of 9.]');
  });

  it('shows a file that ends in a cut-off character whole, as its last part', async () => {
    await fs.writeFile(join(work, 'cut.txt'), Buffer.concat([Buffer.from('abc'), Buffer.from([0xc3])]));
    expect(await tools().read_file({ path: 'cut.txt' })).toBe('abc\uFFFD');
  });

  it('cuts a plain ASCII file at exactly the part size', async () => {
    await fs.writeFile(join(work, 'ascii.txt'), 'a'.repeat(fileLimits.readBytes + 10));
    expect(await tools().read_file({ path: 'ascii.txt' })).toContain(`[Truncated: showed bytes 0–${fileLimits.readBytes} of ${fileLimits.readBytes + 10}.`);
  });

  it('does not split a three-byte character whose lead byte is 0xE0 (Thai)', async () => {
    // "ก" is E0 B8 81: the part ends after its first two bytes.
    await fs.writeFile(join(work, 'thai.txt'), `${'a'.repeat(fileLimits.readBytes - 2)}กข`);
    const first = await tools().read_file({ path: 'thai.txt' });
    expect(first).toContain(`showed bytes 0–${fileLimits.readBytes - 2} of`);
    expect(first).not.toContain('\uFFFD');
  });

  it('closes every file it opens, also when it refuses one', async () => {
    const open = new Set<number>();
    const counting = {
      ...fs,
      open: async (...args: Parameters<typeof fs.open>) => {
        const handle = await fs.open(...args);
        open.add(handle.fd);
        const close = handle.close.bind(handle);
        return Object.assign(handle, { close: async () => (open.delete(handle.fd), close()) });
      },
    } as unknown as FilePorts['fs'];
    await fs.writeFile(join(work, 'image.bin'), Buffer.from([1, 0, 2]));
    await tools(counting).read_file({ path: 'notes.md' });
    await expect(tools(counting).read_file({ path: 'notes.md', offset: 100 })).rejects.toThrow(/past the end/);
    await expect(tools(counting).read_file({ path: 'image.bin' })).rejects.toThrow(/binary/);
    await tools(counting).write_file({ path: 'new.md', content: 'new' });
    await tools(counting).search_files({ query: 'notes' });
    expect(open.size).toBe(0);
  });
});

describe('write_file', () => {
  it(`writes up to ${fileLimits.writeChars} characters and refuses more, writing nothing`, async () => {
    expect(await tools().write_file({ path: 'full.txt', content: 'x'.repeat(fileLimits.writeChars) })).toBe(
      `Created ${join(work, 'full.txt')} (${fileLimits.writeChars} characters).`,
    );
    await expect(tools().write_file({ path: 'over.txt', content: 'x'.repeat(fileLimits.writeChars + 1) })).rejects.toThrow(
      `The content is too long (${fileLimits.writeChars + 1} characters; the limit is ${fileLimits.writeChars}).`,
    );
    await expect(fs.access(join(work, 'over.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('writes an empty file when no content is given', async () => {
    expect(await tools().write_file({ path: 'blank.txt' })).toBe(`Created ${join(work, 'blank.txt')} (0 characters).`);
    expect(await fs.readFile(join(work, 'blank.txt'), 'utf8')).toBe('');
  });

  it('writes a file whose name is near the 255-byte limit', async () => {
    const name = `${'n'.repeat(240)}.md`;
    await tools().write_file({ path: name, content: 'long name' });
    expect(await fs.readFile(join(work, name), 'utf8')).toBe('long name');
  });

  it('keeps a mode the umask would have cut, such as group-writable', async () => {
    await fs.chmod(join(work, 'notes.md'), 0o664);
    await tools().write_file({ path: 'notes.md', content: 'replaced' });
    expect((await fs.stat(join(work, 'notes.md'))).mode & 0o777).toBe(0o664);
  });

  it('still writes where the folder itself cannot be opened to sync it (as on Windows)', async () => {
    const noFolderOpen = {
      ...fs,
      open: async (path: string, ...rest: unknown[]) =>
        path === work ? Promise.reject(Object.assign(new Error('EISDIR'), { code: 'EISDIR' })) : (fs.open as (...args: unknown[]) => Promise<unknown>)(path, ...rest),
    } as unknown as FilePorts['fs'];
    expect(await tools(noFolderOpen).write_file({ path: 'notes.md', content: 'replaced' })).toBe(`Replaced ${join(work, 'notes.md')} (8 characters).`);
    expect(await fs.readFile(join(work, 'notes.md'), 'utf8')).toBe('replaced');
  });

  it('a later write clears the temporary file a crashed write left, by the clock it was given', async () => {
    // The crash: the process died between writing the temporary file and renaming it.
    const crashing = { ...fs, rename: async () => Promise.reject(new Error('killed')), unlink: async () => Promise.reject(new Error('killed')) } as unknown as FilePorts['fs'];
    await expect(tools(crashing).write_file({ path: 'notes.md', content: 'half' })).rejects.toThrow('killed');
    const [left] = (await fs.readdir(work)).filter((name) => name.endsWith('.tmp'));
    expect(left).toMatch(/^\.notes\.md\.parley-[0-9a-f]{16}\.tmp$/);
    // The file is really an hour old, but the clock says a minute has passed: it may still be running.
    const hourAgo = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    await fs.utimes(join(work, left!), hourAgo, hourAgo);
    await tools(realFs, () => hourAgo.getTime() + 60_000).write_file({ path: 'notes.md', content: 'one' });
    expect(await fs.readdir(work)).toContain(left);
    // Exactly five minutes is not yet stale; a moment later it is.
    await tools(realFs, () => hourAgo.getTime() + 300_000).write_file({ path: 'notes.md', content: 'two' });
    expect(await fs.readdir(work)).toContain(left);
    await tools(realFs, () => hourAgo.getTime() + 300_001).write_file({ path: 'notes.md', content: 'three' });
    expect((await fs.readdir(work)).sort()).toEqual(['notes.md', 'sub']);
  });

  it('leaves a file that only looks like a temporary one, whatever its age', async () => {
    const lookalike = join(work, '.notes.md.parley-0123456789abcdef.tmp.keep');
    await fs.writeFile(lookalike, 'mine');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await fs.utimes(lookalike, hourAgo, hourAgo);
    await tools().write_file({ path: 'notes.md', content: 'replaced' });
    expect(await fs.readFile(lookalike, 'utf8')).toBe('mine');
  });
});

describe('search_files', () => {
  const saved = { ...fileLimits };
  afterEach(() => {
    Object.assign(fileLimits, saved);
  });

  const search = async (query: string, path?: string) => JSON.parse(await tools().search_files(path === undefined ? { query } : { query, path }));

  it('trims the query, trims and cuts the lines it shows, and counts the files it searched', async () => {
    await fs.writeFile(join(work, 'sub', 'a.txt'), `   TODO: indented   \n${'TODO '.repeat(60)}\n`);
    const result = await search('  todo  ');
    expect(result.matches).toEqual([
      { path: join(work, 'sub', 'a.txt'), line: 1, text: 'TODO: indented' },
      { path: join(work, 'sub', 'a.txt'), line: 2, text: 'TODO '.repeat(40) },
    ]);
    expect(result.filesSearched).toBe(2);
    expect(result).not.toHaveProperty('notes');
  });

  it('says when nothing matched', async () => {
    expect(await search('absent')).toEqual({ query: 'absent', filesSearched: 1, matches: [], notes: ['Nothing matched.'] });
  });

  it('lists matches in name order, skips links, binary files and tool folders', async () => {
    for (const name of ['delta', 'alpha', 'charlie', 'bravo', 'echo']) await fs.writeFile(join(work, 'sub', `${name}.txt`), 'needle\n');
    await fs.symlink(join(work, 'notes.md'), join(work, 'needle-link'));
    await fs.writeFile(join(work, 'binary.dat'), Buffer.concat([Buffer.from('needle\n'), Buffer.from([0])]));
    await fs.mkdir(join(work, 'node_modules'));
    await fs.writeFile(join(work, 'node_modules', 'dep.txt'), 'needle\n');
    const result = await search('needle');
    expect(result.matches.map((match: { path: string }) => match.path)).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((name) => join(work, 'sub', `${name}.txt`)));
  });

  it(`shows at most ${fileLimits.searchLinesPerFile} lines per file and says so`, async () => {
    await fs.writeFile(join(work, 'exact.txt'), 'hit\n'.repeat(fileLimits.searchLinesPerFile));
    expect(await search('hit')).not.toHaveProperty('notes');
    await fs.writeFile(join(work, 'over.txt'), 'hit\n'.repeat(fileLimits.searchLinesPerFile + 1));
    const result = await search('hit');
    expect(result.matches.filter((match: { path: string }) => match.path.endsWith('over.txt'))).toHaveLength(fileLimits.searchLinesPerFile);
    expect(result.notes).toEqual([`At most ${fileLimits.searchLinesPerFile} matching lines are shown per file.`]);
  });

  it('stops at the match limit and says so', async () => {
    fileLimits.searchMatches = 3;
    await fs.writeFile(join(work, 'three.txt'), 'hit\nhit\nhit\n');
    const exact = await search('hit');
    expect(exact.matches).toHaveLength(3);
    expect(exact.notes).toEqual(['Stopped at 3 matches; narrow the search.']);
    await fs.writeFile(join(work, 'two.txt'), 'hit\nhit\n');
    expect((await search('hit')).matches).toHaveLength(3);
    await fs.rm(join(work, 'three.txt'));
    expect(await search('hit')).not.toHaveProperty('notes');
  });

  it('stops after the entry limit and says so', async () => {
    fileLimits.searchEntries = 3;
    // work holds notes.md and sub: with one more entry in sub there are three, with two, four.
    await fs.writeFile(join(work, 'sub', 'a.txt'), 'z\n');
    expect(await search('notes')).not.toHaveProperty('notes');
    await fs.writeFile(join(work, 'sub', 'b.txt'), 'notes\n');
    const result = await search('notes');
    expect(result.notes).toEqual(['Stopped after 3 files and folders; narrow the search with a path.']);
    expect(result.matches).toEqual([{ path: join(work, 'notes.md') }, { path: join(work, 'notes.md'), line: 1, text: 'my notes' }]);
  });

  it('matches larger files by name only, and later files once the total is read', async () => {
    fileLimits.searchFileBytes = 10;
    fileLimits.searchTotalBytes = 19;
    await fs.rm(join(work, 'notes.md'));
    await fs.writeFile(join(work, 'sub', 'a-exact.txt'), 'hit-456789');
    await fs.writeFile(join(work, 'sub', 'b-over.txt'), 'hit-4567890');
    const bySize = await search('hit');
    expect(bySize.matches).toEqual([{ path: join(work, 'sub', 'a-exact.txt'), line: 1, text: 'hit-456789' }]);
    expect(bySize.notes).toEqual(['Files over 0.00001 MB were matched by name only.']);
    // a-exact (10 bytes) and b-over (11 read) make 21: c is matched by name only.
    await fs.writeFile(join(work, 'sub', 'c-hit.txt'), 'hit');
    const byTotal = await search('hit');
    expect(byTotal.matches.map((match: { path: string; line?: number }) => `${match.path.slice(work.length + 5)}${match.line === undefined ? '' : `:${match.line}`}`)).toEqual([
      'a-exact.txt:1',
      'c-hit.txt',
    ]);
    expect(byTotal.notes).toContain('Read the first 0.000019 MB of file contents; later files were matched by name only.');
    fileLimits.searchTotalBytes = 21;
    expect((await search('hit')).notes).toContain('Read the first 0.000021 MB of file contents; later files were matched by name only.');
    fileLimits.searchTotalBytes = 22;
    expect((await search('hit')).matches).toContainEqual({ path: join(work, 'sub', 'c-hit.txt'), line: 1, text: 'hit' });
  });

  it('shortens a result too long for the model to its first matches and says so', async () => {
    for (let file = 0; file < 10; file += 1) {
      await fs.writeFile(join(work, 'sub', `long-${file}.txt`), `${`match ${'x'.repeat(200)}\n`.repeat(fileLimits.searchLinesPerFile)}`);
    }
    const text = await tools().search_files({ query: 'match' });
    expect(text.length).toBeLessThanOrEqual(20_000);
    const result = JSON.parse(text);
    expect(result.matches.length).toBeGreaterThan(50);
    expect(result.matches[0]).toMatchObject({ path: join(work, 'sub', 'long-0.txt'), line: 1 });
    expect(result.notes.at(-1)).toBe(`Shortened to the first ${result.matches.length} matches to fit.`);
  });
});

describe("the file tools' schemas", () => {
  const registry = new ToolRegistry();
  for (const tool of createFileTools({ fs: realFs, folders: () => [] })) registry.register(tool);
  const ok = { ok: true };

  it('take only the arguments each tool knows, of the right types', () => {
    expect(registry.validate('list_files', {})).toEqual(ok);
    expect(registry.validate('list_files', { path: 1 })).toMatchObject({ ok: false });
    expect(registry.validate('list_files', { folder: 'x' })).toMatchObject({ ok: false });
    expect(registry.validate('search_files', { query: 'x', path: 'y' })).toEqual(ok);
    expect(registry.validate('search_files', { path: 'x' })).toMatchObject({ ok: false });
    expect(registry.validate('search_files', { query: 'x', extra: 1 })).toMatchObject({ ok: false });
    expect(registry.validate('read_file', { path: 'x', offset: 3 })).toEqual(ok);
    expect(registry.validate('read_file', { offset: 3 })).toMatchObject({ ok: false });
    expect(registry.validate('read_file', { path: 2 })).toMatchObject({ ok: false });
    expect(registry.validate('read_file', { path: 'x', offset: -1 })).toMatchObject({ ok: false });
    expect(registry.validate('read_file', { path: 'x', offset: 1.5 })).toMatchObject({ ok: false });
    expect(registry.validate('write_file', { path: 'x', content: 'y' })).toEqual(ok);
    expect(registry.validate('write_file', { path: 'x', content: 2 })).toMatchObject({ ok: false });
    expect(registry.validate('write_file', { path: 'x', content: 'y', mode: 1 })).toMatchObject({ ok: false });
  });

  it('describe each tool, and the part size read_file works in', () => {
    for (const tool of registry.list()) expect(tool.description.length, tool.name).toBeGreaterThan(40);
    expect(registry.list().find((tool) => tool.name === 'read_file')?.description).toContain('parts of 20 KB');
  });
});
