import type { ResponseInputItem } from '../protocol/responses';

/**
 * The local, authoritative record of the conversation, in order. The server's connection-local
 * cache only saves resending it; whenever that cache is gone, the ledger is what gets resent.
 */
export class Ledger {
  #items: ResponseInputItem[] = [];

  get length(): number {
    return this.#items.length;
  }

  get items(): readonly ResponseInputItem[] {
    return this.#items;
  }

  append(items: readonly ResponseInputItem[]): void {
    this.#items.push(...items);
  }

  clear(): void {
    this.#items = [];
  }
}
