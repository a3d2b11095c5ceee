/**
 * Conversation history: what saving one turn costs, and how long a search takes over many saved
 * conversations. Everything here is measured on this machine against a real SQLite file in a
 * temporary folder (nothing is simulated). The write cost is shown as shipped (WAL,
 * `synchronous = FULL`) and beside it with `synchronous = NORMAL`, the ratio saying what the
 * power-cut durability costs.
 * `npm run bench -- history [--conversations 1000] [--turns 10] [--writes 500] [--searches 100]`
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Turn } from '../../app/contract';
import { HistoryStore } from '../../app/history/store';
import { userMessage, type ResponseInputItem } from '../../app/protocol/responses';
import { seeded } from '../../app/testing/random';

const words = (
  'the a plan trip garden coffee meeting budget report code review test deploy server latency voice ' +
  'agent model token cache socket window python rust svelte note calendar invoice travel hotel train ' +
  'flight weather recipe bread pasta music guitar lesson homework essay chapter draft summary idea'
).split(' ');

function sentence(random: () => number, length: number): string {
  return Array.from({ length }, () => words[Math.floor(random() * words.length)] ?? 'word').join(' ');
}

const answer = (text: string): ResponseInputItem => ({ type: 'message', role: 'assistant', id: 'msg_bench', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }) as ResponseInputItem;

function turnPair(random: () => number, conversation: number, index: number, at: number): { turns: Turn[]; items: ResponseInputItem[] } {
  const asked = sentence(random, 12);
  const replied = sentence(random, 80);
  return {
    turns: [
      { id: `u${conversation}-${index}`, role: 'user', source: 'typed', text: asked, status: 'completed', startedAt: at },
      { id: `a${conversation}-${index}`, role: 'assistant', source: 'typed', text: replied, status: 'completed', startedAt: at },
    ],
    items: [userMessage(asked), answer(replied)],
  };
}

function quantiles(samples: number[]): { meanMs: number; p50Ms: number; p95Ms: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return { meanMs: round(samples.reduce((sum, ms) => sum + ms, 0) / samples.length), p50Ms: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(at(1)) };
}

/** Saves `writes` turns, one transaction each, into one growing conversation, as the app does. */
function writeCost(dir: string, synchronous: 'FULL' | 'NORMAL', writes: number): ReturnType<typeof quantiles> {
  const db = new Database(join(dir, `writes-${synchronous}.sqlite`));
  const store = new HistoryStore(db);
  db.pragma(`synchronous = ${synchronous}`);
  const random = seeded(7);
  const ledger: Array<{ item: ResponseInputItem; stored: boolean }> = [];
  const samples: number[] = [];
  for (let index = 0; index < writes; index += 1) {
    const { turns, items } = turnPair(random, 0, index, index);
    ledger.push(...items.map((item) => ({ item, stored: false })));
    const started = performance.now();
    store.save({ id: 'c0', title: 'bench', at: index, turns, ledger: { offset: 0, entries: ledger } });
    samples.push(performance.now() - started);
  }
  store.close();
  return quantiles(samples);
}

export async function historyBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { conversations: { type: 'string', default: '1000' }, turns: { type: 'string', default: '10' }, writes: { type: 'string', default: '500' }, searches: { type: 'string', default: '100' } },
  });
  const conversations = Number(values.conversations);
  const turnsEach = Number(values.turns);
  const writes = Number(values.writes);
  const searches = Number(values.searches);
  for (const [name, value] of Object.entries({ conversations, turns: turnsEach, writes, searches })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number.`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-history-'));
  try {
    const full = writeCost(dir, 'FULL', writes);
    const normal = writeCost(dir, 'NORMAL', writes);
    print({
      bench: 'history.write',
      measured: true,
      writes,
      perTurn: 'one transaction: the user turn, the reply and two ledger items, into one growing conversation',
      shipped: { synchronous: 'FULL', ...full },
      normal: { synchronous: 'NORMAL', ...normal },
      fullOverNormal: Math.round((full.meanMs / normal.meanMs) * 100) / 100,
    });

    // Many conversations, one of them (the oldest) with a word no other has.
    const db = new Database(join(dir, 'search.sqlite'));
    const store = new HistoryStore(db);
    const random = seeded(11);
    const filledAt = performance.now();
    for (let conversation = 0; conversation < conversations; conversation += 1) {
      const turns: Turn[] = [];
      const items: ResponseInputItem[] = [];
      for (let index = 0; index < turnsEach; index += 1) {
        const pair = turnPair(random, conversation, index, conversation);
        turns.push(...pair.turns);
        items.push(...pair.items);
      }
      if (conversation === 0) turns.push({ id: 'needle', role: 'user', source: 'typed', text: 'remember the wisteria by the porch', status: 'completed', startedAt: 0 });
      store.save({ id: `c${conversation}`, title: sentence(random, 4), at: conversation, turns, ledger: { offset: 0, entries: items.map((item) => ({ item, stored: false })) } });
    }
    const fillMs = performance.now() - filledAt;
    const time = (query: string): { stats: ReturnType<typeof quantiles>; hits: number } => {
      const samples: number[] = [];
      let hits = 0;
      for (let index = 0; index < searches; index += 1) {
        const started = performance.now();
        hits = store.search(query).length;
        samples.push(performance.now() - started);
      }
      return { stats: quantiles(samples), hits };
    };
    const rare = time('wisteria');
    const common = time('budget report');
    const listed: number[] = [];
    for (let index = 0; index < searches; index += 1) {
      const started = performance.now();
      store.list();
      listed.push(performance.now() - started);
    }
    const loaded: number[] = [];
    for (let index = 0; index < searches; index += 1) {
      const started = performance.now();
      store.load(`c${index % conversations}`);
      loaded.push(performance.now() - started);
    }
    store.close();
    print({
      bench: 'history.search',
      measured: true,
      conversations,
      turns: conversations * (turnsEach * 2) + 1,
      fillSeconds: Math.round(fillMs / 10) / 100,
      rareWord: { query: 'wisteria', hits: rare.hits, ...rare.stats },
      commonWords: { query: 'budget report', hits: common.hits, ...common.stats },
      list200: quantiles(listed),
      openOne: quantiles(loaded),
      commonOverRare: Math.round((common.stats.meanMs / rare.stats.meanMs) * 100) / 100,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
