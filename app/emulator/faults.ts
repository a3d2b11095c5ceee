/**
 * Faults the emulator can be told to produce, programmatically or over its control endpoint.
 * Queued faults apply to the next response on the named protocol (or either), one each, in order;
 * `evict_cache` and `expire_connection` act at once on every open connection.
 */
import { z } from 'zod';

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('drop_socket'), closeCode: z.number().int().min(1000).max(4999).optional(), afterDeltas: z.number().int().nonnegative().default(0) }),
  z.strictObject({ kind: z.literal('error_mid_stream'), afterDeltas: z.number().int().nonnegative().default(0) }),
  z.strictObject({ kind: z.literal('rate_limit'), retryAfterS: z.number().positive().default(1) }),
  z.strictObject({ kind: z.literal('stall'), ms: z.number().int().positive().optional() }),
  z.strictObject({ kind: z.literal('malformed_frame') }),
  z.strictObject({ kind: z.literal('oversized_frame'), bytes: z.number().int().positive().default(17 * 1024 * 1024) }),
  z.strictObject({ kind: z.literal('evict_cache') }),
  z.strictObject({ kind: z.literal('expire_connection') }),
]);

export type Fault = z.output<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;
export type QueuedFault = Exclude<Fault, { kind: 'evict_cache' | 'expire_connection' }>;
/** `speech` is `POST /v1/audio/speech`: rate_limit, stall, and drop_socket (the stream cut after `afterDeltas` chunks) apply. */
export type Protocol = 'responses' | 'realtime' | 'speech';

export class FaultQueue {
  #pending: Array<{ fault: QueuedFault; protocol: Protocol | null }> = [];

  push(fault: QueuedFault, protocol: Protocol | null = null): void {
    this.#pending.push({ fault, protocol });
  }

  /** The next fault for this protocol, if any, removed from the queue. */
  take(protocol: Protocol): QueuedFault | undefined {
    const index = this.#pending.findIndex((entry) => entry.protocol === null || entry.protocol === protocol);
    if (index < 0) return undefined;
    return this.#pending.splice(index, 1)[0]?.fault;
  }

  get size(): number {
    return this.#pending.length;
  }
}
