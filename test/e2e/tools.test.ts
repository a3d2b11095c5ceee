/**
 * A tool call in Chromium through browser mode: the agent searches the user's notes, which asks
 * permission first; allowed, the result shows in the transcript and the tool panel; denied, the
 * model is told and says so.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, repoRoot, runBrowserMode, type RunningBrowserMode } from '../support/browserMode';

const resultsDir = join(repoRoot, 'test-results/e2e');
let configHome: string;
let server: RunningBrowserMode;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await mkdir(resultsDir, { recursive: true });
  configHome = await mkdtemp(join(tmpdir(), 'parley-e2e-config-'));
  const notes = join(configHome, 'parley', 'notes');
  await mkdir(notes, { recursive: true });
  await writeFile(join(notes, 'passport.json'), JSON.stringify({ id: 'passport', title: 'Passport', text: 'TODO: renew the passport', createdAt: '2026-01-03T09:00:00.000Z' }));
  server = await runBrowserMode({ XDG_CONFIG_HOME: configHome });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rm(configHome, { recursive: true, force: true });
});

async function ask(text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

describe('tools in the UI', () => {
  it('asks before reading the notes, then shows the call in the transcript and the tool panel', async () => {
    await page.getByRole('button', { name: 'Tools', exact: true }).click();
    await ask('find the TODO items in my notes');
    const dialog = page.getByRole('dialog', { name: 'Parley wants to search your notes for “TODO”' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('It reads your data.');
    expect(await dialog.locator('dt').allTextContents()).toEqual(['Query']);
    expect(await dialog.locator('dd').allTextContents()).toEqual(['TODO']);
    await page.screenshot({ path: join(resultsDir, 'permission-light.png') });
    await dialog.getByRole('button', { name: 'Allow once' }).click();
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await transcript.getByRole('listitem').getByText(/I found \d+ notes? matching “TODO”/).waitFor();
    await expect.poll(() => transcript.textContent()).toContain('renew the passport');
    const panel = page.getByRole('region', { name: 'Tool activity' });
    const call = panel.locator('li[data-status="succeeded"]', { hasText: 'search_notes' });
    await call.waitFor();
    await call.locator('summary').click();
    expect(await call.textContent()).toContain('renew the passport');
    await page.screenshot({ path: join(resultsDir, 'tools-light.png') });
  });

  it('tells the model when permission is denied', async () => {
    await ask('search for the TODO notes again');
    const dialog = page.getByRole('dialog', { name: /^Parley wants to search your notes for/ });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('region', { name: 'Transcript' }).getByRole('listitem').getByText(/denied/).waitFor();
    expect(await page.getByRole('region', { name: 'Tool activity' }).locator('li[data-status="denied"]').count()).toBe(1);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(resultsDir, 'tools-dark.png') });
  });
});
