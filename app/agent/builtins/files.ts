/**
 * Workspace files: `list_files`, `search_files`, `read_file` (private) and `write_file` (write),
 * confined to the folders the user granted in settings. Every path is resolved to its real path
 * (following `..` and symbolic links) and refused unless it lies inside a granted folder's real
 * path; the walk in `search_files` never follows links. Because a link can be swapped in between
 * that check and the open, files are opened without following a final link, and what was opened
 * (not the name) is checked to be a regular file inside the grant. Writes go to a temporary file
 * in the same folder that is renamed over the target. Touches only files inside those folders.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ToolDefinition } from '../registry';
import { quoted, resultLimitChars, stringArg, throwIfAborted } from './limits';

export interface FileStats {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  size: number;
  mtime: Date;
  mtimeMs: number;
  mode: number;
  dev: number;
  ino: number;
}

export interface DirectoryEntry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export interface FileHandle {
  readonly fd: number;
  stat(): Promise<FileStats>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  writeFile(data: string, encoding: 'utf8'): Promise<void>;
  chmod(mode: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The open flags used; `O_NOFOLLOW`, `O_NONBLOCK` and `O_DIRECTORY` do not exist on Windows. */
export interface OpenFlags {
  O_RDONLY: number;
  O_WRONLY: number;
  O_CREAT: number;
  O_EXCL: number;
  O_NOFOLLOW?: number;
  O_NONBLOCK?: number;
  O_DIRECTORY?: number;
}

/** The subset of `node:fs/promises` the file tools need; the host passes that module. */
export interface WorkspaceFileSystem {
  constants: OpenFlags;
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<FileStats>;
  lstat(path: string): Promise<FileStats>;
  readlink(path: string): Promise<string>;
  readdir(path: string, options: { withFileTypes: true }): Promise<DirectoryEntry[]>;
  readdir(path: string): Promise<string[]>;
  open(path: string, flags: number, mode?: number): Promise<FileHandle>;
  mkdir(path: string): Promise<unknown>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export interface FilePorts {
  fs: WorkspaceFileSystem;
  /** The granted folders (settings' `workspaceFolders`), read on every call so changes apply at once. */
  folders: () => readonly string[];
  /** Milliseconds since the epoch, to tell a crashed write's temporary file from a running one. */
  now?: () => number;
}

export const fileLimits = {
  listEntries: 500,
  readBytes: resultLimitChars,
  writeChars: 1_000_000,
  searchEntries: 20_000,
  searchFileBytes: 1_000_000,
  searchTotalBytes: 32_000_000,
  searchMatches: 200,
  searchLinesPerFile: 20,
};

const skippedFolders = new Set(['.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv']);
const grantHint = 'Add a folder under Settings → Workspace folders to let Parley use it.';

/** `.<name>.parley-<16 hex>.tmp`: a write in progress, or one a crash left behind. */
const temporaryName = /^\..*\.parley-[0-9a-f]{16}\.tmp$/;
/** A temporary file older than this is a crashed write's, not a running one's. */
const staleTemporaryMs = 5 * 60_000;

interface Root {
  granted: string;
  real: string;
}

interface Resolved {
  real: string;
  root: Root;
  exists: boolean;
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: unknown })?.code as string | undefined;
}

function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

export class Workspace {
  #fs: WorkspaceFileSystem;
  #folders: () => readonly string[];
  #now: () => number;

  constructor(ports: FilePorts) {
    this.#fs = ports.fs;
    this.#folders = ports.folders;
    this.#now = ports.now ?? Date.now;
  }

  /** The granted folders that exist, by real path. */
  async roots(): Promise<Root[]> {
    const granted = this.#folders();
    if (granted.length === 0) throw new Error(`No workspace folders are granted, so Parley cannot use any files yet. ${grantHint}`);
    const roots: Root[] = [];
    for (const folder of granted) {
      try {
        roots.push({ granted: folder, real: await this.#fs.realpath(resolve(folder)) });
      } catch {
        // A granted folder that was deleted or unmounted is skipped, not fatal.
      }
    }
    if (roots.length === 0) throw new Error(`None of the granted workspace folders exists any more (${granted.join(', ')}). ${grantHint}`);
    return roots;
  }

  /**
   * The real path of `requested` and the granted folder holding it. A relative path is taken
   * from the first granted folder where it exists (the first one when it exists nowhere).
   */
  async resolve(requested: string): Promise<Resolved> {
    const roots = await this.roots();
    const trimmed = requested.trim();
    if (trimmed === '') throw new Error('The path is empty.');
    // Node refuses such a path with a bare ERR_INVALID_ARG_VALUE; no file name can hold one.
    if (trimmed.includes('\0')) throw new Error(`"${requested.replaceAll('\0', '\\0')}" holds a NUL character, which no file name can; give the path without it.`);
    const candidates = isAbsolute(trimmed) ? [resolve(trimmed)] : roots.map((root) => resolve(root.real, trimmed));
    let first: Resolved | undefined;
    for (const candidate of candidates) {
      const { real, exists } = await this.#realpathOrNearest(candidate);
      const root = roots.find((entry) => isWithin(real, entry.real));
      if (root === undefined) {
        const lexicallyInside = roots.some((entry) => isWithin(candidate, entry.real) || isWithin(candidate, resolve(entry.granted)));
        const why = lexicallyInside ? ` (it leads to ${real} through a symbolic link)` : '';
        throw new Error(
          `"${requested}" is outside the folders Parley may use${why}. Granted folders: ${roots.map((entry) => entry.granted).join(', ')}. ${grantHint}`,
        );
      }
      const resolved = { real, root, exists };
      if (exists) return resolved;
      first ??= resolved;
    }
    if (first === undefined) throw new Error(`"${requested}" could not be resolved.`);
    return first;
  }

  async #realpathOrNearest(path: string): Promise<{ real: string; exists: boolean }> {
    const missing: string[] = [];
    let current = path;
    for (;;) {
      try {
        const real = await this.#fs.realpath(current);
        return { real: missing.length === 0 ? real : join(real, ...missing.reverse()), exists: missing.length === 0 };
      } catch (error) {
        const parent = dirname(current);
        // ENOTDIR: a file stands where a folder should; the write's own walk says so in words.
        const missingPart = errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR';
        if (!missingPart || parent === current) throw error;
        missing.push(basename(current));
        current = parent;
      }
    }
  }

  async list(requested: string | undefined): Promise<string> {
    const roots = await this.roots();
    if ((requested === undefined || requested.trim() === '') && roots.length > 1) {
      return JSON.stringify({ note: 'The granted workspace folders; list one of them by its path.', entries: roots.map((root) => ({ name: root.real, type: 'folder' })) });
    }
    const target = requested === undefined || requested.trim() === '' ? { real: roots[0]!.real, exists: true } : await this.resolve(requested);
    if (!target.exists) throw new Error(`"${requested}" does not exist.`);
    const stats = await this.#fs.stat(target.real);
    if (!stats.isDirectory()) throw new Error(`"${requested}" is a file, not a folder; use read_file to read it.`);
    const dirents = await this.#fs.readdir(target.real, { withFileTypes: true });
    dirents.sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory()) || a.name.localeCompare(b.name));
    const entries: Array<{ name: string; type: string; size?: number; modified?: string }> = [];
    for (const dirent of dirents.slice(0, fileLimits.listEntries)) {
      if (dirent.isSymbolicLink()) entries.push({ name: dirent.name, type: 'link' });
      else if (dirent.isDirectory()) entries.push({ name: dirent.name, type: 'folder' });
      else if (dirent.isFile()) {
        const entryStats = await this.#fs.stat(join(target.real, dirent.name)).catch(() => undefined);
        entries.push({ name: dirent.name, type: 'file', size: entryStats?.size, modified: entryStats?.mtime.toISOString() });
      } else entries.push({ name: dirent.name, type: 'other' });
    }
    const result: Record<string, unknown> = { path: target.real, entries };
    if (dirents.length === 0) result.note = 'The folder is empty.';
    // Whole entries are left out to fit, so the listing stays valid JSON that says how many there are.
    for (;;) {
      if (dirents.length > entries.length) result.note = `Showing ${entries.length} of ${dirents.length} entries.`;
      const text = JSON.stringify(result);
      if (text.length <= resultLimitChars || entries.length <= 1) return text;
      entries.splice(Math.floor(entries.length * 0.8));
    }
  }

  async read(requested: string, offset: number, signal: AbortSignal): Promise<string> {
    const target = await this.resolve(requested);
    if (!target.exists) throw new Error(`"${requested}" does not exist.`);
    const { handle, stats } = await this.#openForReading(target.real, target.root, requested);
    let bytes: Uint8Array;
    try {
      if (offset > 0 && offset >= stats.size) throw new Error(`The offset ${offset} is past the end of "${requested}" (${stats.size} bytes).`);
      throwIfAborted(signal);
      bytes = await readBytes(handle, offset, fileLimits.readBytes);
    } finally {
      await handle.close();
    }
    if (looksBinary(bytes)) throw new Error(`"${requested}" looks like a binary file; read_file reads text files only.`);
    const end = offset + bytes.length >= stats.size ? bytes.length : completeUtf8Length(bytes);
    const text = new TextDecoder('utf-8').decode(bytes.subarray(0, end));
    if (offset + end >= stats.size && offset === 0) return text === '' ? `"${requested}" is empty.` : text;
    const next = offset + end;
    const note =
      next >= stats.size
        ? `[End of file: showed bytes ${offset}–${next} of ${stats.size}.]`
        : `[Truncated: showed bytes ${offset}–${next} of ${stats.size}. Call read_file with offset ${next} to read on.]`;
    return `${text}\n\n${note}`;
  }

  async write(requested: string, content: string): Promise<string> {
    if (content.length > fileLimits.writeChars) throw new Error(`The content is too long (${content.length} characters; the limit is ${fileLimits.writeChars}).`);
    const target = await this.resolve(requested);
    const existing = await this.#prepareWrite(target, requested);
    const folder = dirname(target.real);
    await this.#removeStaleTemporaries(folder);
    const random = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, '0')).join('');
    // Short enough that a long file name still leaves room within the 255-byte name limit.
    const temporary = join(folder, `.${basename(target.real).slice(0, 100)}.parley-${random}.tmp`);
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW = 0 } = this.#fs.constants;
    const handle = await this.#fs.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, existing?.mode ?? 0o666);
    try {
      try {
        await this.#checkOpened(handle, await handle.stat(), temporary, target.root, requested);
        // The mode it was created with passed through the umask; the original's is kept exactly.
        if (existing !== undefined) await handle.chmod(existing.mode);
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#fs.rename(temporary, target.real);
    } catch (error) {
      await this.#fs.unlink(temporary).catch(() => undefined);
      throw error;
    }
    await this.#syncFolder(folder);
    return `${existing === undefined ? 'Created' : 'Replaced'} ${target.real} (${content.length} characters).`;
  }

  /** What the permission prompt says a write will change: the real path, not the given name. */
  async describeWrite(requested: string): Promise<string> {
    const target = await this.resolve(requested);
    return `It will ${target.exists ? 'replace' : 'create'} ${target.real}.`;
  }

  async describeRead(requested: string): Promise<string> {
    return `It will read ${(await this.resolve(requested)).real}.`;
  }

  /**
   * Walks from the granted folder to the target without following a link, creating missing
   * folders. Any link on the way is one `realpath` could not follow (dangling) or one swapped
   * in since: writing through it could land anywhere. Returns the mode of a file to replace.
   */
  async #prepareWrite(target: Resolved, requested: string): Promise<{ mode: number } | undefined> {
    const parts = relative(target.root.real, target.real).split(sep).filter((part) => part !== '');
    if (parts.length === 0) throw new Error(`"${requested}" is a folder; give a file path.`);
    let path = target.root.real;
    for (const [index, part] of parts.entries()) {
      path = join(path, part);
      const last = index === parts.length - 1;
      let stats = await this.#fs.lstat(path).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      });
      if (stats === undefined && last) return undefined;
      if (stats === undefined) {
        await this.#fs.mkdir(path).catch((error: unknown) => {
          if (errorCode(error) !== 'EEXIST') throw error;
        });
        stats = await this.#fs.lstat(path);
      }
      if (stats.isSymbolicLink()) {
        const to = await this.#fs.readlink(path).catch(() => 'somewhere else');
        throw new Error(
          `"${requested}" goes through the symbolic link ${path}, which leads to ${to}; Parley does not write through a link it cannot check. Write to the link's target inside the granted folders instead.`,
        );
      }
      if (last) {
        if (stats.isDirectory()) throw new Error(`"${requested}" is a folder; give a file path.`);
        if (!stats.isFile()) throw new Error(`"${requested}" is not a regular file (it is a pipe, socket or device); Parley writes regular files only.`);
        return { mode: stats.mode & 0o7777 };
      }
      if (!stats.isDirectory()) throw new Error(`"${requested}" cannot be written: ${path} is a file, not a folder.`);
    }
    return undefined;
  }

  /** Deletes what crashed writes left in `folder`; a failure here never stops the write. */
  async #removeStaleTemporaries(folder: string): Promise<void> {
    const names = await this.#fs.readdir(folder).catch(() => [] as string[]);
    for (const name of names.filter((entry) => temporaryName.test(entry))) {
      const path = join(folder, name);
      const stats = await this.#fs.lstat(path).catch(() => undefined);
      if (stats?.isFile() && this.#now() - stats.mtimeMs > staleTemporaryMs) await this.#fs.unlink(path).catch(() => undefined);
    }
  }

  /** Makes the rename durable; folders cannot be opened on Windows, where this is skipped. */
  async #syncFolder(folder: string): Promise<void> {
    const { O_RDONLY, O_DIRECTORY = 0 } = this.#fs.constants;
    const handle = await this.#fs.open(folder, O_RDONLY | O_DIRECTORY).catch(() => undefined);
    if (handle === undefined) return;
    await handle.sync().catch(() => undefined);
    await handle.close();
  }

  /**
   * Opens `path` without following a final link or waiting on a FIFO, and checks the opened file
   * is a regular file inside `root`. The caller closes the handle.
   */
  async #openForReading(path: string, root: Root, requested: string): Promise<{ handle: FileHandle; stats: FileStats }> {
    const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = this.#fs.constants;
    const handle = await this.#fs.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((error: unknown) => {
      // ELOOP on Linux and macOS, EMLINK on FreeBSD: the name became a link since it was resolved.
      if (errorCode(error) === 'ELOOP' || errorCode(error) === 'EMLINK') {
        throw new Error(`"${requested}" became a symbolic link while Parley was opening it, so nothing was read.`, { cause: error });
      }
      // A Unix socket cannot be opened as a file at all (ENXIO), so it never reaches the check below.
      if (errorCode(error) === 'ENXIO') throw new Error(`"${requested}" is not a regular file (it is a socket or device); Parley reads regular files only.`, { cause: error });
      throw error;
    });
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw new Error(`"${requested}" is a folder; use list_files to see what it holds.`);
      if (!stats.isFile()) throw new Error(`"${requested}" is not a regular file (it is a pipe, socket or device); Parley reads regular files only.`);
      await this.#checkOpened(handle, stats, path, root, requested);
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Throws unless the file `handle` has open lies inside `root`. Linux names an open file in
   * /proc/self/fd; elsewhere the file now at `expected` must be the one opened (device and inode).
   */
  async #checkOpened(handle: FileHandle, opened: FileStats, expected: string, root: Root, requested: string): Promise<void> {
    const named = await this.#fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    let where: string | undefined;
    if (named !== undefined && isAbsolute(named)) where = named;
    else {
      const real = await this.#fs.realpath(expected).catch(() => undefined);
      const now = real === undefined ? undefined : await this.#fs.stat(real).catch(() => undefined);
      where = now !== undefined && now.dev === opened.dev && now.ino === opened.ino ? real : undefined;
    }
    if (where !== undefined && isWithin(where, root.real)) return;
    throw new Error(
      `"${requested}" is outside the folders Parley may use (it changed to lead ${where === undefined ? 'elsewhere' : `to ${where}`} while Parley was opening it). Granted folders: ${root.granted}.`,
    );
  }

  async search(query: string, requested: string | undefined, signal: AbortSignal): Promise<string> {
    const needle = query.trim().toLocaleLowerCase();
    if (needle === '') throw new Error('The search query is empty.');
    const start = requested === undefined || requested.trim() === '' ? (await this.roots()).map((root) => ({ folder: root.real, root })) : [await this.#searchStart(requested)];
    const matches: Array<{ path: string; line?: number; text?: string }> = [];
    const notes = new Set<string>();
    const queue = [...start];
    let visited = 0;
    let bytesRead = 0;
    let filesSearched = 0;
    walk: while (queue.length > 0) {
      const { folder, root } = queue.shift()!;
      let dirents: DirectoryEntry[];
      try {
        dirents = await this.#fs.readdir(folder, { withFileTypes: true });
      } catch {
        continue;
      }
      dirents.sort((a, b) => a.name.localeCompare(b.name));
      for (const dirent of dirents) {
        throwIfAborted(signal);
        if (++visited > fileLimits.searchEntries) {
          notes.add(`Stopped after ${fileLimits.searchEntries} files and folders; narrow the search with a path.`);
          break walk;
        }
        const path = join(folder, dirent.name);
        // Links are not followed: they could lead out of the granted folders or loop.
        if (dirent.isSymbolicLink()) continue;
        if (dirent.name.toLocaleLowerCase().includes(needle)) matches.push({ path });
        if (dirent.isDirectory()) {
          if (!skippedFolders.has(dirent.name)) queue.push({ folder: path, root });
          continue;
        }
        if (!dirent.isFile()) continue;
        if (bytesRead >= fileLimits.searchTotalBytes) {
          notes.add(`Read the first ${fileLimits.searchTotalBytes / 1_000_000} MB of file contents; later files were matched by name only.`);
          continue;
        }
        // A file swapped for a link, FIFO or device since the listing is skipped like an unreadable one.
        const bytes = await this.#openForReading(path, root, path)
          .then(({ handle }) => readBytes(handle, 0, fileLimits.searchFileBytes + 1).finally(() => handle.close()))
          .catch(() => undefined);
        if (bytes === undefined) continue;
        bytesRead += bytes.length;
        if (bytes.length > fileLimits.searchFileBytes) {
          notes.add(`Files over ${fileLimits.searchFileBytes / 1_000_000} MB were matched by name only.`);
          continue;
        }
        if (looksBinary(bytes)) continue;
        filesSearched++;
        const lines = new TextDecoder('utf-8').decode(bytes).split(/\r?\n/);
        let found = 0;
        for (const [index, line] of lines.entries()) {
          if (!line.toLocaleLowerCase().includes(needle)) continue;
          if (++found > fileLimits.searchLinesPerFile) {
            notes.add(`At most ${fileLimits.searchLinesPerFile} matching lines are shown per file.`);
            break;
          }
          matches.push({ path, line: index + 1, text: line.trim().slice(0, 200) });
          if (matches.length >= fileLimits.searchMatches) {
            notes.add(`Stopped at ${fileLimits.searchMatches} matches; narrow the search.`);
            break walk;
          }
        }
      }
    }
    const result: Record<string, unknown> = { query, filesSearched, matches };
    if (matches.length === 0) notes.add('Nothing matched.');
    if (notes.size > 0) result.notes = [...notes];
    let text = JSON.stringify(result);
    while (text.length > resultLimitChars && matches.length > 1) {
      matches.splice(Math.floor(matches.length * 0.8));
      result.notes = [...notes, `Shortened to the first ${matches.length} matches to fit.`];
      text = JSON.stringify(result);
    }
    return text;
  }

  async #searchStart(requested: string): Promise<{ folder: string; root: Root }> {
    const target = await this.resolve(requested);
    if (!target.exists) throw new Error(`"${requested}" does not exist.`);
    if (!(await this.#fs.stat(target.real)).isDirectory()) throw new Error(`"${requested}" is a file; give a folder to search in.`);
    return { folder: target.real, root: target.root };
  }
}

async function readBytes(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** A NUL byte in the first 8 KB: how git and grep tell binary from text. */
function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8192).includes(0);
}

/** The length of `bytes` without a UTF-8 sequence cut off at the end. */
function completeUtf8Length(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0b1100_0000) === 0b1000_0000) continue; // continuation byte
    const needed = byte >= 0b1111_0000 ? 4 : byte >= 0b1110_0000 ? 3 : byte >= 0b1100_0000 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

export function createFileTools(ports: FilePorts): ToolDefinition[] {
  const workspace = new Workspace(ports);
  const pathHelp = 'An absolute path, or a path relative to a granted workspace folder.';
  return [
    {
      name: 'list_files',
      description: 'List the files and folders in a folder the user granted (names, types, sizes, dates). Without a path, lists the granted workspace folder(s).',
      parameters: {
        type: 'object',
        properties: { path: { type: 'string', description: pathHelp } },
        additionalProperties: false,
      },
      risk: 'private',
      source: 'builtin',
      summarize: (args) => (typeof args.path === 'string' ? `list the files in ${quoted(args.path, 120)}` : 'list your workspace folders'),
      async execute(args) {
        return workspace.list(stringArg(args, 'path'));
      },
    },
    {
      name: 'search_files',
      description:
        'Search the granted workspace folders (or one folder inside them) for a word or phrase in file names and text file contents, case-insensitive, e.g. "TODO". Returns matching paths with line numbers and lines.',
      parameters: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'The text to look for.' },
          path: { type: 'string', description: `A folder to search in. ${pathHelp} Omit to search every granted folder.` },
        },
        required: ['query'],
        additionalProperties: false,
      },
      risk: 'private',
      timeoutMs: 30_000,
      source: 'builtin',
      summarize: (args) => `search ${typeof args.path === 'string' ? quoted(args.path, 120) : 'your workspace folders'} for ${quoted(args.query)}`,
      async execute(args, { signal }) {
        return workspace.search(stringArg(args, 'query') ?? '', stringArg(args, 'path'), signal);
      },
    },
    {
      name: 'read_file',
      description: `Read a text file inside the granted workspace folders. Long files come in parts of ${fileLimits.readBytes / 1000} KB; pass the offset the previous part gave to read on.`,
      parameters: {
        type: 'object',
        properties: {
          path: { type: 'string', description: pathHelp },
          offset: { type: 'integer', minimum: 0, description: 'Byte offset to start from (default 0).' },
        },
        required: ['path'],
        additionalProperties: false,
      },
      risk: 'private',
      source: 'builtin',
      summarize: (args) => `read the file ${quoted(args.path, 120)}`,
      async describeCall(args) {
        return workspace.describeRead(stringArg(args, 'path') ?? '');
      },
      async execute(args, { signal }) {
        return workspace.read(stringArg(args, 'path') ?? '', typeof args.offset === 'number' ? args.offset : 0, signal);
      },
    },
    {
      name: 'write_file',
      description: 'Create or replace a text file inside the granted workspace folders with the given content. The user is asked to confirm first.',
      parameters: {
        type: 'object',
        properties: {
          path: { type: 'string', description: pathHelp },
          content: { type: 'string', description: 'The whole new content of the file.' },
        },
        required: ['path', 'content'],
        additionalProperties: false,
      },
      risk: 'write',
      source: 'builtin',
      summarize: (args) => `write the file ${quoted(args.path, 120)}`,
      async describeCall(args) {
        return workspace.describeWrite(stringArg(args, 'path') ?? '');
      },
      async execute(args) {
        return workspace.write(stringArg(args, 'path') ?? '', stringArg(args, 'content') ?? '');
      },
    },
  ];
}

