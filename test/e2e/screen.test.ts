/**
 * "Ask about my screen" in Chromium through browser mode: the permission prompt, the browser's
 * getDisplayMedia (Chromium's fake capture UI and device pick a screen, the window's size, without a
 * prompt, which is what works headless on Debian's chromium; `--auto-accept-this-tab-capture`
 * only answers requests that prefer the current tab), the preview cropped by keyboard, and the
 * picture arriving at the emulator, whose brain says what size of image it got. Cancelled,
 * nothing is sent: the next message is still the emulator's first.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { resultsDir, useBrowserMode } from '../support/browserMode';

const rig = useBrowserMode(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);

async function open(width = 1280, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await rig.browser.newPage({ viewport: { width, height: 800 }, colorScheme });
  await page.goto(rig.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  // Each test starts a conversation of its own on the one browser-mode server.
  await page.getByRole('button', { name: 'New conversation' }).click();
  return page;
}

/** Presses "Ask about my screen", allows capturing once, and waits for the preview. */
async function capture(page: Page): Promise<ReturnType<Page['getByRole']>> {
  await page.getByRole('button', { name: 'Ask about my screen' }).click();
  const prompt = page.getByRole('dialog', { name: 'Parley wants to capture your screen to show the assistant' });
  await prompt.getByRole('button', { name: 'Allow once' }).click();
  const preview = page.getByRole('dialog', { name: 'Ask about this screenshot' });
  await preview.getByText(/^Sending \d+ × \d+ pixels$/).waitFor();
  return preview;
}

describe('ask about my screen', () => {
  it('sends the cropped screenshot with the question once the preview is accepted', async () => {
    const page = await open();
    const preview = await capture(page);
    // The fake capture device shows a screen the size of the window: 1280×720 here.
    await preview.getByText('Sending 1280 × 720 pixels').waitFor();
    await page.screenshot({ path: join(resultsDir, 'screen-preview-1280-light.png') });
    // Keyboard crop: Shift+Left narrows by 1% of the width (13 px) each press, Shift+Up shortens.
    const stage = preview.getByRole('group', { name: /^Crop:/ });
    await stage.focus();
    for (let press = 0; press < 10; press += 1) await page.keyboard.press('Shift+ArrowLeft');
    for (let press = 0; press < 20; press += 1) await page.keyboard.press('Shift+ArrowUp');
    await page.keyboard.press('ArrowRight');
    await preview.getByText('Sending 1150 × 460 pixels').waitFor();
    expect(await stage.getAttribute('aria-label')).toBe('Crop: 1150 by 460 pixels at 13, 0');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(resultsDir, 'screen-preview-1280-dark.png') });
    await preview.getByRole('textbox', { name: 'Your question' }).fill('What does this window show?');
    await preview.getByRole('button', { name: 'Send' }).click();
    await preview.waitFor({ state: 'hidden' });

    const transcript = page.getByRole('region', { name: 'Transcript' });
    await transcript.getByText('(with a screenshot) What does this window show?').waitFor();
    await transcript.getByText('I received a 1150×460 PNG image with your question “What does this window show?”').or(transcript.getByText('I received a 1150×460 PNG image with your question "What does this window show?"')).first().waitFor();
    expect(await transcript.textContent()).toContain('This is your first message');
    await page.close();
  });

  it('sends nothing when the preview is cancelled', async () => {
    const page = await open(420, 'dark');
    const preview = await capture(page);
    // The whole preview, border and all, fits a 420 px window.
    const box = await preview.boundingBox();
    expect(box !== null && box.x >= 0 && box.x + box.width <= 420).toBe(true);
    await page.screenshot({ path: join(resultsDir, 'screen-preview-420-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(resultsDir, 'screen-preview-420-light.png') });
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'hidden' });
    // The keyboard goes back to the message box, not to the page.
    await expect.poll(() => page.evaluate<string>("document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName")).toBe('Message');
    const transcript = page.getByRole('region', { name: 'Transcript' });
    expect(await transcript.textContent()).not.toContain('screenshot');
    // The emulator counts the user messages it was sent: this is still the first.
    await page.getByRole('textbox', { name: 'Message' }).fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    await transcript.getByText(/This is your first message/).first().waitFor();
    expect(await transcript.textContent()).not.toContain('I received');
    await page.close();
  });

  it('compact mode keeps only the transcript tail, hold-to-talk and the message box, by button or Ctrl+Shift+5', async () => {
    const page = await open(1280);
    await page.getByRole('textbox', { name: 'Message' }).fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await transcript.getByText(/This is your first message/).first().waitFor();
    await page.getByRole('button', { name: 'Compact' }).click();
    await page.getByRole('button', { name: 'Full window' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Parley' }).isVisible()).toBe(false);
    expect(await page.getByRole('note').filter({ hasText: 'Offline mode' }).count()).toBe(0);
    for (const visible of [transcript, page.getByRole('button', { name: 'Hold to talk' }), page.getByRole('textbox', { name: 'Message' })]) expect(await visible.isVisible()).toBe(true);
    for (const [width, height] of [[1280, 800], [420, 520]] as const) {
      await page.setViewportSize({ width, height });
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        await page.screenshot({ path: join(resultsDir, `compact-${width}-${colorScheme}.png`) });
      }
    }
    // The message box keeps its place beside the transcript's last reply at the overlay's size.
    const reply = await transcript.getByText(/This is your first message/).first().boundingBox();
    const box = await page.getByRole('textbox', { name: 'Message' }).boundingBox();
    expect(reply !== null && box !== null && reply.y < box.y && box.y + box.height <= 520).toBe(true);
    await page.keyboard.press('Control+Shift+Digit5');
    await page.getByRole('navigation', { name: 'Parley' }).waitFor();
    await page.close();
  });
});
