/**
 * The local, authoritative record of a conversation: every input item, output item, tool output
 * and compaction item, in order, with a token estimate each. The server's cache only saves
 * resending it; whenever that cache is gone, the ledger's window is what gets resent.
 */
import type { ResponseInputItem } from '../protocol/responses';

export interface LedgerEntry {
  item: ResponseInputItem;
  tokens: number;
}

/** About four characters per token: close enough to decide when to compact. */
export function estimateTokens(item: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(item).length / 4));
}

export class Ledger {
  #entries: LedgerEntry[] = [];
  /** Index where the resendable window starts: at the latest compaction, or 0. */
  #windowStart = 0;

  /** Every entry ever recorded (the window and what compaction folded away). */
  get length(): number {
    return this.#entries.length;
  }

  get entries(): readonly LedgerEntry[] {
    return this.#entries;
  }

  /** What a full resend sends: the latest compaction item (if any) and everything after it. */
  window(): ResponseInputItem[] {
    return this.#entries.slice(this.#windowStart).map((entry) => entry.item);
  }

  windowTokens(): number {
    return this.#entries.slice(this.#windowStart).reduce((sum, entry) => sum + entry.tokens, 0);
  }

  append(items: readonly ResponseInputItem[]): void {
    for (const item of items) {
      this.#entries.push({ item, tokens: estimateTokens(item) });
      // A server-side compaction item stands for everything before it (PROTOCOL.md §1).
      if ((item as { type?: unknown }).type === 'compaction') this.#windowStart = this.#entries.length - 1;
    }
  }

  /** Replaces the window with the output of `/responses/compact`, kept unpruned as the new base. */
  replaceWindow(compacted: readonly ResponseInputItem[]): void {
    this.#windowStart = this.#entries.length;
    for (const item of compacted) this.#entries.push({ item, tokens: estimateTokens(item) });
  }

  clear(): void {
    this.#entries = [];
    this.#windowStart = 0;
  }
}
