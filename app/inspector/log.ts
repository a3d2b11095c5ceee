/**
 * The inspector's event-sourced record of a session: a bounded log of what happened, from which
 * the summary the UI shows is derived. It never holds message text, audio or keys.
 */
import type { InspectorSummary, TurnMetrics } from '../contract';

export type InspectorEvent =
  | { type: 'socket.connecting'; at: number; endpoint: string }
  | { type: 'socket.open'; at: number; endpoint: string }
  | { type: 'socket.closed'; at: number; code: number; reason: string }
  | { type: 'turn.sent'; at: number; turnId: string; chained: boolean; inputItemsSent: number; bytes: number }
  | { type: 'turn.finished'; at: number; status: string; metrics: TurnMetrics | null }
  | { type: 'rehydrated'; at: number; reason: string }
  | { type: 'frame.rejected'; at: number; reason: string };

export class InspectorLog {
  readonly #capacity: number;
  #events: InspectorEvent[] = [];
  #summary: InspectorSummary = { responsesSent: 0, bytesSent: 0, bytesReceived: 0, chainHead: null, lastTurn: null };

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
    if (event.type === 'turn.sent') this.#summary = { ...this.#summary, responsesSent: this.#summary.responsesSent + 1 };
    if (event.type === 'turn.finished' && event.metrics !== null) this.#summary = { ...this.#summary, lastTurn: event.metrics };
  }

  /** Figures read off the live session rather than derived from events. */
  update(figures: Pick<InspectorSummary, 'bytesSent' | 'bytesReceived' | 'chainHead'>): void {
    this.#summary = { ...this.#summary, ...figures };
  }
}
