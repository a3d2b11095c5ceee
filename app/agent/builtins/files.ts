/**
 * Workspace files: `list_files`, `search_files`, `read_file` (private) and `write_file` (write),
 * confined to the folders the user granted in settings. Every path is resolved to its real path
 * (following `..` and symbolic links) and refused unless it lies inside a granted folder's real
 * path; the walk in `search_files` never follows links. Touches only files inside those folders.
 */
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { ToolDefinition } from '../registry';
import { resultLimitChars, stringArg, throwIfAborted, truncate } from './limits';

export interface FileStats {
  isFile(): boolean;
  isDirectory(): boolean;
  size: number;
  mtime: Date;
}

export interface DirectoryEntry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export interface ReadHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** The subset of `node:fs/promises` the file tools need; the host passes that module. */
export interface WorkspaceFileSystem {
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<FileStats>;
  readdir(path: string, options: { withFileTypes: true }): Promise<DirectoryEntry[]>;
  open(path: string, flags: 'r'): Promise<ReadHandle>;
  writeFile(path: string, data: string, encoding: 'utf8'): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
}

export interface FilePorts {
  fs: WorkspaceFileSystem;
  /** The granted folders (settings' `workspaceFolders`), read on every call so changes apply at once. */
  folders: () => readonly string[];
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

  constructor(ports: FilePorts) {
    this.#fs = ports.fs;
    this.#folders = ports.folders;
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
        if (errorCode(error) !== 'ENOENT' || parent === current) throw error;
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
    if (dirents.length > entries.length) result.note = `Showing ${entries.length} of ${dirents.length} entries.`;
    if (dirents.length === 0) result.note = 'The folder is empty.';
    return truncate(JSON.stringify(result), resultLimitChars, 'the listing');
  }

  async read(requested: string, offset: number, signal: AbortSignal): Promise<string> {
    const target = await this.resolve(requested);
    if (!target.exists) throw new Error(`"${requested}" does not exist.`);
    const stats = await this.#fs.stat(target.real);
    if (stats.isDirectory()) throw new Error(`"${requested}" is a folder; use list_files to see what it holds.`);
    if (!stats.isFile()) throw new Error(`"${requested}" is not a regular file.`);
    if (offset > 0 && offset >= stats.size) throw new Error(`The offset ${offset} is past the end of "${requested}" (${stats.size} bytes).`);
    throwIfAborted(signal);
    const bytes = await this.#readBytes(target.real, offset, fileLimits.readBytes);
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
    if (target.exists) {
      const stats = await this.#fs.stat(target.real);
      if (stats.isDirectory()) throw new Error(`"${requested}" is a folder; give a file path.`);
    } else {
      await this.#fs.mkdir(dirname(target.real), { recursive: true });
    }
    await this.#fs.writeFile(target.real, content, 'utf8');
    return `${target.exists ? 'Replaced' : 'Created'} ${target.real} (${content.length} characters).`;
  }

  async search(query: string, requested: string | undefined, signal: AbortSignal): Promise<string> {
    const needle = query.trim().toLocaleLowerCase();
    if (needle === '') throw new Error('The search query is empty.');
    const start = requested === undefined || requested.trim() === '' ? (await this.roots()).map((root) => root.real) : [await this.#searchStart(requested)];
    const matches: Array<{ path: string; line?: number; text?: string }> = [];
    const notes = new Set<string>();
    const queue = [...start];
    let visited = 0;
    let bytesRead = 0;
    let filesSearched = 0;
    walk: while (queue.length > 0) {
      const folder = queue.shift()!;
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
          if (!skippedFolders.has(dirent.name)) queue.push(path);
          continue;
        }
        if (!dirent.isFile()) continue;
        if (bytesRead >= fileLimits.searchTotalBytes) {
          notes.add(`Read the first ${fileLimits.searchTotalBytes / 1_000_000} MB of file contents; later files were matched by name only.`);
          continue;
        }
        const bytes = await this.#readBytes(path, 0, fileLimits.searchFileBytes + 1).catch(() => undefined);
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

  async #searchStart(requested: string): Promise<string> {
    const target = await this.resolve(requested);
    if (!target.exists) throw new Error(`"${requested}" does not exist.`);
    if (!(await this.#fs.stat(target.real)).isDirectory()) throw new Error(`"${requested}" is a file; give a folder to search in.`);
    return target.real;
  }

  async #readBytes(path: string, position: number, length: number): Promise<Uint8Array> {
    const handle = await this.#fs.open(path, 'r');
    try {
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }
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
      async execute(args) {
        return workspace.write(stringArg(args, 'path') ?? '', stringArg(args, 'content') ?? '');
      },
    },
  ];
}

