/**
 * The transcript as a user feels it, in Chromium against browser mode's offline emulator:
 * following a streaming reply, the jump-to-latest pill, Markdown (and Markdown that tries to run
 * code), Stop by Escape, and Retry, Regenerate and Edit on the last exchange.
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { resultsDir, injectFault, useBrowserMode } from '../support/browserMode';

const running = useBrowserMode();

interface Opened {
  page: Page;
  errors: string[];
  transcript: Locator;
  message: Locator;
}

/** A fresh page on an empty conversation (browser mode keeps one conversation for every page). */
async function open(options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Opened> {
  const errors: string[] = [];
  const page = await running.browser.newPage({ viewport: { width: options.width ?? 1100, height: options.height ?? 720 }, colorScheme: options.colorScheme ?? 'light' });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (entry) => entry.type() === 'error' && errors.push(entry.text()));
  await page.goto(running.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  if ((await page.getByRole('list', { name: 'Suggestions' }).count()) === 0) {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByRole('list', { name: 'Suggestions' }).waitFor();
  }
  return { page, errors, transcript: page.getByRole('region', { name: 'Transcript' }), message: page.getByRole('textbox', { name: 'Message' }) };
}

/** Types `text` and sends it with Enter. */
async function type(on: Opened, text: string): Promise<void> {
  await on.message.fill(text);
  await on.message.press('Enter');
  await expect.poll(() => on.message.inputValue()).toBe('');
}

/** Sends `text` and waits until its reply has finished (completed or failed). */
async function say(on: Opened, text: string): Promise<void> {
  const before = await on.transcript.locator('li[data-role="assistant"]:not([data-status="streaming"])').count();
  await type(on, text);
  await expect.poll(() => on.transcript.locator('li[data-role="assistant"]:not([data-status="streaming"])').count(), { timeout: 60_000 }).toBe(before + 1);
}

const lastReply = (on: Opened): Locator => on.transcript.locator('li[data-role="assistant"]').last();

/** How far the transcript's end is below what is on screen, in CSS pixels (0 at the end). */
function distanceFromEnd(on: Opened): Promise<number> {
  return on.transcript.evaluate((viewport) => Math.round(viewport.scrollHeight - viewport.scrollTop - viewport.clientHeight));
}

/** Whether `locator`'s box is at least partly inside the transcript's visible area. */
function onScreen(on: Opened, locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => {
    const viewport = element.closest('section.transcript');
    if (viewport === null) return false;
    const box = element.getBoundingClientRect();
    const view = viewport.getBoundingClientRect();
    return box.bottom > view.top && box.top < view.bottom;
  });
}

/** Scrolls the transcript up with the mouse wheel, as a reader would. */
async function scrollUp(on: Opened, pixels: number): Promise<void> {
  const box = await on.transcript.boundingBox();
  if (box === null) throw new Error('the transcript is not on screen');
  await on.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await on.page.mouse.wheel(0, -pixels);
}

describe('the transcript in Chromium', () => {
  it('follows a long streaming reply down to its last line', async () => {
    const on = await open({ height: 600 });
    await type(on, 'tell me a long reply');
    // While it streams, the end stays on screen...
    await lastReply(on).getByText(/^Paragraph 6 of 24/).waitFor({ timeout: 30_000 });
    expect(await distanceFromEnd(on)).toBeLessThan(48);
    // ...and when it ends, so does the view: the last line is visible, nothing is left below.
    await expect.poll(() => on.transcript.getAttribute('aria-busy'), { timeout: 60_000 }).toBe('false');
    await expect.poll(() => distanceFromEnd(on)).toBeLessThan(48);
    expect(await onScreen(on, lastReply(on).getByText('That is the end of the long reply.'))).toBe(true);
    expect(await on.page.getByRole('button', { name: /Jump to latest/ }).count()).toBe(0);
    expect(on.errors).toEqual([]);
    await on.page.close();
  });

  it('stops following when the reader scrolls up, and the pill brings them back to the end', async () => {
    const on = await open({ height: 600 });
    await type(on, 'a long reply please');
    await lastReply(on).getByText(/^Paragraph 4 of 24/).waitFor({ timeout: 30_000 });
    await scrollUp(on, 400);
    const pill = on.page.getByRole('button', { name: /Jump to latest/ });
    await pill.waitFor();
    // The reply keeps streaming below, and the view stays where the reader put it.
    const top = await on.transcript.evaluate((viewport) => viewport.scrollTop);
    await lastReply(on).getByText(/^Paragraph 12 of 24/).waitFor({ timeout: 30_000 });
    expect(await on.transcript.evaluate((viewport) => viewport.scrollTop)).toBe(top);
    expect(await distanceFromEnd(on)).toBeGreaterThan(200);
    await on.page.screenshot({ path: join(resultsDir, 'transcript-pill-light.png') });
    await pill.click();
    await expect.poll(() => distanceFromEnd(on)).toBeLessThan(48);
    await expect.poll(() => pill.count()).toBe(0);
    // Following again: the rest of the reply arrives in view.
    await expect.poll(() => on.transcript.getAttribute('aria-busy'), { timeout: 60_000 }).toBe('false');
    await expect.poll(() => distanceFromEnd(on)).toBeLessThan(48);
    expect(on.errors).toEqual([]);
    await on.page.close();
  });

  it('jumps to your own message when you send while scrolled up', async () => {
    const on = await open({ height: 600 });
    await say(on, 'a long reply please');
    await scrollUp(on, 1500);
    await on.page.getByRole('button', { name: /Jump to latest/ }).waitFor();
    expect(await distanceFromEnd(on)).toBeGreaterThan(1000);
    await type(on, 'and one more thing');
    const mine = on.transcript.locator('li[data-role="user"]').last();
    await expect.poll(() => mine.textContent()).toContain('and one more thing');
    await expect.poll(() => onScreen(on, mine)).toBe(true);
    await expect.poll(() => distanceFromEnd(on)).toBeLessThan(48);
    await on.page.close();
  });

  it('renders a Markdown reply: headings, lists, a link, and a code block with its own Copy', async () => {
    const on = await open();
    const context = on.page.context();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(running.server.url).origin });
    await say(on, 'show me a markdown sample');
    const reply = lastReply(on);
    expect(await reply.getByRole('heading', { name: 'A Markdown sample' }).count()).toBe(1);
    expect(await reply.locator('strong').first().textContent()).toBe('bold');
    expect(await reply.getByRole('table').count()).toBe(1);
    // No Markdown syntax shows as text.
    expect(await reply.textContent()).not.toContain('```');
    const code = reply.locator('pre code');
    expect(await code.textContent()).toBe('const greeting = "hello";\nconsole.log(`${greeting}, world`);');
    await reply.getByRole('button', { name: 'Copy code' }).click();
    await expect.poll(() => reply.getByRole('button', { name: 'Copy code' }).textContent()).toBe('Copied');
    expect(await on.transcript.evaluate((section) => (section.ownerDocument.defaultView as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toBe('const greeting = "hello";\nconsole.log(`${greeting}, world`);');
    // A web link opens outside Parley, in a new window, and this one stays put.
    const link = reply.getByRole('link', { name: 'a link to example.org' });
    // This machine has no way out: the test stands in for example.org.
    await context.route('https://example.org/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>example</title>' }));
    const popup = context.waitForEvent('page');
    await link.click();
    const opened = await popup;
    expect(opened.url()).toBe('https://example.org/docs');
    await opened.close();
    expect(on.page.url()).toBe(running.server.url);
    await on.page.screenshot({ path: join(resultsDir, 'transcript-markdown-light.png') });
    expect(on.errors).toEqual([]);
    await on.page.close();
  });

  it('keeps hostile Markdown inert: no script runs, no handler is attached, a javascript: link opens nothing', async () => {
    const on = await open();
    const popups: string[] = [];
    on.page.context().on('page', (opened) => popups.push(opened.url()));
    await say(on, 'send some hostile markdown');
    const reply = lastReply(on);
    // The markup shows as text...
    expect(await reply.textContent()).toContain('<script>window.parleyPwned = "script"</script>');
    // ...and nothing of it became an element or an attribute.
    const found = await reply.evaluate((item) => ({
      scripts: item.querySelectorAll('script').length,
      images: item.querySelectorAll('img').length,
      handlers: [...item.querySelectorAll('*')].flatMap((element) => element.getAttributeNames().filter((name: string) => name.startsWith('on'))),
      hrefs: [...item.querySelectorAll('a')].map((anchor) => anchor.getAttribute('href')),
    }));
    expect(found).toEqual({ scripts: 0, images: 0, handlers: [], hrefs: [null, null, 'https://example.org/tracker.png'] });
    await reply.getByText('a javascript link').click();
    await reply.getByText('a file link').click();
    await reply.getByText('an inline anchor').click();
    // Nothing ran and nothing opened (a popup would have shown up by the time this round trip is back).
    await on.transcript.evaluate((section) => new Promise((resolve) => (section.ownerDocument.defaultView as unknown as { requestAnimationFrame(run: () => void): void }).requestAnimationFrame(() => resolve(null))));
    expect(await on.transcript.evaluate((section) => (section.ownerDocument.defaultView as unknown as { parleyPwned?: string }).parleyPwned ?? null)).toBeNull();
    expect(popups).toEqual([]);
    expect(on.page.url()).toBe(running.server.url);
    await on.page.screenshot({ path: join(resultsDir, 'transcript-hostile-light.png') });
    await on.page.close();
  });

  it('stops a streaming reply on Escape in the message box', async () => {
    const on = await open();
    await type(on, 'a long reply please');
    await lastReply(on).getByText(/^Paragraph 2 of 24/).waitFor({ timeout: 30_000 });
    await expect.poll(() => on.page.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(1);
    await on.message.press('Escape');
    await expect.poll(() => on.transcript.getAttribute('aria-busy'), { timeout: 10_000 }).toBe('false');
    expect(await lastReply(on).getAttribute('data-status')).not.toBe('streaming');
    expect(await lastReply(on).textContent()).not.toContain('That is the end of the long reply.');
    // Stopped, not merely hidden: the message box is ready for the next message.
    await say(on, 'hello');
    expect(await lastReply(on).textContent()).toMatch(/^Parley.*Hello!/s);
    await on.page.close();
  });

  it('keeps your message after a refused turn, and Retry answers it', async () => {
    const on = await open();
    await injectFault(running.server, { kind: 'error_mid_stream', afterDeltas: 1, protocol: 'responses' });
    await say(on, 'what is 6 * 7?');
    const failed = lastReply(on);
    expect(await failed.getAttribute('data-status')).toBe('failed');
    await on.page.screenshot({ path: join(resultsDir, 'transcript-failed-light.png') });
    const mine = on.transcript.locator('li[data-role="user"]');
    expect(await mine.last().textContent()).toContain('what is 6 * 7?');
    await failed.focus();
    await failed.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => lastReply(on).getAttribute('data-status'), { timeout: 30_000 }).toBe('completed');
    expect(await lastReply(on).textContent()).toContain('42');
    // The same message, answered once: no second copy of it, and one reply.
    expect(await mine.count()).toBe(1);
    expect(await on.transcript.locator('li[data-role="assistant"]').count()).toBe(1);
    await on.page.close();
  });

  it('Regenerate replaces the answer; Edit replaces the message and its answer', async () => {
    const on = await open();
    await say(on, 'hello');
    await say(on, 'hello again');
    const firstAnswer = await lastReply(on).textContent();
    expect(firstAnswer).toMatch(/message 2 of our conversation/);

    // Every state the replies pass through from here, so a regeneration too quick to poll is still seen.
    await on.transcript.evaluate((section) => {
      const view = section.ownerDocument.defaultView as unknown as { seenStatuses: string[]; MutationObserver: new (listen: (changes: Array<{ target: typeof section }>) => void) => { observe(node: typeof section, options: object): void } };
      view.seenStatuses = [];
      new view.MutationObserver((changes) => changes.forEach((change) => view.seenStatuses.push(change.target.getAttribute('data-status') ?? ''))).observe(section, { subtree: true, attributeFilter: ['data-status'] });
    });
    await lastReply(on).focus();
    await lastReply(on).getByRole('button', { name: 'Regenerate' }).click();
    const seen = (): Promise<string[]> => on.transcript.evaluate((section) => (section.ownerDocument.defaultView as unknown as { seenStatuses: string[] }).seenStatuses);
    await expect.poll(seen, { timeout: 30_000 }).toEqual(['streaming', 'completed']);
    // Still one reply to that message, and the agent saw the message once: it is still message 2, not 3.
    expect(await on.transcript.locator('li[data-role="assistant"]').count()).toBe(2);
    expect(await lastReply(on).textContent()).toMatch(/message 2 of our conversation/);

    const mine = on.transcript.locator('li[data-role="user"]').last();
    await mine.focus();
    await mine.getByRole('button', { name: 'Edit' }).click();
    const box = on.page.getByRole('textbox', { name: 'Edit your message' });
    await box.fill('what is 12 * 12?');
    await box.press('Enter');
    await expect.poll(() => lastReply(on).textContent(), { timeout: 30_000 }).toContain('144');
    await expect.poll(() => lastReply(on).getAttribute('data-status')).toBe('completed');
    expect(await on.transcript.locator('li[data-role="user"]').allTextContents()).toEqual([expect.stringContaining('hello'), expect.stringContaining('what is 12 * 12?')]);
    expect(await on.transcript.getByText('hello again').count()).toBe(0);
    expect(await on.transcript.getByText(/message 2 of our conversation/).count()).toBe(0);
    expect(await on.transcript.locator('li[data-role="assistant"]').count()).toBe(2);
    await on.page.close();
  });
});

describe('the transcript on screen', () => {
  for (const width of [420, 1280]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      it(`fits at ${width} px in ${colorScheme}: Markdown, a failed turn with Retry, and the pill`, async () => {
        const on = await open({ width, height: 760, colorScheme });
        await say(on, 'show me a markdown sample');
        await injectFault(running.server, { kind: 'error_mid_stream', afterDeltas: 1, protocol: 'responses' });
        await say(on, 'and a long reply');
        await lastReply(on).focus();
        await lastReply(on).getByRole('button', { name: 'Retry' }).waitFor();
        // Nothing runs off the side: the transcript and each code block fit or scroll on their own.
        const overflow = await on.transcript.evaluate((section) => ({
          transcript: section.scrollWidth - section.clientWidth,
          page: section.ownerDocument.documentElement.scrollWidth - section.ownerDocument.documentElement.clientWidth,
        }));
        expect(overflow).toEqual({ transcript: 0, page: 0 });
        await on.page.screenshot({ path: join(resultsDir, `transcript-${width}-${colorScheme}.png`) });
        await scrollUp(on, 300);
        await on.page.getByRole('button', { name: /Jump to latest/ }).waitFor();
        await on.page.screenshot({ path: join(resultsDir, `transcript-${width}-${colorScheme}-scrolled.png`) });
        expect(on.errors).toEqual([]);
        await on.page.close();
      });
    }
  }
});
