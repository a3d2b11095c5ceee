/**
 * Meeting mode as the meeting panel sees it: whether a meeting is live, its lines in the order
 * they were first heard (a line grows in place as it is said), its notes, what is not working,
 * and the last question's answer. Kept current from the bridge's `meeting.line` and
 * `meeting.status` events; only this class calls the meeting commands.
 */
import type { CommandResult, CopilotBridge, MeetingExport, MeetingLine, MeetingProblem, MeetingStatus, MeetingView, Problem, PushEvent } from '../../../app/contract';

export interface MeetingQuestion {
  question: string;
  /** Null while it is being answered. */
  answer: string | null;
}

export class MeetingState {
  #bridge: CopilotBridge;
  #live = $state(false);
  #startedAt = $state<number | null>(null);
  #notes = $state('');
  #problems = $state<MeetingProblem[]>([]);
  #lines = $state<MeetingLine[]>([]);
  #asked = $state<MeetingQuestion | null>(null);
  /** A command that failed (start refused, a question that could not be answered). */
  #problem = $state<Problem | null>(null);
  #pending = $state<'start' | 'stop' | 'notes' | null>(null);

  constructor(bridge: CopilotBridge) {
    this.#bridge = bridge;
  }

  get live(): boolean {
    return this.#live;
  }
  get startedAt(): number | null {
    return this.#startedAt;
  }
  get notes(): string {
    return this.#notes;
  }
  get problems(): readonly MeetingProblem[] {
    return this.#problems;
  }
  get lines(): readonly MeetingLine[] {
    return this.#lines;
  }
  get asked(): MeetingQuestion | null {
    return this.#asked;
  }
  get problem(): Problem | null {
    return this.#problem;
  }
  /** Which command is waiting for its answer, if any. */
  get pending(): 'start' | 'stop' | 'notes' | null {
    return this.#pending;
  }

  /** Subscribes to the bridge and loads the meeting as it stands; returns the unsubscribe. */
  start(): () => void {
    const stop = this.#bridge.onEvent((event) => this.#apply(event));
    void this.#bridge.getMeeting().then((result) => {
      if (result.ok) this.#view(result.value);
    });
    return stop;
  }

  async toggle(): Promise<void> {
    await (this.#live ? this.stopMeeting() : this.startMeeting());
  }

  async startMeeting(): Promise<void> {
    this.#asked = null;
    await this.#run('start', () => this.#bridge.startMeeting());
  }

  async stopMeeting(): Promise<void> {
    await this.#run('stop', () => this.#bridge.stopMeeting());
  }

  async updateNotes(): Promise<void> {
    await this.#run('notes', () => this.#bridge.updateMeetingNotes());
  }

  async ask(question: string): Promise<boolean> {
    this.#asked = { question, answer: null };
    const result = await this.#bridge.askMeeting({ question });
    if (!this.#accept(result)) {
      this.#asked = null;
      return false;
    }
    this.#asked = { question, answer: result.value.text };
    return true;
  }

  async exportMarkdown(): Promise<MeetingExport | null> {
    const result = await this.#bridge.exportMeeting();
    return this.#accept(result) ? result.value : null;
  }

  dismissProblem(): void {
    this.#problem = null;
  }

  async #run(which: 'start' | 'stop' | 'notes', command: () => Promise<CommandResult<MeetingView>>): Promise<void> {
    this.#pending = which;
    try {
      const result = await command();
      if (this.#accept(result)) this.#view(result.value);
    } finally {
      this.#pending = null;
    }
  }

  #accept<T>(result: CommandResult<T>): result is { ok: true; value: T } {
    this.#problem = result.ok ? null : result.problem;
    return result.ok;
  }

  #view(view: MeetingView): void {
    this.#status(view);
    this.#lines = [...view.lines];
  }

  #status(status: MeetingStatus): void {
    // A new meeting (a different start) begins with no lines.
    if (status.startedAt !== this.#startedAt) this.#lines = [];
    this.#live = status.live;
    this.#startedAt = status.startedAt;
    this.#notes = status.notes;
    this.#problems = [...status.problems];
  }

  #line(line: MeetingLine): void {
    const at = this.#lines.findIndex((existing) => existing.id === line.id);
    if (at < 0) this.#lines.push(line);
    else this.#lines[at] = line;
  }

  #apply(event: PushEvent): void {
    if (event.type === 'meeting.line') this.#line(event.line);
    else if (event.type === 'meeting.status') this.#status(event.status);
  }
}
