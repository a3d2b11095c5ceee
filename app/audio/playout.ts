/**
 * PlayoutBuffer: the jitter buffer between the socket and the speaker, and the clock that says
 * how much of each assistant item the listener has actually heard. It writes a little ahead of
 * real time (`leadMs`), records when each chunk will reach the listener (write time plus the
 * sink's latency, after whatever is already queued), and stops within one chunk on barge-in.
 */
import { levelDbfs } from './pcm';
import type { SpeakerSink } from './ports';

export interface Scheduler {
  now(): number;
  /** Calls `fire` after `ms`; returns a function that cancels it. */
  after(ms: number, fire: () => void): () => void;
}

export type PlayoutEvent =
  | { type: 'playout.started'; itemId: string }
  | { type: 'playout.drained'; itemId: string; playedMs: number }
  | { type: 'playout.stopped'; itemId: string; playedMs: number; generatedMs: number };

/**
 * The far end as the listener hears it, for the echo canceller: each chunk written and when its
 * first sample sounds, and each stop (nothing after `at` sounds).
 */
export type FarEndEvent = { type: 'played'; pcm: Int16Array; startsAt: number } | { type: 'cut'; at: number };

export interface PlayoutOptions {
  sink: SpeakerSink;
  scheduler: Scheduler;
  /** Size of each write; also the longest a stop can lag. */
  chunkMs?: number;
  /** How far ahead of the listener writes may run. */
  leadMs?: number;
  /**
   * How long a played chunk is kept chunk by chunk (for `audibleLevelDbfs`'s look-back); older ones
   * are folded into their item's heard total, so per-frame work does not grow with the session.
   */
  historyMs?: number;
  /** How many finished items keep their played figures (a truncation needs only the latest). */
  rememberedItems?: number;
  onEvent?: (event: PlayoutEvent) => void;
}

interface Scheduled {
  itemId: string;
  /**
   * The chunk as played, kept until it folds into history so its level can be measured when the
   * echo gate first asks: most sessions never ask (the canceller, headphones), and measuring every
   * chunk as it was written was the largest part of playback's own CPU.
   */
  samples: Int16Array;
  levelDbfs?: number;
  /** When the chunk's first sample reaches the listener. */
  startsAt: number;
  durationMs: number;
}

interface Item {
  generatedSamples: number;
  /** Samples received and not yet written. */
  pending: Int16Array[];
  pendingOffset: number;
  /** Chunks written and not yet folded into `foldedMs`, oldest first. */
  scheduled: Scheduled[];
  /** Heard milliseconds of chunks that ended longer than the history ago. */
  foldedMs: number;
}

export interface StopResult {
  itemId: string;
  playedMs: number;
  generatedMs: number;
}

export class PlayoutBuffer {
  readonly #sink: SpeakerSink;
  readonly #scheduler: Scheduler;
  readonly #chunkSamples: number;
  readonly #leadMs: number;
  readonly #rate: number;
  readonly #onEvent: (event: PlayoutEvent) => void;
  readonly #historyMs: number;
  readonly #rememberedItems: number;
  #items = new Map<string, Item>();
  /** Items in arrival order; the head is the one playing. */
  #order: string[] = [];
  /** When the last written sample reaches the listener. */
  #audibleUntil = 0;
  #cancelPump: (() => void) | null = null;
  #cancelDrain: (() => void) | null = null;
  readonly #farEndListeners = new Set<(event: FarEndEvent) => void>();

  constructor(options: PlayoutOptions) {
    this.#sink = options.sink;
    this.#scheduler = options.scheduler;
    this.#rate = options.sink.sampleRate;
    this.#chunkSamples = Math.round(((options.chunkMs ?? 40) * this.#rate) / 1000);
    // Three chunks ahead: two underran on a saturated test machine.
    this.#leadMs = options.leadMs ?? 3 * (options.chunkMs ?? 40);
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#historyMs = options.historyMs ?? 2000;
    this.#rememberedItems = options.rememberedItems ?? 4;
  }

  /** The playout clock, which `FarEndEvent` times and mic capture times are on. */
  now(): number {
    return this.#scheduler.now();
  }

  /** Subscribes to the far-end tap; returns the unsubscribe function. */
  onFarEnd(listener: (event: FarEndEvent) => void): () => void {
    this.#farEndListeners.add(listener);
    return () => this.#farEndListeners.delete(listener);
  }

  /** Audio for `itemId` (PCM16 mono at the sink's rate), played after anything queued before it. */
  enqueue(itemId: string, pcm: Int16Array): void {
    if (pcm.length === 0) return;
    let item = this.#items.get(itemId);
    if (item === undefined) {
      item = { generatedSamples: 0, pending: [], pendingOffset: 0, scheduled: [], foldedMs: 0 };
      this.#items.set(itemId, item);
      this.#forgetOldItems();
    }
    // An item that drained during an underrun plays on when more of it arrives.
    if (!this.#order.includes(itemId)) this.#order.push(itemId);
    item.generatedSamples += pcm.length;
    item.pending.push(pcm);
    this.#pump();
  }

  /** Milliseconds of `itemId` the listener has heard by now (or by `at`). */
  playedMs(itemId: string, at = this.#scheduler.now()): number {
    const item = this.#items.get(itemId);
    if (item === undefined) return 0;
    let played = item.foldedMs;
    for (const chunk of item.scheduled) played += Math.min(Math.max(at - chunk.startsAt, 0), chunk.durationMs);
    return played;
  }

  generatedMs(itemId: string): number {
    return ((this.#items.get(itemId)?.generatedSamples ?? 0) * 1000) / this.#rate;
  }

  /** Audio queued or written but not yet heard, in milliseconds. */
  get depthMs(): number {
    const now = this.#scheduler.now();
    let pending = 0;
    for (const item of this.#items.values()) pending += item.pending.reduce((sum, part) => sum + part.length, 0) - item.pendingOffset;
    return Math.max(0, this.#audibleUntil - now) + (pending * 1000) / this.#rate;
  }

  /**
   * The loudest level the listener heard recently (`lookbackMs`, long enough to cover the way back
   * from speaker to microphone) or is about to hear, or null when nothing was sounding: what echo
   * safety compares the mic against.
   */
  audibleLevelDbfs(at = this.#scheduler.now(), lookbackMs = 500): number | null {
    this.#foldHistory();
    let loudest: number | null = null;
    for (const item of this.#items.values()) {
      for (const chunk of item.scheduled) {
        if (chunk.startsAt > at + 50) break;
        if (chunk.startsAt + chunk.durationMs < at - lookbackMs) continue;
        chunk.levelDbfs ??= levelDbfs(chunk.samples);
        loudest = loudest === null ? chunk.levelDbfs : Math.max(loudest, chunk.levelDbfs);
      }
    }
    return loudest;
  }

  /** True while anything is queued or still sounding. */
  get playing(): boolean {
    return this.depthMs > 0;
  }

  /** The item being heard now (or next), if any. */
  get currentItemId(): string | null {
    return this.#order[0] ?? null;
  }

  /**
   * Barge-in: discards everything not yet heard and reports how much of the current item was.
   * Returns null when nothing was playing.
   */
  stop(): StopResult | null {
    this.#cancelPump?.();
    this.#cancelDrain?.();
    this.#cancelPump = this.#cancelDrain = null;
    // The device sounds on until its flush returns (PulseAudio acknowledging the drop: 2-45 ms on
    // the echo loop, the ear falling silent within 6 ms of the return), so what was heard is
    // read after it.
    this.#sink.flush();
    const now = this.#scheduler.now();
    const itemId = this.#order.find((id) => this.playedMs(id, now) < this.generatedMs(id)) ?? null;
    for (const listener of this.#farEndListeners) listener({ type: 'cut', at: now });
    const wasPlaying = this.#audibleUntil > now || [...this.#items.values()].some((item) => item.pending.length > 0);
    const result = itemId === null ? null : { itemId, playedMs: this.playedMs(itemId, now), generatedMs: this.generatedMs(itemId) };
    // What was flushed will never be heard: cut the schedule at now.
    for (const item of this.#items.values()) {
      item.pending = [];
      item.pendingOffset = 0;
      item.scheduled = item.scheduled
        .filter((chunk) => chunk.startsAt < now)
        .map((chunk) => ({ ...chunk, durationMs: Math.min(chunk.durationMs, now - chunk.startsAt) }));
    }
    this.#order = [];
    this.#audibleUntil = now;
    if (result !== null && wasPlaying) this.#onEvent({ type: 'playout.stopped', ...result });
    return wasPlaying ? result : null;
  }

  /** Forgets finished items' bookkeeping (their played figures are no longer needed). */
  forget(itemId: string): void {
    if (this.#order.includes(itemId)) return;
    this.#items.delete(itemId);
  }

  /** Items and chunks held for played figures and look-back: bounded however long the session. */
  get retained(): { items: number; chunks: number } {
    let chunks = 0;
    for (const item of this.#items.values()) chunks += item.scheduled.length;
    return { items: this.#items.size, chunks };
  }

  /** Folds chunks heard longer than the history ago into their item's total; each chunk once. */
  #foldHistory(): void {
    const before = this.#scheduler.now() - this.#historyMs;
    for (const item of this.#items.values()) {
      let folded = 0;
      while (folded < item.scheduled.length) {
        const chunk = item.scheduled[folded] as Scheduled;
        if (chunk.startsAt + chunk.durationMs > before) break;
        item.foldedMs += chunk.durationMs;
        folded += 1;
      }
      if (folded > 0) item.scheduled.splice(0, folded);
    }
  }

  /** Keeps the played figures of the latest finished items only, oldest forgotten first. */
  #forgetOldItems(): void {
    let finished = 0;
    const ids = [...this.#items.keys()];
    for (let index = ids.length - 1; index >= 0; index -= 1) {
      const itemId = ids[index] as string;
      if (this.#order.includes(itemId)) continue;
      finished += 1;
      if (finished > this.#rememberedItems) this.#items.delete(itemId);
    }
  }

  #pump(): void {
    if (this.#cancelPump !== null) return;
    this.#foldHistory();
    const now = this.#scheduler.now();
    while (this.#audibleUntil - now < this.#leadMs + this.#sink.latencyMs) {
      const next = this.#takeChunk();
      if (next === null) break;
      const startsAt = Math.max(now + this.#sink.latencyMs, this.#audibleUntil);
      const durationMs = (next.samples.length * 1000) / this.#rate;
      const item = this.#items.get(next.itemId) as Item;
      if (item.scheduled.length === 0 && item.foldedMs === 0) this.#onEvent({ type: 'playout.started', itemId: next.itemId });
      item.scheduled.push({ itemId: next.itemId, startsAt, durationMs, samples: next.samples });
      this.#audibleUntil = startsAt + durationMs;
      this.#sink.write(next.samples);
      for (const listener of this.#farEndListeners) listener({ type: 'played', pcm: next.samples, startsAt });
    }
    if (this.#hasPending()) {
      const chunkMs = (this.#chunkSamples * 1000) / this.#rate;
      this.#cancelPump = this.#scheduler.after(chunkMs / 2, () => {
        this.#cancelPump = null;
        this.#pump();
      });
    } else {
      this.#armDrain();
    }
  }

  /** Reports each item as drained once its last sample has been heard, and forgets its place. */
  #armDrain(): void {
    this.#cancelDrain?.();
    const wait = Math.max(0, this.#audibleUntil - this.#scheduler.now());
    this.#cancelDrain = this.#scheduler.after(wait, () => {
      this.#cancelDrain = null;
      const now = this.#scheduler.now();
      for (const itemId of [...this.#order]) {
        const item = this.#items.get(itemId);
        const last = item?.scheduled.at(-1);
        const heard = last === undefined || last.startsAt + last.durationMs <= now;
        if (item === undefined || item.pending.length > 0 || !heard) continue;
        this.#order.splice(this.#order.indexOf(itemId), 1);
        this.#onEvent({ type: 'playout.drained', itemId, playedMs: this.playedMs(itemId, now) });
      }
      // Audio that arrived while waiting is still sounding: look again when it ends.
      if (this.#order.length > 0 && !this.#hasPending() && this.#audibleUntil > now) this.#armDrain();
    });
  }

  #hasPending(): boolean {
    for (const item of this.#items.values()) if (item.pending.length > 0) return true;
    return false;
  }

  /** Up to one chunk from the earliest item that has audio waiting. */
  #takeChunk(): { itemId: string; samples: Int16Array } | null {
    for (const itemId of this.#order) {
      const item = this.#items.get(itemId);
      if (item === undefined || item.pending.length === 0) continue;
      const parts: Int16Array[] = [];
      let needed = this.#chunkSamples;
      while (needed > 0 && item.pending.length > 0) {
        const head = item.pending[0] as Int16Array;
        const available = head.length - item.pendingOffset;
        const take = Math.min(available, needed);
        parts.push(head.subarray(item.pendingOffset, item.pendingOffset + take));
        needed -= take;
        item.pendingOffset += take;
        if (item.pendingOffset === head.length) {
          item.pending.shift();
          item.pendingOffset = 0;
        }
      }
      const samples = parts.length === 1 ? (parts[0] as Int16Array) : concat(parts);
      return { itemId, samples };
    }
    return null;
  }
}

function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
