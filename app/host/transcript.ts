/**
 * The transcript the UI shows: typed and spoken turns in order, each change pushed as an event.
 * Bounded, so a day of talking does not grow memory without end.
 */
import type { PushEvent, Turn } from '../contract';

export const maxTurns = 5000;

export class Transcript {
  #turns: Turn[] = [];
  #emit: (event: PushEvent) => void;

  constructor(emit: (event: PushEvent) => void) {
    this.#emit = emit;
  }

  get turns(): Turn[] {
    return this.#turns;
  }

  get(id: string): Turn | undefined {
    return this.#turns.findLast((turn) => turn.id === id);
  }

  start(turn: Turn): Turn {
    this.#push(turn);
    this.#emit({ type: 'turn.started', turn });
    return turn;
  }

  delta(id: string, delta: string): void {
    const turn = this.get(id);
    if (turn === undefined) return;
    this.#replace({ ...turn, text: turn.text + delta });
    this.#emit({ type: 'turn.delta', turnId: id, delta });
  }

  /** Replaces a turn's content (a retried reply starting over, a partial transcript made final). */
  restart(turn: Turn): void {
    this.#replace(turn);
    this.#emit({ type: 'turn.started', turn });
  }

  finish(turn: Turn): void {
    // Voice turns often arrive finished without a start: they count against the cap too.
    if (this.get(turn.id) === undefined) this.#push(turn);
    else this.#replace(turn);
    this.#emit({ type: 'turn.finished', turn });
  }

  clear(): void {
    this.#turns = [];
    this.#emit({ type: 'conversation.reset' });
  }

  /** Shows a saved conversation in place of the current one. */
  load(turns: readonly Turn[]): void {
    this.clear();
    for (const turn of turns.slice(-maxTurns)) {
      this.#turns.push(turn);
      this.#emit({ type: 'turn.finished', turn });
    }
  }

  #push(turn: Turn): void {
    this.#turns.push(turn);
    if (this.#turns.length > maxTurns) this.#turns.splice(0, this.#turns.length - maxTurns);
  }

  #replace(turn: Turn): void {
    const index = this.#turns.findLastIndex((candidate) => candidate.id === turn.id);
    if (index >= 0) this.#turns[index] = turn;
  }
}
