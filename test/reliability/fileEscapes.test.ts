/**
 * The file-tool escape list: every way we know of to make `list_files`, `search_files`,
 * `read_file` or `write_file` reach past the granted folder, as one table. Each row plants what it
 * needs in a real temp folder, makes one call as the model would, and must end with the call
 * refused in a message that says why, nothing outside the grant read into the answer, and nothing
 * outside the grant created, changed or removed. The races (a link swapped in while a file is
 * opened) are in test/app/agent/files.security.test.ts, where the open can be intercepted.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTools, type FilePorts } from '../../app/agent/builtins';

const run = promisify(execFile);
const noSignal = new AbortController().signal;
const secret = 'the secret';

type ToolName = 'list_files' | 'search_files' | 'read_file' | 'write_file';

interface Folders {
  /** The granted folder. */
  work: string;
  /** A folder beside it whose name starts with the granted folder's name. */
  sibling: string;
  /** Somewhere the grant does not reach. */
  outside: string;
}

interface Escape {
  name: string;
  tool: ToolName;
  /** Plants links, pipes and sockets inside the granted folder before the call. */
  plant?: (folders: Folders, track: Track) => Promise<void>;
  args: (folders: Folders) => Record<string, unknown>;
  /** What the refusal must say, so the model (and the user) learns why. */
  refusal: RegExp;
}

interface Track {
  fifo(path: string): Promise<void>;
  socket(path: string): Promise<void>;
}

const outsideSecret = ({ outside }: Folders) => join(outside, 'secret.txt');
const link = (target: (folders: Folders) => string, name: string) => async (folders: Folders) => {
  await fs.symlink(target(folders), join(folders.work, name));
};
const outsideGrant = /outside the folders Parley may use/;

const escapes: Escape[] = [
  { name: 'a relative path up out of the folder', tool: 'read_file', args: () => ({ path: '../outside/secret.txt' }), refusal: outsideGrant },
  { name: 'a path that goes down, then further up', tool: 'read_file', args: () => ({ path: 'sub/../../outside/secret.txt' }), refusal: outsideGrant },
  { name: 'an absolute path outside', tool: 'read_file', args: (folders) => ({ path: outsideSecret(folders) }), refusal: outsideGrant },
  { name: 'the grant followed by /..', tool: 'list_files', args: ({ work }) => ({ path: `${work}/..` }), refusal: outsideGrant },
  {
    name: 'a sibling folder whose name starts with the grant (no separator check)',
    tool: 'read_file',
    args: ({ sibling }) => ({ path: join(sibling, 'key.txt') }),
    refusal: outsideGrant,
  },
  { name: 'a link to a file outside', tool: 'read_file', plant: link(outsideSecret, 'innocent.md'), args: () => ({ path: 'innocent.md' }), refusal: /symbolic link/ },
  { name: 'a link to a folder outside, then a file in it', tool: 'read_file', plant: link(({ outside }) => outside, 'docs'), args: () => ({ path: 'docs/secret.txt' }), refusal: /symbolic link/ },
  {
    name: 'a chain of links that ends outside',
    tool: 'read_file',
    plant: async (folders) => {
      await fs.symlink(outsideSecret(folders), join(folders.work, 'second'));
      await fs.symlink(join(folders.work, 'second'), join(folders.work, 'first'));
    },
    args: () => ({ path: 'first' }),
    refusal: /symbolic link/,
  },
  { name: 'a link to a device', tool: 'read_file', plant: link(() => '/dev/zero', 'zeros'), args: () => ({ path: 'zeros' }), refusal: /symbolic link/ },
  { name: 'a folder listed through a link outside', tool: 'list_files', plant: link(({ outside }) => outside, 'docs'), args: () => ({ path: 'docs' }), refusal: /symbolic link/ },
  { name: 'a search rooted in a link outside', tool: 'search_files', plant: link(({ outside }) => outside, 'docs'), args: () => ({ query: 'secret', path: 'docs' }), refusal: /symbolic link/ },
  { name: 'a search rooted above the grant', tool: 'search_files', args: () => ({ query: 'secret', path: '..' }), refusal: outsideGrant },
  { name: 'a write up out of the folder', tool: 'write_file', args: () => ({ path: '../outside/secret.txt', content: 'overwritten' }), refusal: outsideGrant },
  { name: 'a write to an absolute path outside', tool: 'write_file', args: ({ outside }) => ({ path: join(outside, 'planted.txt'), content: 'planted' }), refusal: outsideGrant },
  { name: 'a write through a link to a file outside', tool: 'write_file', plant: link(outsideSecret, 'innocent.md'), args: () => ({ path: 'innocent.md', content: 'overwritten' }), refusal: /symbolic link/ },
  {
    name: 'a write through a dangling link that would create a file outside',
    tool: 'write_file',
    plant: link(({ outside }) => join(outside, 'planted.txt'), 'new.md'),
    args: () => ({ path: 'new.md', content: 'planted' }),
    refusal: /symbolic link/,
  },
  {
    name: 'a write into a link to a folder outside',
    tool: 'write_file',
    plant: link(({ outside }) => outside, 'docs'),
    args: () => ({ path: 'docs/planted.txt', content: 'planted' }),
    refusal: /symbolic link/,
  },
  {
    name: 'a write through a dangling link to a folder that would be made outside',
    tool: 'write_file',
    plant: link(({ outside }) => join(outside, 'not-yet'), 'drafts'),
    args: () => ({ path: 'drafts/planted.txt', content: 'planted' }),
    refusal: /symbolic link/,
  },
  { name: 'a read of a FIFO (would wait for a writer forever)', tool: 'read_file', plant: async ({ work }, track) => track.fifo(join(work, 'pipe')), args: () => ({ path: 'pipe' }), refusal: /not a regular file/ },
  { name: 'a write to a FIFO (would wait for a reader forever)', tool: 'write_file', plant: async ({ work }, track) => track.fifo(join(work, 'pipe')), args: () => ({ path: 'pipe', content: 'x' }), refusal: /not a regular file/ },
  { name: 'a read of a Unix socket', tool: 'read_file', plant: async ({ work }, track) => track.socket(join(work, 'control.sock')), args: () => ({ path: 'control.sock' }), refusal: /not a regular file/ },
  { name: 'a write over a Unix socket', tool: 'write_file', plant: async ({ work }, track) => track.socket(join(work, 'control.sock')), args: () => ({ path: 'control.sock', content: 'x' }), refusal: /not a regular file/ },
  { name: 'a path with a NUL byte that cuts it short', tool: 'read_file', args: () => ({ path: 'notes.md\u0000../../outside/secret.txt' }), refusal: /NUL|null bytes|could not|invalid/i },
  { name: 'a home-folder shorthand, which is not expanded', tool: 'read_file', args: () => ({ path: '~/outside/secret.txt' }), refusal: /does not exist/ },
  { name: 'Windows separators, which are not separators here', tool: 'read_file', args: () => ({ path: '..\\outside\\secret.txt' }), refusal: /does not exist/ },
  { name: 'a URL-encoded climb, which is not decoded', tool: 'read_file', args: () => ({ path: '%2e%2e/outside/secret.txt' }), refusal: /does not exist/ },
  { name: 'the granted folder itself as a file to write', tool: 'write_file', args: ({ work }) => ({ path: work, content: 'x' }), refusal: /is a folder/ },
];

/** Every file below `root` with its content (or link target), so any change outside shows. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const key = relative(root, path);
    if (entry.isSymbolicLink()) result[key] = `-> ${await fs.readlink(path)}`;
    else if (entry.isFile()) result[key] = await fs.readFile(path, 'utf8');
    else if (entry.isDirectory()) result[key] = '(folder)';
  }
  return result;
}

describe('the file-tool escape list', () => {
  let base: string;
  let folders: Folders;
  const fifos: string[] = [];
  const sockets: Server[] = [];

  const track: Track = {
    async fifo(path) {
      await run('mkfifo', [path]);
      fifos.push(path);
    },
    async socket(path) {
      const server = createServer();
      sockets.push(server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
    },
  };

  beforeEach(async () => {
    base = await fs.realpath(await fs.mkdtemp(join(tmpdir(), 'parley-escapes-')));
    folders = { work: join(base, 'work'), sibling: join(base, 'work-secrets'), outside: join(base, 'outside') };
    await fs.mkdir(join(folders.work, 'sub'), { recursive: true });
    await fs.writeFile(join(folders.work, 'notes.md'), 'my notes\n');
    await fs.mkdir(folders.sibling);
    await fs.writeFile(join(folders.sibling, 'key.txt'), `${secret} key\n`);
    await fs.mkdir(folders.outside);
    await fs.writeFile(outsideSecret(folders), `${secret}\n`);
  });

  afterEach(async () => {
    // A broken build left blocked in open() on a FIFO is let go, so the suite never hangs.
    for (const fifo of fifos.splice(0)) {
      for (const flags of [fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK]) {
        const handle = await fs.open(fifo, flags).catch(() => undefined);
        await handle?.close();
      }
    }
    for (const server of sockets.splice(0)) await new Promise((resolve) => server.close(resolve));
    await fs.rm(base, { recursive: true, force: true });
  });

  it.each(escapes)('refuses $name ($tool)', { timeout: 5_000 }, async (escape) => {
    await escape.plant?.(folders, track);
    const before = { sibling: await snapshot(folders.sibling), outside: await snapshot(folders.outside) };
    const tool = createFileTools({ fs: fs as unknown as FilePorts['fs'], folders: () => [folders.work] }).find((definition) => definition.name === escape.tool);
    if (tool === undefined) throw new Error(`no tool ${escape.tool}`);

    const outcome = await tool.execute(escape.args(folders), { signal: noSignal }).then(
      (answer) => ({ answer }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    );

    expect(outcome).toEqual({ error: expect.stringMatching(escape.refusal) });
    expect(JSON.stringify(outcome)).not.toContain(secret);
    expect({ sibling: await snapshot(folders.sibling), outside: await snapshot(folders.outside) }).toEqual(before);
  });

  it('a search of the whole grant walks past links that lead out, and reports none of what is behind them', async () => {
    await fs.symlink(folders.outside, join(folders.work, 'docs'));
    await fs.symlink(outsideSecret(folders), join(folders.work, 'innocent.md'));
    const search = createFileTools({ fs: fs as unknown as FilePorts['fs'], folders: () => [folders.work] }).find((definition) => definition.name === 'search_files');
    const answer = await search?.execute({ query: 'secret' }, { signal: noSignal });
    expect(answer).toBeDefined();
    expect(answer).not.toContain(secret);
  });
});
