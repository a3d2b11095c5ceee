/**
 * MCP servers as tool sources: `McpManager` keeps one client per enabled server from settings,
 * lists each server's tools into the registry as `<server>__<tool>`, runs calls through
 * `client.callTool`, and restarts a server that crashed or stopped answering with capped backoff.
 * Nothing a server does (crash, hang, garbage) throws out of the manager. Transports come from an
 * injected factory, so `app/host` alone spawns processes or opens connections.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerSettings } from '../settings/schema';
import { messageOf, truncate } from './builtins/limits';
import { withoutUnsafePatterns } from './mcpSchema';
import type { ToolDefinition, ToolRegistry, ToolRisk } from './registry';

export type McpConnectionState = 'connecting' | 'connected' | 'error' | 'disconnected';

export interface McpServerStatus {
  name: string;
  state: McpConnectionState;
  /** Tools of this server now in the registry. */
  toolCount: number;
  /** What happened, for the settings panel: the error, or "12 tools". */
  message: string;
  /** While in `error`: how long until the next attempt. */
  retryInMs?: number;
}

export interface McpManagerOptions {
  registry: ToolRegistry;
  /** Builds the transport for one server: `StdioClientTransport` or `StreamableHTTPClientTransport` in the host. */
  createTransport: (server: McpServerSettings) => Transport | Promise<Transport>;
  onStatus?: (status: McpServerStatus) => void;
  /** Waits between reconnect attempts; resolves early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
  /** Time for a server to start and answer `initialize` and `tools/list` (default 30 s). */
  connectTimeoutMs?: number;
  /** Time limit of one tool call (default 60 s); the tool runner's own limit and signal apply too. */
  toolTimeoutMs?: number;
  /** After a call was abandoned, how long the server has to answer a ping before it is restarted (default 5 s). */
  pingTimeoutMs?: number;
  /** Reconnect delays: `initialMs`, doubling up to `maxMs` (defaults 1 s and 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** Quiet time after a server's last `tools/list_changed` before its tools are listed again (default 250 ms). */
  listChangedDebounceMs?: number;
  /** Runs `run` after `ms`; returns a cancel function (default `setTimeout`). */
  schedule?: (ms: number, run: () => void) => () => void;
  clientInfo?: { name: string; version: string };
}

/** The source `builtin` belongs to the built-in tools; a server may not take it. */
const reservedNames = new Set(['builtin']);
const maxToolsPerServer = 500;

export class McpManager {
  #options: McpManagerOptions;
  #connections = new Map<string, ServerConnection>();
  #statuses = new Map<string, McpServerStatus>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: McpManagerOptions) {
    this.#options = options;
  }

  /** The last status of every server the manager knows of. */
  statuses(): McpServerStatus[] {
    return [...this.#statuses.values()];
  }

  /**
   * Reconciles with the servers in settings: starts new and re-enabled ones, stops removed and
   * disabled ones, restarts those whose command, arguments or URL changed. Resolves once the
   * stopped ones are gone; new ones connect in the background and report through `onStatus`.
   */
  update(servers: readonly McpServerSettings[]): Promise<void> {
    const run = this.#queue.then(() => this.#reconcile(servers));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops every server and removes their tools. */
  close(): Promise<void> {
    this.#closed = true;
    const run = this.#queue.then(async () => {
      const connections = [...this.#connections.values()];
      this.#connections.clear();
      await Promise.all(connections.map((connection) => connection.stop('Parley is shutting down.')));
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reconcile(servers: readonly McpServerSettings[]): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map<string, McpServerSettings>();
    for (const server of servers) {
      if (wanted.has(server.name)) continue; // settings keep names unique; a duplicate is ignored
      wanted.set(server.name, server);
    }
    const stopping: Promise<void>[] = [];
    const stopped = new Set<string>();
    for (const [name, connection] of this.#connections) {
      const next = wanted.get(name);
      if (next !== undefined && next.enabled && sameServer(next, connection.server)) continue;
      this.#connections.delete(name);
      stopped.add(name);
      const reason = next === undefined ? 'Removed from settings.' : next.enabled ? 'Restarting with the new settings.' : 'Disabled in settings.';
      stopping.push(connection.stop(reason));
    }
    // A restarted server must be fully gone before its successor registers tools under the same name.
    await Promise.all(stopping);
    for (const name of [...this.#statuses.keys()]) {
      if (!wanted.has(name)) this.#statuses.delete(name);
    }
    for (const server of wanted.values()) {
      if (this.#connections.has(server.name)) continue;
      if (reservedNames.has(server.name)) {
        this.#report({ name: server.name, state: 'error', toolCount: 0, message: `The name "${server.name}" is reserved for Parley's own tools; rename this server.` });
        continue;
      }
      if (!server.enabled) {
        // A server stopped just now has already said why.
        if (!stopped.has(server.name)) this.#report({ name: server.name, state: 'disconnected', toolCount: 0, message: 'Disabled in settings.' });
        continue;
      }
      this.#connections.set(server.name, new ServerConnection(server, this.#options, (status) => this.#report(status)));
    }
  }

  #report(status: McpServerStatus): void {
    this.#statuses.set(status.name, status);
    try {
      this.#options.onStatus?.(status);
    } catch (error) {
      console.error('MCP status listener failed:', error);
    }
  }
}

function sameServer(a: McpServerSettings, b: McpServerSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A failure to connect, already explained for the user. */
class ConnectFailure extends Error {}

/** One server's lifecycle, as a discriminated union. */
type ConnectionState =
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; client: Client; toolCount: number }
  | { status: 'waiting'; attempt: number; reason: string }
  | { status: 'stopped' };

interface Session {
  client: Client;
  /** Set when the manager itself ends the session (server stopped answering). */
  closeReason?: string;
  checkingAlive: boolean;
  /** What this session last put in the registry, to skip a refresh that changes nothing. */
  catalogKey?: string;
  /** `tools/list_changed` handling: a trailing debounce timer, and at most one listing in flight. */
  refresh: { cancelTimer?: () => void; inFlight: boolean; again: boolean };
}

class ServerConnection {
  readonly server: McpServerSettings;
  #options: McpManagerOptions;
  #report: (status: McpServerStatus) => void;
  #stop = new AbortController();
  #state: ConnectionState = { status: 'connecting', attempt: 0 };
  #session: Session | undefined;
  #stopReason = 'Stopped.';
  /** When the current session finished connecting (for resetting the backoff). */
  #connectedAt: number | undefined;
  #done: Promise<void>;

  constructor(server: McpServerSettings, options: McpManagerOptions, report: (status: McpServerStatus) => void) {
    this.server = server;
    this.#options = options;
    this.#report = report;
    this.#done = this.#run().catch((error: unknown) => {
      // The loop catches everything it expects; this is the last guard against the unexpected.
      console.error(`MCP server "${server.name}" loop failed:`, error);
      this.#registry.removeSource(server.name);
      this.#status('error', 0, `Stopped after an internal error: ${messageOf(error)}`);
    });
  }

  get #registry(): ToolRegistry {
    return this.#options.registry;
  }

  async stop(reason: string): Promise<void> {
    if (this.#stop.signal.aborted) return this.#done;
    this.#stopReason = reason;
    this.#stop.abort();
    this.#registry.removeSource(this.server.name);
    const session = this.#session;
    if (session !== undefined) await closeQuietly(session.client);
    await this.#done;
  }

  async #run(): Promise<void> {
    const now = this.#options.now ?? Date.now;
    const { initialMs, maxMs } = this.#options.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
    const sleep = this.#options.sleep ?? defaultSleep;
    let attempt = 0;
    while (!this.#stop.signal.aborted) {
      this.#state = { status: 'connecting', attempt };
      this.#status('connecting', 0, attempt === 0 ? 'Connecting…' : `Reconnecting (attempt ${attempt + 1})…`);
      this.#connectedAt = undefined;
      let reason: string;
      try {
        reason = await this.#connectAndServe();
      } catch (error) {
        reason = error instanceof ConnectFailure ? error.message : this.#describeFailure(error);
      }
      this.#session = undefined;
      this.#registry.removeSource(this.server.name);
      if (this.#stop.signal.aborted) break;
      // A server that worked for a good while before failing starts the backoff over.
      if (this.#connectedAt !== undefined && now() - this.#connectedAt >= maxMs) attempt = 0;
      const delay = Math.min(initialMs * 2 ** attempt, maxMs);
      attempt++;
      this.#state = { status: 'waiting', attempt, reason };
      this.#status('error', 0, `${reason} Retrying in ${formatSeconds(delay)}.`, delay);
      await sleep(delay, this.#stop.signal).catch(() => undefined);
    }
    this.#state = { status: 'stopped' };
    this.#status('disconnected', 0, this.#stopReason);
  }

  /** Connects, registers the tools, and resolves with the reason once the connection ends. */
  async #connectAndServe(): Promise<string> {
    const transport = await this.#options.createTransport(this.server);
    if (this.#stop.signal.aborted) {
      await transport.close().catch(() => undefined);
      return this.#stopReason;
    }
    const stderr = captureStderr(transport);
    const client = new Client(this.#options.clientInfo ?? { name: 'parley', version: '0.1.0' }, { capabilities: {} });
    const session: Session = { client, checkingAlive: false, refresh: { inFlight: false, again: false } };
    let lastError: string | undefined;
    const closed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
    });
    client.onerror = (error) => {
      lastError = error.message;
    };
    this.#session = session;
    const timeout = this.#options.connectTimeoutMs ?? 30_000;
    try {
      await client.connect(transport, { signal: this.#stop.signal, timeout });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        this.#toolsChanged(session, (error) => {
          lastError = `Could not refresh the tool list: ${messageOf(error)}`;
        });
      });
      await this.#registerTools(session);
    } catch (error) {
      await closeQuietly(client);
      if (this.#stop.signal.aborted) return this.#stopReason;
      await settle();
      throw new ConnectFailure(`${this.#describeFailure(error)}${stderr()}`, { cause: error });
    }
    const stopped = untilAborted(this.#stop.signal);
    await Promise.race([closed, stopped.promise]);
    stopped.dispose();
    session.refresh.cancelTimer?.();
    if (this.#stop.signal.aborted) {
      await closeQuietly(client);
      return this.#stopReason;
    }
    await settle(); // let the last stderr output arrive
    if (session.closeReason !== undefined) return session.closeReason;
    const what = this.server.transport === 'stdio' ? 'The server process exited.' : 'The connection to the server closed.';
    return `${what}${lastError === undefined ? '' : ` Last error: ${lastError}.`}${stderr()}`;
  }

  /**
   * A server may send `tools/list_changed` in a flood: list again only once it has been quiet for
   * the debounce time, with never more than one listing in flight (one more follows if it changed again).
   */
  #toolsChanged(session: Session, onError: (error: unknown) => void): void {
    const { refresh } = session;
    refresh.cancelTimer?.();
    const schedule = this.#options.schedule ?? defaultSchedule;
    refresh.cancelTimer = schedule(this.#options.listChangedDebounceMs ?? 250, () => {
      refresh.cancelTimer = undefined;
      if (refresh.inFlight) {
        refresh.again = true;
        return;
      }
      void this.#refreshTools(session).catch(onError);
    });
  }

  async #refreshTools(session: Session): Promise<void> {
    const { refresh } = session;
    refresh.inFlight = true;
    try {
      do {
        refresh.again = false;
        if (this.#session !== session || this.#stop.signal.aborted) return;
        await this.#registerTools(session);
      } while (refresh.again);
    } finally {
      refresh.inFlight = false;
    }
  }

  async #registerTools(session: Session): Promise<void> {
    const { client } = session;
    const timeout = this.#options.connectTimeoutMs ?? 30_000;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor }, { signal: this.#stop.signal, timeout });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined && tools.length < maxToolsPerServer);
    if (this.#session !== session || this.#stop.signal.aborted) return;
    // An unchanged list (the usual answer to a spurious list_changed) leaves the registry, and so the UI, alone.
    const catalogKey = JSON.stringify(tools.slice(0, maxToolsPerServer).map((tool) => [tool.name, tool.title, tool.description, tool.annotations?.readOnlyHint, tool.inputSchema]));
    if (catalogKey === session.catalogKey) return;
    session.catalogKey = catalogKey;
    const taken = new Set<string>();
    const skipped: string[] = [];
    // One catalog for the new list, however many tools it holds.
    this.#registry.batch(() => {
      this.#registry.removeSource(this.server.name);
      for (const tool of tools.slice(0, maxToolsPerServer)) {
        const name = registryName(this.server.name, tool.name, taken);
        const existing = this.#registry.get(name);
        if (existing !== undefined && existing.source !== this.server.name) {
          skipped.push(`${tool.name} (its name clashes with ${name} from ${existing.source})`);
          continue;
        }
        try {
          this.#registry.register(this.#definition(session, tool, name));
          taken.add(name);
        } catch (error) {
          skipped.push(`${tool.name} (${messageOf(error)})`);
        }
      }
    });
    const count = taken.size;
    this.#state = { status: 'connected', client, toolCount: count };
    this.#connectedAt ??= (this.#options.now ?? Date.now)();
    const listed = `${count} tool${count === 1 ? '' : 's'}.`;
    this.#status('connected', count, skipped.length === 0 ? listed : `${listed} Skipped: ${skipped.join('; ')}.`);
  }

  #definition(session: Session, tool: Tool, name: string): ToolDefinition {
    const risk: ToolRisk = tool.annotations?.readOnlyHint === true ? 'private' : 'write';
    const { schema, dropped } = withoutUnsafePatterns(inputSchema(tool.inputSchema));
    const description = tool.description?.trim() || tool.title || tool.annotations?.title || `The "${tool.name}" tool of the MCP server "${this.server.name}".`;
    // Said in the description, so the catalog (and the model) know what goes unchecked.
    const unchecked = dropped.length === 0 ? '' : `\n\nParley does not check ${dropped.join('; ')}: checking could freeze the app.`;
    return {
      name,
      description: `${description}${unchecked}`,
      parameters: schema,
      risk,
      timeoutMs: this.#options.toolTimeoutMs ?? 60_000,
      source: this.server.name,
      execute: (args, { signal }) => this.#call(session, tool.name, args, signal),
    };
  }

  async #call(session: Session, toolName: string, args: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    const server = this.server.name;
    if (this.#session !== session || this.#state.status !== 'connected') {
      throw new Error(`The MCP server "${server}" is not connected right now; try again in a moment.`);
    }
    const timeoutMs = this.#options.toolTimeoutMs ?? 60_000;
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await session.client.callTool({ name: toolName, arguments: args }, undefined, { signal, timeout: timeoutMs });
    } catch (error) {
      if (signal.aborted) {
        this.#checkAlive(session, toolName);
        throw signal.reason instanceof Error ? signal.reason : new Error(`The call to ${toolName} was cancelled.`);
      }
      if (error instanceof McpError && error.code === (ErrorCode.RequestTimeout as number)) {
        this.#checkAlive(session, toolName);
        throw new Error(`The MCP server "${server}" did not finish "${toolName}" within ${formatSeconds(timeoutMs)}.`, { cause: error });
      }
      if (error instanceof McpError && error.code === (ErrorCode.ConnectionClosed as number)) {
        throw new Error(`The MCP server "${server}" closed the connection while running "${toolName}".`, { cause: error });
      }
      // Not an answer from the server (a broken HTTP connection, say): find out whether it is still there.
      if (!(error instanceof McpError)) this.#checkAlive(session, toolName);
      throw new Error(`The MCP server "${server}" could not run "${toolName}": ${messageOf(error)}`, { cause: error });
    }
    const text = resultText(result);
    if (result.isError === true) throw new Error(text === '' ? `"${toolName}" failed without saying why.` : truncate(text, 4_000, 'the error'));
    return truncate(text === '' ? '(The tool returned no content.)' : text, undefined, 'the result');
  }

  /**
   * A call was abandoned or broke: if the server no longer answers a ping either, it is stuck or
   * gone, so its session is closed and the run loop restarts it.
   */
  #checkAlive(session: Session, toolName: string): void {
    if (session.checkingAlive || this.#session !== session) return;
    session.checkingAlive = true;
    const timeout = this.#options.pingTimeoutMs ?? 5_000;
    session.client
      .ping({ timeout, signal: this.#stop.signal })
      .then(
        () => undefined,
        async () => {
          if (this.#session !== session || this.#stop.signal.aborted) return;
          session.closeReason = `The server stopped responding ("${toolName}" did not complete and a ping got no answer within ${formatSeconds(timeout)}).`;
          await closeQuietly(session.client);
        },
      )
      .finally(() => {
        session.checkingAlive = false;
      });
  }

  #describeFailure(error: unknown): string {
    const code = (error as { code?: unknown })?.code;
    if (code === 'ENOENT' && this.server.transport === 'stdio') return `The command "${this.server.command}" was not found.`;
    if (code === 'EACCES' && this.server.transport === 'stdio') return `The command "${this.server.command}" is not executable.`;
    if (error instanceof McpError && error.code === (ErrorCode.RequestTimeout as number)) {
      return `The server did not answer within ${formatSeconds(this.#options.connectTimeoutMs ?? 30_000)}.`;
    }
    return `Could not connect: ${messageOf(error)}`;
  }

  #status(state: McpConnectionState, toolCount: number, message: string, retryInMs?: number): void {
    this.#report({ name: this.server.name, state, toolCount, message, ...(retryInMs === undefined ? {} : { retryInMs }) });
  }
}

/** `<server>__<tool>` within the registry's `[A-Za-z0-9_-]{1,64}`, unique within the server. */
export function registryName(server: string, tool: string, taken: ReadonlySet<string> = new Set()): string {
  const clean = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_');
  const full = `${clean(server)}__${clean(tool)}`;
  if (full.length <= 64 && !taken.has(full)) return full;
  const suffix = `_${hash(`${server}\u0000${tool}`)}`;
  return `${full.slice(0, 64 - suffix.length)}${suffix}`;
}

function hash(text: string): string {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193) >>> 0;
  }
  return value.toString(16).padStart(8, '0').slice(0, 6);
}

/** The server's input schema as the registry's JSON Schema (without a `$schema` Ajv may not know). */
function inputSchema(schema: Tool['inputSchema']): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return { ...rest, type: 'object' };
}

type CallResult = Awaited<ReturnType<Client['callTool']>>;

/** The text of a tool result: text parts as they are, other parts described. */
export function resultText(result: CallResult): string {
  const parts: string[] = [];
  const content = Array.isArray(result.content) ? (result.content as Array<Record<string, unknown>>) : [];
  for (const item of content) {
    switch (item.type) {
      case 'text':
        parts.push(String(item.text ?? ''));
        break;
      case 'image':
      case 'audio':
        parts.push(`[${item.type} (${String(item.mimeType)}), ${Math.round((String(item.data ?? '').length * 3) / 4)} bytes, not shown]`);
        break;
      case 'resource': {
        const resource = (item.resource ?? {}) as Record<string, unknown>;
        parts.push(typeof resource.text === 'string' ? resource.text : `[resource ${String(resource.uri)}]`);
        break;
      }
      case 'resource_link':
        parts.push(`[link: ${String(item.name ?? '')} ${String(item.uri)}]`);
        break;
      default:
        parts.push(`[${String(item.type)} content]`);
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  if (parts.length === 0 && 'toolResult' in result && result.toolResult !== undefined) parts.push(JSON.stringify(result.toolResult));
  return parts.join('\n');
}

/** Keeps the end of a stdio server's stderr (the host creates it with `stderr: 'pipe'`) for error messages. */
function captureStderr(transport: Transport): () => string {
  const stream = (transport as { stderr?: unknown }).stderr as { on?: (event: 'data', listener: (chunk: unknown) => void) => void } | null | undefined;
  if (typeof stream?.on !== 'function') return () => '';
  let tail = '';
  // Reading it also keeps a chatty server from blocking on a full pipe.
  stream.on('data', (chunk) => {
    tail = (tail + String(chunk)).slice(-4_000);
  });
  return () => {
    // The line that explains is usually the last error line, not a stack frame or Node's banner.
    const lines = tail
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/^at\s/.test(line) && !/^Node\.js v\d/.test(line));
    const explaining = lines.findLast((line) => /error|exception|fatal|panic|denied|not found|cannot|failed|crash/i.test(line)) ?? lines.at(-1);
    return explaining === undefined ? '' : ` Its last output: ${explaining.slice(0, 500)}`;
  };
}

async function closeQuietly(client: Client): Promise<void> {
  try {
    await client.close();
  } catch {
    // Closing a broken connection may fail; it is gone either way.
  }
}

/** A promise that resolves when `signal` aborts, and a way to drop its listener. */
function untilAborted(signal: AbortSignal): { promise: Promise<void>; dispose: () => void } {
  let dispose = () => {};
  const promise = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const listener = () => resolve();
    signal.addEventListener('abort', listener, { once: true });
    dispose = () => signal.removeEventListener('abort', listener);
  });
  return { promise, dispose };
}

/** Lets stream events already queued (a dying process's last stderr lines) arrive. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function defaultSchedule(ms: number, run: () => void): () => void {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
