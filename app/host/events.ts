/**
 * The agent session's events as the user sees them: inspector entries, the connection state,
 * notices, and the inspector's summary with the live socket's figures.
 */
import type { ConnectionMode, ConnectionState, Problem, PushEvent, Settings } from '../contract';
import type { InspectorLog } from '../inspector/log';
import type { ResponsesSession, ResponsesSessionEvent } from '../responses/session';
import type { Logger } from './ports';

export interface AgentEventsOptions {
  /** The agent session of the moment; null while starting or reconnecting. */
  session: () => ResponsesSession | null;
  /** Where the agent socket points; null before a connection is planned (events are dropped). */
  endpoint: () => { mode: ConnectionMode; endpoint: string } | null;
  connection: () => ConnectionState;
  setConnection: (next: ConnectionState) => void;
  settings: () => Settings;
  inspector: InspectorLog;
  emit: (event: PushEvent) => void;
  notice: (problem: Problem) => void;
  log: Logger;
  now: () => number;
}

/** Sends the inspector's summary to the UI, first reading the live session's figures into it. */
export function inspectorPublisher(options: Pick<AgentEventsOptions, 'session' | 'settings' | 'inspector' | 'emit'>): () => void {
  const { inspector, emit } = options;
  return () => {
    const session = options.session();
    if (session !== null) {
      const socket = session.socketInfo;
      inspector.update({
        ...session.meters,
        chainHead: session.chainHead,
        lanesInFlight: session.lanesInFlight,
        socket: socket === null ? null : { ...socket, rolloverAt: socket.openedAt + options.settings().rolloverMinutes * 60_000 },
      });
    }
    emit({ type: 'inspector', summary: inspector.summary });
  };
}

export function agentEventTranslator(options: AgentEventsOptions): (event: ResponsesSessionEvent) => void {
  const { inspector, emit, notice, log, now, setConnection } = options;
  const publish = inspectorPublisher(options);
  return (event: ResponsesSessionEvent): void => {
    const where = options.endpoint();
    if (where === null) return;
    const { mode, endpoint } = where;
    const session = options.session();
    const at = now();
    switch (event.type) {
      case 'socket': {
        const { state } = event;
        if (state.status === 'connecting') {
          inspector.record({ socket: 'agent', type: 'socket.connecting', at, endpoint });
          if (options.connection().status !== 'open') setConnection({ status: 'connecting', mode, endpoint });
        } else if (state.status === 'open') {
          inspector.record({ socket: 'agent', type: 'socket.open', at, endpoint, socketId: event.socketId });
          log.info('agent socket open', { endpoint, socket: event.socketId });
          setConnection({ status: 'open', mode, endpoint });
        } else if (state.status === 'closed') {
          inspector.record({ socket: 'agent', type: 'socket.closed', at, code: state.code, reason: state.reason });
          log.info('agent socket closed', { socket: event.socketId, code: state.code, reason: state.reason });
          // A retired socket (rolled over, cancelled, stalled) closes while its successor is open: nothing to report.
          if (session?.socketInfo?.id !== undefined && session.socketInfo.id !== event.socketId) return;
          setConnection(
            state.problem === null
              ? { status: 'closed', mode, endpoint, reason: state.reason || 'closed' }
              : { status: 'error', mode, endpoint, problem: state.problem },
          );
        }
        publish();
        return;
      }
      case 'frame.rejected':
        inspector.record({ socket: 'agent', type: 'frame.rejected', at, reason: event.problem.message });
        notice(event.problem);
        return;
      case 'warmup':
        inspector.record({ socket: 'agent', type: 'warmup', at, durationMs: event.durationMs, items: event.items });
        break;
      case 'compaction':
        inspector.record({ socket: 'agent', type: 'compaction', at, mode: event.mode, tokensBefore: event.tokensBefore, tokensAfter: event.tokensAfter });
        break;
      case 'reconnect':
        inspector.record({ socket: 'agent', type: 'reconnect', at, attempt: event.attempt, delayMs: event.delayMs, code: event.code });
        emit({
          type: 'notice',
          problem: { code: 'connection_failed', message: `Connection lost (code ${event.code ?? 'none'}); retrying in ${Math.max(1, Math.round(event.delayMs / 1000))} s (attempt ${event.attempt}).`, hint: 'Your message is kept and will be sent when the connection is back.', until: 'connected' },
        });
        break;
      case 'rehydration':
        inspector.record({ socket: 'agent', type: 'rehydration', at, reason: event.reason, items: event.items });
        break;
      case 'rollover':
        inspector.record({ socket: 'agent', type: 'rollover', at, ageMs: event.ageMs, gapMs: event.gapMs });
        break;
      case 'rate_limited':
        inspector.record({ socket: 'agent', type: 'rate_limited', at, retryAfterMs: event.retryAfterMs });
        break;
      case 'stalled':
        inspector.record({ socket: 'agent', type: 'stalled', at, silentMs: event.silentMs, retrying: event.retrying });
        if (event.retrying) {
          const seconds = Math.max(1, Math.round(event.silentMs / 1000));
          emit({ type: 'notice', problem: { code: 'connection_failed', message: `No reply for ${seconds} s: sending your message again on a new connection.`, hint: 'Nothing is lost; Cancel stops it.', until: 'connected' } });
        }
        break;
      case 'tool':
        // Tool activity is recorded by the tool host, with its arguments and result.
        return;
      case 'request':
        return;
    }
    log.info(event.type, { ...event });
    publish();
  };
}
