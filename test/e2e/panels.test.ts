/**
 * The side panels in Debian Chromium through browser mode: the inspector records a reconnect
 * injected through the emulator's control endpoint, settings save and survive a reload, the
 * main flow works from the keyboard alone, and screenshots of each screen in light and dark.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { injectFault, resultsDir, say, useBrowserMode } from '../support/browserMode';

const rig = useBrowserMode();
const pageErrors: string[] = [];

async function open(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await rig.browser.newPage({ colorScheme, viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
  await page.goto(rig.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  return page;
}

describe('the side panels', () => {
  it('shows a reconnect on the inspector timeline after the emulator drops the socket', async () => {
    const page = await open();
    await say(page, 'hello');
    await injectFault(rig.server, { kind: 'drop_socket', closeCode: 1011, afterDeltas: 2, protocol: 'responses' });
    await say(page, 'are you still there?');
    await page.getByRole('button', { name: 'Inspector' }).click();
    const inspector = page.getByRole('region', { name: 'Inspector' });
    await expect.poll(() => inspector.locator('.timeline [data-types~="reconnect"]').count()).toBeGreaterThan(0);
    await expect.poll(() => inspector.getByLabel('Counters').textContent()).toMatch(/Agent reconnects\s*1/);
    // Reconnecting with a conversation warms the new socket, so the next turn is chained.
    await expect.poll(() => inspector.locator('.timeline [data-types~="warmup"]').count()).toBeGreaterThan(0);
    const transcript = page.getByRole('region', { name: 'Transcript' });
    expect(await transcript.getByRole('listitem').getByText(/message 2 of our conversation/).count()).toBe(1);
    await page.screenshot({ path: join(resultsDir, 'inspector-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(resultsDir, 'inspector-dark.png') });
    await page.close();
  });

  it('saves settings, shows field errors, and keeps the values after a reload', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const panel = page.getByRole('region', { name: 'Settings' });
    await panel.getByRole('combobox', { name: 'Voice', exact: true }).selectOption('cedar');
    // The browser accepts any text here; Parley's schema refuses it, next to the field.
    await panel.getByRole('textbox', { name: 'Base URL' }).fill('ftp://example.com/v1');
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => panel.locator('label', { has: page.getByRole('textbox', { name: 'Base URL' }) }).locator('.error').textContent()).toMatch(/URL/);
    await panel.getByRole('textbox', { name: 'Base URL' }).fill('');
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.screenshot({ path: join(resultsDir, 'settings-light.png') });
    await page.reload();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Settings' }).getByRole('combobox', { name: 'Voice', exact: true }).inputValue()).toBe('cedar');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(resultsDir, 'settings-dark.png') });
    await page.close();
  });

  it('says under the echo choice what it costs, and keeps the choice', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const panel = page.getByRole('region', { name: 'Settings' });
    await panel.getByRole('combobox', { name: 'Speakers or headphones' }).selectOption('speakers');
    const canceller = panel.getByRole('combobox', { name: 'Echo cancellation' });
    const note = async () => canceller.evaluate((element) => element.ownerDocument.getElementById(element.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
    await canceller.selectOption('gate');
    await expect.poll(note).toBe('No CPU, but you must speak clearly louder than Parley to interrupt it.');
    await canceller.selectOption('builtin');
    await expect.poll(note).toMatch(/^Talk over Parley at your normal level\. Costs 3–5% of one core/);
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Settings' }).getByRole('combobox', { name: 'Echo cancellation' }).inputValue()).toBe('builtin');
    await page.close();
  });

  it('works from the keyboard alone: send a message, open and close a panel', async () => {
    const page = await open('dark');
    const message = page.getByRole('textbox', { name: 'Message' });
    // Tab from the top of the page until the message box has focus.
    const focused = () => message.evaluate((element) => element === element.ownerDocument.activeElement);
    for (let step = 0; step < 20 && !(await focused()); step += 1) await page.keyboard.press('Tab');
    expect(await focused()).toBe(true);
    await page.keyboard.type('hello from the keyboard');
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: 'Transcript' }).getByRole('listitem').getByText(/message \d+ of our conversation/).last().waitFor();
    await page.keyboard.press('Shift+Tab');
    const settingsButton = page.getByRole('button', { name: 'Settings', exact: true });
    await settingsButton.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: 'Settings' }).waitFor();
    expect(await settingsButton.getAttribute('aria-pressed')).toBe('true');
    // Focus moved into the panel; Escape closes it and puts focus back on its button.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('region', { name: 'Settings' }).count()).toBe(0);
    expect(await settingsButton.evaluate((element) => element === element.ownerDocument.activeElement)).toBe(true);
    await page.screenshot({ path: join(resultsDir, 'main-dark.png') });
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
