import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Turn } from '../../../app/contract';
import { HistoryStore, type LedgerSnapshot } from '../../../app/history/store';
import type { ResponseInputItem } from '../../../app/protocol/responses';

let dir: string;
let path: string;
const open: HistoryStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-history-'));
  path = join(dir, 'history.sqlite');
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(): HistoryStore {
  const store = new HistoryStore(new Database(path));
  open.push(store);
  return store;
}

function reopen(store: HistoryStore): HistoryStore {
  store.close();
  open.splice(open.indexOf(store), 1);
  return openStore();
}

const turn = (id: string, role: Turn['role'], text: string, extra: Partial<Turn> = {}): Turn => ({ id, role, source: 'typed', text, status: 'completed', startedAt: 1000, ...extra });
const said = (text: string): ResponseInputItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const answered = (text: string): ResponseInputItem => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }], id: `msg_${text.length}`, status: 'completed' }) as ResponseInputItem;
const ledgerOf = (offset: number, ...items: ResponseInputItem[]): LedgerSnapshot => ({ offset, entries: items.map((item) => ({ item, stored: false })) });

describe('HistoryStore (SQLite in a temporary folder)', () => {
  it('keeps a conversation, its turns in order and its ledger across closing and reopening the file', () => {
    let store = openStore();
    store.save({ id: 'c1', title: 'Trip to Lisbon', at: 5000, turns: [turn('u1', 'user', 'Plan a trip to Lisbon'), turn('a1', 'assistant', 'Here is a plan.')], ledger: ledgerOf(0, said('Plan a trip to Lisbon'), answered('Here is a plan.')) });
    store.save({ id: 'c1', title: 'ignored: the conversation has its name', at: 6000, turns: [turn('u2', 'user', 'And the food?', { source: 'voice' }), turn('a2', 'assistant', 'Try pastéis.', { heardText: 'Try' })] });

    store = reopen(store);
    const loaded = store.load('c1');
    expect(loaded?.summary).toEqual({ id: 'c1', title: 'Trip to Lisbon', createdAt: 5000, updatedAt: 6000, turnCount: 4 });
    expect(loaded?.turns.map((entry) => [entry.id, entry.source, entry.text])).toEqual([
      ['u1', 'typed', 'Plan a trip to Lisbon'],
      ['a1', 'typed', 'Here is a plan.'],
      ['u2', 'voice', 'And the food?'],
      ['a2', 'typed', 'Try pastéis.'],
    ]);
    expect(loaded?.turns[3]?.heardText).toBe('Try');
    expect(loaded?.ledger).toEqual(ledgerOf(0, said('Plan a trip to Lisbon'), answered('Here is a plan.')));
  });

  it('rewrites the saved window when items were taken back (a regenerated turn reuses their numbers)', () => {
    const store = openStore();
    store.save({ id: 'c1', title: 't', at: 1, turns: [], ledger: ledgerOf(0, said('one'), answered('1'), said('two'), answered('first answer')) });
    // The last turn was regenerated: items 2 and 3 are new ones under the same numbers.
    const regenerated = { ...ledgerOf(0, said('one'), answered('1'), said('two'), answered('other answer')), rewound: true };
    store.save({ id: 'c1', title: 't', at: 2, turns: [], ledger: regenerated });
    expect(store.load('c1')?.ledger).toEqual(ledgerOf(0, said('one'), answered('1'), said('two'), answered('other answer')));
  });

  it('writes only the new ledger items each turn, and drops the items a compaction folded away', () => {
    const store = openStore();
    store.save({ id: 'c1', title: 't', at: 1, turns: [], ledger: ledgerOf(0, said('one'), answered('1')) });
    store.save({ id: 'c1', title: 't', at: 2, turns: [], ledger: ledgerOf(0, said('one'), answered('1'), said('two'), answered('2')) });
    expect(store.load('c1')?.ledger.entries).toHaveLength(4);
    // A compaction: the window now starts at item 4 with the compaction item.
    const compaction = { type: 'compaction', id: 'cmp_1', encrypted_content: 'x' } as unknown as ResponseInputItem;
    store.save({ id: 'c1', title: 't', at: 3, turns: [], ledger: ledgerOf(4, compaction, said('three')) });
    expect(store.load('c1')?.ledger).toEqual(ledgerOf(4, compaction, said('three')));
  });

  it('leaves the previous state when a write fails part way through its transaction', () => {
    const store = openStore();
    store.save({ id: 'c1', title: 't', at: 1, turns: [turn('u1', 'user', 'first')], ledger: ledgerOf(0, said('first')) });
    // The turn row goes in, then the ledger item cannot be written (a BigInt is not JSON).
    const unwritable = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 10n }] } as unknown as ResponseInputItem;
    expect(() => store.save({ id: 'c1', title: 't', at: 2, turns: [turn('u2', 'user', 'second')], ledger: ledgerOf(0, said('first'), unwritable) })).toThrow(/BigInt/);
    const loaded = reopen(store).load('c1');
    expect(loaded?.turns.map((entry) => entry.text)).toEqual(['first']);
    expect(loaded?.ledger.entries).toHaveLength(1);
    expect(loaded?.summary.updatedAt).toBe(1);
  });

  it('survives the process being killed in the middle of a transaction: the earlier turns are intact, the torn one is absent', () => {
    const store = openStore();
    store.save({ id: 'c1', title: 't', at: 1, turns: [turn('u1', 'user', 'kept before the crash')], ledger: ledgerOf(0, said('kept before the crash')) });
    store.close();
    open.length = 0;
    // A real process writes a turn and half a ledger, then dies by SIGKILL before committing.
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crashWriter.ts'), path], { encoding: 'utf8', timeout: 30_000 });
    expect(child.signal).toBe('SIGKILL');
    // Item 0 was saved before; items 1 to 49 went into the open transaction.
    expect(child.stdout).toContain('ledger items written: 49');

    const after = openStore();
    const loaded = after.load('c1');
    expect(loaded?.turns.map((entry) => entry.text)).toEqual(['kept before the crash']);
    expect(loaded?.ledger.entries).toHaveLength(1);
    expect(after.search('torn')).toEqual([]);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  });

  it('finds a word said in an old conversation by full-text search, by prefix and without accents, one hit per conversation', () => {
    const store = openStore();
    store.save({ id: 'old', title: 'Garden', at: 10, turns: [turn('u1', 'user', 'When should I prune the wisteria?'), turn('a1', 'assistant', 'Prune wisteria twice: in summer and in winter.')] });
    store.save({ id: 'new', title: 'Coffee', at: 20, turns: [turn('u2', 'user', 'How do I make a café crème?')] });

    const hits = store.search('wisteria');
    expect(hits.map((hit) => hit.id)).toEqual(['old']);
    // The passage shown starts three words before the match (an ellipsis says text was left out).
    const snippet = hits[0]?.snippet ?? [];
    expect(snippet.filter((part) => part.match).map((part) => part.text)).toEqual(['wisteria']);
    expect(['…I prune the wisteria?', 'Prune wisteria twice: in summer and in winter.']).toContain(snippet.map((part) => part.text).join(''));
    expect(store.search('wist').map((hit) => hit.id)).toEqual(['old']);
    expect(store.search('cafe creme').map((hit) => hit.id)).toEqual(['new']);
    expect(store.search('summer winter').map((hit) => hit.id)).toEqual(['old']);
    expect(store.search('summer coffee-machine')).toEqual([]);
    // A conversation's name is searched too.
    expect(store.search('Coff').map((hit) => hit.id)).toEqual(['new']);
    // FTS5's own syntax typed by the user is plain text, never an error.
    expect(() => store.search('"unbalanced AND OR * ( NEAR')).not.toThrow();
  });

  it('keeps the index in step when a turn changes, is renamed away or deleted', () => {
    const store = openStore();
    store.save({ id: 'c1', title: 't', at: 1, turns: [turn('a1', 'assistant', 'draft about tulips')] });
    store.save({ id: 'c1', title: 't', at: 2, turns: [turn('a1', 'assistant', 'final answer about roses')] });
    expect(store.search('tulips')).toEqual([]);
    expect(store.search('roses').map((hit) => hit.id)).toEqual(['c1']);
    expect(store.rename('c1', 'Flowers')).toBe(true);
    expect(store.list().map((entry) => entry.title)).toEqual(['Flowers']);
    expect(store.delete('c1')).toBe(true);
    expect(store.search('roses')).toEqual([]);
    expect(store.load('c1')).toBeNull();
    expect(store.delete('c1')).toBe(false);
  });

  it('lists the most recently used first', () => {
    const store = openStore();
    store.save({ id: 'a', title: 'A', at: 1, turns: [] });
    store.save({ id: 'b', title: 'B', at: 2, turns: [] });
    store.save({ id: 'a', title: 'A', at: 3, turns: [turn('u', 'user', 'again')] });
    expect(store.list().map((entry) => [entry.id, entry.turnCount])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    expect(store.list(1, 1).map((entry) => entry.id)).toEqual(['b']);
  });

  it('prunes conversations last used before the cutoff, never the one kept, and their words leave the index', () => {
    const store = openStore();
    const day = 86_400_000;
    store.save({ id: 'ancient', title: 'x', at: 1 * day, turns: [turn('u1', 'user', 'ancient history')] });
    store.save({ id: 'on-screen', title: 'y', at: 2 * day, turns: [turn('u2', 'user', 'still open')] });
    store.save({ id: 'recent', title: 'z', at: 40 * day, turns: [turn('u3', 'user', 'recent news')] });
    expect(store.pruneBefore(31 * day, 'on-screen')).toBe(1);
    expect(store.list().map((entry) => entry.id).sort()).toEqual(['on-screen', 'recent']);
    expect(store.search('ancient')).toEqual([]);
  });

  it('refuses a database written by a newer Parley rather than damage it', () => {
    openStore().close();
    open.length = 0;
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openStore()).toThrow(/newer Parley/);
  });
});
