/**
 * The file tools against someone who controls what is inside a granted folder: links that lead
 * out (dangling, or swapped in after the path was checked), FIFOs, and writes that fail halfway.
 * Real temp folders, real links and a real FIFO; the swaps happen at the moment a file is opened.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTools, type FilePorts } from '../../../app/agent/builtins';
import { ToolRegistry, type ToolDefinition } from '../../../app/agent/registry';
import { ToolExecutor } from '../../../app/agent/runner';
import type { PermissionRequest } from '../../../app/contract';

const noSignal = new AbortController().signal;
const run = promisify(execFile);

type Tools = Record<'read_file' | 'write_file' | 'search_files', (args: Record<string, unknown>) => Promise<string>>;

function toolsOf(definitions: ToolDefinition[]): Tools {
  const byName = (name: string) => {
    const tool = definitions.find((definition) => definition.name === name);
    if (tool === undefined) throw new Error(`no tool ${name}`);
    return (args: Record<string, unknown>) => tool.execute(args, { signal: noSignal });
  };
  return { read_file: byName('read_file'), write_file: byName('write_file'), search_files: byName('search_files') };
}

/** The real file system, with `beforeOpen` run once, the first time a path it picks is opened. */
function swapOnOpen(picks: (path: string) => boolean, beforeOpen: () => Promise<void>): FilePorts['fs'] {
  let done = false;
  const once = async (path: unknown) => {
    if (done || typeof path !== 'string' || !picks(path)) return;
    done = true;
    await beforeOpen();
  };
  return {
    ...fs,
    open: (async (path: string, ...rest: unknown[]) => {
      await once(path);
      return (fs.open as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
    }) as typeof fs.open,
    writeFile: (async (path: string, ...rest: unknown[]) => {
      await once(path);
      return (fs.writeFile as (...args: unknown[]) => Promise<void>)(path, ...rest);
    }) as typeof fs.writeFile,
  } as unknown as FilePorts['fs'];
}

/** The real file system, with `change` run once, just after `target` is first opened. */
function changeAfterOpen(target: string, change: () => Promise<void>): FilePorts['fs'] {
  let done = false;
  return {
    ...fs,
    open: (async (path: string, ...rest: unknown[]) => {
      const handle = await (fs.open as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
      if (!done && path === target) {
        done = true;
        await change();
      }
      return handle;
    }) as typeof fs.open,
  } as unknown as FilePorts['fs'];
}

/** As on macOS and Windows: no /proc/self/fd, so an open file is matched by device and inode. */
function withoutProc(fileSystem: FilePorts['fs']): FilePorts['fs'] {
  return {
    ...fileSystem,
    readlink: async (path: string) => (path.startsWith('/proc/') ? Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })) : fileSystem.readlink(path)),
  };
}

describe('workspace files against a hostile folder', () => {
  let base: string;
  let work: string;
  let outside: string;
  const fifos: string[] = [];

  beforeEach(async () => {
    base = await fs.realpath(await fs.mkdtemp(join(tmpdir(), 'parley-files-security-')));
    work = join(base, 'work');
    outside = join(base, 'outside');
    await fs.mkdir(join(work, 'sub'), { recursive: true });
    await fs.mkdir(outside);
    await fs.writeFile(join(work, 'notes.md'), 'my notes\n');
    await fs.writeFile(join(work, 'sub', 'plan.md'), 'the plan\n');
    await fs.writeFile(join(outside, 'secret.txt'), 'the secret\n');
    await fs.mkdir(join(outside, 'sub'));
    await fs.writeFile(join(outside, 'sub', 'plan.md'), 'the secret plan\n');
  });

  afterEach(async () => {
    // Whatever a broken build left blocked in open() on a FIFO is let go, so the suite never hangs.
    for (const fifo of fifos.splice(0)) {
      for (const flags of [fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK]) {
        const handle = await fs.open(fifo, flags).catch(() => undefined);
        await handle?.close();
      }
    }
    await fs.rm(base, { recursive: true, force: true });
  });

  async function mkfifo(path: string): Promise<void> {
    await run('mkfifo', [path]);
    fifos.push(path);
  }

  const tools = (fileSystem: FilePorts['fs'] = fs as unknown as FilePorts['fs'], now?: () => number) =>
    toolsOf(createFileTools({ fs: fileSystem, folders: () => [work], now }));

  it('write_file refuses a dangling symbolic link that leads out of the folder, and writes nothing there', async () => {
    await fs.symlink(join(outside, 'planted.txt'), join(work, 'dangling.txt'));
    await expect(tools().write_file({ path: 'dangling.txt', content: 'planted' })).rejects.toThrow(/symbolic link/);
    await expect(fs.access(join(outside, 'planted.txt'))).rejects.toThrow(/ENOENT/);
    expect(await fs.readlink(join(work, 'dangling.txt'))).toBe(join(outside, 'planted.txt'));
  });

  it('write_file refuses a dangling symbolic link to a folder on the way to the file', async () => {
    await fs.symlink(join(outside, 'not-yet'), join(work, 'drafts'));
    await expect(tools().write_file({ path: 'drafts/new.md', content: 'planted' })).rejects.toThrow(/symbolic link/);
    await expect(fs.access(join(outside, 'not-yet'))).rejects.toThrow(/ENOENT/);
  });

  it('write_file does not follow a link swapped in for the file after its path was checked', async () => {
    const target = join(work, 'notes.md');
    const swap = swapOnOpen(
      (path) => dirname(path) === work,
      async () => {
        await fs.rm(target);
        await fs.symlink(join(outside, 'secret.txt'), target);
      },
    );
    await tools(swap).write_file({ path: 'notes.md', content: 'new notes' });
    expect(await fs.readFile(join(outside, 'secret.txt'), 'utf8')).toBe('the secret\n');
    // The rename replaced the link itself with the new file.
    expect((await fs.lstat(target)).isFile()).toBe(true);
    expect(await fs.readFile(target, 'utf8')).toBe('new notes');
  });

  it('read_file does not follow a link swapped in for the file after its path was checked', async () => {
    const target = join(work, 'notes.md');
    const swap = swapOnOpen(
      (path) => path === target,
      async () => {
        await fs.rm(target);
        await fs.symlink(join(outside, 'secret.txt'), target);
      },
    );
    await expect(tools(swap).read_file({ path: 'notes.md' })).rejects.toThrow('"notes.md" became a symbolic link while Parley was opening it, so nothing was read.');
  });

  it('read_file refuses a file whose folder was swapped for a link out after the path was checked', async () => {
    const swap = swapOnOpen(
      (path) => path === join(work, 'sub', 'plan.md'),
      async () => {
        await fs.rename(join(work, 'sub'), join(base, 'moved-sub'));
        await fs.symlink(join(outside, 'sub'), join(work, 'sub'));
      },
    );
    await expect(tools(swap).read_file({ path: 'sub/plan.md' })).rejects.toThrow(
      `"sub/plan.md" is outside the folders Parley may use (it changed to lead to ${join(outside, 'sub', 'plan.md')} while Parley was opening it). Granted folders: ${work}.`,
    );
  });

  it('read_file refuses a file whose folder was swapped, also where the system cannot name an open file', async () => {
    const swapping = swapOnOpen(
      (path) => path === join(work, 'sub', 'plan.md'),
      async () => {
        await fs.rename(join(work, 'sub'), join(base, 'moved-sub'));
        await fs.symlink(join(outside, 'sub'), join(work, 'sub'));
      },
    );
    await expect(tools(withoutProc(swapping)).read_file({ path: 'sub/plan.md' })).rejects.toThrow(
      `"sub/plan.md" is outside the folders Parley may use (it changed to lead to ${join(outside, 'sub', 'plan.md')} while Parley was opening it). Granted folders: ${work}.`,
    );
  });

  it('where the system cannot name an open file, reads a file that stayed put', async () => {
    expect(await tools(withoutProc(fs as unknown as FilePorts['fs'])).read_file({ path: 'sub/plan.md' })).toBe('the plan\n');
  });

  it('where the system cannot name an open file, refuses one replaced or deleted just after it was opened', async () => {
    const target = join(work, 'notes.md');
    await fs.writeFile(join(work, 'other.md'), 'other notes\n');
    const replaced = withoutProc(changeAfterOpen(target, () => fs.rename(join(work, 'other.md'), target)));
    const changed = `"notes.md" is outside the folders Parley may use (it changed to lead elsewhere while Parley was opening it). Granted folders: ${work}.`;
    await expect(tools(replaced).read_file({ path: 'notes.md' })).rejects.toThrow(changed);
    const deleted = withoutProc(changeAfterOpen(target, () => fs.rm(target)));
    await expect(tools(deleted).read_file({ path: 'notes.md' })).rejects.toThrow(changed);
  });

  it('where the system names the open file, reads a file replaced just after it was opened as it was when opened', async () => {
    const target = join(work, 'notes.md');
    await fs.writeFile(join(work, 'other.md'), 'other notes\n');
    const replaced = changeAfterOpen(target, () => fs.rename(join(work, 'other.md'), target));
    expect(await tools(replaced).read_file({ path: 'notes.md' })).toBe('my notes\n');
  });

  it('read_file refuses a FIFO at once instead of waiting for a writer', { timeout: 5_000 }, async () => {
    await mkfifo(join(work, 'pipe'));
    await expect(tools().read_file({ path: 'pipe' })).rejects.toThrow(/not a regular file/);
  });

  it('read_file refuses a file swapped for a FIFO as it is opened, at once', { timeout: 5_000 }, async () => {
    const target = join(work, 'notes.md');
    const swap = swapOnOpen(
      (path) => path === target,
      async () => {
        await fs.rm(target);
        await mkfifo(target);
      },
    );
    await expect(tools(swap).read_file({ path: 'notes.md' })).rejects.toThrow(/not a regular file/);
  });

  it('write_file refuses a FIFO at once instead of waiting for a reader', { timeout: 5_000 }, async () => {
    await mkfifo(join(work, 'pipe'));
    await expect(tools().write_file({ path: 'pipe', content: 'x' })).rejects.toThrow(/not a regular file/);
  });

  it('search_files skips a file swapped for a FIFO as it is opened, and finishes', { timeout: 5_000 }, async () => {
    const target = join(work, 'notes.md');
    const swap = swapOnOpen(
      (path) => path === target,
      async () => {
        await fs.rm(target);
        await mkfifo(target);
      },
    );
    const result = JSON.parse(await tools(swap).search_files({ query: 'plan' }));
    expect(result.matches).toEqual([{ path: join(work, 'sub', 'plan.md') }, { path: join(work, 'sub', 'plan.md'), line: 1, text: 'the plan' }]);
  });

  it('write_file keeps the old file whole when the write fails halfway, and leaves no temporary file', async () => {
    const target = join(work, 'notes.md');
    const failing = {
      ...fs,
      open: async (...args: Parameters<typeof fs.open>) => {
        const handle = await fs.open(...args);
        const halfThenFull = async (data: string) => {
          await handle.write(data.slice(0, data.length / 2));
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        };
        return new Proxy(handle, { get: (object, key) => (key === 'writeFile' || key === 'write' ? halfThenFull : Reflect.get(object, key, object)) });
      },
      writeFile: async (path: string, data: string) => {
        await fs.writeFile(path, data.slice(0, data.length / 2));
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    } as unknown as FilePorts['fs'];
    await expect(tools(failing).write_file({ path: 'notes.md', content: 'a whole new set of notes' })).rejects.toThrow(/ENOSPC/);
    expect(await fs.readFile(target, 'utf8')).toBe('my notes\n');
    expect((await fs.readdir(work)).sort()).toEqual(['notes.md', 'sub']);
  });

  it('write_file replaces a file by renaming a complete copy over it, keeping its mode', async () => {
    const target = join(work, 'notes.md');
    await fs.chmod(target, 0o640);
    const reader = await fs.open(target, 'r');
    try {
      await tools().write_file({ path: 'notes.md', content: 'replaced' });
      // Whoever had the old file open still sees it whole: it was never truncated in place.
      expect((await reader.readFile('utf8'))).toBe('my notes\n');
    } finally {
      await reader.close();
    }
    expect(await fs.readFile(target, 'utf8')).toBe('replaced');
    expect((await fs.stat(target)).mode & 0o777).toBe(0o640);
    expect((await fs.readdir(work)).sort()).toEqual(['notes.md', 'sub']);
  });

  it('write_file clears temporary files a crash left in the folder, once they are a few minutes old', async () => {
    const now = Date.now();
    const stale = join(work, '.notes.md.parley-0123456789abcdef.tmp');
    const fresh = join(work, '.notes.md.parley-fedcba9876543210.tmp');
    const foreign = join(work, '.notes.md.tmp');
    for (const path of [stale, fresh, foreign]) await fs.writeFile(path, 'half a file');
    const hourAgo = new Date(now - 3_600_000);
    await fs.utimes(stale, hourAgo, hourAgo);
    await fs.utimes(foreign, hourAgo, hourAgo);
    await tools(undefined, () => now).write_file({ path: 'notes.md', content: 'replaced' });
    expect((await fs.readdir(work)).sort()).toEqual([basename(foreign), basename(fresh), 'notes.md', 'sub'].sort());
  });
});

describe('the permission prompt for the file tools', () => {
  let base: string;
  let work: string;

  beforeEach(async () => {
    base = await fs.realpath(await fs.mkdtemp(join(tmpdir(), 'parley-files-prompt-')));
    work = join(base, 'work');
    await fs.mkdir(join(work, 'real'), { recursive: true });
    await fs.writeFile(join(work, 'real', 'plan.md'), 'the plan\n');
    await fs.symlink(join(work, 'real', 'plan.md'), join(work, 'shortcut.md'));
  });

  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  async function promptFor(name: string, args: Record<string, unknown>): Promise<PermissionRequest> {
    const registry = new ToolRegistry();
    for (const tool of createFileTools({ fs: fs as unknown as FilePorts['fs'], folders: () => [work] })) registry.register(tool);
    const asked: PermissionRequest[] = [];
    const executor = new ToolExecutor({
      registry,
      policy: () => 'ask',
      askUser: async (request) => {
        asked.push(request);
        return 'deny';
      },
      allowAlways: () => undefined,
      onActivity: () => undefined,
      now: () => 0,
      newId: () => 'request-1',
    });
    await executor.run({ callId: 'call-1', name, arguments: args }, 'agent');
    expect(asked).toHaveLength(1);
    return asked[0]!;
  }

  it('names the real file a write will replace, not the link the model gave', async () => {
    const request = await promptFor('write_file', { path: 'shortcut.md', content: 'new plan' });
    expect(request.reason).toBe(`It changes something on your computer. It will replace ${join(work, 'real', 'plan.md')}.`);
    expect(request.arguments).toEqual({ path: 'shortcut.md', content: 'new plan' });
  });

  it('names the real file a write will create, and the file a read will read', async () => {
    expect((await promptFor('write_file', { path: 'real/../drafts/new.md', content: 'x' })).reason).toBe(`It changes something on your computer. It will create ${join(work, 'drafts', 'new.md')}.`);
    expect((await promptFor('read_file', { path: 'shortcut.md' })).reason).toBe(`It reads your data. It will read ${join(work, 'real', 'plan.md')}.`);
  });

  it('keeps the plain reason when the path cannot be resolved', async () => {
    expect((await promptFor('write_file', { path: '../elsewhere.md', content: 'x' })).reason).toBe('It changes something on your computer.');
  });
});
