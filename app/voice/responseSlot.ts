/**
 * Response creation on the default conversation as one state machine: at most one
 * `response.create` in flight (PROTOCOL.md §4 client 1), and one more wanted while it is waits
 * for it to end instead of being dropped (§4 client 12). Out-of-band responses (voice previews)
 * are not the conversation's and never pass through here.
 */

/** What is in flight: our request not yet answered, or a response the server created. */
export type InFlight = { state: 'requested'; eventId: string } | { state: 'active'; responseId: string | null };

export type ResponseState =
  | { state: 'idle' }
  | InFlight
  /** Another response is wanted once the one in flight ends. */
  | { state: 'deferred'; behind: InFlight };

export class ResponseSlot {
  #state: ResponseState = { state: 'idle' };
  readonly #prefix: string;
  #sent = 0;

  /** `prefix` names the `response.create` event ids, e.g. `parley_voice_response` → `parley_voice_response_2`. */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  get state(): ResponseState {
    return this.#state;
  }

  /** Nothing in flight and nothing waiting: the voice may go back to listening. */
  get idle(): boolean {
    return this.#state.state === 'idle';
  }

  /** A response the server is producing right now (ours or one its VAD started). */
  get active(): boolean {
    return this.#inFlight()?.state === 'active';
  }

  /**
   * A response is wanted: the `event_id` of the `response.create` to send now, or null when one
   * is in flight and this one is deferred behind it.
   */
  request(): string | null {
    const inFlight = this.#inFlight();
    if (inFlight !== null) {
      this.#state = { state: 'deferred', behind: inFlight };
      return null;
    }
    this.#sent += 1;
    const eventId = `${this.#prefix}_${this.#sent}`;
    this.#state = { state: 'requested', eventId };
    return eventId;
  }

  /** `response.created` on the default conversation: ours, or one the server's VAD made. */
  created(responseId: string | null): void {
    const active: InFlight = { state: 'active', responseId };
    this.#state = this.#state.state === 'deferred' ? { state: 'deferred', behind: active } : active;
  }

  /**
   * `response.done` (readable or not): the slot frees. True when a request was deferred behind
   * it: the session asks again once the tool outputs, if any, are in the conversation.
   */
  done(): boolean {
    const deferred = this.#state.state === 'deferred';
    this.#state = { state: 'idle' };
    return deferred;
  }

  /**
   * The server refused a request with `error`. `eventId` is the one the error names (null when it
   * names none, or could not be read): only our waiting request is freed by it, so an unrelated
   * error never opens the way to a second response in flight.
   */
  refused(eventId: string | null): { freed: boolean; deferred: boolean } {
    const waiting = this.#requested();
    if (waiting === null || (eventId !== null && eventId !== waiting.eventId)) return { freed: false, deferred: false };
    return { freed: true, deferred: this.done() };
  }

  /**
   * `conversation_already_has_active_response`: the server started one of its own (VAD) before
   * ours arrived. Ours waits for that one to end; true when that one has already ended, so the
   * session asks again now.
   */
  alreadyActive(): boolean {
    switch (this.#state.state) {
      case 'idle':
        return true;
      case 'requested':
        this.#state = { state: 'deferred', behind: { state: 'active', responseId: null } };
        return false;
      case 'active':
        this.#state = { state: 'deferred', behind: this.#state };
        return false;
      case 'deferred':
        return false;
    }
  }

  /** The socket closed: nothing is in flight on the next one. */
  lost(): void {
    this.#state = { state: 'idle' };
  }

  #inFlight(): InFlight | null {
    switch (this.#state.state) {
      case 'idle':
        return null;
      case 'deferred':
        return this.#state.behind;
      default:
        return this.#state;
    }
  }

  #requested(): { eventId: string } | null {
    const inFlight = this.#inFlight();
    return inFlight?.state === 'requested' ? inFlight : null;
  }
}
