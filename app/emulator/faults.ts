/** Faults the emulator can be told to produce on its next response, one at a time, in order. */
export type Fault =
  | { kind: 'malformed_frame' }
  | { kind: 'drop_socket'; afterDeltas: number }
  | { kind: 'error_mid_stream'; afterDeltas: number };

export class FaultQueue {
  #pending: Fault[] = [];

  inject(fault: Fault): void {
    this.#pending.push(fault);
  }

  take(): Fault | undefined {
    return this.#pending.shift();
  }
}
