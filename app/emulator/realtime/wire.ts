/** Server events as the SDK types them, minus the `event_id` the session stamps on each. */
import type { RealtimeError, RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { InvalidRequest } from './validate';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type ServerEvent = DistributiveOmit<RealtimeServerEvent, 'event_id'>;

/**
 * Where the real server sends `null` but the SDK's type says "optional, non-null" (for example
 * `response.status_details` in `response.created`, PROTOCOL.md §2 "Voice turn"), the emulator
 * sends `null` like the server.
 */
export const serverNull = null as unknown as undefined;

export function errorBody(error: InvalidRequest, clientEventId: string | null): RealtimeError {
  return { type: error.type, code: error.code, message: error.message, param: error.param, event_id: clientEventId };
}

export function serverError(message: string): InvalidRequest {
  return new InvalidRequest('server_error', null, message, 'server_error');
}
