/**
 * The conversation on screen and the saved ones: each turn is written as it settles (with the
 * agent's ledger as it then stands), a saved conversation opens into the transcript and the agent
 * takes it up from its ledger, and a private conversation is never written at all.
 */
import type { CommandResult, ConversationExport, ConversationHit, ConversationSummary, CurrentConversation, Problem, PushEvent, Turn } from '../contract';
import { exportConversation, type ExportFormat } from '../history/export';
import type { HistoryStore, LedgerSnapshot, SavedMeeting } from '../history/store';
import type { ResponsesSession } from '../responses/session';
import type { LedgerEntry } from '../responses/ledger';
import type { Logger } from './ports';
import type { Transcript } from './transcript';

export interface HistoryServiceOptions {
  /** The open history database; null when it could not be opened (`unavailable` says why). */
  store: HistoryStore | null;
  unavailable: Problem | null;
  transcript: Transcript;
  session: () => ResponsesSession | null;
  /** True while a reply is streaming: the conversation cannot be swapped under it. */
  busy: () => boolean;
  /** Clears the transcript and the agent's memory for a new conversation. */
  reset: () => CommandResult<null>;
  /** Closes the voice session if one is open; returns whether it was, to reopen it seeded. */
  pauseVoice: () => Promise<boolean>;
  resumeVoice: () => Promise<void>;
  retentionDays: () => number | null;
  /** Shows the meeting saved with a conversation being opened (null: it had none). */
  showMeeting?: (meeting: SavedMeeting | null) => void;
  /** The ledger as it may be written (screenshots the user did not keep left out); as it is without it. */
  forHistory?: (entries: readonly LedgerEntry[]) => readonly LedgerEntry[];
  emit: (event: PushEvent) => void;
  log: Logger;
  now: () => number;
  newId: () => string;
}

const dayMs = 86_400_000;
const pruneEveryMs = 3_600_000;
const titleLength = 60;

export class HistoryService {
  #options: HistoryServiceOptions;
  #current: CurrentConversation;
  /** Turn objects already written; the transcript replaces a turn's object whenever it changes. */
  #written = new WeakSet<Turn>();
  /** How far the saved ledger goes, so an unchanged ledger is not written again. */
  #ledgerMark: { offset: number; length: number } | null = null;
  /** The ledger's `rewinds` when it was last saved: a change means saved items were taken back. */
  #ledgerRewinds = 0;
  #prunedAt = -Infinity;
  #lastFailure: string | null = null;

  constructor(options: HistoryServiceOptions) {
    this.#options = options;
    this.#current = { id: options.newId(), title: null, private: false };
  }

  get current(): CurrentConversation {
    return this.#current;
  }

  /** Called with every push event the transcript sends: a turn that settled is written. */
  observe(event: PushEvent): void {
    if (event.type !== 'turn.started' && event.type !== 'turn.finished') return;
    if (event.turn.status === 'streaming' || this.#written.has(event.turn)) return;
    this.#saveSettled();
  }

  /** A new agent session (started, or restarted for new settings) takes up the current conversation. */
  attach(session: ResponsesSession): void {
    if (this.#current.private || this.#options.store === null) return;
    const saved = this.#run((store) => store.load(this.#current.id));
    if (saved === null || saved === undefined) return;
    session.resume(saved.ledger);
    this.#ledgerMark = markOf(saved.ledger);
  }

  newConversation(privately: boolean): CommandResult<null> {
    const reset = this.#options.reset();
    if (!reset.ok) return reset;
    this.#switchTo({ id: this.#options.newId(), title: null, private: privately }, null);
    return reset;
  }

  async open(id: string): Promise<CommandResult<CurrentConversation>> {
    const store = this.#store();
    if (!store.ok) return store;
    if (this.#options.busy()) return { ok: false, problem: busyProblem };
    const saved = this.#run((history) => history.load(id));
    if (saved === undefined) return { ok: false, problem: this.#failure() };
    if (saved === null) return { ok: false, problem: missingProblem };
    const voiceWasOpen = await this.#options.pauseVoice();
    for (const turn of saved.turns) this.#written.add(turn);
    this.#switchTo({ id, title: saved.summary.title, private: false }, markOf(saved.ledger));
    this.#options.transcript.load(saved.turns);
    this.#options.showMeeting?.(this.#run((history) => history.loadMeeting(id)) ?? null);
    this.#options.session()?.resume(saved.ledger);
    if (voiceWasOpen) await this.#options.resumeVoice();
    return { ok: true, value: this.#current };
  }

  list(limit?: number, offset?: number): CommandResult<ConversationSummary[]> {
    return this.#query((store) => store.list(limit, offset));
  }

  search(query: string): CommandResult<ConversationHit[]> {
    return this.#query((store) => store.search(query));
  }

  rename(id: string, title: string): CommandResult<ConversationSummary> {
    const result = this.#query((store) => (store.rename(id, title) ? store.summary(id) : null));
    if (!result.ok) return result;
    if (result.value === null) return { ok: false, problem: missingProblem };
    if (id === this.#current.id) this.#current = { ...this.#current, title };
    this.#changed();
    return { ok: true, value: result.value };
  }

  delete(id: string): CommandResult<CurrentConversation> {
    if (id === this.#current.id && this.#options.busy()) return { ok: false, problem: busyProblem };
    const result = this.#query((store) => store.delete(id));
    if (!result.ok) return result;
    if (!result.value) return { ok: false, problem: missingProblem };
    // The conversation on screen is gone from disk, so it goes from the screen too.
    if (id === this.#current.id) this.newConversation(false);
    else this.#changed();
    return { ok: true, value: this.#current };
  }

  export(id: string, format: ExportFormat): CommandResult<ConversationExport> {
    const result = this.#query((store) => store.load(id));
    if (!result.ok) return result;
    if (result.value === null) return { ok: false, problem: missingProblem };
    return { ok: true, value: exportConversation(result.value, format) };
  }

  /** Deletes conversations past the retention setting (never the one on screen). */
  prune(): void {
    const days = this.#options.retentionDays();
    this.#prunedAt = this.#options.now();
    if (days === null || this.#options.store === null) return;
    const removed = this.#run((store) => store.pruneBefore(this.#options.now() - days * dayMs, this.#current.id));
    if (removed !== undefined && removed > 0) {
      this.#options.log.info('old conversations removed by the retention setting', { removed, days });
      this.#changed();
    }
  }

  /** Saves the meeting with the conversation on screen (unless it is private). */
  saveMeeting(meeting: SavedMeeting): void {
    if (this.#current.private || this.#options.store === null) return;
    const title = this.#current.title ?? (this.#options.transcript.turns.length > 0 ? titleOf(this.#options.transcript.turns) : `Meeting, ${new Date(meeting.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    const saved = this.#run((store) => {
      store.saveMeeting(this.#current.id, title, this.#options.now(), meeting);
      return true;
    });
    if (saved !== true) return;
    if (this.#current.title === null) this.#current = { ...this.#current, title };
    this.#changed();
  }

  /** Writes every settled turn not yet written, and the ledger if it moved, in one transaction. */
  #saveSettled(): void {
    if (this.#current.private || this.#options.store === null) return;
    const { transcript, session, now } = this.#options;
    const turns = transcript.turns.filter((turn) => turn.status !== 'streaming' && !this.#written.has(turn));
    const ledger = session()?.ledger;
    const rewound = ledger !== undefined && ledger.rewinds !== this.#ledgerRewinds;
    const snapshot: LedgerSnapshot | undefined =
      ledger === undefined ? undefined : { offset: ledger.length - ledger.entries.length, entries: this.#options.forHistory?.(ledger.entries) ?? ledger.entries, ...(rewound ? { rewound } : {}) };
    const ledgerMoved = snapshot !== undefined && (rewound || !sameMark(markOf(snapshot), this.#ledgerMark));
    if (turns.length === 0 && !ledgerMoved) return;
    const title = this.#current.title ?? titleOf(transcript.turns);
    const saved = this.#run((store) => {
      store.save({ id: this.#current.id, title, at: now(), turns, ...(ledgerMoved ? { ledger: snapshot } : {}) });
      return true;
    });
    if (saved !== true) return;
    for (const turn of turns) this.#written.add(turn);
    if (ledgerMoved) {
      this.#ledgerMark = markOf(snapshot);
      this.#ledgerRewinds = ledger?.rewinds ?? 0;
    }
    if (this.#current.title === null) this.#current = { ...this.#current, title };
    this.#changed();
    if (now() - this.#prunedAt >= pruneEveryMs) this.prune();
  }

  #switchTo(next: CurrentConversation, ledgerMark: { offset: number; length: number } | null): void {
    this.#current = next;
    this.#ledgerMark = ledgerMark;
    this.#changed();
  }

  #changed(): void {
    this.#options.emit({ type: 'history', current: this.#current });
  }

  #store(): CommandResult<HistoryStore> {
    const { store, unavailable } = this.#options;
    return store === null ? { ok: false, problem: unavailable ?? unavailableProblem } : { ok: true, value: store };
  }

  #query<T>(action: (store: HistoryStore) => T): CommandResult<T> {
    const store = this.#store();
    if (!store.ok) return store;
    const value = this.#run(action);
    return value === undefined ? { ok: false, problem: this.#failure() } : { ok: true, value };
  }

  /** Runs a store call; a failure is logged, told once as a notice, and returns undefined. */
  #run<T>(action: (store: HistoryStore) => T): T | undefined {
    const store = this.#options.store;
    if (store === null) return undefined;
    try {
      const value = action(store);
      this.#lastFailure = null;
      return value;
    } catch (error) {
      const message = (error as Error).message;
      this.#options.log.error('history database failed', { message });
      if (this.#lastFailure !== message) this.#options.emit({ type: 'notice', problem: { code: 'internal', message: `History could not be saved or read: ${message}.`, hint: historyHint } });
      this.#lastFailure = message;
      return undefined;
    }
  }

  #failure(): Problem {
    return { code: 'internal', message: `History could not be read: ${this.#lastFailure ?? 'the database failed'}.`, hint: historyHint };
  }
}

const historyHint = 'Your conversation goes on, but it may not be saved. Check that the data folder is writable and has space.';
const busyProblem: Problem = { code: 'busy', message: 'A reply is still streaming.', hint: 'Wait for it to finish (or stop it), then switch conversations.' };
const missingProblem: Problem = { code: 'invalid_payload', message: 'That conversation is no longer saved.', hint: 'It was deleted, or removed by the history retention setting.' };
const unavailableProblem: Problem = { code: 'internal', message: 'History is not available in this window.', hint: 'Conversations are not being saved.' };

function markOf(ledger: LedgerSnapshot): { offset: number; length: number } {
  return { offset: ledger.offset, length: ledger.offset + ledger.entries.length };
}

function sameMark(a: { offset: number; length: number }, b: { offset: number; length: number } | null): boolean {
  return b !== null && a.offset === b.offset && a.length === b.length;
}

/** The first thing the user said, on one line: what the conversation is about. */
function titleOf(turns: readonly Turn[]): string {
  const first = turns.find((turn) => turn.role === 'user' && turn.text.trim() !== '') ?? turns.find((turn) => turn.text.trim() !== '');
  const line = (first?.text ?? '').replace(/\s+/g, ' ').replace(/^\(for the agent\) /, '').trim();
  if (line === '') return 'Conversation';
  return line.length <= titleLength ? line : `${line.slice(0, titleLength - 1).trimEnd()}…`;
}
