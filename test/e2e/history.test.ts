/**
 * Conversation history in Debian Chromium through browser mode: a conversation survives a restart
 * of browser mode on the same data folder and resumes with its context (the emulator says which
 * message of the conversation it answers), a word from an old conversation is found by search,
 * and the list is worked from the keyboard alone (open, rename, export, delete). Settings made in
 * one run are there in the next.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, repoRoot, runBrowserMode, type RunningBrowserMode } from '../support/browserMode';

const resultsDir = join(repoRoot, 'test-results/e2e');

/** Each test's own data folder, so none depends on what another saved. */
let dataDir: string;
let browser: Browser;
let server: RunningBrowserMode | null = null;
let page: Page | null = null;
const errors: string[] = [];

beforeAll(async () => {
  await mkdir(resultsDir, { recursive: true });
  browser = await launchChromium();
});
beforeEach(async () => {
  errors.length = 0;
  dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-history-'));
});
afterEach(async () => {
  await page?.close();
  page = null;
  await server?.stop();
  server = null;
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Browser mode on the test's data folder, and a page on it. */
async function launch(options: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  server ??= await runBrowserMode({}, ['--data-dir', dataDir]);
  page = await browser.newPage({ viewport: { width: options.width ?? 1200, height: 800 }, colorScheme: options.colorScheme ?? 'light', acceptDownloads: true });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  return page;
}

async function restart(): Promise<Page> {
  await page?.close();
  page = null;
  await server?.stop();
  server = null;
  return launch();
}

async function say(on: Page, text: string): Promise<string> {
  const replies = on.getByRole('region', { name: 'Transcript' }).locator('li[data-role="assistant"][data-status="completed"]');
  const before = await replies.count();
  const message = on.getByRole('textbox', { name: 'Message' });
  await message.fill(text);
  await message.press('Enter');
  await expect.poll(() => replies.count(), { timeout: 20_000 }).toBeGreaterThan(before);
  return (await replies.last().textContent()) ?? '';
}

/** Two saved conversations: one about the wisteria (two turns), then a sum. */
async function twoConversations(on: Page): Promise<void> {
  expect(await say(on, 'hello')).toContain('your first message');
  expect(await say(on, 'where should the wisteria go?')).toContain('message 2 of our conversation');
  await on.getByRole('button', { name: 'New conversation' }).click();
  await on.getByRole('list', { name: 'Suggestions' }).waitFor();
  await say(on, 'what is 6 * 7?');
}

const focusedText = (on: Page): Promise<string> => on.locator('html').evaluate((root) => (root.ownerDocument.activeElement as { innerText?: string } | null)?.innerText?.trim() ?? '');

describe('conversation history (browser mode, offline emulator)', () => {
  it('survives a restart of browser mode: search finds an old word, and the opened conversation resumes with its context', async () => {
    let on = await launch();
    // Two conversations, so the search has something to tell apart.
    await twoConversations(on);

    on = await restart();
    // A fresh start: an empty screen, with the saved conversations in History.
    await on.getByRole('list', { name: 'Suggestions' }).waitFor();
    await on.keyboard.press('Control+k');
    const search = on.getByRole('searchbox', { name: 'Search conversations' });
    await expect.poll(() => search.evaluate((input) => input === input.ownerDocument.activeElement)).toBe(true);
    const saved = on.getByRole('list', { name: 'Saved conversations' });
    await expect.poll(() => saved.getByRole('listitem').count()).toBe(2);
    await search.pressSequentially('wister');
    const hits = on.getByRole('list', { name: 'Conversations matching wister' });
    await expect.poll(() => hits.getByRole('listitem').count()).toBe(1);
    expect(await hits.locator('mark').textContent()).toBe('wisteria');
    expect(await hits.getByRole('listitem').textContent()).toContain('hello');
    await on.screenshot({ path: join(resultsDir, 'history-search.png') });

    // Enter opens the best hit; the panel closes and the message box has focus.
    await search.press('Enter');
    const transcript = on.getByRole('region', { name: 'Transcript' });
    await expect.poll(() => transcript.locator('li[data-role]').count()).toBe(4);
    await expect.poll(() => on.locator('#side-panel').count()).toBe(0);
    expect(await on.getByRole('textbox', { name: 'Message' }).evaluate((box) => box === box.ownerDocument.activeElement)).toBe(true);
    expect(await transcript.textContent()).toContain('where should the wisteria go?');

    // The agent got the saved ledger back: this is the third user message of that conversation.
    expect(await say(on, 'and does it need sun?')).toContain('message 3 of our conversation');
    expect(errors).toEqual([]);
  });

  it('is worked from the keyboard: arrows move, F2 renames, the export downloads, Delete asks first', async () => {
    const on = await launch();
    await twoConversations(on);
    await on.keyboard.press('Control+k');
    const saved = on.getByRole('list', { name: 'Saved conversations' });
    await expect.poll(() => saved.getByRole('listitem').count()).toBe(2);
    // Most recent first: the sum, then the garden.
    await on.keyboard.press('ArrowDown');
    expect(await focusedText(on)).toMatch(/^what is 6 \* 7\?/);
    await on.keyboard.press('ArrowDown');
    expect(await focusedText(on)).toMatch(/^hello/);

    await on.keyboard.press('F2');
    const name = on.getByRole('textbox', { name: 'New name' });
    await name.waitFor();
    await name.fill('Garden plans');
    await name.press('Enter');
    await expect.poll(() => saved.textContent()).toContain('Garden plans');
    expect(await focusedText(on)).toMatch(/^Garden plans/);

    // Tab reaches the row's actions, and only that row's.
    await on.keyboard.press('Tab');
    expect(await focusedText(on)).toBe('Rename');
    await on.keyboard.press('Tab');
    expect(await focusedText(on)).toBe('Markdown');
    const download = on.waitForEvent('download');
    await on.keyboard.press('Enter');
    const file = await download;
    expect(file.suggestedFilename()).toBe('garden-plans.md');
    const markdown = await readFile((await file.path()) ?? '', 'utf8');
    expect(markdown).toMatch(/^# Garden plans\n/);
    expect(markdown).toContain('where should the wisteria go?');
    await on.screenshot({ path: join(resultsDir, 'history-panel.png') });

    // Back to the row, up to the sum, and delete it.
    await on.keyboard.press('Shift+Tab');
    await on.keyboard.press('Shift+Tab');
    await on.keyboard.press('ArrowUp');
    expect(await focusedText(on)).toMatch(/^what is 6 \* 7\?/);
    await on.keyboard.press('Delete');
    const confirm = on.getByRole('group', { name: 'Delete this conversation?' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).focus();
    await on.keyboard.press('Enter');
    await expect.poll(() => saved.getByRole('listitem').count()).toBe(1);
    expect(await saved.textContent()).not.toContain('6 * 7');
    expect(errors).toEqual([]);
  });

  it('keeps settings between launches, and a private conversation out of the list', async () => {
    let on = await launch();
    await on.getByRole('button', { name: 'History', exact: true }).click();
    await on.getByRole('combobox', { name: 'Keep conversations' }).selectOption({ label: 'for 30 days' });
    await on.getByRole('button', { name: 'New private' }).click();
    await say(on, 'a private thought about marmalade');
    await on.keyboard.press('Control+k');
    expect(await on.getByRole('status').filter({ hasText: 'This conversation is private' }).count()).toBe(1);

    on = await restart();
    await on.keyboard.press('Control+k');
    expect(await on.getByRole('combobox', { name: 'Keep conversations' }).inputValue()).toBe('30');
    await on.getByRole('searchbox', { name: 'Search conversations' }).pressSequentially('marmalade');
    await on.getByText('Nothing said in a saved conversation matches “marmalade”.').waitFor();
    const settings = JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as { historyRetentionDays: unknown };
    expect(settings.historyRetentionDays).toBe(30);
    expect(errors).toEqual([]);
  });
});
