import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The sandboxed window can `require` only electron in its preload; the build leaves packages
// such as zod external, so a preload that imported the zod-built command table would break here.
describe('the built preload', () => {
  it('requires nothing but electron', async () => {
    const bundle = await readFile(join(import.meta.dirname, '../../out/preload/preload.cjs'), 'utf8');
    expect([...bundle.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1])).toEqual(['electron']);
  });
});
