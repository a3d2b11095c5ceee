/**
 * The window as a keyboard user, a phone-sized window and a screen reader meet it, in Debian
 * Chromium through browser mode: every panel opens, takes focus, closes on Escape and gives focus
 * back; nothing overflows sideways at 360 px or 1920 px in light or dark; and axe-core finds no
 * serious or critical accessibility violation on the main screen or any panel.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { resultsDir, useBrowserMode } from '../support/browserMode';

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const rig = useBrowserMode();

const panels = [
  { button: 'History', region: 'History', shortcut: 'Control+KeyK' },
  { button: 'Tools', region: 'Tool activity', shortcut: 'Control+Shift+Digit1' },
  { button: 'Inspector', region: 'Inspector', shortcut: 'Control+Shift+Digit2' },
  { button: 'Settings', region: 'Settings', shortcut: 'Control+Shift+Digit3' },
] as const;

async function open(options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<{ page: Page; errors: string[] }> {
  const errors: string[] = [];
  // bypassCSP lets the test inject axe-core; the app's own scripts are what the policy allows anyway.
  const page = await rig.browser.newPage({ viewport: { width: options.width ?? 1280, height: options.height ?? 800 }, colorScheme: options.colorScheme ?? 'light', bypassCSP: true });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(rig.server.url);
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  // Browser mode keeps one conversation for every page: start each test from an empty one, then
  // load the page afresh as a new window would.
  if ((await page.getByRole('list', { name: 'Suggestions' }).count()) === 0) {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByRole('list', { name: 'Suggestions' }).waitFor();
    await page.reload();
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
  }
  return { page, errors };
}

async function say(page: Page, text: string): Promise<void> {
  const transcript = page.getByRole('region', { name: 'Transcript' });
  const before = await transcript.locator('li[data-role="assistant"][data-status="completed"]').count();
  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill(text);
  await message.press('Enter');
  await expect.poll(() => transcript.locator('li[data-role="assistant"][data-status="completed"]').count(), { timeout: 15_000 }).toBeGreaterThan(before);
}

/** A short description of what has focus, for assertions that read well when they fail. */
function focused(page: Page): Promise<string> {
  return page.locator('html').evaluate((root) => {
    const element = root.ownerDocument.activeElement;
    if (element === null || element === root.ownerDocument.body) return 'body';
    const name = element.getAttribute('aria-label') ?? element.textContent?.trim().slice(0, 40) ?? '';
    return `${element.tagName.toLowerCase()} "${name}"`;
  });
}

function focusIsIn(page: Page, selector: string): Promise<boolean> {
  return page.locator('html').evaluate((root, css) => root.querySelector(css)?.contains(root.ownerDocument.activeElement) ?? false, selector);
}

/** Elements wider than their box: the page itself, the header, the conversation and an open panel. */
function overflowing(page: Page): Promise<string[]> {
  return page.locator('html').evaluate((root) => {
    const boxes = [
      ['page', root],
      ['header', root.querySelector('header')],
      ['conversation', root.querySelector('main')],
      ['composer', root.querySelector('form.composer')],
      ['panel', root.querySelector('#side-panel')],
      ['panel content', root.querySelector('#side-panel > section')],
    ] as const;
    return boxes
      .filter(([, element]) => element !== null && element.scrollWidth > element.clientWidth)
      .map(([name, element]) => `${name} ${element?.getAttribute('aria-label') ?? ''}: ${element?.scrollWidth} > ${element?.clientWidth}`);
  });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical findings for the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  type Axe = { run: (context: unknown, options: object) => Promise<{ violations: AxeViolation[] }> };
  const html = page.locator('html');
  if (!(await html.evaluate((root) => 'axe' in (root.ownerDocument.defaultView ?? {})))) await page.addScriptTag({ content: await axeSource });
  const violations = await html.evaluate(async (root) => {
    const axe = (root.ownerDocument.defaultView as unknown as { axe: Axe }).axe;
    return (await axe.run(root.ownerDocument, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })).violations;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

describe('the window from the keyboard', () => {
  it('starts in the message box, and every panel takes focus, closes on Escape and gives focus back', async () => {
    const { page, errors } = await open();
    const message = page.getByRole('textbox', { name: 'Message' });
    await expect.poll(() => focused(page)).toBe('textarea "Message"');

    for (const panel of panels) {
      // By its shortcut, from the message box…
      await message.focus();
      await page.keyboard.press(panel.shortcut);
      await page.getByRole('region', { name: panel.region }).waitFor();
      await expect.poll(() => focusIsIn(page, '#side-panel')).toBe(true);
      await page.keyboard.press('Tab');
      expect(await focusIsIn(page, '#side-panel')).toBe(true);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('region', { name: panel.region }).count()).toBe(0);
      expect(await focused(page)).toBe('textarea "Message"');

      // …and by its button, reached with the keyboard.
      const button = page.getByRole('button', { name: panel.button, exact: true });
      await button.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('region', { name: panel.region }).waitFor();
      expect(await button.getAttribute('aria-pressed')).toBe('true');
      await expect.poll(() => focusIsIn(page, '#side-panel')).toBe(true);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('region', { name: panel.region }).count()).toBe(0);
      expect(await focused(page)).toBe(`button "${panel.button}"`);
    }

    // The shortcut list opens with ? (outside a text field), lists the keys, and Escape closes it.
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.textContent()).toContain('Ctrl+Shift+O');
    expect(await focusIsIn(page, 'dialog[open]')).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => help.isVisible()).toBe(false);
    expect(await focused(page)).toBe('button "Settings"');
    await message.focus();
    await page.keyboard.press('Control+/');
    await help.waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => focused(page)).toBe('textarea "Message"');

    // Closed, and the keyboard moved on before the dialog's close event came: it stays moved on.
    await page.getByRole('button', { name: 'Settings', exact: true }).focus();
    await page.keyboard.press('?');
    await help.waitFor();
    await page.evaluate(`(() => {
      document.querySelector('dialog[open]').close();
      document.querySelector('textarea').focus();
    })()`);
    await expect.poll(() => help.isVisible()).toBe(false);
    // The close event is a task away; two frames are well past it.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    expect(await focused(page)).toBe('textarea "Message"');
    await page.close();
    expect(errors).toEqual([]);
  });

  it('keeps the transcript one Tab stop: arrows move between turns, and only that turn’s Copy joins the Tab order', async () => {
    const { page, errors } = await open();
    await say(page, 'hello');
    await say(page, 'one more');
    await say(page, 'and a third');
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.focus();
    // Shift+Tab from the message box back to the header: six turns and their six Copy buttons
    // would take a dozen steps; the transcript is one.
    const steps: string[] = [];
    for (let step = 0; step < 12 && !steps.includes('button "Settings"'); step += 1) {
      await page.keyboard.press('Shift+Tab');
      steps.push(await focused(page));
    }
    expect(steps.filter((step) => step.startsWith('li ')).length).toBe(1);
    expect(steps.filter((step) => step.includes('Copy')).length).toBe(0);
    expect(steps).toContain('button "Settings"');

    const transcript = page.getByRole('region', { name: 'Transcript' });
    await transcript.getByRole('listitem').last().focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    expect(await transcript.getByRole('listitem').nth(3).evaluate((item) => item === item.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('button "Copy Parley\'s reply"');
    await page.keyboard.press('Tab');
    // Past that turn's Copy the next stop is outside the transcript, not the next turn's Copy.
    expect(await focusIsIn(page, 'section[aria-label="Transcript"]')).toBe(false);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('offers suggestions on the empty screen that work offline', async () => {
    const { page, errors } = await open();
    const suggestions = page.getByRole('list', { name: 'Suggestions' });
    expect(await suggestions.getByRole('button').count()).toBeGreaterThanOrEqual(3);
    await suggestions.getByRole('button', { name: /What is 19 \* 23\?/ }).click();
    const transcript = page.getByRole('region', { name: 'Transcript' });
    await expect.poll(() => transcript.locator('li[data-role="assistant"][data-status="completed"]').textContent(), { timeout: 15_000 }).toContain('437');
    expect(await suggestions.count()).toBe(0);
    await page.close();
    expect(errors).toEqual([]);
  });
});

describe('the window at any size', () => {
  for (const width of [360, 1920]) {
    it(`fits ${width} px, light and dark, with every panel open in turn`, async () => {
      const { page, errors } = await open({ width, height: width === 360 ? 740 : 1080 });
      await say(page, 'hello');
      await say(page, `a word too long to wrap politely ${'x'.repeat(120)}`);
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        expect(await overflowing(page)).toEqual([]);
        await page.screenshot({ path: join(resultsDir, `layout-${width}-${colorScheme}-main.png`) });
        for (const panel of panels) {
          await page.getByRole('button', { name: panel.button, exact: true }).click();
          await page.getByRole('region', { name: panel.region }).waitFor();
          expect(await overflowing(page)).toEqual([]);
          if (width === 360) {
            // A narrow window gives the panel its whole width instead of squeezing the chat.
            const box = await page.locator('#side-panel').boundingBox();
            expect(box?.width).toBe(360);
          }
          await page.screenshot({ path: join(resultsDir, `layout-${width}-${colorScheme}-${panel.button.toLowerCase()}.png`) });
          await page.keyboard.press('Escape');
          await expect.poll(() => page.locator('#side-panel').count()).toBe(0);
        }
      }
      await page.close();
      expect(errors).toEqual([]);
    });
  }
});

describe('accessibility (axe-core)', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    it(`finds no serious violation on the main screen, each panel and the shortcut list (${colorScheme})`, async () => {
      const { page, errors } = await open({ colorScheme });
      expect(await seriousViolations(page)).toEqual([]);
      await say(page, 'hello');
      expect(await seriousViolations(page)).toEqual([]);
      for (const panel of panels) {
        await page.getByRole('button', { name: panel.button, exact: true }).click();
        await page.getByRole('region', { name: panel.region }).waitFor();
        expect(await seriousViolations(page), panel.button).toEqual([]);
        await page.keyboard.press('Escape');
      }
      await page.keyboard.press('?');
      await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.close();
      expect(errors).toEqual([]);
    });
  }
});
