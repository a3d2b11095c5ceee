/**
 * The notices above the transcript, as a list that never repeats itself: the same problem again
 * counts up on the notice already shown, a newer notice about a passing state (`until`) replaces
 * the older one of its kind, and those go away once their state is over.
 */
import type { Problem } from '../../app/contract';

export interface Notice {
  /** Stable while the notice is shown, so the list can key on it. */
  id: number;
  problem: Problem;
  /** How many times it was reported; more than 1 is shown as "×n". */
  count: number;
}

/** At most this many notices are shown; the oldest goes first. */
export const maxNotices = 5;

const sameProblem = (a: Problem, b: Problem): boolean => a.code === b.code && a.message === b.message && a.hint === b.hint;

let nextId = 1;

/** The list with `problem` added: counted onto its twin, replacing its kind, or appended. */
export function addNotice(notices: readonly Notice[], problem: Problem): Notice[] {
  const twin = notices.find((notice) => sameProblem(notice.problem, problem) || (problem.until !== undefined && notice.problem.until === problem.until));
  if (twin !== undefined) {
    // The same words again count up; a newer word on a passing state (attempt 2 of a reconnect) replaces the old.
    const count = sameProblem(twin.problem, problem) ? twin.count + 1 : 1;
    return [...notices.filter((notice) => notice !== twin), { id: twin.id, problem, count }];
  }
  return [...notices.slice(-(maxNotices - 1)), { id: nextId++, problem, count: 1 }];
}

/** The list without the notices that last only until the connection is open again (the same list when there are none). */
export function whenConnected<T extends readonly Notice[]>(notices: T): T | Notice[] {
  return notices.some((notice) => notice.problem.until === 'connected') ? notices.filter((notice) => notice.problem.until !== 'connected') : notices;
}
