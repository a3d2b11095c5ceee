/**
 * The inspector's event-sourced record of a session: a bounded log of what happened, from which
 * the summary the UI shows is derived. It never holds message text, audio or keys.
 */
import type { InspectorEvent, InspectorSummary } from '../contract';

export type { InspectorEvent } from '../contract';

/** The latency chart shows this many turns. */
export const recentTurnCount = 30;

const counters = { warmup: 'warmups', compaction: 'compactions', rehydration: 'rehydrations', rollover: 'rollovers', recovery: 'recoveries' } as const;

/** The summary before anything has happened. */
export function emptySummary(): InspectorSummary {
  return {
    responsesSent: 0,
    bytesSent: 0,
    bytesReceived: 0,
    chainHead: null,
    lastTurn: null,
    warmups: 0,
    compactions: 0,
    reconnects: 0,
    voiceReconnects: 0,
    rehydrations: 0,
    recoveries: 0,
    rollovers: 0,
    costUsd: null,
    voiceCostUsd: null,
    lanesInFlight: 0,
    socket: null,
    recentTurns: [],
  };
}

export class InspectorLog {
  readonly #capacity: number;
  #events: InspectorEvent[] = [];
  #summary: InspectorSummary = emptySummary();

  readonly #onRecord: (event: InspectorEvent) => void;

  constructor(capacity = 2000, onRecord: (event: InspectorEvent) => void = () => undefined) {
    this.#capacity = capacity;
    this.#onRecord = onRecord;
  }

  get events(): readonly InspectorEvent[] {
    return this.#events;
  }

  get summary(): InspectorSummary {
    return this.#summary;
  }

  /** The newest `count` events, for a window that opens late. */
  recent(count = 500): InspectorEvent[] {
    return this.#events.slice(-count);
  }

  record(event: InspectorEvent): void {
    this.#events.push(event);
    this.#onRecord(event);
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
    const counter = event.type === 'reconnect' ? (event.socket === 'agent' ? 'reconnects' : 'voiceReconnects') : event.type in counters ? counters[event.type as keyof typeof counters] : null;
    if (counter !== null) this.#summary = { ...this.#summary, [counter]: this.#summary[counter] + 1 };
    if (event.type === 'turn.finished' && event.metrics !== null) {
      const metrics = { ...event.metrics, socket: event.socket };
      const recentTurns = [...this.#summary.recentTurns.slice(-(recentTurnCount - 1)), metrics];
      // Voice turns join the latency chart; the agent's figures (its last turn's bytes, its
      // responses and text cost) stay the agent's, and voice cost is metered on its own (addVoiceCost).
      this.#summary =
        event.socket !== 'agent'
          ? { ...this.#summary, recentTurns }
          : {
              ...this.#summary,
              lastTurn: metrics,
              recentTurns,
              responsesSent: this.#summary.responsesSent + metrics.requests,
              costUsd: metrics.costUsd === null ? this.#summary.costUsd : (this.#summary.costUsd ?? 0) + metrics.costUsd,
            };
    }
  }

  /** Adds the cost of one voice response. */
  addVoiceCost(usd: number): void {
    this.#summary = { ...this.#summary, voiceCostUsd: (this.#summary.voiceCostUsd ?? 0) + usd };
  }

  /** Figures read off the live session rather than derived from events. */
  update(figures: Partial<Pick<InspectorSummary, 'bytesSent' | 'bytesReceived' | 'chainHead' | 'socket' | 'lanesInFlight'>>): void {
    this.#summary = { ...this.#summary, ...figures };
  }
}
