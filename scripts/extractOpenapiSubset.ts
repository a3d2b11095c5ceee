/**
 * Redoes test/fixtures/openapi/openai-openapi.subset.json from a local copy of the official spec
 * (github.com/openai/openai-openapi, `openapi.json`). Offline by design and never run in CI: the
 * vendored subset is the test data, this only shows how it was made.
 *
 *   git -C <mirror> show <commit>:openapi.json > /tmp/openapi.json
 *   npx tsx scripts/extractOpenapiSubset.ts /tmp/openapi.json <commit> <commit date>
 *
 * Keeps the four WebSocket event unions and every schema they reach through `$ref`, verbatim.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The unions test/conformance validates frames against. */
export const roots = ['ResponsesClientEvent', 'ResponsesServerEvent', 'RealtimeClientEvent', 'RealtimeServerEvent'] as const;

const schemaRef = /^#\/components\/schemas\/(.+)$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every schema name reachable from `names`, in a stable (sorted) order. */
export function closure(schemas: Record<string, Json>, names: readonly string[]): string[] {
  const seen = new Set<string>();
  const pending = [...names];
  const visit = (node: Json): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const name = schemaRef.exec(value)?.[1];
        if (name === undefined) throw new Error(`unexpected $ref ${value}`);
        pending.push(name);
      } else visit(value);
    }
  };
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    const schema = schemas[name];
    if (schema === undefined) throw new Error(`$ref to missing schema ${name}`);
    seen.add(name);
    visit(schema);
  }
  return [...seen].sort();
}

function main(): void {
  const [specPath, commit, date] = process.argv.slice(2);
  if (specPath === undefined || commit === undefined || date === undefined) {
    throw new Error('usage: tsx scripts/extractOpenapiSubset.ts <openapi.json> <commit> <commit date>');
  }
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { openapi: string; info: { version: string }; components: { schemas: Record<string, Json> } };
  const names = closure(spec.components.schemas, roots);
  const subset = {
    source: {
      repository: 'https://github.com/openai/openai-openapi',
      commit,
      date,
      path: 'openapi.json',
      openapi: spec.openapi,
      apiVersion: spec.info.version,
      license: 'MIT, Copyright (c) OpenAI (https://openai.com); see SOURCES.md',
    },
    roots,
    components: { schemas: Object.fromEntries(names.map((name) => [name, spec.components.schemas[name] as Json])) },
  };
  const out = resolve(import.meta.dirname, '../test/fixtures/openapi/openai-openapi.subset.json');
  writeFileSync(out, `${JSON.stringify(subset, null, 2)}\n`);
  process.stderr.write(`${names.length} schemas → ${out}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
