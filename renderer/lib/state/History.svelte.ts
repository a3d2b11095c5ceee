/**
 * The saved conversations as the history panel sees them: the list (or a search's hits), the
 * conversation on screen, and the retention setting, kept current from the bridge's `history`
 * and `settings` events. Only this class calls the history commands.
 */
import type { CommandResult, ConversationExport, ConversationHit, ConversationSummary, CopilotBridge, CurrentConversation, Problem, PushEvent, Settings } from '../../../app/contract';

export type Retention = Settings['historyRetentionDays'];

export class HistoryState {
  #bridge: CopilotBridge;
  #current = $state<CurrentConversation | null>(null);
  #conversations = $state<ConversationSummary[]>([]);
  #query = $state('');
  #hits = $state<ConversationHit[] | null>(null);
  #problem = $state<Problem | null>(null);
  #retention = $state<Retention>(null);
  /** Answers to older searches are dropped: only the latest query's hits are shown. */
  #searchSeq = 0;

  constructor(bridge: CopilotBridge) {
    this.#bridge = bridge;
  }

  get current(): CurrentConversation | null {
    return this.#current;
  }
  get conversations(): readonly ConversationSummary[] {
    return this.#conversations;
  }
  get query(): string {
    return this.#query;
  }
  /** The search's hits, or null while no search is typed. */
  get hits(): readonly ConversationHit[] | null {
    return this.#hits;
  }
  get problem(): Problem | null {
    return this.#problem;
  }
  get retention(): Retention {
    return this.#retention;
  }

  /** Subscribes to the bridge and loads the list; returns the unsubscribe. */
  start(): () => void {
    const stop = this.#bridge.onEvent((event) => this.#apply(event));
    void this.#bridge.currentConversation().then((result) => {
      if (result.ok) this.#current ??= result.value;
    });
    void this.#bridge.getSettings().then((result) => {
      if (result.ok) this.#retention = result.value.settings.historyRetentionDays;
    });
    void this.refresh();
    return stop;
  }

  async refresh(): Promise<void> {
    const result = await this.#bridge.listConversations();
    if (this.#accept(result)) this.#conversations = result.value;
    if (this.#query !== '') await this.search(this.#query);
  }

  async search(query: string): Promise<void> {
    this.#query = query;
    const seq = (this.#searchSeq += 1);
    if (query.trim() === '') {
      this.#hits = null;
      return;
    }
    const result = await this.#bridge.searchConversations({ query });
    if (seq !== this.#searchSeq) return;
    if (this.#accept(result)) this.#hits = result.value;
  }

  async open(id: string): Promise<boolean> {
    const result = await this.#bridge.openConversation({ id });
    if (!this.#accept(result)) return false;
    this.#current = result.value;
    return true;
  }

  async startNew(privately: boolean): Promise<boolean> {
    return this.#accept(await this.#bridge.newConversation({ private: privately }));
  }

  async rename(id: string, title: string): Promise<boolean> {
    return this.#accept(await this.#bridge.renameConversation({ id, title }));
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.#bridge.deleteConversation({ id });
    if (!this.#accept(result)) return false;
    this.#current = result.value;
    return true;
  }

  async exportAs(id: string, format: 'markdown' | 'json'): Promise<ConversationExport | null> {
    const result = await this.#bridge.exportConversation({ id, format });
    return this.#accept(result) ? result.value : null;
  }

  async setRetention(days: Retention): Promise<void> {
    const result = await this.#bridge.updateSettings({ patch: { historyRetentionDays: days } });
    if (this.#accept(result)) this.#retention = result.value.settings.historyRetentionDays;
  }

  dismissProblem(): void {
    this.#problem = null;
  }

  #accept<T>(result: CommandResult<T>): result is { ok: true; value: T } {
    this.#problem = result.ok ? null : result.problem;
    return result.ok;
  }

  #apply(event: PushEvent): void {
    if (event.type === 'history') {
      this.#current = event.current;
      void this.refresh();
    } else if (event.type === 'settings') {
      this.#retention = event.view.settings.historyRetentionDays;
    }
  }
}
