/**
 * `npm run browser` as a user runs it (the built `node out/main/browser.js`): the page's URL is
 * the first line, the embedded emulator's URL has a line of its own, and logs need `--verbose`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorRootIn, runBrowserMode, type RunningBrowserMode } from '../support/browserMode';

let server: RunningBrowserMode | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const urlLine = /^Parley is running in browser mode: open http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/;
const emulatorLine = /^Embedded emulator \(offline, no OPENAI_API_KEY\): http:\/\/127\.0\.0\.1:\d+\/v1$/m;

describe('npm run browser', () => {
  it('prints its URL first and the emulator URL on the next line, with no log lines', async () => {
    server = await runBrowserMode();
    const running = server;
    await expect.poll(() => running.output()).toMatch(emulatorLine);
    const lines = running.output().split('\n');
    expect(lines[0]).toMatch(urlLine);
    expect(lines[1]).toMatch(emulatorLine);
    // The start-up logs (emulator, agent socket, warmup) were all written before the URL, if at all.
    expect(running.output()).not.toContain('[browser]');
    const root = emulatorRootIn(running.output());
    const fault = await fetch(`${root}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'evict_cache' }) });
    expect(fault.status).toBe(200);
  });

  it('with --verbose, also prints its logs', async () => {
    server = await runBrowserMode({}, ['--verbose']);
    const running = server;
    await expect.poll(() => running.output()).toMatch(emulatorLine);
    expect(running.output()).toMatch(/info \[browser\] no OPENAI_API_KEY set: running on the embedded emulator/);
    expect(running.output()).toMatch(/info \[browser\] agent socket open/);
    expect(running.output().split('\n').filter((line) => urlLine.test(line))).toHaveLength(1);
  });
});
