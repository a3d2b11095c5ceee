import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, violations } from './support/layering';

const root = join(import.meta.dirname, '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|svelte|js|mjs|cjs)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).replace(/\\/g, '/'));
}

describe('layering (docs/architecture.md, "Folders and what each may import")', () => {
  it('holds across app/, main/ and renderer/', async () => {
    const files = [...(await sourceFiles('app')), ...(await sourceFiles('main')), ...(await sourceFiles('renderer'))];
    expect(files.length).toBeGreaterThan(20);
    const broken: string[] = [];
    for (const file of files) broken.push(...violations(file, await readFile(join(root, file), 'utf8')));
    expect(broken).toEqual([]);
  });

  it('catches app/ importing electron or svelte, in any import form', () => {
    expect(violations('app/responses/session.ts', "import { app } from 'electron';")).toHaveLength(1);
    expect(violations('app/audio/x.ts', "const { ipcMain } = require('electron');")).toHaveLength(1);
    expect(violations('app/host/x.ts', "import { mount } from 'svelte';")).toHaveLength(1);
    expect(violations('app/host/x.ts', "import type { BrowserWindow } from 'electron/main';")).toHaveLength(1);
    expect(violations('app/host/x.ts', "import { x } from '../../main/ipc';")).toHaveLength(1);
  });

  it('catches renderer/ importing Node, native code or app/ runtime', () => {
    expect(violations('renderer/lib/x.ts', "import { readFile } from 'node:fs';")).toHaveLength(1);
    expect(violations('renderer/lib/x.ts', "import WebSocket from 'ws';")).toHaveLength(1);
    expect(violations('renderer/components/X.svelte', "<script lang=\"ts\">import { ipcRenderer } from 'electron';</script>")).toHaveLength(1);
    expect(violations('renderer/lib/x.ts', "import { commandChannels } from '../../app/contract';")).toHaveLength(1);
    expect(violations('renderer/lib/x.ts', "import type { PushEvent } from '../../app/contract';")).toEqual([]);
    // One file is the exception: the import-free channel table the socket bridge is built from.
    expect(violations('renderer/lib/x.ts', "import { commandFunctions } from '../../app/contract/channels';")).toEqual([]);
    expect(violations('renderer/lib/x.ts', "import { commands } from '../../app/contract/commands';")).toHaveLength(1);
  });

  it('keeps the contract free of project imports and I/O in the composition root', () => {
    expect(violations('app/contract/x.ts', "import { Socket } from '../transport/socket';")).toHaveLength(1);
    expect(violations('app/contract/x.ts', "import { z } from 'zod';")).toEqual([]);
    expect(violations('app/responses/x.ts', 'const ws = new WebSocket(url);')).toHaveLength(1);
    expect(violations('app/host/x.ts', 'const ws = new WebSocket(url);')).toEqual([]);
  });

  it('fails a file in a folder no rule covers', () => {
    expect(violations('app/newthing/x.ts', 'export const x = 1;')).toEqual(['app/newthing/x.ts: no layering rule covers this folder; add one to folderRules']);
    expect(violations('scripts/x.ts', 'export const x = 1;')).toHaveLength(1);
  });

  it('allows each folder only the folders and packages its row names', () => {
    // The emulator is the service's stand-in: it may not share the client's session code.
    expect(violations('app/emulator/x.ts', "import { ResponsesSession } from '../responses/session';")).toHaveLength(1);
    expect(violations('app/emulator/x.ts', "import type { Problem } from '../contract';")).toEqual([]);
    // Pure audio code knows no sockets; sessions know no host; the contract knows no wire types.
    expect(violations('app/audio/x.ts', "import { Socket } from '../transport/socket';")).toHaveLength(1);
    expect(violations('app/responses/x.ts', "import { createCopilot } from '../host/copilot';")).toHaveLength(1);
    expect(violations('app/contract/x.ts', "import type { Response } from 'openai/resources/responses/responses';")).toHaveLength(1);
    expect(violations('app/inspector/x.ts', "import { Ledger } from '../responses/ledger';")).toHaveLength(1);
    // A type-only edge is not a run-time one.
    expect(violations('app/agent/x.ts', "import type { McpServerSettings } from '../settings/schema';")).toEqual([]);
    expect(violations('app/agent/x.ts', "import { settingsSchema } from '../settings/schema';")).toEqual([
      'app/agent/x.ts: app/agent/ may not import app/settings/ except with `import type` (../settings/schema)',
    ]);
    // Packages and Node built-ins are per folder too.
    expect(violations('app/responses/x.ts', "import { readFile } from 'node:fs/promises';")).not.toEqual([]);
    expect(violations('renderer/lib/x.ts', "import { z } from 'zod';")).toHaveLength(1);
    expect(violations('app/audio/native/x.ts', "import Speaker from 'speaker';")).toEqual([]);
    expect(violations('app/audio/x.ts', "import Speaker from 'speaker';")).toHaveLength(1);
  });

  it('reads multi-line and re-export imports', () => {
    const refs = importsOf("import {\n  a,\n  b,\n} from './a';\nexport * from './b';\nexport type * from './c';");
    expect(refs).toEqual([
      { specifier: './a', typeOnly: false },
      { specifier: './b', typeOnly: false },
      { specifier: './c', typeOnly: true },
    ]);
  });
});
