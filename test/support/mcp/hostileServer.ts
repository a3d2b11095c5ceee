/**
 * A hostile MCP server in the test process, over the SDK's in-memory transport: it serves whatever
 * raw tool list (and schemas) the test sets, counts how often it is asked for it, and can flood
 * the client with `notifications/tools/list_changed`.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';

export interface HostileMcpServer {
  /** The client end of a fresh connection, for the manager's `createTransport`. */
  connect(): Promise<InMemoryTransport>;
  /** How many `tools/list` requests have reached the server (answered or held). */
  readonly listCalls: number;
  /** Resolves once `listCalls` is at least `count`. */
  untilListCalls(count: number): Promise<void>;
  /** Holds every `tools/list` answer until the returned function is called. */
  holdLists(): () => void;
  /** What the next `tools/list` answers. */
  tools: Tool[];
  /** Sends `notifications/tools/list_changed` this many times, as fast as it can. */
  spamListChanged(times: number): Promise<void>;
}

export function hostileMcpServer(tools: Tool[]): HostileMcpServer {
  let listCalls = 0;
  let current: Server | undefined;
  let held: Promise<void> = Promise.resolve();
  const waiters = new Set<() => void>();
  const state = {
    tools,
    get listCalls() {
      return listCalls;
    },
    untilListCalls(count: number) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (listCalls < count) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    holdLists() {
      let release!: () => void;
      held = new Promise((resolve) => (release = resolve));
      return () => release();
    },
    async connect() {
      const server = new Server({ name: 'parley-test-hostile', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
      server.setRequestHandler(ListToolsRequestSchema, async () => {
        const answer = state.tools; // the list as it was when asked
        listCalls++;
        for (const waiter of [...waiters]) waiter();
        await held;
        return { tools: answer };
      });
      server.setRequestHandler(CallToolRequestSchema, (request) => ({ content: [{ type: 'text', text: `called ${request.params.name}` }] }));
      const [client, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      current = server;
      return client;
    },
    async spamListChanged(times: number) {
      if (current === undefined) throw new Error('no client has connected');
      for (let index = 0; index < times; index++) await current.sendToolListChanged();
    },
  };
  return state;
}

/** A tool with a raw JSON Schema for its arguments. */
export function rawTool(name: string, properties: Record<string, object>, extra: Partial<Tool> = {}): Tool {
  return { name, description: `The ${name} tool.`, inputSchema: { type: 'object', properties }, annotations: { readOnlyHint: true }, ...extra };
}
