/**
 * Notices and the inspector in Debian Chromium through browser mode: a socket the emulator drops
 * shows one "Connection lost" notice that goes away once Parley has reconnected; a page opened
 * with an earlier run's token says so; and the inspector with a slow turn among quick ones, in
 * light and dark, narrow and wide (screenshots in test-results/e2e).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { injectFault, resultsDir, say, useBrowserMode } from '../support/browserMode';

const rig = useBrowserMode();

async function open(width = 1280): Promise<Page> {
  const page = await rig.browser.newPage({ viewport: { width, height: 800 } });
  await page.goto(rig.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  return page;
}

/** Every notice text the page shows from now on, and the most shown at once (watched in the page, so a short-lived one is not missed). */
async function watchNotices(page: Page): Promise<() => Promise<{ seen: string[]; most: number }>> {
  const html = page.locator('html');
  await html.evaluate((root) => {
    /** The page's MutationObserver; Node's types (all this file has) do not name it. */
    type Observer = new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
    const view = root.ownerDocument.defaultView as unknown as { noticeRecord: { seen: string[]; most: number }; MutationObserver: Observer };
    const record = { seen: [] as string[], most: 0 };
    view.noticeRecord = record;
    new view.MutationObserver(() => {
      const shown = [...root.querySelectorAll('[aria-label="Notices"] li')].map((item) => item.textContent ?? '');
      record.most = Math.max(record.most, shown.length);
      for (const text of shown) if (!record.seen.includes(text)) record.seen.push(text);
    }).observe(root, { subtree: true, childList: true, characterData: true });
  });
  return () => html.evaluate((root) => (root.ownerDocument.defaultView as unknown as { noticeRecord: { seen: string[]; most: number } }).noticeRecord);
}

describe('notices', () => {
  it('a dropped socket shows one "Connection lost" notice, which goes away once Parley has reconnected', async () => {
    const page = await open();
    await say(page, 'hello');
    const record = await watchNotices(page);
    await injectFault(rig.server, { protocol: 'responses', kind: 'drop_socket', closeCode: 1011, afterDeltas: 2 });
    await say(page, 'are you still there?');
    expect(await page.getByRole('region', { name: 'Transcript' }).getByRole('listitem').getByText(/message 2 of our conversation/).count()).toBe(1);
    await expect.poll(() => page.getByRole('list', { name: 'Notices' }).count()).toBe(0);
    const { seen, most } = await record();
    expect(seen).toEqual([expect.stringMatching(/^Connection lost \(code 1011\); retrying in 1 s \(attempt 1\)\./)]);
    expect(most).toBe(1);
    await page.close();
  });

  it('a page opened with an earlier run\'s token says its link is old, not that the server stopped', async () => {
    const page = await rig.browser.newPage();
    await page.goto(rig.server.url.replace(/token=[^&]+/, 'token=from-an-earlier-run'));
    const banner = page.getByRole('alert').filter({ hasText: 'earlier run of browser mode' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Open the new address printed in the terminal');
    // Said once: the refused snapshot does not repeat the banner as a notice.
    expect(await page.getByText('earlier run of browser mode').count()).toBe(1);
    expect(await page.getByText(/server stopped/).count()).toBe(0);
    await page.close();
  });
});

describe('the inspector with data', () => {
  it('draws a slow turn cut off above the scale, with the first-byte part at 3:1 or more in light and dark', async () => {
    const page = await open();
    for (let turn = 1; turn <= 9; turn += 1) await say(page, `quick ${turn}`);
    await injectFault(rig.server, { protocol: 'responses', kind: 'stall', ms: 4000 });
    await say(page, 'slow one');

    // Scrolled to the top of a long conversation, the offline banner sits above the transcript, covering none of it.
    for (const width of [420, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      const transcript = page.getByRole('region', { name: 'Transcript' });
      await transcript.evaluate((element) => element.scrollTo({ top: 0 }));
      const banner = await page.getByRole('note').filter({ hasText: 'Offline mode.' }).boundingBox();
      const box = await transcript.boundingBox();
      expect(banner !== null && box !== null && banner.y + banner.height <= box.y, `at ${width} px`).toBe(true);
      const onTop = await transcript.evaluate((element) => {
        const { left, top } = element.getBoundingClientRect();
        return element.contains(element.ownerDocument.elementFromPoint(left + 40, top + 4));
      });
      expect(onTop, `at ${width} px`).toBe(true);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByRole('button', { name: 'Inspector' }).click();
    const inspector = page.getByRole('region', { name: 'Inspector' });
    const chart = inspector.getByRole('img', { name: /Latency of the last \d+ turns/ });
    expect(await chart.getAttribute('aria-label')).toContain('1 above the scale, cut off');
    expect(await chart.locator('.clipped').textContent()).toMatch(/^4\.\d+ s$/);

    // The marks are reachable by Tab, and one opens its list with Enter.
    const mark = inspector.locator('.timeline button').first();
    await mark.focus();
    await page.keyboard.press('Enter');
    await inspector.getByRole('list', { name: 'Events in this mark' }).waitFor();

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const ratios = await chart.evaluate((element) => {
        const luminance = (colour: string): number => {
          const [r, g, b] = (colour.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((value) => {
            const channel = Number(value) / 255;
            return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
        };
        const contrast = (a: string, b: string): number => {
          const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
          return ((high ?? 0) + 0.05) / ((low ?? 0) + 0.05);
        };
        const style = (target: typeof element | null) => {
          const view = element.ownerDocument.defaultView;
          if (target === null || view === null) throw new Error('the chart has no bars to measure');
          return view.getComputedStyle(target);
        };
        const firstByte = style(element.querySelector('rect.ttfb') as typeof element | null).fill;
        const total = style(element.querySelector('rect.total') as typeof element | null).fill;
        const background = style(element).backgroundColor;
        return { againstTotal: contrast(firstByte, total), againstBackground: contrast(firstByte, background) };
      });
      expect(ratios.againstTotal, scheme).toBeGreaterThanOrEqual(3);
      expect(ratios.againstBackground, scheme).toBeGreaterThanOrEqual(3);
      for (const width of [1280, 420]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: join(resultsDir, `inspector-data-${scheme}-${width}.png`) });
        await inspector.locator('.timeline').screenshot({ path: join(resultsDir, `inspector-timeline-${scheme}-${width}.png`) });
        await chart.screenshot({ path: join(resultsDir, `inspector-chart-${scheme}-${width}.png`) });
      }
    }
    await page.close();
  });
});
