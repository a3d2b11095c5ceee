import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, repoRoot, runBrowserMode, type RunningBrowserMode } from '../support/browserMode';

const resultsDir = join(repoRoot, 'test-results/e2e');

let server: RunningBrowserMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await mkdir(resultsDir, { recursive: true });
  server = await runBrowserMode();
  browser = await launchChromium();
});

// Each test opens its own page, so none relies on what an earlier one left on screen.
beforeEach(async () => {
  pageErrors.length = 0;
  page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // A CSP violation or a failed script shows up here as an error.
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(server.url);
  await expect.poll(() => page.getByRole('status', { name: 'Connection' }).textContent(), { timeout: 30_000 }).toContain('Offline (emulator)');
});

afterEach(async () => {
  await page?.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Sends `text` from the composer and waits for its reply to finish streaming. */
async function send(text: string): Promise<void> {
  const transcript = page.getByRole('region', { name: 'Transcript' });
  const before = await transcript.getByRole('listitem').count();
  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill(text);
  await message.press('Enter');
  await expect.poll(() => message.inputValue()).toBe('');
  // The user's line and the reply's.
  await expect.poll(() => transcript.getByRole('listitem').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 2);
  await expect.poll(() => transcript.getAttribute('aria-busy'), { timeout: 30_000 }).toBe('false');
}

/** Which message of the conversation the emulator says the last reply answered. */
async function lastOrdinal(): Promise<number> {
  const text = (await page.getByRole('region', { name: 'Transcript' }).getByRole('listitem').last().textContent()) ?? '';
  if (/your first message/.test(text)) return 1;
  return Number(/message (\d+) of our conversation/.exec(text)?.[1] ?? Number.NaN);
}

describe('Parley in Chromium (browser mode, offline emulator)', () => {
  it('sends "hello" and streams the reply into the transcript', async () => {
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => message.inputValue()).toBe('');

    const transcript = page.getByRole('region', { name: 'Transcript' });
    // Streaming: the reply is visible while the transcript is still busy, then completes.
    await transcript.getByRole('listitem').getByText(/^Hello!/).waitFor();
    await expect.poll(() => transcript.getAttribute('aria-busy')).toBe('false');
    const reply = await transcript.getByRole('listitem').getByText(/^Hello!/).textContent();
    expect(reply).toContain("I am Parley's offline emulator");
    expect(reply).toMatch(/This is your first message\.|This is message \d+ of our conversation/);
    expect(await transcript.getByRole('listitem').getByText('hello', { exact: true }).count()).toBe(1);

    await page.screenshot({ path: join(resultsDir, 'chat.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('keeps the conversation: the second message is chained to the first', async () => {
    await send('apricots are orange');
    const first = await lastOrdinal();
    expect(first).toBeGreaterThanOrEqual(1);
    await send('what did I just say?');
    expect(await lastOrdinal()).toBe(first + 1);
    await page.getByRole('button', { name: 'Inspector', exact: true }).click();
    await expect.poll(() => page.getByLabel('Last turn').textContent()).toContain('chained, 1 new item');
    await page.getByRole('button', { name: 'Inspector', exact: true }).click();
    await page.screenshot({ path: join(resultsDir, 'chat-two-turns.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('refuses a page without the launch token', async () => {
    const stranger = await browser.newPage();
    const errors: string[] = [];
    stranger.on('console', (entry) => entry.type() === 'error' && errors.push(entry.text()));
    await stranger.goto(server.url.replace(/token=[\w-]+/, 'token=guess'));
    await expect.poll(() => stranger.getByRole('status', { name: 'Connection' }).textContent()).toContain('Connection problem');
    await stranger.close();
  });
});
