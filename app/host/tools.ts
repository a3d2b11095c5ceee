/**
 * The tools side of the composition root: the registry, the executor with its permission prompts,
 * and the recent tool activity the UI lists.
 */
import type { PermissionDecision, PermissionRequest, PushEvent, ToolActivity } from '../contract';
import { ToolRegistry, type ToolDefinition } from '../agent/registry';
import { ToolExecutor } from '../agent/runner';
import type { InspectorLog } from '../inspector/log';

export interface ToolHostOptions {
  /** The user's per-tool choices from settings. */
  permissions: () => Record<string, 'ask' | 'allow' | 'deny'>;
  allowAlways: (name: string) => void;
  emit: (event: PushEvent) => void;
  inspector: InspectorLog;
  now: () => number;
  newId: () => string;
}

/** The tool panel keeps this many recent calls. */
export const maxActivities = 200;

export class ToolHost {
  readonly registry = new ToolRegistry();
  readonly executor: ToolExecutor;
  #options: ToolHostOptions;
  #activities: ToolActivity[] = [];
  #waiting = new Map<string, { request: PermissionRequest; resolve: (decision: PermissionDecision) => void }>();

  constructor(options: ToolHostOptions) {
    this.#options = options;
    this.executor = new ToolExecutor({
      registry: this.registry,
      policy: (tool) => this.#policy(tool),
      askUser: (request) => this.#ask(request),
      allowAlways: options.allowAlways,
      onActivity: (activity) => this.#record(activity),
      now: options.now,
      newId: options.newId,
    });
  }

  get activities(): ToolActivity[] {
    return this.#activities;
  }

  get pendingPermissions(): PermissionRequest[] {
    return [...this.#waiting.values()].map((entry) => entry.request);
  }

  /** The user's answer to a permission prompt; false when no such prompt is open. */
  answer(requestId: string, decision: PermissionDecision): boolean {
    const waiting = this.#waiting.get(requestId);
    if (waiting === undefined) return false;
    this.#waiting.delete(requestId);
    this.#options.emit({ type: 'permission.closed', requestId });
    waiting.resolve(decision);
    return true;
  }

  /**
   * The same prompt for something that is not a tool call (capturing the screen): the user's
   * stored choice for `name` decides, else they are asked; "always" is stored like a tool's.
   */
  async askPermission(ask: Pick<PermissionRequest, 'name' | 'risk' | 'summary' | 'reason'>): Promise<'allow' | 'deny'> {
    const chosen = this.#options.permissions()[ask.name] ?? 'ask';
    if (chosen !== 'ask') return chosen;
    const requestId = this.#options.newId();
    const decision = await this.#ask({ requestId, callId: requestId, ...ask, arguments: {} });
    if (decision === 'always') this.#options.allowAlways(ask.name);
    return decision === 'deny' ? 'deny' : 'allow';
  }

  /** Cancels running tools and declines open prompts. */
  cancelAll(): void {
    for (const requestId of [...this.#waiting.keys()]) this.answer(requestId, 'deny');
    this.executor.cancelAll();
  }

  /** Safe tools run freely; others follow the user's setting, asking by default. */
  #policy(tool: ToolDefinition): 'allow' | 'ask' | 'deny' {
    const chosen = this.#options.permissions()[tool.name];
    if (chosen !== undefined) return chosen;
    return tool.risk === 'safe' ? 'allow' : 'ask';
  }

  #ask(request: PermissionRequest): Promise<PermissionDecision> {
    return new Promise((resolve) => {
      this.#waiting.set(request.requestId, { request, resolve });
      this.#options.emit({ type: 'permission', request });
    });
  }

  #record(activity: ToolActivity): void {
    const index = this.#activities.findIndex((entry) => entry.callId === activity.callId && entry.caller === activity.caller);
    if (index >= 0) this.#activities[index] = activity;
    else {
      this.#activities.push(activity);
      if (this.#activities.length > maxActivities) this.#activities.splice(0, this.#activities.length - maxActivities);
    }
    if (activity.status !== 'requested' && activity.status !== 'running' && activity.status !== 'waiting_permission') {
      this.#options.inspector.record({ socket: activity.caller, type: 'tool', at: this.#options.now(), name: activity.name, status: activity.status === 'succeeded' ? 'done' : 'failed', ...(activity.durationMs === null ? {} : { durationMs: activity.durationMs }) });
    }
    this.#options.emit({ type: 'tool', activity });
  }
}
