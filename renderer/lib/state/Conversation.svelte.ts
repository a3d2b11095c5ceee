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
  ToolActivity,
  ToolInfo,
  Turn,
  VoiceStatus,
} from '../../../app/contract';

/** The inspector keeps this many events in the window. */
const maxEvents = 1000;

export class Conversation {
  #bridge: CopilotBridge;
  #turns = $state<Turn[]>([]);
  #connection = $state<ConnectionState>({ status: 'starting' });
  #notices = $state<Problem[]>([]);
  #inspector = $state<InspectorSummary | null>(null);
  #sending = $state(false);
  #voice = $state<VoiceStatus>({ state: 'off', turnMode: 'push_to_talk', muted: false, problem: null });
  #levelDbfs = $state(-120);
  #talking = $state(false);
  #tools = $state<ToolActivity[]>([]);
  #permissions = $state<PermissionRequest[]>([]);
  #agentBusy = $state(false);
  #events = $state<InspectorEvent[]>([]);
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
  get notices(): readonly Problem[] {
    return this.#notices;
  }
  get inspector(): InspectorSummary | null {
    return this.#inspector;
  }
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
    return this.#turns.some((turn) => turn.status === 'streaming');
  }

  /** Subscribes to push events, then loads the current state; returns the unsubscribe. */
  start(): () => void {
    const stop = this.#bridge.onEvent((event) => this.#apply(event));
    void this.#bridge.getSnapshot().then((result) => {
      if (!result.ok) {
        this.#notify(result.problem);
        return;
      }
      // A throwaway lookup table, not state: nothing renders from it.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      const known = new Set(this.#turns.map((turn) => turn.id));
      this.#turns = [...result.value.turns.filter((turn) => !known.has(turn.id)), ...this.#turns];
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
    if (!result.ok && !this.#notices.some((notice) => notice.message === result.problem.message)) this.#notify(result.problem);
  }

  dismiss(problem: Problem): void {
    this.#notices = this.#notices.filter((notice) => notice !== problem);
  }

  #notify(problem: Problem): void {
    this.#notices = [...this.#notices.slice(-4), problem];
  }

  #apply(event: PushEvent): void {
    switch (event.type) {
      case 'connection':
        this.#connection = event.connection;
        return;
      case 'turn.started': {
        // A retried reply starts over under the same id: replace it rather than add a second.
        const index = this.#turns.findLastIndex((candidate) => candidate.id === event.turn.id);
        if (index >= 0) this.#turns[index] = event.turn;
        else this.#turns.push(event.turn);
        return;
      }
      case 'turn.delta': {
        const turn = this.#turns.findLast((candidate) => candidate.id === event.turnId);
        if (turn !== undefined) turn.text += event.delta;
        return;
      }
      case 'turn.finished': {
        const index = this.#turns.findLastIndex((candidate) => candidate.id === event.turn.id);
        if (index >= 0) this.#turns[index] = event.turn;
        else this.#turns.push(event.turn);
        return;
      }
      case 'conversation.reset':
        this.#turns = [];
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
}
