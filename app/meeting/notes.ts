/**
 * Live notes: the agent keeps running notes, decisions and action items for the meeting on a
 * lane of its own (a `stream_id` on the same Responses socket), so an update never waits for the
 * user's turn and the user's turn never waits for an update. Each update sends only the lines
 * the notes have not seen; the lane's chain holds the rest.
 */
import type { Problem } from '../contract';
import { userMessage } from '../protocol/responses';
import type { TurnOutcome } from '../responses/session';
import type { SetTimer } from '../transport/deadline';
import { MeetingTranscript } from './transcript';

/** The agent, or anything that runs a turn on a named lane like it. */
export interface NotesAgent {
  runTurn(input: ReturnType<typeof userMessage>[], handlers?: object, lane?: string): Promise<TurnOutcome>;
}

export interface LiveNotesOptions {
  agent: NotesAgent;
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
  /** Lines the notes lane has been sent, by segment id. */
  readonly #sent = new Set<string>();
  #running: Promise<void> | null = null;
  #again = false;
  #cancelTimer: (() => void) | null = null;

  constructor(options: LiveNotesOptions) {
    this.#options = options;
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
      // A line still partial goes with a later update, once final; each line goes once.
      const ready = this.#options.transcript.finalBetween(0).filter((segment) => !this.#sent.has(segment.id));
      if (ready.length === 0) continue;
      // The session keeps a failed turn's message for the next one, so these lines count as sent either way.
      for (const segment of ready) this.#sent.add(segment.id);
      const outcome = await this.#options.agent.runTurn([userMessage(`${MeetingTranscript.lines(ready)}\n\n${notesRequest}`)], {}, this.#options.lane ?? notesLane);
      if (outcome.status === 'failed') this.#options.onProblem({ ...outcome.problem, message: `The meeting notes could not be updated: ${outcome.problem.message}` });
      else if (outcome.text.trim() !== '') {
        this.#markdown = outcome.text.trim();
        this.#options.onNotes(this.#markdown);
      }
    } while (this.#again);
  }
}
