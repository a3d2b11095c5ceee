/**
 * Conversation history in SQLite: each conversation's transcript, its agent ledger (what a resumed
 * conversation resends to the model) and a full-text index of what was said. The database is
 * opened by the shell (main/) and handed in, so this module never touches the file system.
 *
 * Every change is one transaction in WAL mode: a crash, however timed, leaves the state before
 * the change or after it, never a turn without its ledger or half a ledger.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ConversationHit, ConversationSummary, MeetingLine, SnippetPart, Turn } from '../contract';
import type { ResponseInputItem } from '../protocol/responses';
import { migrate } from './schema';

export type HistoryDatabase = BetterSqlite3.Database;

/** A ledger window as saved: its items in order, the first being item number `offset` of the conversation. */
export interface LedgerSnapshot {
  offset: number;
  entries: ReadonlyArray<{ item: ResponseInputItem; stored: boolean }>;
  /** Items were taken back since the last save (a regenerated turn): the saved window is rewritten. */
  rewound?: boolean;
}

/** One write: the conversation (created on first write), the turns that changed, the ledger as it is now. */
export interface ConversationChange {
  id: string;
  /** The name a new conversation gets; an existing one keeps its own. */
  title: string;
  at: number;
  turns: readonly Turn[];
  ledger?: LedgerSnapshot;
}

export interface StoredConversation {
  summary: ConversationSummary;
  turns: Turn[];
  ledger: LedgerSnapshot;
}

interface ConversationRow {
  id: string;
  title: string;
  created_at: number;
  updated_at: number;
  turn_count: number;
}

interface TurnRow {
  id: string;
  role: Turn['role'];
  source: Turn['source'];
  text: string;
  status: Turn['status'];
  started_at: number;
  extra: string | null;
}

const summaryColumns = `c.id, c.title, c.created_at, c.updated_at, (SELECT count(*) FROM turns t WHERE t.conversation_id = c.id) AS turn_count`;

/** A meeting as saved with its conversation. */
export interface SavedMeeting {
  /** Epoch ms. */
  startedAt: number;
  notes: string;
  lines: MeetingLine[];
}

export class HistoryStore {
  readonly #db: HistoryDatabase;
  readonly #statements;

  constructor(db: HistoryDatabase) {
    this.#db = db;
    // WAL: a reader never waits for the writer, and a crash mid-write rolls back cleanly.
    db.pragma('journal_mode = WAL');
    // FULL syncs the log at every commit, so a saved turn survives a power cut too (npm run bench -- history).
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    this.#statements = {
      createConversation: db.prepare('INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at'),
      upsertTurn: db.prepare(
        `INSERT INTO turns (conversation_id, seq, id, role, source, text, status, started_at, extra)
         VALUES (@conversation, (SELECT coalesce(max(seq), -1) + 1 FROM turns WHERE conversation_id = @conversation), @id, @role, @source, @text, @status, @startedAt, @extra)
         ON CONFLICT (conversation_id, id) DO UPDATE SET text = excluded.text, status = excluded.status, extra = excluded.extra`,
      ),
      ledgerTail: db.prepare<[string], { last: number | null }>('SELECT max(seq) AS last FROM ledger WHERE conversation_id = ?'),
      dropLedgerBefore: db.prepare('DELETE FROM ledger WHERE conversation_id = ? AND seq < ?'),
      dropLedgerFrom: db.prepare('DELETE FROM ledger WHERE conversation_id = ? AND seq >= ?'),
      insertLedger: db.prepare('INSERT INTO ledger (conversation_id, seq, item, stored) VALUES (?, ?, ?, ?)'),
      summary: db.prepare<[string], ConversationRow>(`SELECT ${summaryColumns} FROM conversations c WHERE c.id = ?`),
      list: db.prepare<[number, number], ConversationRow>(`SELECT ${summaryColumns} FROM conversations c ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ? OFFSET ?`),
      turns: db.prepare<[string], TurnRow>('SELECT id, role, source, text, status, started_at, extra FROM turns WHERE conversation_id = ? ORDER BY seq'),
      ledger: db.prepare<[string], { seq: number; item: string; stored: number }>('SELECT seq, item, stored FROM ledger WHERE conversation_id = ? ORDER BY seq'),
      // The best-ranked turn of each conversation (SQLite takes a bare column from the row min() chose).
      search: db.prepare<[string, number], ConversationRow & { text: string }>(
        `SELECT ${summaryColumns}, (SELECT text FROM turns WHERE n = best.n) AS text FROM (
           SELECT m.conversation_id AS conversation, f.rowid AS n, min(f.rank) AS score
           FROM turns_fts f JOIN turns m ON m.n = f.rowid WHERE turns_fts MATCH ? GROUP BY m.conversation_id ORDER BY score LIMIT ?
         ) best JOIN conversations c ON c.id = best.conversation ORDER BY best.score`,
      ),
      searchTitles: db.prepare<[string, number], ConversationRow>(`SELECT ${summaryColumns} FROM conversations c WHERE c.title LIKE ? ESCAPE '\\' ORDER BY c.updated_at DESC LIMIT ?`),
      saveMeeting: db.prepare(
        `INSERT INTO meetings (conversation_id, started_at, notes, lines) VALUES (?, ?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET started_at = excluded.started_at, notes = excluded.notes, lines = excluded.lines`,
      ),
      meeting: db.prepare<[string], { started_at: number; notes: string; lines: string }>('SELECT started_at, notes, lines FROM meetings WHERE conversation_id = ?'),
      rename: db.prepare('UPDATE conversations SET title = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM conversations WHERE id = ?'),
      prune: db.prepare('DELETE FROM conversations WHERE updated_at < ? AND id IS NOT ?'),
    };
  }

  /** Writes one change in one transaction: all of it, or (on any failure) none of it. */
  save(change: ConversationChange): void {
    this.#db.transaction(() => {
      const s = this.#statements;
      s.createConversation.run(change.id, change.title, change.at, change.at);
      for (const turn of change.turns) {
        const extra = turn.problem === undefined && turn.heardText === undefined ? null : JSON.stringify({ problem: turn.problem, heardText: turn.heardText });
        s.upsertTurn.run({ conversation: change.id, id: turn.id, role: turn.role, source: turn.source, text: turn.text, status: turn.status, startedAt: Math.round(turn.startedAt), extra });
      }
      if (change.ledger !== undefined) this.#saveLedger(change.id, change.ledger);
    })();
  }

  /**
   * Brings the saved ledger to the snapshot: items a compaction folded away go, new items are
   * appended. A turn adds a few items, so a long conversation costs the same per turn as a short one.
   */
  #saveLedger(id: string, ledger: LedgerSnapshot): void {
    const s = this.#statements;
    s.dropLedgerBefore.run(id, ledger.offset);
    const last = s.ledgerTail.get(id)?.last ?? null;
    let from = last === null ? ledger.offset : last + 1;
    if (ledger.rewound === true || from > ledger.offset + ledger.entries.length) {
      // Saved items were taken back, or the saved ledger runs past the snapshot (after a reset): rewrite it.
      s.dropLedgerFrom.run(id, ledger.offset);
      from = ledger.offset;
    }
    for (let seq = from; seq < ledger.offset + ledger.entries.length; seq += 1) {
      const entry = ledger.entries[seq - ledger.offset];
      if (entry === undefined) continue;
      s.insertLedger.run(id, seq, JSON.stringify(entry.item), entry.stored ? 1 : 0);
    }
  }

  /** Saves the conversation's meeting (one per conversation: a later one replaces it), creating the conversation if need be. */
  saveMeeting(id: string, title: string, at: number, meeting: SavedMeeting): void {
    this.#db.transaction(() => {
      this.#statements.createConversation.run(id, title, at, at);
      this.#statements.saveMeeting.run(id, Math.round(meeting.startedAt), meeting.notes, JSON.stringify(meeting.lines));
    })();
  }

  loadMeeting(id: string): SavedMeeting | null {
    const row = this.#statements.meeting.get(id);
    return row === undefined ? null : { startedAt: row.started_at, notes: row.notes, lines: JSON.parse(row.lines) as MeetingLine[] };
  }

  summary(id: string): ConversationSummary | null {
    const row = this.#statements.summary.get(id);
    return row === undefined ? null : summaryOf(row);
  }

  /** Most recently used first. */
  list(limit = 200, offset = 0): ConversationSummary[] {
    return this.#statements.list.all(limit, offset).map(summaryOf);
  }

  load(id: string): StoredConversation | null {
    const summary = this.summary(id);
    if (summary === null) return null;
    const turns = this.#statements.turns.all(id).map(turnOf);
    const rows = this.#statements.ledger.all(id);
    return {
      summary,
      turns,
      ledger: { offset: rows[0]?.seq ?? 0, entries: rows.map((row) => ({ item: JSON.parse(row.item) as ResponseInputItem, stored: row.stored === 1 })) },
    };
  }

  /**
   * Full-text search over everything said (FTS5, words matched by prefix, all of them required),
   * best match first, one hit per conversation; conversations whose name matches come too.
   */
  search(query: string, limit = 50): ConversationHit[] {
    const hits = new Map<string, ConversationHit>();
    const words = searchWords(query);
    if (words.length > 0) {
      for (const row of this.#statements.search.all(words.map((word) => `"${word}"*`).join(' '), limit)) {
        hits.set(row.id, { ...summaryOf(row), snippet: snippetOf(row.text, words.map(fold)) });
      }
    }
    const like = `%${query.trim().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    for (const row of this.#statements.searchTitles.all(like, limit)) {
      if (hits.size >= limit) break;
      if (!hits.has(row.id)) hits.set(row.id, { ...summaryOf(row), snippet: [] });
    }
    return [...hits.values()];
  }

  rename(id: string, title: string): boolean {
    return this.#statements.rename.run(title, id).changes > 0;
  }

  delete(id: string): boolean {
    return this.#statements.delete.run(id).changes > 0;
  }

  /** Deletes every conversation last used before `cutoff` but `keep`; returns how many went. */
  pruneBefore(cutoff: number, keep: string | null = null): number {
    return this.#statements.prune.run(cutoff, keep).changes;
  }

  close(): void {
    this.#db.close();
  }
}

const wordPattern = /[\p{L}\p{N}_]+/gu;

/**
 * The words of a search, as FTS5 will get them: each one quoted (so `AND`, `"` or `*` typed by the
 * user are plain text) and matched as a prefix.
 */
function searchWords(text: string): string[] {
  return text.match(wordPattern) ?? [];
}

/** A word as the index compares it: lower case, accents removed (`remove_diacritics`). */
function fold(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const snippetWords = 14;

/**
 * About fourteen words of `text` around its first match, the matched words marked. Made here
 * rather than by FTS5's snippet(), which costs a second full-text query per hit.
 */
function snippetOf(text: string, prefixes: readonly string[]): SnippetPart[] {
  const tokens = [...text.matchAll(wordPattern)];
  const matches = (token: string): boolean => prefixes.some((prefix) => fold(token).startsWith(prefix));
  const first = Math.max(0, tokens.findIndex((token) => matches(token[0])));
  const from = Math.max(0, first - 3);
  const to = Math.min(tokens.length, from + snippetWords);
  const parts: SnippetPart[] = [];
  const plain = (piece: string): void => {
    const last = parts.at(-1);
    if (last !== undefined && !last.match) last.text += piece;
    else parts.push({ text: piece, match: false });
  };
  if (from > 0) plain('…');
  let cursor = tokens[from]?.index ?? 0;
  for (const token of tokens.slice(from, to)) {
    plain(text.slice(cursor, token.index).replace(/\s+/g, ' '));
    if (matches(token[0])) parts.push({ text: token[0], match: true });
    else plain(token[0]);
    cursor = token.index + token[0].length;
  }
  plain(to < tokens.length ? '…' : text.slice(cursor).replace(/\s+/g, ' '));
  return parts.filter((part) => part.text !== '');
}

function summaryOf(row: ConversationRow): ConversationSummary {
  return { id: row.id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at, turnCount: row.turn_count };
}

function turnOf(row: TurnRow): Turn {
  const extra = row.extra === null ? {} : (JSON.parse(row.extra) as Pick<Turn, 'problem' | 'heardText'>);
  return {
    id: row.id,
    role: row.role,
    source: row.source,
    text: row.text,
    status: row.status,
    startedAt: row.started_at,
    ...(extra.problem === undefined ? {} : { problem: extra.problem }),
    ...(extra.heardText === undefined ? {} : { heardText: extra.heardText }),
  };
}
