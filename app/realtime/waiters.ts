import type { RealtimeServerEvent } from '../protocol/realtime';

type Waiter = { types: readonly string[]; resolve: (event: RealtimeServerEvent) => void; reject: (error: Error) => void };

/**
 * Promises for the next server event of given types (`session.created`, `session.updated`), shared
 * by the speech-to-speech session and the transcription pipeline. Every event is offered to the
 * oldest matching waiter first; a closed socket rejects them all so no caller hangs.
 */
export class ServerEventWaiters {
  #waiters: Waiter[] = [];

  next(types: readonly string[]): Promise<RealtimeServerEvent> {
    return new Promise((resolve, reject) => this.#waiters.push({ types, resolve, reject }));
  }

  /** Resolves the oldest waiter for this event's type, if any. */
  offer(event: RealtimeServerEvent): void {
    const index = this.#waiters.findIndex((waiter) => waiter.types.includes(event.type));
    if (index === -1) return;
    const [waiter] = this.#waiters.splice(index, 1);
    waiter!.resolve(event);
  }

  rejectAll(error: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}
