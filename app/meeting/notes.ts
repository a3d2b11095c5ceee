/**
 * Live notes: the agent keeps running notes, decisions and action items for the meeting on a
 * lane of its own (a `stream_id` on the same Responses socket), so an update never waits for the
 * user's turn and the user's turn never waits for an update. Each update sends only the lines
 * the notes have not seen; the lane's chain holds the rest.
 */
import type { Problem } from '../contract';
import { userMessage } from '../protocol/responses';
import type { ResponsesSession } from '../responses/session';
import type { SetTimer } from '../transport/deadline';
import { MeetingTranscript, UnseenLines } from './transcript';

/** The agent's socket, or anything that runs a turn on a named lane like it. */
export type MeetingAgent = Pick<ResponsesSession, 'runTurn'>;

export interface LiveNotesOptions {
  agent: MeetingAgent;
  transcript: MeetingTranscript;
  setTimer: SetTimer;
  /** How often the notes catch up while lines keep coming (default a minute). */
  everyMs?: number;
  /** The lane's `stream_id`. */
  lane?: string;
  onNotes: (markdown: string) => void;
  onProblem: (problem: Problem) => void;
}

export const notesLane = 'meeting_notes';

const notesRequest =
  'Update the running meeting notes from these new lines. Answer with the whole notes in Markdown, in three sections: "## Notes", "## Decisions" and "## Action items" (who does what). Keep them short; say nothing else.';

export class LiveNotes {
  readonly #options: LiveNotesOptions;
  #markdown = '';
  readonly #unsent: UnseenLines;
  #running: Promise<void> | null = null;
  #again = false;
  #cancelTimer: (() => void) | null = null;

  constructor(options: LiveNotesOptions) {
    this.#options = options;
    this.#unsent = new UnseenLines(options.transcript);
  }

  get markdown(): string {
    return this.#markdown;
  }

  /** Catches up every `everyMs` until `stop`. */
  start(): void {
    if (this.#cancelTimer !== null) return;
    const tick = (): void => {
      this.#cancelTimer = this.#options.setTimer(this.#options.everyMs ?? 60_000, () => {
        void this.update();
        tick();
      });
    };
    tick();
  }

  stop(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
  }

  /**
   * Sends the lines the notes have not seen, if any; resolves when the notes are up to date with
   * every line heard before the call. One update runs at a time; asked during one, one more follows.
   */
  async update(): Promise<void> {
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#catchUp();
    try {
      await this.#running;
    } finally {
      this.#running = null;
    }
  }

  async #catchUp(): Promise<void> {
    do {
      this.#again = false;
      // The session keeps a failed turn's message for the next one, so lines taken count as sent either way.
      const ready = this.#unsent.take();
      if (ready.length === 0) continue;
      const outcome = await this.#options.agent.runTurn([userMessage(`${MeetingTranscript.lines(ready)}\n\n${notesRequest}`)], {}, this.#options.lane ?? notesLane);
      if (outcome.status === 'failed') this.#options.onProblem({ ...outcome.problem, message: `The meeting notes could not be updated: ${outcome.problem.message}` });
      else if (outcome.text.trim() !== '') {
        this.#markdown = outcome.text.trim();
        this.#options.onNotes(this.#markdown);
      }
    } while (this.#again);
  }
}
