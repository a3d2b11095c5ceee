/** Starts the built browser mode as a user would (`node out/main/browser.js`) and finds its URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

export const repoRoot = join(import.meta.dirname, '../..');

/** Where e2e screenshots go (not committed). */
export const resultsDir = join(repoRoot, 'test-results/e2e');

export interface RunningBrowserMode {
  url: string;
  process: ChildProcess;
  /** Milliseconds from spawn to the line with the URL. */
  startupMs: number;
  output: () => string;
  /** Where it keeps settings and history. */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Runs browser mode in its own data folder: a fresh temporary one (removed on stop) unless the
 * test passes `--data-dir` (e.g. to restart on the same history) or `XDG_CONFIG_HOME`.
 */
export async function runBrowserMode(env: Record<string, string | undefined> = {}, args: string[] = []): Promise<RunningBrowserMode> {
  const entry = join(repoRoot, 'out/main/browser.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does).`);
  const given = args.indexOf('--data-dir');
  const configHome = env.XDG_CONFIG_HOME;
  const ownDataDir = given < 0 && configHome === undefined;
  const dataDir = given >= 0 ? (args[given + 1] ?? '') : configHome !== undefined ? join(configHome, 'parley') : mkdtempSync(join(tmpdir(), 'parley-browser-'));
  const started = performance.now();
  const child = spawn(process.execPath, [entry, '--port', '0', ...(ownDataDir ? ['--data-dir', dataDir] : []), ...args], {
    cwd: repoRoot,
    env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`browser mode exited with ${code} before printing its URL:\n${output}`)));
  });
  const startupMs = performance.now() - started;
  return {
    url,
    process: child,
    startupMs,
    output: () => output,
    dataDir,
    stop: async () => {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded emulator's root (e.g. for `/_emulator/faults`), from the line browser mode prints for it. */
export function emulatorRootIn(output: string): string | null {
  return /^Embedded emulator \(offline, no OPENAI_API_KEY\): (http:\/\/127\.0\.0\.1:\d+)\/v1$/m.exec(output)?.[1] ?? null;
}

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter(
    (path): path is string => path !== undefined && path !== '',
  );
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error('Debian Chromium is missing: apt-get install chromium (or set CHROMIUM_PATH).');
  return found;
}

/**
 * Debian Chromium, headless, with the flags this closed network needs (the
 * project README's browser notes), and any a test adds (e.g. a fake screen for `getDisplayMedia`).
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

/** One browser mode and one Chromium for a test file, started before its tests and stopped after. */
export function useBrowserMode(chromiumArgs: readonly string[] = []): { readonly server: RunningBrowserMode; readonly browser: Browser } {
  let server: RunningBrowserMode | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    await mkdir(resultsDir, { recursive: true });
    server = await runBrowserMode();
    browser = await launchChromium(chromiumArgs);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('browser mode is not started yet (use it inside a test)');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get browser() {
      return started(browser);
    },
  };
}

/** Types a message, sends it, and waits for one more finished reply. */
export async function say(page: Page, text: string): Promise<void> {
  const transcript = page.getByRole('region', { name: 'Transcript' });
  const before = await transcript.locator('li[data-role="assistant"][data-status="completed"]').count();
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect.poll(() => transcript.locator('li[data-role="assistant"][data-status="completed"]').count(), { timeout: 15_000 }).toBeGreaterThan(before);
}

/** Queues a fault on the embedded emulator of this browser mode (`POST /_emulator/faults`). */
export async function injectFault(server: RunningBrowserMode, fault: Record<string, unknown>): Promise<void> {
  const root = emulatorRootIn(server.output());
  if (root === null) throw new Error(`browser mode did not say where its emulator is:\n${server.output()}`);
  const response = await fetch(`${root}/_emulator/faults`, { method: 'POST', body: JSON.stringify(fault) });
  if (response.status !== 200) throw new Error(`the emulator refused the fault ${JSON.stringify(fault)}: HTTP ${response.status} ${await response.text()}`);
}
