/**
 * The local, authoritative record of a conversation: every input item, output item, tool output
 * and compaction item since the latest compaction, in order, with a token estimate each. The
 * server's cache only saves resending it; whenever that cache is gone, the window is resent.
 */
import type { ResponseInputItem } from '../protocol/responses';

export interface LedgerEntry {
  item: ResponseInputItem;
  tokens: number;
  /** The item's size as JSON, in UTF-8 bytes: what it adds to a full resend. */
  bytes: number;
  /** Came from a response created with `store: true`, so the server can find it by id. */
  stored: boolean;
  /** Its place in the order of everything ever recorded (the ledger's `length` when it came). */
  seq: number;
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

/** A compaction that just folded the window: its size before, and after. */
export interface LedgerFold {
  tokensBefore: number;
  tokensAfter: number;
}

export class Ledger {
  /**
   * The resendable window: from the latest compaction item (or the start) on. What a compaction
   * stands for is dropped, so memory stays bounded however long the conversation runs.
   */
  #window: LedgerEntry[] = [];
  #windowTokens = 0;
  /** Items ever recorded: grows with every append, so a chain can tell the ledger moved on. */
  #recorded = 0;
  /** Window tokens right after the latest compaction; 0 before any. */
  #tokensAtFold = 0;
  /** The window's bytes and items by resend class, kept as items come and go (see `resendBytes`). */
  #tally = emptyTally();
  /** The `seq` of the latest compaction's last item; -1 before any. */
  #foldedAt = -1;
  /** How many times items were taken back (see `dropFrom`). */
  #rewinds = 0;

  /** How many items were ever recorded, including those a compaction folded away. */
  get length(): number {
    return this.#recorded;
  }

  get entries(): readonly LedgerEntry[] {
    return this.#window;
  }

  /**
   * Counts `dropFrom` calls. Numbers taken back are used again by the items that come next, so a
   * copy kept elsewhere (the history database) must rewrite its window when this changes.
   */
  get rewinds(): number {
    return this.#rewinds;
  }

  /** What a full resend sends: the latest compaction item (if any) and everything after it. */
  window(): ResponseInputItem[] {
    return this.#window.map((entry) => entry.item);
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
    return this.#window.filter((entry) => isResendable(entry, rules)).map((entry) => entry.item);
  }

  /**
   * The UTF-8 size of `resendWindow(rules)` as a JSON array. Asked for on every chained request (the
   * inspector's "full resend size"), so it reads running totals and never walks the window.
   */
  resendBytes(rules: ResendRules): number {
    let bytes = 0;
    let count = 0;
    for (const resend of resendClasses) {
      if (!allows(resend, rules)) continue;
      bytes += this.#tally[resend].bytes;
      count += this.#tally[resend].count;
    }
    return 2 + bytes + Math.max(0, count - 1);
  }

  windowTokens(): number {
    return this.#windowTokens;
  }

  /**
   * Whether the window is worth compacting at this threshold. A compacted window keeps every user
   * message, so it may stay above the threshold; compacting again is worth it only once the window
   * has grown by a quarter of the threshold and by half of what the last compaction left, so a
   * long conversation compacts now and then, not before every request.
   */
  shouldCompact(thresholdTokens: number): boolean {
    const grown = this.#windowTokens - this.#tokensAtFold;
    return this.#windowTokens > thresholdTokens && grown >= Math.max(thresholdTokens / 4, this.#tokensAtFold / 2);
  }

  /** Records items in order; a server-side compaction item folds everything before it. */
  append(items: readonly ResponseInputItem[], { stored = false }: { stored?: boolean } = {}): LedgerFold | null {
    let foldedFrom: number | null = null;
    for (const item of items) {
      const seq = this.#recorded++;
      // A server-side compaction item stands for everything before it (PROTOCOL.md §1).
      if ((item as { type?: unknown }).type === 'compaction') {
        foldedFrom = Math.max(foldedFrom ?? 0, this.#windowTokens);
        this.#empty();
        this.#foldedAt = seq;
      }
      this.#push(entryOf(item, stored, seq));
    }
    if (foldedFrom === null) return null;
    this.#tokensAtFold = this.#windowTokens;
    return { tokensBefore: foldedFrom, tokensAfter: this.#windowTokens };
  }

  /** Replaces the window with the output of `/responses/compact`, kept unpruned as the new base. */
  replaceWindow(compacted: readonly ResponseInputItem[]): LedgerFold {
    const tokensBefore = this.#windowTokens;
    this.#empty();
    for (const item of compacted) this.#push(entryOf(item, false, this.#recorded++));
    this.#foldedAt = this.#recorded - 1;
    this.#tokensAtFold = this.#windowTokens;
    return { tokensBefore, tokensAfter: this.#windowTokens };
  }

  /**
   * Takes the window of a conversation saved earlier, whose first item was item number `offset`
   * of that conversation, so the numbering (and what a store saved under it) carries on.
   */
  restore(offset: number, entries: ReadonlyArray<{ item: ResponseInputItem; stored: boolean }>): void {
    this.clear();
    entries.forEach(({ item, stored }, index) => this.#push(entryOf(item, stored, offset + index)));
    this.#recorded = offset + entries.length;
    // A window that starts at a compaction is what that compaction left; otherwise none happened.
    const folded = (entries[0]?.item as { type?: unknown } | undefined)?.type === 'compaction';
    this.#tokensAtFold = folded ? this.#windowTokens : 0;
    this.#foldedAt = folded ? offset : -1;
  }

  /**
   * Takes back everything recorded from `mark` (an earlier `length`) on, as when the last turn is
   * regenerated or edited, so the model does not see it twice. Refused (false) when a compaction
   * since then folded some of it into a summary that cannot be taken apart.
   */
  dropFrom(mark: number): boolean {
    if (this.#foldedAt >= mark) return false;
    const first = this.#window.findIndex((entry) => entry.seq >= mark);
    if (first < 0) return true;
    const kept = this.#window.slice(0, first);
    this.#empty();
    for (const entry of kept) this.#push(entry);
    this.#recorded = mark;
    this.#rewinds += 1;
    return true;
  }

  clear(): void {
    this.#empty();
    this.#tokensAtFold = 0;
  }

  #empty(): void {
    this.#window = [];
    this.#windowTokens = 0;
    this.#tally = emptyTally();
  }

  #push(entry: LedgerEntry): void {
    this.#window.push(entry);
    this.#windowTokens += entry.tokens;
    const resend = resendClass(entry);
    if (resend === 'never') return;
    const part = this.#tally[resend];
    part.bytes += entry.bytes;
    part.count += 1;
  }
}

interface TallyPart {
  bytes: number;
  count: number;
}

type ResendClass = 'always' | 'encrypted' | 'storedOnly';
const resendClasses: readonly ResendClass[] = ['always', 'encrypted', 'storedOnly'];

/** Bytes and items per resend class; an unstored reasoning item without its content is never resent. */
type Tally = Record<ResendClass, TallyPart>;

const emptyTally = (): Tally => ({ always: { bytes: 0, count: 0 }, encrypted: { bytes: 0, count: 0 }, storedOnly: { bytes: 0, count: 0 } });

/**
 * Which rules let an entry go in a full resend: `always` (not reasoning), `encrypted` (reasoning
 * with its content, for a reasoning model), `storedOnly` (reasoning stored on the server, for a
 * reasoning model under `store: true`), or `never`.
 */
function resendClass(entry: LedgerEntry): ResendClass | 'never' {
  const item = entry.item as { type?: unknown; encrypted_content?: unknown };
  if (item.type !== 'reasoning') return 'always';
  if (typeof item.encrypted_content === 'string' && item.encrypted_content !== '') return 'encrypted';
  return entry.stored ? 'storedOnly' : 'never';
}

function entryOf(item: ResponseInputItem, stored: boolean, seq: number): LedgerEntry {
  const json = JSON.stringify(item);
  return { item, tokens: Math.max(1, Math.ceil(json.length / 4)), bytes: Buffer.byteLength(json), stored, seq };
}

function allows(resend: ResendClass, rules: ResendRules): boolean {
  if (resend === 'always') return true;
  return rules.reasoning && (resend === 'encrypted' || rules.store);
}

function isResendable(entry: LedgerEntry, rules: ResendRules): boolean {
  const resend = resendClass(entry);
  return resend !== 'never' && allows(resend, rules);
}
