/**
 * Runs tool calls for both sessions: validates arguments against the tool's schema, asks the user
 * when the tool's risk calls for it, enforces the timeout, supports cancellation, and reports every
 * step as tool activity. Errors and denials go back to the model as text it can use.
 */
import type { PermissionDecision, PermissionRequest, ToolActivity, ToolActivityStatus } from '../contract';
import type { ToolCall, ToolRunner } from '../responses/tools';
import { defaultToolTimeoutMs, type ToolDefinition, type ToolRegistry, type ToolRisk } from './registry';

export type PermissionPolicy = (tool: ToolDefinition) => 'allow' | 'ask' | 'deny';

export interface ToolRunnerOptions {
  registry: ToolRegistry;
  policy: PermissionPolicy;
  /** Shows the permission prompt and resolves with the user's answer. */
  askUser: (request: PermissionRequest) => Promise<PermissionDecision>;
  /** Remembers an "always" answer (in settings). */
  allowAlways: (name: string) => void;
  onActivity: (activity: ToolActivity) => void;
  now: () => number;
  newId: () => string;
}

const previewChars = 240;

const reasons: Record<ToolRisk, string> = {
  safe: 'It only computes.',
  private: 'It reads your data.',
  write: 'It changes something on your computer.',
  network: 'It reaches the internet.',
};

export class ToolExecutor {
  #options: ToolRunnerOptions;
  #running = new Map<string, AbortController>();

  constructor(options: ToolRunnerOptions) {
    this.#options = options;
  }

  /** A ToolRunner for one caller, as the sessions take it. */
  runnerFor(caller: 'voice' | 'agent'): ToolRunner {
    return (call) => this.run(call, caller);
  }

  /** Stops every tool still running; each answers the model that the user cancelled it. */
  cancelAll(): void {
    for (const controller of this.#running.values()) controller.abort(new CancelledError());
  }

  async run(call: ToolCall, caller: 'voice' | 'agent'): Promise<string> {
    const { registry, now } = this.#options;
    const definition = registry.get(call.name);
    let activity: ToolActivity = {
      callId: call.callId,
      name: call.name,
      source: definition?.source ?? 'unknown',
      risk: definition?.risk ?? 'safe',
      caller,
      arguments: call.arguments,
      status: 'requested',
      startedAt: now(),
      durationMs: null,
      resultPreview: null,
      error: null,
    };
    const update = (change: Partial<ToolActivity>): void => {
      activity = { ...activity, ...change };
      this.#options.onActivity(activity);
    };
    update({});
    const fail = (error: string, status: ToolActivityStatus = 'failed'): never => {
      update({ status, error, durationMs: now() - activity.startedAt });
      throw new Error(error);
    };

    if (definition === undefined) return fail(`There is no tool named "${call.name}".`);
    const validation = registry.validate(call.name, call.arguments);
    if (!validation.ok) return fail(validation.message);

    const policy = this.#options.policy(definition);
    if (policy === 'deny') return this.#denied(update, activity, 'Tool permissions in settings deny it.');
    if (policy === 'ask') {
      update({ status: 'waiting_permission' });
      const detail = await definition.describeCall?.(call.arguments as Record<string, unknown>).catch(() => undefined);
      const decision = await this.#options.askUser({
        requestId: this.#options.newId(),
        callId: call.callId,
        name: call.name,
        risk: definition.risk,
        arguments: call.arguments,
        summary: `Parley wants to ${summaryOf(definition, call.arguments as Record<string, unknown>)}`,
        reason: detail === undefined ? reasons[definition.risk] : `${reasons[definition.risk]} ${detail}`,
      });
      if (decision === 'deny') return this.#denied(update, activity, 'The user said no.');
      if (decision === 'always') this.#options.allowAlways(call.name);
    }

    const controller = new AbortController();
    this.#running.set(call.callId, controller);
    const timeoutMs = definition.timeoutMs ?? defaultToolTimeoutMs;
    const timer = setTimeout(() => controller.abort(new TimeoutError(call.name, timeoutMs)), timeoutMs);
    update({ status: 'running' });
    try {
      const aborted = new Promise<never>((_resolve, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      });
      const result = await Promise.race([definition.execute(call.arguments as Record<string, unknown>, { signal: controller.signal }), aborted]);
      update({ status: 'succeeded', resultPreview: preview(result), durationMs: now() - activity.startedAt });
      return result;
    } catch (error) {
      if (error instanceof CancelledError) return fail(`${call.name} was cancelled by the user.`, 'cancelled');
      return fail(error instanceof TimeoutError ? error.message : `${call.name} failed: ${(error as Error)?.message ?? String(error)}`);
    } finally {
      clearTimeout(timer);
      this.#running.delete(call.callId);
    }
  }

  #denied(update: (change: Partial<ToolActivity>) => void, activity: ToolActivity, why: string): string {
    update({ status: 'denied', error: why, durationMs: this.#options.now() - activity.startedAt });
    // A denial is an answer, not a failure: the model hears it and can say so.
    return JSON.stringify({ error: `Permission to run ${activity.name} was denied. ${why} Do not retry; tell the user you could not do it without permission.` });
  }
}

class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

class TimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`${name} did not finish within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`} and was stopped.`);
  }
}

/** The tool's own summary of the call, or its name (and server) when it has none or it throws. */
function summaryOf(definition: ToolDefinition, args: Record<string, unknown>): string {
  try {
    const said = definition.summarize?.(args);
    if (said !== undefined && said.trim() !== '') return said;
  } catch {
    // A summary is a courtesy: the tool's name says enough.
  }
  return definition.source === 'builtin' ? `use the tool “${definition.name}”` : `use the tool “${definition.name}” from the MCP server “${definition.source}”`;
}

function preview(result: string): string {
  const flat = result.replace(/\s+/g, ' ').trim();
  return flat.length > previewChars ? `${flat.slice(0, previewChars - 1)}…` : flat;
}
