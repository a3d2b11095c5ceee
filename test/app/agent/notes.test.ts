import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNoteTools } from '../../../app/agent/builtins/notes';

const titleLimit = 200;

const noSignal = new AbortController().signal;

describe('note titles', () => {
  let base: string;
  let folder: string;

  beforeEach(async () => {
    base = await fs.mkdtemp(join(tmpdir(), 'parley-notes-titles-'));
    folder = join(base, 'notes');
  });

  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  const save = (args: Record<string, unknown>) => {
    const tool = createNoteTools({ fs, folder }).find((definition) => definition.name === 'save_note')!;
    return tool.execute(args, { signal: noSignal });
  };

  it('refuses a title over the limit, saying the limit, and saves nothing', async () => {
    const title = 'A'.repeat(titleLimit + 1);
    await expect(save({ text: 'the note', title })).rejects.toThrow(
      `The title is too long (${titleLimit + 1} characters; the limit is ${titleLimit}). Give a short title and put the rest in the text.`,
    );
    await expect(fs.readdir(folder)).rejects.toThrow(/ENOENT/);
  });

  it('takes a title right at the limit, counting it after trimming', async () => {
    const title = 'B'.repeat(titleLimit);
    expect(JSON.parse(await save({ text: 'the note', title: `  ${title}  ` }))).toMatchObject({ saved: true, title });
  });
});

describe('note files', () => {
  let base: string;
  let folder: string;

  beforeEach(async () => {
    base = await fs.mkdtemp(join(tmpdir(), 'parley-notes-files-'));
    folder = join(base, 'notes');
    await fs.mkdir(folder);
  });

  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it('clears temporary files a crashed save left behind, once they are a few minutes old', async () => {
    const now = new Date();
    const stale = '20250101T090000000Z-0a1b2c3d.json.1a2b3c4d.tmp';
    const fresh = '20250101T090100000Z-0a1b2c3d.json.5e6f7a8b.tmp';
    const foreign = 'mine.tmp';
    for (const name of [stale, fresh, foreign]) await fs.writeFile(join(folder, name), '{"half":');
    const hourAgo = new Date(now.getTime() - 3_600_000);
    await fs.utimes(join(folder, stale), hourAgo, hourAgo);
    await fs.utimes(join(folder, foreign), hourAgo, hourAgo);
    const tool = createNoteTools({ fs, folder, now: () => now }).find((definition) => definition.name === 'save_note')!;
    const { id } = JSON.parse(await tool.execute({ text: 'the note' }, { signal: noSignal }));
    expect((await fs.readdir(folder)).sort()).toEqual([`${id}.json`, fresh, foreign].sort());
  });
});
