/**
 * The inspector's event-sourced record of a session: a bounded log of what happened, from which
 * the summary the UI shows is derived. It never holds message text, audio or keys.
 */
import type { InspectorSummary, TurnMetrics } from '../contract';

export type InspectorEvent =
  | { type: 'socket.connecting'; at: number; endpoint: string }
  | { type: 'socket.open'; at: number; endpoint: string; socketId: number }
  | { type: 'socket.closed'; at: number; code: number; reason: string }
  | { type: 'warmup'; at: number; durationMs: number; items: number }
  | { type: 'compaction'; at: number; mode: 'server' | 'endpoint'; tokensBefore: number; tokensAfter: number }
  | { type: 'reconnect'; at: number; attempt: number; delayMs: number; code: number | null }
  | { type: 'rehydration'; at: number; reason: string; items: number }
  | { type: 'rollover'; at: number; ageMs: number; gapMs: number }
  | { type: 'rate_limited'; at: number; retryAfterMs: number }
  | { type: 'tool'; at: number; name: string; status: 'started' | 'done' | 'failed'; durationMs?: number }
  | { type: 'turn.finished'; at: number; status: string; metrics: TurnMetrics | null }
  | { type: 'frame.rejected'; at: number; reason: string }
  | { type: 'barge_in'; at: number; reason: 'speech' | 'hotkey'; playedMs: number; generatedMs: number; audioEndMs: number };

const counters = { warmup: 'warmups', compaction: 'compactions', reconnect: 'reconnects', rehydration: 'rehydrations', rollover: 'rollovers' } as const;

export class InspectorLog {
  readonly #capacity: number;
  #events: InspectorEvent[] = [];
  #summary: InspectorSummary = {
    responsesSent: 0,
    bytesSent: 0,
    bytesReceived: 0,
    chainHead: null,
    lastTurn: null,
    warmups: 0,
    compactions: 0,
    reconnects: 0,
    rehydrations: 0,
    rollovers: 0,
    costUsd: null,
    socket: null,
  };

  constructor(capacity = 2000) {
    this.#capacity = capacity;
  }

  get events(): readonly InspectorEvent[] {
    return this.#events;
  }

  get summary(): InspectorSummary {
    return this.#summary;
  }

  record(event: InspectorEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
    if (event.type in counters) {
      const counter = counters[event.type as keyof typeof counters];
      this.#summary = { ...this.#summary, [counter]: this.#summary[counter] + 1 };
    }
    if (event.type === 'turn.finished' && event.metrics !== null) {
      const { metrics } = event;
      this.#summary = {
        ...this.#summary,
        lastTurn: metrics,
        responsesSent: this.#summary.responsesSent + metrics.requests,
        costUsd: metrics.costUsd === null ? this.#summary.costUsd : (this.#summary.costUsd ?? 0) + metrics.costUsd,
      };
    }
  }

  /** Figures read off the live session rather than derived from events. */
  update(figures: Partial<Pick<InspectorSummary, 'bytesSent' | 'bytesReceived' | 'chainHead' | 'socket'>>): void {
    this.#summary = { ...this.#summary, ...figures };
  }
}
