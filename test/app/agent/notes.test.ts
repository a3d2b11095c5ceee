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
