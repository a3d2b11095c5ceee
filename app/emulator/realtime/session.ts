/**
 * PLACEHOLDER — to be replaced by the Realtime emulator implementation.
 * The server constructs one RealtimeSession per accepted `/v1/realtime` WebSocket.
 */
import type { WebSocket } from 'ws';
import type { EmulatorClock } from '../clock';
import type { FaultQueue } from '../faults';
import type { LatencyModel } from '../latency';

export interface RealtimeSessionOptions {
  ws: WebSocket;
  /** From the `?model=` query parameter (default `gpt-realtime`). */
  model: string;
  /** `?intent=transcription` opens a transcription session; otherwise a conversation. */
  intent: 'conversation' | 'transcription';
  clock: EmulatorClock;
  latency: LatencyModel;
  faults: FaultQueue;
  /** Session age limit (60 minutes by default); then `session_expired` and close 1001. */
  sessionLimitMs: number;
  onClose?: () => void;
}

export class RealtimeSession {
  constructor(options: RealtimeSessionOptions) {
    options.ws.send(JSON.stringify({ type: 'error', event_id: 'event_placeholder', error: { type: 'server_error', code: null, message: 'Realtime is not implemented yet.', param: null } }));
    options.ws.close(1011, 'not implemented');
  }

  /** Fault `expire_connection`: send `session_expired` now and close with 1001. */
  expire(): void {}

  /** Fault `evict_cache` has no Realtime meaning; present so the server can treat sessions alike. */
  evictCache(): void {}
}
