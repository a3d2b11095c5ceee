/**
 * The desktop app's screen and window picker in Chromium: browser mode's page, with the bridge's
 * two screen commands answered by a fake host that offers screens and windows (what main's
 * desktopCapturer listing gives the page). Chosen by keyboard only; Escape captures nothing.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { resultsDir, useBrowserMode } from '../support/browserMode';

const rig = useBrowserMode();

/** A picture as an SVG data URL: a coloured field with a label, at the given size. */
function picture(label: string, colour: string, width: number, height: number): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${colour}"/><text x="50%" y="55%" font-size="${Math.round(height / 6)}" text-anchor="middle" fill="#fff" font-family="sans-serif">${label}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

const offered = [
  { id: 'screen:1:0', name: 'Entire screen', kind: 'screen', thumbnail: picture('Screen 1', '#3a6ea5', 320, 200) },
  { id: 'screen:2:0', name: 'Screen 2', kind: 'screen', thumbnail: picture('Screen 2', '#5a8f3a', 320, 200) },
  { id: 'window:41:0', name: 'Quarterly report - Editor with a rather long title', kind: 'window', thumbnail: picture('Report', '#a5523a', 320, 200) },
  { id: 'window:42:0', name: 'Terminal', kind: 'window', thumbnail: picture('$ _', '#222222', 320, 160) },
  { id: 'window:43:0', name: 'Minimised notes', kind: 'window', thumbnail: '' },
];

/** Opens the page with the fake host answering the screen commands; the rest reach the real server. */
async function open(width: number, colorScheme: 'light' | 'dark'): Promise<{ page: Page; captured: string[] }> {
  const page = await rig.browser.newPage({ viewport: { width, height: 800 }, colorScheme });
  const captured: string[] = [];
  await page.routeWebSocket(/\/bridge/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const frame = JSON.parse(String(message)) as { id: number; channel: string; payload?: { sourceId?: string } };
      if (frame.channel === 'copilot:list-screen-sources') {
        ws.send(JSON.stringify({ type: 'result', id: frame.id, result: { ok: true, value: { sources: offered } } }));
      } else if (frame.channel === 'copilot:capture-screen') {
        captured.push(frame.payload?.sourceId ?? '(none)');
        ws.send(JSON.stringify({ type: 'result', id: frame.id, result: { ok: true, value: { image: picture('Report', '#a5523a', 1600, 1000) } } }));
      } else {
        server.send(message);
      }
    });
  });
  await page.goto(rig.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  return { page, captured };
}

async function openPicker(page: Page): Promise<ReturnType<Page['getByRole']>> {
  await page.getByRole('button', { name: 'Ask about my screen' }).focus();
  await page.keyboard.press('Enter');
  const picker = page.getByRole('listbox', { name: 'Which screen or window?' });
  await picker.waitFor();
  return picker;
}

describe('screen and window picker', () => {
  it('chooses a window with the arrow keys and Enter, and the preview shows that capture', async () => {
    const { page, captured } = await open(1280, 'light');
    const picker = await openPicker(page);
    expect(await picker.getByRole('option').count()).toBe(5);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await picker.getByRole('option', { selected: true }).textContent()).toContain('Quarterly report');
    await page.screenshot({ path: join(resultsDir, 'screen-picker-1280-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(resultsDir, 'screen-picker-1280-dark.png') });
    await page.keyboard.press('Enter');
    const preview = page.getByRole('dialog', { name: 'Ask about this screenshot' });
    await preview.getByText('Sending 1600 × 1000 pixels').waitFor();
    expect(captured).toEqual(['window:41:0']);
    await page.close();
  });

  it('Escape closes the picker, captures nothing, and the keyboard is back in the message box', async () => {
    const { page, captured } = await open(420, 'dark');
    await openPicker(page);
    await page.keyboard.press('End');
    await page.screenshot({ path: join(resultsDir, 'screen-picker-420-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(resultsDir, 'screen-picker-420-light.png') });
    await page.keyboard.press('Escape');
    await page.getByRole('listbox').waitFor({ state: 'hidden' });
    expect(captured).toEqual([]);
    const message = page.getByRole('textbox', { name: 'Message' });
    await expect.poll(() => message.evaluate((box) => box === box.ownerDocument.activeElement)).toBe(true);
    await page.close();
  });
});
