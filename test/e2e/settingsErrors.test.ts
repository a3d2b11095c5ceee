/**
 * Settings and the permission prompt in Chromium through browser mode: a save with two bad fields
 * shows both, in Parley's words, beside their fields; the prompt for a note says what will happen;
 * "Always allow" lands in Settings → Tool permissions, and Revoke there makes the next call ask again.
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { resultsDir, useBrowserMode } from '../support/browserMode';

const rig = useBrowserMode();

async function open(): Promise<Page> {
  const page = await rig.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(rig.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  return page;
}

/** What a screen reader reads with a control: the elements its aria-describedby names. */
async function descriptionOf(control: Locator): Promise<string> {
  return control.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id: string) => element.ownerDocument.getElementById(id)?.textContent ?? '')
      .join(' ')
      .trim(),
  );
}

/** Screenshots in both schemes at a narrow and a wide window, for looking at (not compared). */
async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [420, 1280]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width, height: 800 });
      await page.emulateMedia({ colorScheme });
      await page.screenshot({ path: join(resultsDir, `${name}-${width}-${colorScheme}.png`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

describe('settings errors and tool permissions in the UI', () => {
  it('shows both refused fields beside themselves, in our words, with the first focused', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const panel = page.getByRole('region', { name: 'Settings' });
    const rollover = panel.getByRole('spinbutton', { name: 'Roll the socket over after (minutes)' });
    await rollover.fill('90');
    const folder = panel.getByRole('textbox', { name: 'Add a folder' });
    await folder.fill('projects');
    await folder.press('Enter');
    await panel.getByRole('button', { name: 'Save settings' }).click();

    await expect.poll(() => descriptionOf(rollover)).toBe('The rollover time (minutes) can be at most 59.');
    expect(await descriptionOf(folder)).toBe('“projects” is not a full path; give the whole folder, like /home/you/projects or C:\\Users\\you\\projects.');
    expect(await rollover.evaluate((element) => element === element.ownerDocument.activeElement)).toBe(true);
    expect(await panel.getByRole('alert').textContent()).toBe('Not saved: 2 fields need a change, marked above.');
    expect(await panel.textContent()).not.toMatch(/Too (small|big)|expected/);
    await shoot(page, 'settings-errors');
    await page.close();
  });

  it('keeps the panel\'s close button clear of the form, narrow and wide', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const panel = page.getByRole('region', { name: 'Settings' });
    const close = page.getByRole('button', { name: 'Close Settings' });
    const firstField = panel.locator('form .field').first();
    const firstGroup = panel.getByRole('group').first();
    const apart = (a: { x: number; y: number; width: number; height: number } | null, b: typeof a): boolean =>
      a !== null && b !== null && (a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y);
    for (const width of [420, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await firstField.waitFor();
      expect(apart(await close.boundingBox(), await firstField.boundingBox()), `close button over the first field at ${width} px`).toBe(true);
      expect(apart(await close.boundingBox(), await firstGroup.boundingBox()), `close button over the OpenAI group at ${width} px`).toBe(true);
    }
    await shoot(page, 'settings-close');
    await page.close();
  });

  it('asks for a note in a sentence; "Always allow" shows in settings, and Revoke makes the next note ask again', async () => {
    const page = await open();
    await send(page, 'remember buy milk');
    const dialog = page.getByRole('dialog', { name: 'Parley wants to save a note: “buy milk”' });
    await dialog.waitFor();
    expect(await dialog.locator('#permission-reason').textContent()).toBe('It changes something on your computer.');
    expect(await dialog.locator('dt').allTextContents()).toEqual(['Text']);
    expect(await dialog.textContent()).toContain('“Always allow” is kept in Settings → Tool permissions; Revoke there makes Parley ask again.');
    expect(await dialog.textContent()).not.toContain('(changes things)');

    await shoot(page, 'permission');
    await dialog.getByRole('button', { name: 'Always allow' }).click();
    const transcript = page.getByRole('region', { name: 'Transcript' });
    const replies = transcript.locator('li[data-role="assistant"][data-status="completed"]');
    await expect.poll(() => replies.count()).toBe(1);

    // Allowed for good: the next note is saved without a prompt.
    await send(page, 'remember eggs');
    await expect.poll(() => replies.count()).toBe(2);
    expect(await page.getByRole('dialog').count()).toBe(0);

    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const allowed = page.getByRole('list', { name: 'Always allowed' });
    await allowed.scrollIntoViewIfNeeded();
    await shoot(page, 'tool-permissions');
    await allowed.getByRole('button', { name: 'Revoke always allow for save_note' }).click();
    await page.getByText('No tool runs without asking.', { exact: false }).waitFor();

    await send(page, 'remember call the plumber');
    await page.getByRole('dialog', { name: 'Parley wants to save a note: “call the plumber”' }).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Deny' }).click();
    await page.close();
  });
});
