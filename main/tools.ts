/**
 * The co-pilot's tools with their real I/O: the built-ins on this machine's files, clipboard and
 * network, and the MCP servers from settings as child processes or HTTP endpoints.
 */
import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { createCalculatorTools, createClipboardTools, createFetchTools, createFileTools, createNoteTools, createPinnedFetch, createTimeTools, type ClipboardPort } from '../app/agent/builtins';
import { McpManager } from '../app/agent/mcp';
import type { ToolRegistry } from '../app/agent/registry';
import type { Logger, ToolInstallContext } from '../app/host/copilot';

export interface ToolPorts {
  /** The app's data folder; notes live in `notes/` under it. */
  dataDir: string;
  /** Electron's clipboard in the desktop shell; browser mode has none, so no clipboard tools. */
  clipboard?: ClipboardPort;
  log: Logger;
}

export function installTools(ports: ToolPorts): (registry: ToolRegistry, context: ToolInstallContext) => () => void {
  return (registry, context) => {
    const tools = [
      ...createTimeTools(),
      ...createCalculatorTools(),
      ...createNoteTools({ fs, folder: join(ports.dataDir, 'notes') }),
      ...(ports.clipboard === undefined ? [] : createClipboardTools({ clipboard: ports.clipboard })),
      ...createFileTools({ fs, folders: () => context.settings().workspaceFolders }),
      // The pinned transport connects to the address the SSRF check approved, so a name that
      // resolves again to a private address between the check and the connection gets nowhere.
      ...createFetchTools({ fetch: createPinnedFetch({ http, https }), lookup: async (host) => (await lookup(host, { all: true })).map((entry) => entry.address) }),
    ];
    for (const tool of tools) registry.register(tool);

    const mcp = new McpManager({
      registry,
      // Loaded when a server is configured, so start-up does not pay for transports it may not use.
      createTransport: async (server) => {
        if (server.transport === 'stdio') {
          const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
          return new StdioClientTransport({ command: server.command, args: server.args, stderr: 'pipe' });
        }
        const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
        return new StreamableHTTPClientTransport(new URL(server.url));
      },
      onStatus: (status) => ports.log.info('mcp server', { name: status.name, state: status.state, tools: status.toolCount, message: status.message }),
    });
    void mcp.update(context.settings().mcpServers);
    const stop = context.onSettingsChange((settings) => void mcp.update(settings.mcpServers));
    return () => {
      stop();
      void mcp.close();
    };
  };
}
