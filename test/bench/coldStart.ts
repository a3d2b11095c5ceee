/**
 * Cold start of browser mode, as a user meets it: spawn `node out/main/browser.js`, wait for the
 * URL line, open it in a fresh headless Chromium, and time the first paint and the moment the
 * app is usable (connection indicator showing the emulator). Then, at once, the first calculation
 * (a tool call into mathjs, which loads in the background after start-up), a plain typed turn,
 * and a second calculation, each end to end: a first-use load shows as the first calculation
 * taking longer than the second. Measured wall time on this machine; the emulator's latency model
 * adds the same simulated delays to each. Prints JSON; run with `npm run bench -- cold-start [--runs N]`.
 */
import type { Browser } from 'playwright-core';
import { launchChromium, runBrowserMode } from '../support/browserMode';

interface Sample {
  spawnToUrlMs: number;
  navigationToFirstContentfulPaintMs: number;
  spawnToUsableMs: number;
  sendToReplyCompleteMs: number;
  firstCalculationMs: number;
  secondCalculationMs: number;
}

async function sample(browser: Browser): Promise<Sample> {
  const spawned = performance.now();
  const server = await runBrowserMode();
  const spawnToUrlMs = performance.now() - spawned;
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
    const spawnToUsableMs = performance.now() - spawned;
    const navigationToFirstContentfulPaintMs = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    );
    const transcript = page.getByRole('region', { name: 'Transcript' });
    const turn = async (text: string, reply: RegExp): Promise<number> => {
      const sendAt = performance.now();
      await page.getByRole('textbox', { name: 'Message' }).fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
      await transcript.getByText(reply).waitFor();
      await page.locator('section[aria-label="Transcript"][aria-busy="false"]').waitFor();
      return performance.now() - sendAt;
    };
    const firstCalculationMs = await turn('what is 12 * 7?', /^12 × 7 = 84\.$/);
    const sendToReplyCompleteMs = await turn('hello', /^Hello!/);
    const secondCalculationMs = await turn('what is 13 * 7?', /^13 × 7 = 91\.$/);
    return { spawnToUrlMs, navigationToFirstContentfulPaintMs, spawnToUsableMs, sendToReplyCompleteMs, firstCalculationMs, secondCalculationMs };
  } finally {
    await context.close();
    await server.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export async function coldStart(runs: number): Promise<Record<string, unknown>> {
  const browser = await launchChromium();
  try {
    const samples: Sample[] = [];
    for (let run = 0; run < runs; run += 1) samples.push(await sample(browser));
    const summary = (key: keyof Sample) => ({
      median: Math.round(median(samples.map((entry) => entry[key])) * 10) / 10,
      min: Math.round(Math.min(...samples.map((entry) => entry[key])) * 10) / 10,
      max: Math.round(Math.max(...samples.map((entry) => entry[key])) * 10) / 10,
    });
    const spawnToUrl = summary('spawnToUrlMs');
    const usable = summary('spawnToUsableMs');
    return {
      bench: 'cold-start',
      runs,
      measured: 'wall time on this machine',
      note: 'browser mode on the embedded emulator with its default simulated latency (40 ms round trip, 80 output tokens/s) inside every reply time',
      spawnToUrlMs: spawnToUrl,
      navigationToFirstContentfulPaintMs: summary('navigationToFirstContentfulPaintMs'),
      spawnToUsableMs: usable,
      sendToReplyCompleteMs: summary('sendToReplyCompleteMs'),
      firstCalculationMs: summary('firstCalculationMs'),
      secondCalculationMs: summary('secondCalculationMs'),
      firstCalculationOverSecond: Math.round((median(samples.map((entry) => entry.firstCalculationMs)) / median(samples.map((entry) => entry.secondCalculationMs))) * 100) / 100,
      firstCalculationOverPlainReply: Math.round((median(samples.map((entry) => entry.firstCalculationMs)) / median(samples.map((entry) => entry.sendToReplyCompleteMs))) * 100) / 100,
      serverStartShareOfColdStart: Math.round((spawnToUrl.median / usable.median) * 100) / 100,
    };
  } finally {
    await browser.close();
  }
}
