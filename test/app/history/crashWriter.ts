/**
 * The crash in store.test.ts: opens the history at argv[2], starts writing a turn and a 100-item
 * ledger in one transaction, and kills itself with SIGKILL as it serialises the 51st item, before the commit.
 */
import Database from 'better-sqlite3';
import { writeSync } from 'node:fs';
import { HistoryStore } from '../../../app/history/store';
import type { ResponseInputItem } from '../../../app/protocol/responses';

const store = new HistoryStore(new Database(process.argv[2] ?? ''));
let written = 0;
const item = (index: number): ResponseInputItem =>
  ({
    // Serialised as the store writes it: the 51st item is where the power goes out.
    toJSON: () => {
      if (index === 50) {
        writeSync(1, `ledger items written: ${written}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      written += 1;
      return { type: 'message', role: 'user', content: [{ type: 'input_text', text: `item ${index}` }] };
    },
  }) as unknown as ResponseInputItem;

store.save({
  id: 'c1',
  title: 't',
  at: 2,
  turns: [{ id: 'u2', role: 'user', source: 'typed', text: 'torn turn', status: 'completed', startedAt: 2 }],
  ledger: { offset: 0, entries: Array.from({ length: 100 }, (_, index) => ({ item: item(index), stored: false })) },
});
writeSync(1, 'committed: the crash did not happen\n');
