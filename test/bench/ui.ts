/**
 * The renderer's main-thread time per turn as a conversation grows, measured in headless Chromium
 * through browser mode: Chrome's own `Performance.getMetrics` (TaskDuration: all main-thread tasks;
 * ThreadTime: the main thread's CPU time, which a busy shared machine inflates less than task wall
 * time; ScriptDuration: JavaScript; LayoutDuration, RecalcStyleDuration; DevToolsCommandDuration:
 * the benchmark's own CDP and Playwright work, to tell apart) read over CDP before and after each
 * turn. Frame time is not used: headless frames are pinned to the 60 Hz clock and hide it.
 * Browser mode talks to an emulator at zero latency in a child process (as an online service at
 * `OPENAI_BASE_URL`), so turns come as fast as the app takes them. Each turn waits on one
 * MutationObserver in the page, not on polling, so the wait costs the same at every turn.
 * `npm run bench -- ui [--turns 1000] [--window 100]`; prints JSON lines.
 */
import { parseArgs } from 'node:util';
import type { CDPSession } from 'playwright-core';
import { launchChromium, runBrowserMode } from '../support/browserMode';
import { startEmulatorProcess } from './emulatorProcess';

const tracked = ['TaskDuration', 'ThreadTime', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'DevToolsCommandDuration'] as const;
type Metrics = Record<(typeof tracked)[number], number>;

async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics: all } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(tracked.map((name) => [name, all.find((entry) => entry.name === name)?.value ?? Number.NaN])) as Metrics;
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export async function uiBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { turns: { type: 'string', default: '1000' }, window: { type: 'string', default: '100' } }, strict: false });
  const turns = Number(values.turns);
  const window = Number(values.window);
  if (!Number.isInteger(turns) || turns < 2 || !Number.isInteger(window) || window < 1 || window > turns) throw new Error('--turns must be a whole number of at least 2 and --window a whole number from 1 to --turns.');
  const emulator = await startEmulatorProcess({ latency: { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 } });
  const server = await runBrowserMode({ OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: emulator.baseUrl });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.waitFor();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // Resolves once `count` finished replies are in the list (the list shows the newest 200).
    await page.evaluate(`(() => {
      let completed = 0;
      let waiting = null;
      const seen = new WeakSet();
      const check = () => {
        for (const item of document.querySelectorAll('li[data-role="assistant"][data-status="completed"]')) {
          if (seen.has(item)) continue;
          seen.add(item);
          completed += 1;
        }
        if (waiting !== null && completed >= waiting.count) { const { resolve } = waiting; waiting = null; resolve(); }
      };
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
      globalThis.__replies = (count) => new Promise((resolve) => { waiting = { count, resolve }; check(); });
    })()`);
    const perTurn: Metrics[] = [];
    for (let turn = 1; turn <= turns; turn += 1) {
      const before = await metrics(cdp);
      await box.fill(`message ${turn}`);
      await box.press('Enter');
      await page.evaluate(`globalThis.__replies(${turn})`);
      const after = await metrics(cdp);
      perTurn.push(Object.fromEntries(tracked.map((name) => [name, (after[name] - before[name]) * 1000])) as Metrics);
    }
    const windows: Array<{ turns: string } & Metrics> = [];
    for (let start = 0; start < turns; start += window) {
      const slice = perTurn.slice(start, start + window);
      const mean = (name: (typeof tracked)[number]) => round(slice.reduce((total, entry) => total + entry[name], 0) / slice.length);
      const line = { turns: `${start + 1}-${start + slice.length}`, ...(Object.fromEntries(tracked.map((name) => [name, mean(name)])) as Metrics) };
      windows.push(line);
      print({ bench: 'ui', kind: 'measured', unit: 'main-thread ms per turn (CDP Performance.getMetrics deltas)', ...line });
    }
    const at = (index: number) => windows[Math.min(index, windows.length - 1)] as { turns: string } & Metrics;
    const early = at(1);
    const late = at(windows.length - 1);
    print({
      summary: 'ui',
      kind: 'measured',
      note: 'headless Chromium (software rendering) through browser mode on a zero-latency emulator; per-turn main-thread time from CDP Performance.getMetrics',
      turns,
      window,
      task_ms_per_turn: { [`turns_${early.turns}`]: early.TaskDuration, [`turns_${late.turns}`]: late.TaskDuration },
      thread_cpu_ms_per_turn: { [`turns_${early.turns}`]: early.ThreadTime, [`turns_${late.turns}`]: late.ThreadTime },
      script_ms_per_turn: { [`turns_${early.turns}`]: early.ScriptDuration, [`turns_${late.turns}`]: late.ScriptDuration },
      task_last_window_over_second: round(late.TaskDuration / early.TaskDuration),
      thread_cpu_last_window_over_second: round(late.ThreadTime / early.ThreadTime),
      script_last_window_over_second: round(late.ScriptDuration / early.ScriptDuration),
    });
  } finally {
    await browser.close();
    await server.stop();
    await emulator.close();
  }
}
