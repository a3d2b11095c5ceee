/**
 * The conversation as the UI sees it: turns, connection and notices, kept current from the bridge.
 * Components read it; only this class talks to the bridge.
 */
import type {
  CommandResult,
  ConnectionState,
  CopilotBridge,
  InspectorEvent,
  InspectorSummary,
  PermissionDecision,
  PermissionRequest,
  Problem,
  PushEvent,
  ScreenSource,
  ToolActivity,
  ToolInfo,
  Turn,
  VoiceStatus,
} from '../../../app/contract';
import { addNotice, whenConnected, type Notice } from '../notices';

/** The inspector keeps this many events in the window. */
const maxEvents = 1000;

/**
 * The renderer keeps as many turns as the host's transcript does (`maxTurns` in
 * app/host/transcript.ts), so "show earlier turns" reaches back as far as the host remembers.
 */
export const maxTurns = 5000;
/** Past the cap, this many of the oldest turns go at once: the list is shifted now and then, not per turn. */
const trimTurns = 500;

export class Conversation {
  #bridge: CopilotBridge;
  #turns = $state<Turn[]>([]);
  // Plain lookup sets beside the reactive list, so an update never scans the whole history: the
  // ids held (a new turn is known new without a search) and the turns still streaming.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #ids = new Set<string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #streamingIds = new Set<string>();
  #streaming = $state(false);
  #connection = $state<ConnectionState>({ status: 'starting' });
  #notices = $state.raw<Notice[]>([]);
  #inspector = $state<InspectorSummary | null>(null);
  #sending = $state(false);
  #voice = $state<VoiceStatus>({ state: 'off', turnMode: 'push_to_talk', muted: false, problem: null });
  #levelDbfs = $state(-120);
  #talking = $state(false);
  #tools = $state<ToolActivity[]>([]);
  #permissions = $state<PermissionRequest[]>([]);
  #agentBusy = $state(false);
  /** Replaced, never changed in place: raw, so each new event copies references, not proxies. */
  #events = $state.raw<InspectorEvent[]>([]);
  #startedAt = $state(0);
  #toolCatalog = $state<ToolInfo[]>([]);

  constructor(bridge: CopilotBridge) {
    this.#bridge = bridge;
  }

  get turns(): readonly Turn[] {
    return this.#turns;
  }
  get connection(): ConnectionState {
    return this.#connection;
  }
  get notices(): readonly Notice[] {
    return this.#notices;
  }
  get inspector(): InspectorSummary | null {
    return this.#inspector;
  }
  /** True while this window sends a message or a screen question. */
  get sending(): boolean {
    return this.#sending;
  }
  get voice(): VoiceStatus {
    return this.#voice;
  }
  get levelDbfs(): number {
    return this.#levelDbfs;
  }
  /** True while the push-to-talk control is held. */
  get talking(): boolean {
    return this.#talking;
  }
  get tools(): readonly ToolActivity[] {
    return this.#tools;
  }
  /** The oldest open permission prompt; the dialog shows one at a time. */
  get permission(): PermissionRequest | null {
    return this.#permissions[0] ?? null;
  }
  /** The inspector's log, oldest first (bounded). */
  get events(): readonly InspectorEvent[] {
    return this.#events;
  }
  get toolCatalog(): readonly ToolInfo[] {
    return this.#toolCatalog;
  }
  get startedAt(): number {
    return this.#startedAt;
  }
  get agentBusy(): boolean {
    return this.#agentBusy;
  }
  get streaming(): boolean {
    return this.#streaming;
  }

  /** Subscribes to push events, then loads the current state; returns the unsubscribe. */
  start(): () => void {
    const stop = this.#bridge.onEvent((event) => this.#apply(event));
    void this.#bridge.getSnapshot().then((result) => {
      if (!result.ok) {
        this.#notify(result.problem);
        return;
      }
      const known = this.#ids;
      this.#setTurns([...result.value.turns.filter((turn) => !known.has(turn.id)), ...this.#turns]);
      if (this.#connection.status === 'starting') this.#connection = result.value.connection;
      if (this.#voice.state === 'off') this.#voice = result.value.voice;
      if (this.#tools.length === 0) this.#tools = result.value.tools;
      if (this.#permissions.length === 0) this.#permissions = result.value.permissions;
      this.#agentBusy = result.value.agentBusy;
      this.#startedAt = result.value.startedAt;
      this.#toolCatalog = result.value.toolCatalog;
      this.#events = [...result.value.events, ...this.#events.filter((event) => event.at > (result.value.events.at(-1)?.at ?? -Infinity))];
      this.#inspector = result.value.inspector;
    });
    return stop;
  }

  /** Sends a message; returns false (and keeps a notice) when it was refused, so the text stays. */
  async send(text: string): Promise<boolean> {
    this.#sending = true;
    try {
      const result = await this.#bridge.sendMessage({ text });
      if (!result.ok) this.#notify(result.problem);
      return result.ok;
    } finally {
      this.#sending = false;
    }
  }

  /**
   * Asks to capture the screen (the permission prompt comes first). The picture in the desktop
   * app; `page` when the page captures itself (browser mode); null when refused, with a notice.
   */
  async captureScreen(sourceId?: string): Promise<string | 'page' | null> {
    const result = await this.#bridge.captureScreen(sourceId === undefined ? undefined : { sourceId });
    if (!result.ok) {
      this.#notify(result.problem);
      return null;
    }
    return result.value.image ?? 'page';
  }

  /**
   * Asks to capture (the permission prompt comes first), then the screens and windows to pick
   * from; `page` when the page chooses itself (browser mode); null when refused, with a notice.
   */
  async screenSources(): Promise<ScreenSource[] | 'page' | null> {
    const result = await this.#bridge.listScreenSources();
    if (!result.ok) {
      this.#notify(result.problem);
      return null;
    }
    return result.value.sources ?? 'page';
  }

  /** Sends a question with the screenshot the user accepted; false (with a notice) when refused. */
  async askAboutScreen(text: string, image: string, keep: boolean): Promise<boolean> {
    this.#sending = true;
    try {
      const result = await this.#bridge.askAboutScreen({ text, image, keep });
      if (!result.ok) this.#notify(result.problem);
      return result.ok;
    } finally {
      this.#sending = false;
    }
  }

  /** Compact mode for calls on or off; whether the window now stays on top (the desktop app). */
  async setCompact(compact: boolean): Promise<boolean> {
    const result = await this.#bridge.setCompact({ compact });
    if (!result.ok) this.#notify(result.problem);
    return result.ok && result.value.alwaysOnTop;
  }

  /** Shows a problem found in the page itself (a capture the browser refused). */
  report(problem: Problem): void {
    this.#notify(problem);
  }

  /** Answers the last typed message again: Retry on a failed reply, Regenerate on a finished one. */
  async regenerate(): Promise<void> {
    this.#report(await this.#bridge.regenerateReply());
  }

  /** Replaces the last typed message and answers it afresh; false (with a notice) when refused. */
  async editLast(text: string): Promise<boolean> {
    const result = await this.#bridge.editLastMessage({ text });
    this.#report(result);
    return result.ok;
  }

  /**
   * Opens a link from a reply once the app has checked it: the desktop shell hands it to the
   * system browser; in browser mode it opens in a new tab that cannot reach back to this page.
   */
  async openLink(url: string): Promise<void> {
    const result = await this.#bridge.openLink({ url });
    if (!result.ok) this.#report(result);
    else if (result.value.openedBy === 'page') window.open(url, '_blank', 'noopener,noreferrer');
  }

  async newConversation(): Promise<void> {
    const result = await this.#bridge.newConversation();
    if (!result.ok) this.#notify(result.problem);
  }

  async answerPermission(decision: PermissionDecision): Promise<void> {
    const request = this.permission;
    if (request === null) return;
    this.#permissions = this.#permissions.filter((entry) => entry.requestId !== request.requestId);
    this.#report(await this.#bridge.answerPermission({ requestId: request.requestId, decision }));
  }

  async cancelAgent(): Promise<void> {
    this.#report(await this.#bridge.cancelAgent());
  }

  async pressToTalk(): Promise<void> {
    if (this.#talking) return;
    this.#talking = true;
    this.#report(await this.#bridge.pressToTalk());
  }

  async releaseToTalk(): Promise<void> {
    if (!this.#talking) return;
    this.#talking = false;
    this.#report(await this.#bridge.releaseToTalk());
  }

  async stopSpeaking(): Promise<void> {
    this.#report(await this.#bridge.stopSpeaking());
  }

  async toggleMuted(): Promise<void> {
    this.#report(await this.#bridge.setMuted({ muted: !this.#voice.muted }));
  }

  async startVoice(): Promise<void> {
    this.#report(await this.#bridge.startVoice());
  }

  async stopVoice(): Promise<void> {
    this.#report(await this.#bridge.stopVoice());
  }

  #report(result: CommandResult<unknown>): void {
    if (!result.ok) this.#notify(result.problem);
  }

  dismiss(notice: Notice): void {
    this.#notices = this.#notices.filter((entry) => entry.id !== notice.id);
  }

  #notify(problem: Problem): void {
    // The connection banner already says it: a command refused for the same reason adds nothing.
    const shown = this.#connection.status === 'error' ? this.#connection.problem : null;
    if (shown !== null && shown.code === problem.code && shown.message === problem.message) return;
    this.#notices = addNotice(this.#notices, problem);
  }

  /** Not state: nothing renders from who listens. */
  #askScreen: Array<() => void> = [];

  /** Calls `listener` whenever the desktop's global hotkey asks about the screen; returns the unsubscribe. */
  onAskScreen(listener: () => void): () => void {
    this.#askScreen = [...this.#askScreen, listener];
    return () => {
      this.#askScreen = this.#askScreen.filter((entry) => entry !== listener);
    };
  }

  #apply(event: PushEvent): void {
    switch (event.type) {
      case 'screen.ask':
        for (const listener of this.#askScreen) listener();
        return;
      case 'connection':
        this.#connection = event.connection;
        if (event.connection.status === 'open') this.#notices = whenConnected(this.#notices);
        return;
      case 'turn.started':
        // A retried reply starts over under the same id: it replaces the turn rather than adds a second.
        this.#put(event.turn);
        return;
      case 'turn.delta': {
        if (!this.#ids.has(event.turnId)) return;
        const turn = this.#turns.findLast((candidate) => candidate.id === event.turnId);
        if (turn !== undefined) turn.text += event.delta;
        return;
      }
      case 'turn.finished':
        this.#put(event.turn);
        return;
      case 'conversation.reset':
        this.#setTurns([]);
        return;
      case 'inspector':
        this.#inspector = event.summary;
        return;
      case 'notice':
        this.#notify(event.problem);
        return;
      case 'voice':
        this.#voice = event.voice;
        return;
      case 'voice.level':
        this.#levelDbfs = event.dbfs;
        return;
      case 'tool': {
        const index = this.#tools.findIndex((entry) => entry.callId === event.activity.callId && entry.caller === event.activity.caller);
        if (index >= 0) this.#tools[index] = event.activity;
        else this.#tools = [...this.#tools.slice(-199), event.activity];
        return;
      }
      case 'permission':
        if (!this.#permissions.some((entry) => entry.requestId === event.request.requestId)) this.#permissions = [...this.#permissions, event.request];
        return;
      case 'permission.closed':
        this.#permissions = this.#permissions.filter((entry) => entry.requestId !== event.requestId);
        return;
      case 'agent':
        this.#agentBusy = event.busy;
        return;
      case 'tools.catalog':
        this.#toolCatalog = event.tools;
        return;
      case 'inspector.event':
        this.#events = [...this.#events.slice(-(maxEvents - 1)), event.event];
        return;
      case 'settings':
        return;
    }
  }

  /**
   * Adds a turn, or replaces the one with its id. A known id is one of the newest few (the reply
   * streaming now, or the message before it), so the search from the end stops at once.
   */
  #put(turn: Turn): void {
    if (this.#ids.has(turn.id)) {
      const index = this.#turns.findLastIndex((candidate) => candidate.id === turn.id);
      this.#turns[index] = turn;
    } else {
      this.#ids.add(turn.id);
      this.#turns.push(turn);
      if (this.#turns.length > maxTurns) this.#forget(this.#turns.splice(0, trimTurns));
    }
    if (turn.status === 'streaming') this.#streamingIds.add(turn.id);
    else this.#streamingIds.delete(turn.id);
    this.#streaming = this.#streamingIds.size > 0;
  }

  #setTurns(turns: Turn[]): void {
    const kept = turns.slice(-maxTurns);
    this.#ids.clear();
    this.#streamingIds.clear();
    for (const turn of kept) {
      this.#ids.add(turn.id);
      if (turn.status === 'streaming') this.#streamingIds.add(turn.id);
    }
    this.#streaming = this.#streamingIds.size > 0;
    this.#turns = kept;
  }

  #forget(turns: readonly Turn[]): void {
    for (const turn of turns) {
      this.#ids.delete(turn.id);
      this.#streamingIds.delete(turn.id);
    }
  }
}
