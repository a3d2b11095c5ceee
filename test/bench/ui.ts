/**
 * Frame time in Chromium while a long reply streams into the transcript (browser mode on the
 * emulator at its default, simulated, 80 tokens a second), after a conversation of `--turns`
 * earlier exchanges. `npm run bench -- ui [--turns 50]`; prints JSON lines.
 */
import { parseArgs } from 'node:util';
import { launchChromium, runBrowserMode } from '../support/browserMode';

export async function uiBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { turns: { type: 'string', default: '50' } }, strict: false });
  const turns = Number(values.turns);
  const server = await runBrowserMode();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Offline (emulator)' }).waitFor();
    const firstPaintMs = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
    const box = page.getByRole('textbox', { name: 'Message' });
    const transcript = page.getByRole('region', { name: 'Transcript' });
    for (let turn = 0; turn < turns; turn += 1) {
      await box.fill(`earlier message ${turn}`);
      await box.press('Enter');
      await transcript.locator('li[data-role="assistant"][data-status="completed"]').nth(turn).waitFor();
    }
    // The emulator repeats the message back, so a long message makes a long streamed reply.
    const long = Array.from({ length: 120 }, (_, index) => `word${index}`).join(' ');
    // Written as a string: it runs in the page, whose globals this file's types do not know.
    await page.evaluate(`(() => {
      const frames = [];
      globalThis.__frames = frames;
      let last = performance.now();
      const tick = (now) => { frames.push(now - last); last = now; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    await box.fill(long);
    const sentAt = Date.now();
    await box.press('Enter');
    await transcript.locator('li[data-role="assistant"][data-status="completed"]').nth(turns).waitFor({ timeout: 60_000 });
    const streamMs = Date.now() - sentAt;
    const frames = await page.evaluate(() => (globalThis as unknown as { __frames: number[] }).__frames.slice(1));
    const sorted = [...frames].sort((a, b) => a - b);
    const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN) * 10) / 10;
    print({
      summary: 'ui',
      note: 'headless Chromium (software rendering) through browser mode; reply streamed by the emulator at a simulated 80 tokens/s',
      earlier_turns: turns,
      reply_words: 130,
      stream_ms: streamMs,
      frames: frames.length,
      frame_ms_p50: at(0.5),
      frame_ms_p95: at(0.95),
      frame_ms_max: Math.round(Math.max(...frames) * 10) / 10,
      frames_over_50ms: frames.filter((frame) => frame > 50).length,
      first_contentful_paint_ms: Math.round(firstPaintMs),
    });
  } finally {
    await browser.close();
    await server.stop();
  }
}
