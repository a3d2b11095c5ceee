import type { Problem } from '../contract';
import type { ParsedRealtimeFrame, RealtimeErrorDetails, RealtimeEvent } from '../protocol/realtime';
import type { SetTimer } from '../transport/deadline';

/** A request to the voice server that ended without doing what it asked, and why, for the user. */
export class RealtimeRequestError extends Error {
  constructor(
    readonly problem: Problem,
    /** The server's error code when it refused the request; null when its answer was unreadable. */
    readonly code: string | null,
  ) {
    super(problem.message);
  }
}

/** The server never answered a request within its deadline; the socket is not to be trusted. */
export class UnansweredRequestError extends RealtimeRequestError {
  constructor(problem: Problem) {
    super(problem, null);
  }
}

export interface AnswerDeadline {
  ms: number;
  setTimer: SetTimer;
  /** What the user is told when `what` (e.g. "the new settings") went unanswered. */
  unanswered: (what: string) => Problem;
}

type Pending = { resolve: () => void; reject: (error: Error) => void };
type PendingUpdate = Pending & { eventId: string };

/**
 * The answers the speech-to-speech session and the transcription pipeline wait for:
 * `session.created`, and for each `session.update` its own `session.updated` or the `error` that
 * refused it. The server answers updates in order; a refused one is matched by the `event_id` the
 * client tagged it with, which the server echoes as `error.event_id`
 * (node_modules/openai/src/resources/realtime/realtime.ts:1836, `RealtimeError.event_id`), so it
 * rejects only its own waiter and the next `session.updated` goes to the next update. A closed
 * socket rejects them all, an answer that cannot be read settles its waiter, and one that never
 * comes fails at the deadline, so none hangs. A waiter that failed at its deadline keeps its place
 * in the queue: a late answer is still its own, not the next update's.
 */
export class ServerEventWaiters {
  readonly #prefix: string;
  readonly #deadline: AnswerDeadline;
  #created: Pending[] = [];
  #updates: PendingUpdate[] = [];
  #sent = 0;

  /** `prefix` names this session's client event ids, e.g. `parley_voice_update` → `parley_voice_update_3`. */
  constructor(prefix: string, deadline: AnswerDeadline) {
    this.#prefix = prefix;
    this.#deadline = deadline;
  }

  /** The next `session.created`. */
  created(): Promise<void> {
    return new Promise((resolve, reject) => this.#created.push(this.#withDeadline('the new connection', resolve, reject)));
  }

  /** A new `session.update`'s `event_id`, and its answer: resolves on `session.updated`, rejects if refused. */
  update(): { eventId: string; answered: Promise<void> } {
    this.#sent += 1;
    const eventId = `${this.#prefix}_${this.#sent}`;
    const answered = new Promise<void>((resolve, reject) => this.#updates.push({ eventId, ...this.#withDeadline('the new settings', resolve, reject) }));
    return { eventId, answered };
  }

  #withDeadline(what: string, resolve: () => void, reject: (error: Error) => void): Pending {
    const cancel = this.#deadline.setTimer(this.#deadline.ms, () => reject(new UnansweredRequestError(this.#deadline.unanswered(what))));
    return {
      resolve: () => {
        cancel();
        resolve();
      },
      reject: (error) => {
        cancel();
        reject(error);
      },
    };
  }

  /** Settles the waiter this event answers; true when it did (the event needs no other handling). */
  offer(event: RealtimeEvent): boolean {
    switch (event.type) {
      case 'session.created':
        return settle(this.#created.shift(), null);
      case 'session.updated':
        return settle(this.#updates.shift(), null);
      case 'error': {
        const update = this.#take(event.error.event_id);
        return update !== undefined && settle(update, new RealtimeRequestError(refusalProblem(event.error), event.error.code ?? null));
      }
      default:
        return false;
    }
  }

  /** An unreadable answer still answers: the waiter it was for settles with a Problem. */
  offerInvalid(frame: Extract<ParsedRealtimeFrame, { kind: 'invalid' }>, problem: Problem): boolean {
    const failed = new RealtimeRequestError(problem, null);
    switch (frame.type) {
      case 'session.created':
        return settle(this.#created.shift(), failed);
      case 'session.updated':
        return settle(this.#updates.shift(), failed);
      case 'error':
        return settle(this.#take(frame.clientEventId), failed);
      default:
        return false;
    }
  }

  rejectAll(error: Error): void {
    const waiting = [...this.#created, ...this.#updates];
    this.#created = [];
    this.#updates = [];
    for (const waiter of waiting) waiter.reject(error);
  }

  #take(eventId: string | null | undefined): PendingUpdate | undefined {
    const index = eventId == null ? -1 : this.#updates.findIndex((update) => update.eventId === eventId);
    return index === -1 ? undefined : this.#updates.splice(index, 1)[0];
  }
}

function settle(waiter: Pending | undefined, error: Error | null): boolean {
  if (waiter === undefined) return false;
  if (error === null) waiter.resolve();
  else waiter.reject(error);
  return true;
}

/** What a refused `session.update` means for the user, in plain words. */
export function refusalProblem(error: RealtimeErrorDetails): Problem {
  if (error.code === 'cannot_update_voice') {
    return {
      code: 'invalid_payload',
      message: "The voice can't change after Parley has spoken in this conversation; it applies to the next conversation.",
      hint: 'Stop and start voice to hear the new voice now. Your other settings already apply.',
    };
  }
  return { code: 'invalid_payload', message: `The voice server refused the new settings: ${error.message}`, hint: 'The previous settings stay in effect; change the setting and try again.' };
}
