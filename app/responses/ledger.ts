/**
 * The local, authoritative record of a conversation: every input item, output item, tool output
 * and compaction item, in order, with a token estimate each. The server's cache only saves
 * resending it; whenever that cache is gone, the ledger's window is what gets resent.
 */
import type { ResponseInputItem } from '../protocol/responses';

export interface LedgerEntry {
  item: ResponseInputItem;
  tokens: number;
  /** Came from a response created with `store: true`, so the server can find it by id. */
  stored: boolean;
}

/** What decides which items a full resend may carry. */
export interface ResendRules {
  store: boolean;
  /** The model the resend goes to reasons (and so accepts reasoning items back). */
  reasoning: boolean;
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

  /**
   * The window as a full resend (or `/responses/compact`) may carry it. Messages, calls and
   * outputs carry their whole content, so the server needs nothing of them by id (the recorded
   * store:false tool loop, fixture openai-reasoning-encrypted-content, resends them with ids).
   * A reasoning item is different: by id alone it exists only where it was stored, and with
   * `store: false` the service answers "Item with id 'rs_…' not found" (vercel/ai#7543,
   * openai-agents-python#919). So it goes back with its `encrypted_content`, or, only under
   * `store: true`, if it came from a stored response; otherwise not at all, as vercel/ai#13234
   * does. A model that does not reason gets none.
   */
  resendWindow(rules: ResendRules): ResponseInputItem[] {
    const entries = this.#entries.slice(this.#windowStart);
    return entries.filter((entry) => isResendable(entry, rules)).map((entry) => entry.item);
  }

  windowTokens(): number {
    return this.#entries.slice(this.#windowStart).reduce((sum, entry) => sum + entry.tokens, 0);
  }

  append(items: readonly ResponseInputItem[], { stored = false }: { stored?: boolean } = {}): void {
    for (const item of items) {
      this.#entries.push({ item, tokens: estimateTokens(item), stored });
      // A server-side compaction item stands for everything before it (PROTOCOL.md §1).
      if ((item as { type?: unknown }).type === 'compaction') this.#windowStart = this.#entries.length - 1;
    }
  }

  /** Replaces the window with the output of `/responses/compact`, kept unpruned as the new base. */
  replaceWindow(compacted: readonly ResponseInputItem[]): void {
    this.#windowStart = this.#entries.length;
    for (const item of compacted) this.#entries.push({ item, tokens: estimateTokens(item), stored: false });
  }

  clear(): void {
    this.#entries = [];
    this.#windowStart = 0;
  }
}

function isResendable(entry: LedgerEntry, rules: ResendRules): boolean {
  const item = entry.item as { type?: unknown; encrypted_content?: unknown };
  if (item.type !== 'reasoning') return true;
  if (!rules.reasoning) return false;
  if (typeof item.encrypted_content === 'string' && item.encrypted_content !== '') return true;
  return rules.store && entry.stored;
}
