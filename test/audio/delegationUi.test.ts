/**
 * A delegated multi-step task in the real UI (Chromium, browser mode) with voice on real audio
 * devices: typed text goes to the voice front, which hands it to the agent; the agent asks before
 * reading the notes; the tool panel shows both calls; the voice speaks the result.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, repoRoot, runBrowserMode, type RunningBrowserMode } from '../support/browserMode';
import { requireAudioTools, startPulse, type Pulse } from '../support/pulse';

let pulse: Pulse;
let configHome: string;
let server: RunningBrowserMode;
let browser: Browser;

beforeAll(async () => {
  requireAudioTools();
  pulse = await startPulse();
  configHome = await mkdtemp(join(tmpdir(), 'parley-delegation-'));
  const notes = join(configHome, 'parley', 'notes');
  await mkdir(notes, { recursive: true });
  await writeFile(join(notes, 'passport.json'), JSON.stringify({ id: 'passport', title: 'Passport', text: 'TODO: renew the passport', createdAt: '2026-01-03T09:00:00.000Z' }));
  await writeFile(join(notes, 'plumber.json'), JSON.stringify({ id: 'plumber', title: 'Plumber', text: 'TODO: call the plumber', createdAt: '2026-02-11T09:00:00.000Z' }));
  // Browser mode inherits this process's PULSE_SERVER: its mic and speaker are the test sinks.
  server = await runBrowserMode({ XDG_CONFIG_HOME: configHome });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rm(configHome, { recursive: true, force: true });
  await pulse?.close();
});

describe('a delegated task in the UI', () => {
  it('shows the delegation and the agent tool call in the tool panel, and the spoken result', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
    // Opening the voice conversation: a tap on the talk button (too short to send, but it connects).
    await page.getByRole('button', { name: 'Hold to talk' }).click();
    await page.getByRole('status', { name: 'Voice' }).filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Tools', exact: true }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('find the TODO items in my notes');
    await page.getByRole('button', { name: 'Send' }).click();
    const dialog = page.getByRole('dialog', { name: /^Parley wants to search your notes for / });
    await dialog.waitFor({ timeout: 20_000 });
    const panel = page.getByRole('region', { name: 'Tool activity' });
    await panel.locator('li', { hasText: 'delegate_to_agent' }).waitFor();
    await page.screenshot({ path: join(repoRoot, 'test-results/e2e/delegation-permission.png') });
    await dialog.getByRole('button', { name: 'Allow once' }).click();
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await transcript.getByRole('listitem').getByText(/^Update:/).waitFor({ timeout: 30_000 });
    expect(await panel.locator('li[data-status="succeeded"]').count()).toBe(2);
    expect(await transcript.textContent()).toContain("I'm on it");
    await page.screenshot({ path: join(repoRoot, 'test-results/e2e/delegation-done.png') });
  });
});
