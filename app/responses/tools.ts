/**
 * The tool loop's bookkeeping: each `call_id` runs once, however often it is seen (a retried
 * response repeats its calls); arguments that are not JSON go back to the model as a tool error.
 */
import type { ResponseOutputItem } from '../protocol/responses';

export interface ToolCall {
  callId: string;
  name: string;
  arguments: unknown;
}

/** Runs one tool and returns its output as text for the model; throwing reports a tool error. */
export type ToolRunner = (call: ToolCall) => Promise<string>;

export interface ToolOutcome {
  ok: boolean;
  output: string;
}

type FunctionCall = Extract<ResponseOutputItem, { type: 'function_call' }>;

/**
 * How many of the newest call ids are remembered. A call is seen again only when the response it
 * came from is retried or replayed, never a thousand calls later; without a cap a day-long session
 * would keep every call it ever ran (with its output).
 */
export const rememberedCalls = 1024;

export class ToolCalls {
  #runs = new Map<string, Promise<ToolOutcome>>();
  #count = 0;

  /** How many distinct calls have run. */
  get count(): number {
    return this.#count;
  }

  /** How many call ids are remembered now: at most `rememberedCalls`. */
  get remembered(): number {
    return this.#runs.size;
  }

  run(call: FunctionCall, runner: ToolRunner | undefined): Promise<ToolOutcome> {
    let run = this.#runs.get(call.call_id);
    if (run === undefined) {
      run = execute(call, runner);
      this.#runs.set(call.call_id, run);
      this.#count += 1;
      // Maps iterate in insertion order: the first key is the oldest call.
      if (this.#runs.size > rememberedCalls) this.#runs.delete(this.#runs.keys().next().value as string);
    }
    return run;
  }
}

async function execute(call: FunctionCall, runner: ToolRunner | undefined): Promise<ToolOutcome> {
  if (runner === undefined) return failure(`No tool named "${call.name}" is available.`);
  let parsed: unknown;
  try {
    parsed = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (error) {
    return failure(`The arguments for ${call.name} were not valid JSON (${(error as Error).message}). Call it again with a JSON object.`);
  }
  try {
    return { ok: true, output: await runner({ callId: call.call_id, name: call.name, arguments: parsed }) };
  } catch (error) {
    // Runners word their own errors (the tool executor names the tool and the cause).
    return failure((error as Error)?.message ?? String(error));
  }
}

function failure(message: string): ToolOutcome {
  return { ok: false, output: JSON.stringify({ error: message }) };
}
