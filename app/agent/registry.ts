/**
 * The tool registry: one definition per tool (name, description, JSON schema, risk, executor),
 * exposed to both sessions in each API's tool format, with arguments validated before running.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FunctionTool } from 'openai/resources/responses/responses';
import type { RealtimeFunctionTool } from '../protocol/realtime';

/**
 * What a tool may touch, which decides whether it asks first: `safe` runs freely; `private`
 * reads the user's data, `write` changes something, `network` reaches the internet.
 */
export type ToolRisk = 'safe' | 'private' | 'write' | 'network';

export interface ToolContext {
  /** Aborted when the user cancels or the tool times out; long work must stop on it. */
  signal: AbortSignal;
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema for the arguments object. */
  parameters: Record<string, unknown>;
  risk: ToolRisk;
  /** Milliseconds before the call is abandoned with a timeout error (default 15 s). */
  timeoutMs?: number;
  /** Where the tool came from: `builtin`, or the MCP server's name. */
  source: string;
  /**
   * A sentence for the permission prompt naming what this call will touch, e.g. the real path a
   * write changes when the model gave a link or a relative path; a throw leaves it out.
   */
  describeCall?(args: Record<string, unknown>): Promise<string>;
  /**
   * What this call will do, completing "Parley wants to …" (e.g. `save a note: “buy milk”`);
   * without it the prompt names the tool.
   */
  summarize?(args: Record<string, unknown>): string;
  /** Returns text for the model; throwing reports a tool error to the model. */
  execute(args: Record<string, unknown>, context: ToolContext): Promise<string>;
}

export const defaultToolTimeoutMs = 15_000;

export type Validation = { ok: true } | { ok: false; message: string };

export class ToolRegistry {
  #tools = new Map<string, { definition: ToolDefinition; validate: ValidateFunction }>();
  #ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false });
  #listeners = new Set<() => void>();
  #batching = 0;
  #pending = false;

  /** Adds or replaces a tool; a tool name is `[A-Za-z0-9_-]{1,64}` as both APIs require. */
  register(definition: ToolDefinition): void {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(definition.name)) throw new Error(`Invalid tool name "${definition.name}": use 1–64 letters, digits, _ or -.`);
    this.#tools.set(definition.name, { definition, validate: this.#ajv.compile(definition.parameters) });
    this.#changed();
  }

  /** Removes every tool from one source (an MCP server that went away). */
  removeSource(source: string): void {
    let removed = false;
    for (const [name, entry] of this.#tools) {
      if (entry.definition.source === source) {
        this.#tools.delete(name);
        removed = true;
      }
    }
    if (removed) this.#changed();
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name)?.definition;
  }

  list(): ToolDefinition[] {
    return [...this.#tools.values()].map((entry) => entry.definition);
  }

  validate(name: string, args: unknown): Validation {
    const entry = this.#tools.get(name);
    if (entry === undefined) return { ok: false, message: `There is no tool named "${name}".` };
    if (entry.validate(args)) return { ok: true };
    const message = (entry.validate.errors ?? []).map((error) => `${error.instancePath || 'arguments'} ${error.message ?? 'is invalid'}`).join('; ');
    return { ok: false, message: `Invalid arguments for ${name}: ${message}.` };
  }

  /** The tools in the Responses API's format (function tools, strict off: schemas are the tools' own). */
  forResponses(filter: (definition: ToolDefinition) => boolean = () => true): FunctionTool[] {
    return this.list()
      .filter(filter)
      .map((definition) => ({ type: 'function', name: definition.name, description: definition.description, parameters: definition.parameters, strict: false }));
  }

  /** The tools in the Realtime API's format. */
  forRealtime(filter: (definition: ToolDefinition) => boolean = () => true): RealtimeFunctionTool[] {
    return this.list()
      .filter(filter)
      .map((definition) => ({ type: 'function', name: definition.name, description: definition.description, parameters: definition.parameters }));
  }

  /** Called whenever the set of tools changes (so sessions can update their tool lists). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs several changes as one: listeners hear once, at the end, if anything changed (an MCP
   * server's new tool list would otherwise push a catalog to the UI per tool).
   */
  batch(changes: () => void): void {
    this.#batching += 1;
    try {
      changes();
    } finally {
      this.#batching -= 1;
      if (this.#batching === 0 && this.#pending) {
        this.#pending = false;
        this.#changed();
      }
    }
  }

  #changed(): void {
    if (this.#batching > 0) {
      this.#pending = true;
      return;
    }
    for (const listener of this.#listeners) listener();
  }
}
