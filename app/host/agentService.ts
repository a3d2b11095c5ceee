/**
 * Agent turns: typed messages and the voice's delegated work, both shown in the transcript and
 * both cancellable; a new conversation; the busy flag the UI shows.
 */
import type { CommandResult, ConnectionState, Problem, PushEvent, SendMessageResult, Turn, TurnStatus } from '../contract';
import type { InspectorLog } from '../inspector/log';
import { userMessage } from '../protocol/responses';
import type { ResponsesSession } from '../responses/session';
import type { AgentOutcome } from '../agent/supervisor';
import type { Logger } from './ports';
import type { ToolHost } from './tools';
import type { Transcript } from './transcript';
import type { VoiceController } from '../voice/controller';

export interface AgentServiceOptions {
  /** The agent session of the moment; null while starting or reconnecting. */
  session: () => ResponsesSession | null;
  voice: () => VoiceController | null;
  connection: () => ConnectionState;
  transcript: Transcript;
  tools: ToolHost;
  inspector: InspectorLog;
  /** Sends the inspector's summary to the UI. */
  publishInspector: () => void;
  emit: (event: PushEvent) => void;
  log: Logger;
  now: () => number;
  newId: () => string;
  /** Whether the voice conversation of the moment can be shown a screenshot (else it goes to the agent). */
  voiceTakesImages?: () => boolean;
}

/** How a question asked with a screenshot reads in the transcript (the picture itself is not kept there). */
export function withScreenshot(text: string): string {
  return `(with a screenshot) ${text}`;
}

/** The last typed turn while nothing came after it: the one Retry, Regenerate and Edit act on. */
interface LastTurn {
  userTurn: Turn;
  assistantTurn: Turn;
  /** The session it ran on; null when it never reached one (the agent was not connected). */
  session: ResponsesSession | null;
}

export class AgentService {
  #options: AgentServiceOptions;
  #turn: AbortController | null = null;
  #turnsInFlight = 0;
  #last: LastTurn | null = null;

  constructor(options: AgentServiceOptions) {
    this.#options = options;
  }

  get busy(): boolean {
    return this.#turnsInFlight > 0;
  }

  sendMessage(text: string): CommandResult<SendMessageResult> {
    const { newId } = this.#options;
    const starting = this.#starting();
    if (starting !== null) return starting;
    // With a voice conversation open, typed text goes to the same co-pilot: the voice front,
    // which answers itself or delegates to the agent.
    const voice = this.#options.voice();
    if (voice?.active === true) {
      const userTurnId = newId();
      voice.sendText(text, userTurnId);
      return { ok: true, value: { userTurnId, assistantTurnId: '' } };
    }
    const { userTurnId, assistantTurnId } = this.runTurn(text, 'typed');
    return { ok: true, value: { userTurnId, assistantTurnId } };
  }

  /**
   * A question with a screenshot (a data URL): to the voice conversation when one is open and its
   * model looks at images, otherwise an agent turn. The transcript shows the question only.
   */
  askAboutScreen(text: string, image: string): CommandResult<SendMessageResult> {
    const { transcript, now, newId } = this.#options;
    const starting = this.#starting();
    if (starting !== null) return starting;
    const voice = this.#options.voice();
    if (voice?.active === true && this.#options.voiceTakesImages?.() === true) {
      const userTurnId = newId();
      voice.sendText(text, userTurnId, { url: image, shown: withScreenshot(text) });
      return { ok: true, value: { userTurnId, assistantTurnId: '' } };
    }
    const startedAt = now();
    const userTurn = transcript.start({ id: newId(), role: 'user', source: 'typed', text: withScreenshot(text), status: 'completed', startedAt });
    const assistantTurn = transcript.start({ id: newId(), role: 'assistant', source: 'typed', text: '', status: 'streaming', startedAt });
    return this.#started(this.#run(userTurn, assistantTurn, text, image));
  }

  /** Why a new turn cannot start now (a prompt is waiting, or the agent is not connected yet), or null. */
  #starting(): CommandResult<never> | null {
    // A turn is paused on the user's answer; a second one would start beside it on the same lane.
    const waiting = this.#options.tools.pendingPermissions[0];
    if (waiting !== undefined) {
      return { ok: false, problem: { code: 'busy', message: `Not sent: Parley is waiting for your answer first (${waiting.summary}).`, hint: 'Answer the prompt (Allow or Deny), then send your message again.' } };
    }
    if (this.#options.session() !== null) return null;
    const state = this.#options.connection();
    const problem: Problem = state.status === 'error' ? state.problem : { code: 'connection_failed', message: 'Parley is still starting.', hint: 'Wait a moment and send again.' };
    return { ok: false, problem };
  }

  /**
   * One agent turn, typed or delegated by the voice: both show in the transcript, and both can be
   * cancelled with cancelAgent.
   */
  runTurn(text: string, source: 'typed' | 'voice'): { userTurnId: string; assistantTurnId: string; outcome: Promise<AgentOutcome> } {
    const { transcript, now, newId } = this.#options;
    const startedAt = now();
    const userTurn = transcript.start({ id: newId(), role: 'user', source, text: source === 'voice' ? `(for the agent) ${text}` : text, status: 'completed', startedAt });
    const assistantTurn = transcript.start({ id: newId(), role: 'assistant', source: 'typed', text: '', status: 'streaming', startedAt });
    return this.#run(userTurn, assistantTurn, text);
  }

  /** Answers the last typed message again: a Retry after a failure, a Regenerate after a reply. */
  regenerate(): CommandResult<SendMessageResult> {
    const last = this.#takeBackLastTurn();
    if (!last.ok) return last;
    const { userTurn, assistantTurn } = last.value;
    const reply = startingOver(assistantTurn, '', 'streaming', this.#options.now());
    this.#options.transcript.restart(reply);
    return this.#started(this.#run(userTurn, reply, userTurn.text));
  }

  /** Replaces the last typed message (and its reply) with `text`, and answers that instead. */
  editLast(text: string): CommandResult<SendMessageResult> {
    const last = this.#takeBackLastTurn();
    if (!last.ok) return last;
    const startedAt = this.#options.now();
    const message = startingOver(last.value.userTurn, text, 'completed', startedAt);
    const reply = startingOver(last.value.assistantTurn, '', 'streaming', startedAt);
    this.#options.transcript.restart(message);
    this.#options.transcript.restart(reply);
    return this.#started(this.#run(message, reply, text));
  }

  #started(turn: { userTurnId: string; assistantTurnId: string }): CommandResult<SendMessageResult> {
    return { ok: true, value: { userTurnId: turn.userTurnId, assistantTurnId: turn.assistantTurnId } };
  }

  /**
   * The last typed turn, taken out of the agent's ledger so its answer can be replaced. Only the
   * newest exchange qualifies: anything said after it (a voice turn, say) built on it.
   */
  #takeBackLastTurn(): CommandResult<LastTurn> {
    const { transcript } = this.#options;
    if (this.#turnsInFlight > 0) return { ok: false, problem: { code: 'busy', message: 'A reply is still coming.', hint: 'Stop it first (Escape), then try again.' } };
    const last = this.#last;
    const [secondLast, newest] = transcript.turns.slice(-2);
    if (last === null || secondLast?.id !== last.userTurn.id || newest?.id !== last.assistantTurn.id) {
      return { ok: false, problem: { code: 'invalid_payload', message: 'Only the latest typed message can be answered again or edited.', hint: 'Send a new message instead.' } };
    }
    const session = this.#options.session();
    if (session === null) {
      const state = this.#options.connection();
      return { ok: false, problem: state.status === 'error' ? state.problem : { code: 'connection_failed', message: 'Parley is still connecting.', hint: 'Wait a moment and try again.' } };
    }
    // A turn on an earlier session (before a reconnect with a new key) is not in this one's ledger.
    const outcome = last.session === session ? session.forgetTurn(last.assistantTurn.id) : 'forgotten';
    if (outcome === 'compacted') {
      return { ok: false, problem: { code: 'invalid_payload', message: 'That exchange was folded into a summary when the conversation was compacted, so it cannot be taken back.', hint: 'Send the message again as a new one.' } };
    }
    if (outcome !== 'forgotten') {
      return { ok: false, problem: { code: 'busy', message: 'The agent has answered something else since.', hint: 'Send a new message instead.' } };
    }
    return { ok: true, value: { ...last, userTurn: transcript.get(last.userTurn.id) ?? last.userTurn, assistantTurn: transcript.get(last.assistantTurn.id) ?? last.assistantTurn } };
  }

  #run(userTurn: Turn, assistantTurn: Turn, text: string, image?: string): { userTurnId: string; assistantTurnId: string; outcome: Promise<AgentOutcome> } {
    const { transcript, emit, inspector, log, now } = this.#options;
    const session = this.#options.session();
    // A screenshot is not kept for Regenerate or Edit to send again, so those leave such a turn be.
    this.#last = userTurn.source === 'typed' && image === undefined ? { userTurn, assistantTurn, session } : null;
    if (session === null) {
      const problem: Problem = { code: 'connection_failed', message: 'The agent is not connected.', hint: 'Check the connection indicator.' };
      transcript.finish({ ...assistantTurn, status: 'failed', problem });
      return { userTurnId: userTurn.id, assistantTurnId: assistantTurn.id, outcome: Promise.resolve({ ok: false, problem }) };
    }
    this.#turnsInFlight += 1;
    const controller = new AbortController();
    this.#turn = controller;
    emit({ type: 'agent', busy: true });
    const sent = session.runTurn([userMessage(text, image)], {
      turnId: assistantTurn.id,
      signal: controller.signal,
      onTextDelta: (delta) => transcript.delta(assistantTurn.id, delta),
      onRestart: () => transcript.restart({ ...assistantTurn, text: '' }),
      onWait: (wait) => transcript.restart({ ...assistantTurn, text: '', waiting: wait }),
    });
    const outcome = sent.then((result): AgentOutcome => {
      this.#turnsInFlight -= 1;
      if (this.#turn === controller) this.#turn = null;
      emit({ type: 'agent', busy: this.#turnsInFlight > 0 });
      transcript.finish(
        result.status === 'failed'
          ? { ...assistantTurn, text: result.text, status: 'failed', problem: result.problem }
          : { ...assistantTurn, text: result.text, status: result.status },
      );
      const metrics = result.metrics === null ? null : { turnId: assistantTurn.id, ...result.metrics };
      inspector.record({ socket: 'agent', type: 'turn.finished', at: now(), status: result.status, metrics });
      if (result.status === 'failed') log.warn('turn failed', { code: result.problem.code, message: result.problem.message });
      this.#options.publishInspector();
      return result.status === 'failed' ? { ok: false, problem: result.problem } : { ok: true, text: result.text };
    });
    return { userTurnId: userTurn.id, assistantTurnId: assistantTurn.id, outcome };
  }

  cancel(): CommandResult<null> {
    const { tools, log } = this.#options;
    if (this.#turn === null && tools.pendingPermissions.length === 0) {
      return { ok: false, problem: { code: 'busy', message: 'Nothing is running to cancel.', hint: 'The agent is idle.' } };
    }
    this.#turn?.abort();
    tools.cancelAll();
    log.info('agent turn cancelled by the user');
    return { ok: true, value: null };
  }

  newConversation(): CommandResult<null> {
    if (this.#turnsInFlight > 0) {
      return { ok: false, problem: { code: 'busy', message: 'A reply is still streaming.', hint: 'Wait for it to finish, then start a new conversation.' } };
    }
    this.#options.session()?.reset();
    this.#options.transcript.clear();
    this.#last = null;
    this.#options.publishInspector();
    return { ok: true, value: null };
  }
}

/** A turn said again under its own id: its old text, problem and wait are gone. */
function startingOver(turn: Turn, text: string, status: TurnStatus, startedAt: number): Turn {
  return { id: turn.id, role: turn.role, source: turn.source, text, status, startedAt };
}
