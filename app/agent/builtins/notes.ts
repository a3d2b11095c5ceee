/**
 * Notes: `save_note` (write), `list_notes` and `search_notes` (private). One JSON file per note
 * in the notes folder under the app's data folder, written atomically (temporary file, then
 * rename), so a crash never leaves half a note and concurrent saves never overwrite each other;
 * the next save clears temporary files a crash left. Touches only that folder.
 */
import { join } from 'node:path';
import type { ToolDefinition } from '../registry';
import { quoted, resultLimitChars, stringArg } from './limits';

/** The subset of `node:fs/promises` the notes need; the host passes that module. */
export interface NotesFileSystem {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  writeFile(path: string, data: string, encoding: 'utf8'): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  stat(path: string): Promise<{ mtimeMs: number }>;
  unlink(path: string): Promise<void>;
}

export interface NotesPorts {
  fs: NotesFileSystem;
  /** The folder holding the notes, e.g. `<userData>/notes`. Created on first save. */
  folder: string;
  now?: () => Date;
}

export interface Note {
  id: string;
  title: string;
  text: string;
  createdAt: string;
}

const maxNoteLength = 100_000;
/** A title is a list entry the user scans, not a second note. */
const maxTitleLength = 200;
const defaultListLimit = 20;
const previewChars = 1_000;
/** `<id>.json.<8 hex>.tmp`: a save in progress, or one a crash left behind. */
const temporaryName = /^[\w-]+\.json\.[0-9a-f]{8}\.tmp$/;
/** Older than this, a temporary file is a crashed save's, not a running one's. */
const staleTemporaryMs = 5 * 60_000;

export class NoteStore {
  #fs: NotesFileSystem;
  #folder: string;
  #now: () => Date;

  constructor(ports: NotesPorts) {
    this.#fs = ports.fs;
    this.#folder = ports.folder;
    this.#now = ports.now ?? (() => new Date());
  }

  async save(text: string, title?: string): Promise<Note> {
    const body = text.trim();
    if (body === '') throw new Error('The note is empty; give it some text.');
    if (body.length > maxNoteLength) throw new Error(`The note is too long (${body.length} characters; the limit is ${maxNoteLength}).`);
    const heading = title?.trim() ?? '';
    if (heading.length > maxTitleLength) {
      throw new Error(`The title is too long (${heading.length} characters; the limit is ${maxTitleLength}). Give a short title and put the rest in the text.`);
    }
    const createdAt = this.#now();
    const note: Note = {
      // Sortable by time, unique across saves in the same millisecond.
      id: `${createdAt.toISOString().replace(/[-:.]/g, '')}-${globalThis.crypto.randomUUID().slice(0, 8)}`,
      title: heading || firstLine(body),
      text: body,
      createdAt: createdAt.toISOString(),
    };
    await this.#fs.mkdir(this.#folder, { recursive: true });
    await this.#removeStaleTemporaries(createdAt.getTime());
    const path = join(this.#folder, `${note.id}.json`);
    const temporary = `${path}.${globalThis.crypto.randomUUID().slice(0, 8)}.tmp`;
    await this.#fs.writeFile(temporary, JSON.stringify(note, null, 2), 'utf8');
    await this.#fs.rename(temporary, path);
    return note;
  }

  /** A failure here never stops the save. */
  async #removeStaleTemporaries(now: number): Promise<void> {
    const names = await this.#fs.readdir(this.#folder).catch(() => [] as string[]);
    for (const name of names.filter((entry) => temporaryName.test(entry))) {
      const path = join(this.#folder, name);
      const stats = await this.#fs.stat(path).catch(() => undefined);
      if (stats !== undefined && now - stats.mtimeMs > staleTemporaryMs) await this.#fs.unlink(path).catch(() => undefined);
    }
  }

  /** Every readable note, newest first; files that do not parse are skipped. */
  async all(): Promise<Note[]> {
    let names: string[];
    try {
      names = await this.#fs.readdir(this.#folder);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return [];
      throw error;
    }
    const notes: Note[] = [];
    for (const name of names.filter((entry) => entry.endsWith('.json'))) {
      try {
        const value = JSON.parse(await this.#fs.readFile(join(this.#folder, name), 'utf8')) as Partial<Note>;
        if (typeof value.text === 'string' && typeof value.createdAt === 'string') {
          notes.push({ id: value.id ?? name.replace(/\.json$/, ''), title: value.title ?? firstLine(value.text), text: value.text, createdAt: value.createdAt });
        }
      } catch {
        // A damaged or foreign file in the folder is not the user's note to show.
      }
    }
    return notes.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  async search(query: string): Promise<Note[]> {
    const needle = query.trim().toLocaleLowerCase();
    if (needle === '') throw new Error('The search query is empty.');
    return (await this.all()).filter((note) => note.title.toLocaleLowerCase().includes(needle) || note.text.toLocaleLowerCase().includes(needle));
  }
}

export function createNoteTools(ports: NotesPorts): ToolDefinition[] {
  const store = new NoteStore(ports);
  return [
    {
      name: 'save_note',
      description: "Save a note to the user's notes, kept on this computer. Give the text and, optionally, a short title.",
      parameters: {
        type: 'object',
        properties: { text: { type: 'string', description: 'The note itself.' }, title: { type: 'string', description: `A short title, at most ${maxTitleLength} characters; defaults to the first line.` } },
        required: ['text'],
        additionalProperties: false,
      },
      risk: 'write',
      source: 'builtin',
      summarize: (args) => `save a note: ${quoted(args.text)}`,
      async execute(args) {
        const note = await store.save(stringArg(args, 'text') ?? '', stringArg(args, 'title'));
        return JSON.stringify({ saved: true, id: note.id, title: note.title, createdAt: note.createdAt });
      },
    },
    {
      name: 'list_notes',
      description: "List the user's saved notes, newest first, with the date each was written.",
      parameters: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: 200, description: `How many notes to show (default ${defaultListLimit}).` } },
        additionalProperties: false,
      },
      risk: 'private',
      source: 'builtin',
      summarize: () => 'read your saved notes',
      async execute(args) {
        const notes = await store.all();
        const limit = typeof args.limit === 'number' ? args.limit : defaultListLimit;
        return renderNotes(notes.slice(0, limit), notes.length, 'notes');
      },
    },
    {
      name: 'search_notes',
      description:
        "Search the user's saved notes for a word or phrase (case-insensitive, in titles and text), e.g. \"TODO\". Returns the matching notes newest first, with their dates.",
      parameters: {
        type: 'object',
        properties: { query: { type: 'string', description: 'The word or phrase to look for.' } },
        required: ['query'],
        additionalProperties: false,
      },
      risk: 'private',
      source: 'builtin',
      summarize: (args) => `search your notes for ${quoted(args.query)}`,
      async execute(args) {
        const matches = await store.search(stringArg(args, 'query') ?? '');
        return renderNotes(matches, matches.length, 'matching notes');
      },
    },
  ];
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

/** JSON for the model, kept under the result limit by shortening long notes, then dropping the oldest. */
function renderNotes(notes: Note[], total: number, what: string): string {
  const shown = notes.map((note) => ({
    title: note.title,
    createdAt: note.createdAt,
    text: note.text.length > previewChars ? `${note.text.slice(0, previewChars)}… [${note.text.length - previewChars} more characters]` : note.text,
  }));
  let result = { total, shown: shown.length, notes: shown } as { total: number; shown: number; notes: typeof shown; note?: string };
  while (JSON.stringify(result).length > resultLimitChars && result.notes.length > 1) {
    const kept = result.notes.slice(0, -1);
    result = { total, shown: kept.length, notes: kept };
  }
  if (result.shown < total) result.note = `Showing the ${result.shown} newest of ${total} ${what}.`;
  if (total === 0) result.note = what === 'notes' ? 'There are no saved notes yet.' : 'No note matches.';
  return JSON.stringify(result);
}
