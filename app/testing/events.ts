/**
 * An event sink for a session's `onEvent` that tests can query and wait on: every event in
 * order, those of one type, and a promise for the first (or next) one that matches. Waiting on
 * an event instead of a fixed time keeps tests fast on a quiet machine and correct on a busy one.
 */
type Of<E extends { type: string }, T extends E['type']> = Extract<E, { type: T }>;

export interface EventLog<E extends { type: string }> {
  readonly events: E[];
  /** Pass as the session's `onEvent`. */
  readonly push: (event: E) => void;
  of<T extends E['type']>(type: T): Array<Of<E, T>>;
  /** The first event of `type` that matches, already seen or still to come. */
  until<T extends E['type']>(type: T, match?: (event: Of<E, T>) => boolean): Promise<Of<E, T>>;
  /** Like `until`, but only for an event that has not happened yet. */
  next<T extends E['type']>(type: T, match?: (event: Of<E, T>) => boolean): Promise<Of<E, T>>;
}

export function eventLog<E extends { type: string }>(): EventLog<E> {
  const events: E[] = [];
  const waiters: Array<{ type: string; match: (event: E) => boolean; resolve: (event: E) => void }> = [];
  const wait = <T extends E['type']>(type: T, match: (event: Of<E, T>) => boolean) =>
    new Promise<Of<E, T>>((resolve) => waiters.push({ type, match: match as (event: E) => boolean, resolve: resolve as (event: E) => void }));
  return {
    events,
    push: (event) => {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.type !== event.type || !waiter.match(event)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    of: <T extends E['type']>(type: T) => events.filter((event) => event.type === type) as Array<Of<E, T>>,
    until: <T extends E['type']>(type: T, match: (event: Of<E, T>) => boolean = () => true) => {
      const seen = events.find((event) => event.type === type && match(event as Of<E, T>));
      return seen === undefined ? wait(type, match) : Promise.resolve(seen as Of<E, T>);
    },
    next: <T extends E['type']>(type: T, match: (event: Of<E, T>) => boolean = () => true) => wait(type, match),
  };
}
