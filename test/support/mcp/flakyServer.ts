/**
 * A small stdio MCP server for the manager's tests, run as its own process
 * (`node --import tsx test/support/mcp/flakyServer.ts`). Besides a normal tool it can fail,
 * crash, hang, freeze its whole event loop, or grow a new tool on demand.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'parley-test-flaky', version: '1.0.0' });

server.registerTool(
  'echo',
  { description: 'Repeats the text it is given.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
  async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
);

server.registerTool('whoami', { description: "The server process's id.", annotations: { readOnlyHint: true } }, async () => ({
  content: [{ type: 'text', text: String(process.pid) }],
}));

server.registerTool('fail', { description: 'Reports a tool error.' }, async () => ({
  isError: true,
  content: [{ type: 'text', text: 'The flaky server failed on purpose.' }],
}));

server.registerTool('crash', { description: 'Exits the server process at once.' }, async () => {
  process.stderr.write('flaky server: crashing on purpose\n');
  process.exit(3);
});

server.registerTool('hang', { description: 'Never answers (the rest of the server keeps working).' }, () => new Promise<never>(() => {}));

server.registerTool('freeze', { description: 'Blocks the whole server forever.' }, async () => {
  for (;;) {
    // A stuck server: no more messages are read or answered.
  }
});

server.registerTool('grow', { description: 'Adds a tool named "extra" (the server then says its tool list changed).' }, async () => {
  server.registerTool('extra', { description: 'A tool that appeared later.', annotations: { readOnlyHint: true } }, async () => ({
    content: [{ type: 'text', text: 'extra!' }],
  }));
  return { content: [{ type: 'text', text: 'grown' }] };
});

await server.connect(new StdioServerTransport());
process.stderr.write(`flaky server ${process.pid} ready\n`);
