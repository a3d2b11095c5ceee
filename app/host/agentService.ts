/**
 * Agent turns: typed messages and the voice's delegated work, both shown in the transcript and
 * both cancellable; a new conversation; the busy flag the UI shows.
 */
import type { CommandResult, ConnectionState, Problem, PushEvent, SendMessageResult } from '../contract';
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
}

export class AgentService {
  #options: AgentServiceOptions;
  #turn: AbortController | null = null;
  #turnsInFlight = 0;

  constructor(options: AgentServiceOptions) {
    this.#options = options;
  }

  get busy(): boolean {
    return this.#turnsInFlight > 0;
  }

  sendMessage(text: string): CommandResult<SendMessageResult> {
    const { connection, newId } = this.#options;
    if (this.#options.session() === null) {
      const state = connection();
      const problem: Problem =
        state.status === 'error' ? state.problem : { code: 'connection_failed', message: 'Parley is still starting.', hint: 'Wait a moment and send again.' };
      return { ok: false, problem };
    }
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
   * One agent turn, typed or delegated by the voice: both show in the transcript, and both can be
   * cancelled with cancelAgent.
   */
  runTurn(text: string, source: 'typed' | 'voice'): { userTurnId: string; assistantTurnId: string; outcome: Promise<AgentOutcome> } {
    const { transcript, emit, inspector, log, now, newId } = this.#options;
    const startedAt = now();
    const userTurn = transcript.start({ id: newId(), role: 'user', source, text: source === 'voice' ? `(for the agent) ${text}` : text, status: 'completed', startedAt });
    const assistantTurn = transcript.start({ id: newId(), role: 'assistant', source: 'typed', text: '', status: 'streaming', startedAt });
    const session = this.#options.session();
    if (session === null) {
      const problem: Problem = { code: 'connection_failed', message: 'The agent is not connected.', hint: 'Check the connection indicator.' };
      transcript.finish({ ...assistantTurn, status: 'failed', problem });
      return { userTurnId: userTurn.id, assistantTurnId: assistantTurn.id, outcome: Promise.resolve({ ok: false, problem }) };
    }
    this.#turnsInFlight += 1;
    const controller = new AbortController();
    this.#turn = controller;
    emit({ type: 'agent', busy: true });
    const sent = session.runTurn([userMessage(text)], {
      signal: controller.signal,
      onTextDelta: (delta) => transcript.delta(assistantTurn.id, delta),
      onRestart: () => transcript.restart({ ...assistantTurn, text: '' }),
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
    this.#options.publishInspector();
    return { ok: true, value: null };
  }
}
