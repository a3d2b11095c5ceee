/** What a Responses session sends with every request, and when two requests may share a chain. */
import type { FunctionTool } from 'openai/resources/responses/responses';
import type { ReasoningEffort } from 'openai/resources/shared';

export type CompactionMode = 'off' | 'server' | 'endpoint';

export interface SessionSettings {
  model: string;
  instructions: string;
  tools: FunctionTool[];
  /** `false` by default: nothing is kept on the server beyond the connection's cache. */
  store: boolean;
  /**
   * `generate: false` with instructions, tools and the window when a socket opens, so the next
   * turn is chained and cached. `auto` warms only when there is something worth caching: a
   * conversation to move to a new socket, or long instructions and tools (the benchmark shows an
   * empty warmup saves nothing measurable and costs a round trip).
   */
  warmup: 'auto' | 'always' | 'off';
  compaction: { mode: CompactionMode; thresholdTokens: number };
  /** Open a fresh socket between turns once the current one is this old (the server's limit is 60 min). */
  rolloverAfterMs: number;
  /** Tool-loop steps per user turn before the session stops and says so. */
  maxToolSteps: number;
  /**
   * `reasoning.effort` for every `response.create`, or null to send none (the model's own
   * default, and the only choice for models that do not reason). The host resolves it from the
   * model table (app/settings/models.ts), so a non-null value is one the model takes.
   */
  reasoningEffort?: Exclude<ReasoningEffort, null> | null;
}

/** The `reasoning` part of a `response.create`: spread it into the request. */
export function reasoningParams(settings: SessionSettings): { reasoning?: { effort: Exclude<ReasoningEffort, null> } } {
  return settings.reasoningEffort === undefined || settings.reasoningEffort === null ? {} : { reasoning: { effort: settings.reasoningEffort } };
}

export const defaultSessionSettings: Omit<SessionSettings, 'model' | 'instructions'> = {
  tools: [],
  store: false,
  warmup: 'auto',
  compaction: { mode: 'server', thresholdTokens: 100_000 },
  rolloverAfterMs: 55 * 60 * 1000,
  maxToolSteps: 64,
  reasoningEffort: null,
};

/**
 * Everything that must be unchanged for a request to continue a chain with only new items
 * (PROTOCOL.md §4 client 5): model, instructions, tools and storage.
 */
/** Below this many estimated prompt tokens an empty warmup is not worth its round trip. */
export const warmupWorthTokens = 1024;

export function chainKey(settings: SessionSettings): string {
  return JSON.stringify([settings.model, settings.instructions, settings.tools, settings.store]);
}
