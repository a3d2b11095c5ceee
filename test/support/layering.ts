/**
 * DESIGN.md's import rules as code: given a file's path (relative to the repo root) and source,
 * list the rules it breaks. `test/architecture.test.ts` runs it over the tree.
 */
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';

export interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

const importPattern =
  /(?:^|[\n;>])\s*(import|export)\s+(type\s+)?(?:[\w*\s{},$]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(source: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const match of source.matchAll(importPattern)) {
    const specifier = match[3] ?? match[4] ?? match[5];
    if (specifier !== undefined) refs.push({ specifier, typeOnly: match[2] !== undefined });
  }
  return refs;
}

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const nativeOrNode = ['ws', 'speaker', 'node-record-lpcm16', 'electron'];

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** The repo-relative path an import points to, or null for a package. */
function target(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return normalize(join(dirname(file), specifier)).replace(/\\/g, '/');
}

const ioConstruction = [/\bnew\s+WebSocket(Server)?\s*\(/, /\bcreateServer\s*\(/, /\bfrom\s+['"](node:)?(fs|fs\/promises|child_process|net|dgram)['"]/];
const ioAllowed = ['app/host/', 'app/emulator/', 'main/'];

export function violations(file: string, source: string): string[] {
  const found: string[] = [];
  const refs = importsOf(source);
  for (const { specifier, typeOnly } of refs) {
    const pkg = packageName(specifier);
    const resolved = target(file, specifier);
    if (file.startsWith('app/')) {
      if (pkg === 'electron') found.push(`${file}: app/ must not import electron`);
      if (pkg === 'svelte') found.push(`${file}: app/ must not import svelte`);
      if (resolved?.startsWith('main/') || resolved?.startsWith('renderer/')) found.push(`${file}: app/ must not import ${resolved}`);
    }
    if (file.startsWith('app/contract/')) {
      const inside = resolved?.startsWith('app/contract/') ?? false;
      if (!inside && pkg !== 'zod') found.push(`${file}: app/contract/ may import only itself and zod, not ${specifier}`);
    }
    if (file.startsWith('renderer/')) {
      if (nodeBuiltins.has(specifier) || nativeOrNode.includes(pkg)) found.push(`${file}: renderer/ must not import ${specifier}`);
      if (resolved?.startsWith('main/')) found.push(`${file}: renderer/ must not import ${resolved}`);
      if (resolved?.startsWith('app/') && !typeOnly) found.push(`${file}: renderer/ may only \`import type\` from app/ (${specifier})`);
    }
  }
  if (file.startsWith('app/') && !ioAllowed.some((prefix) => file.startsWith(prefix))) {
    for (const pattern of ioConstruction) {
      if (pattern.test(source)) found.push(`${file}: only app/host, app/emulator and main/ construct I/O (${pattern.source})`);
    }
  }
  return found;
}
