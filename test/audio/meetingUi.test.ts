/**
 * Meeting mode end to end: browser mode in Chromium, on a private PulseAudio loop. The other side
 * of the call plays into "ear" (the default output, whose monitor is the system's audio), the user
 * speaks into "mouth" (the microphone). The panel shows each utterance under the right speaker,
 * answers a typed question from them, exports Markdown, and Parley's own spoken reply (played into
 * the same output the call uses) never shows up as "Them".
 *
 * The emulator cannot understand audio: it transcribes an utterance as "[n s of speech]", so the
 * sides are told apart by when and how long each one spoke.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, repoRoot, runBrowserMode, type RunningBrowserMode } from '../support/browserMode';
import { requireAudioTools, soundDurationMs, startPulse, until, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';

let pulse: Pulse;
let server: RunningBrowserMode;
let browser: Browser;

beforeAll(async () => {
  requireAudioTools();
  pulse = await startPulse();
  // Browser mode inherits this process's PULSE_SERVER: its mic, speaker and system audio are the test sinks.
  server = await runBrowserMode();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await pulse?.close();
});

const heardSeconds = (text: string) => Number(/\[([\d.]+) s of speech\]/.exec(text)?.[1] ?? Number.NaN);

/** The meeting transcript's final lines, as [speaker, text]. */
async function finalLines(page: Page): Promise<Array<[string, string]>> {
  return page.locator('ol[aria-labelledby="meeting-transcript"] li:not(.partial)').evaluateAll((items) =>
    items.map((item) => [item.querySelector('.who')?.textContent ?? '', item.querySelector('.text')?.textContent ?? ''] as [string, string]),
  );
}

async function waitForLines(page: Page, count: number): Promise<Array<[string, string]>> {
  await page.locator('ol[aria-labelledby="meeting-transcript"] li:not(.partial)').nth(count - 1).waitFor({ timeout: 30_000 });
  return finalLines(page);
}

describe('a meeting in the UI, on real audio', () => {
  it('labels the call Them and the microphone Me, answers from them, exports Markdown, and never hears Parley as Them', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await page.goto(server.url);
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();

    // By keyboard: the panel's shortcut, then Tab to its Start button.
    await page.keyboard.press('Control+Shift+Digit4');
    const panel = page.getByRole('complementary', { name: 'Meeting panel' });
    await panel.waitFor();
    await panel.getByRole('button', { name: 'Start meeting' }).focus();
    await page.keyboard.press('Enter');
    await panel.getByRole('status', { name: 'Meeting state' }).filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 });

    const theirs = await speech('Could you send me the quarterly report by Friday, please?');
    const mine = await speech('Yes, I will.');
    await pulse.play(theirs, { sink: 'ear' });
    const afterThem = await waitForLines(page, 1);
    await pulse.play(mine, { sink: 'mouth' });
    const both = await waitForLines(page, 2);
    expect(afterThem.map(([who]) => who)).toEqual(['Them']);
    expect(both.map(([who]) => who)).toEqual(['Them', 'Me']);
    // Each line is the length of that side's utterance: their long question, the user's short answer.
    expect(soundDurationMs(theirs) - soundDurationMs(mine)).toBeGreaterThan(1500);
    expect(heardSeconds(both[0]![1]) - heardSeconds(both[1]![1])).toBeGreaterThan(1.5);

    await panel.getByRole('textbox', { name: 'Ask about the meeting' }).fill('what did they just ask?');
    await page.keyboard.press('Enter');
    const answer = panel.getByRole('region', { name: 'Answer' });
    await answer.filter({ hasText: 'they said' }).waitFor({ timeout: 20_000 });
    expect(await answer.textContent()).toContain(both[0]![1]);

    // Parley speaks a reply into the same output the call plays through.
    await page.getByRole('button', { name: 'Hold to talk' }).click();
    const voice = page.getByRole('status', { name: 'Voice' });
    await voice.filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a story');
    await page.getByRole('button', { name: 'Send' }).click();
    await voice.filter({ hasText: 'Speaking' }).waitFor({ timeout: 20_000 });
    await voice.filter({ hasText: 'Ready' }).waitFor({ timeout: 60_000 });
    // The call goes on: once its next, short line is in, everything before it has been transcribed.
    const thanks = await speech('Thanks.');
    await pulse.play(thanks, { sink: 'ear' });
    let after: Array<[string, string]> = [];
    await until(async () => {
      after = await finalLines(page);
      return heardSeconds(after.at(-1)?.[1] ?? '') < 1.5;
    }, 30_000, `the short "Thanks." line as the last one (lines: ${JSON.stringify(after)}; a long Them line before it is Parley heard as Them)`);
    expect(soundDurationMs(thanks)).toBeLessThan(1000);
    expect(after.map(([who]) => who)).toEqual(['Them', 'Me', 'Them']);

    const download = page.waitForEvent('download');
    await panel.getByRole('button', { name: 'Export as Markdown' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^meeting-[\d-]+\.md$/);
    const markdown = await readFile((await file.path())!, 'utf8');
    expect(markdown.match(/^- \*\*\d\d:\d\d (Me|Them):\*\*/gm)?.map((line) => /(Me|Them)/.exec(line)?.[1])).toEqual(['Them', 'Me', 'Them']);
    await page.screenshot({ path: join(repoRoot, 'test-results/e2e/meeting-live.png') });
    await panel.getByRole('button', { name: 'Stop meeting' }).click();
    await panel.getByRole('status', { name: 'Meeting state' }).filter({ hasText: 'Stopped' }).waitFor({ timeout: 20_000 });
  }, 180_000);
});
