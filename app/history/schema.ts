/**
 * The history database's tables, versioned with SQLite's `user_version`: each migration runs once,
 * in its own transaction, so a database is always at one version or the next.
 */
import type BetterSqlite3 from 'better-sqlite3';

const migrations: readonly string[] = [
  // 1: conversations, their turns (with a full-text index kept by triggers) and their ledgers.
  `CREATE TABLE conversations (
     id TEXT PRIMARY KEY,
     title TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX conversations_by_use ON conversations (updated_at);

   CREATE TABLE turns (
     n INTEGER PRIMARY KEY,
     conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     role TEXT NOT NULL,
     source TEXT NOT NULL,
     text TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     extra TEXT,
     UNIQUE (conversation_id, id)
   );
   CREATE INDEX turns_in_order ON turns (conversation_id, seq);

   CREATE VIRTUAL TABLE turns_fts USING fts5 (text, content = 'turns', content_rowid = 'n', tokenize = 'unicode61 remove_diacritics 2');
   CREATE TRIGGER turns_indexed AFTER INSERT ON turns BEGIN
     INSERT INTO turns_fts (rowid, text) VALUES (new.n, new.text);
   END;
   CREATE TRIGGER turns_unindexed AFTER DELETE ON turns BEGIN
     INSERT INTO turns_fts (turns_fts, rowid, text) VALUES ('delete', old.n, old.text);
   END;
   CREATE TRIGGER turns_reindexed AFTER UPDATE OF text ON turns BEGIN
     INSERT INTO turns_fts (turns_fts, rowid, text) VALUES ('delete', old.n, old.text);
     INSERT INTO turns_fts (rowid, text) VALUES (new.n, new.text);
   END;

   CREATE TABLE ledger (
     conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     item TEXT NOT NULL,
     stored INTEGER NOT NULL,
     PRIMARY KEY (conversation_id, seq)
   ) WITHOUT ROWID;`,
  // 2: the meeting held in a conversation: its notes and its transcript lines (JSON), kept whole.
  `CREATE TABLE meetings (
     conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
     started_at INTEGER NOT NULL,
     notes TEXT NOT NULL,
     lines TEXT NOT NULL
   ) WITHOUT ROWID;`,
];

export const historySchemaVersion = migrations.length;

/** Brings the database to the current version; refuses one written by a newer Parley. */
export function migrate(db: BetterSqlite3.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > historySchemaVersion) {
    throw new Error(`the history database is from a newer Parley (version ${version}; this one reads up to ${historySchemaVersion})`);
  }
  for (let next = version; next < historySchemaVersion; next += 1) {
    db.transaction(() => {
      db.exec(migrations[next] ?? '');
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}
