/** An error that carries the `Problem` a user is shown; its message is the problem's own. */
import type { Problem } from './types';

export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.message);
    this.problem = problem;
  }
}
