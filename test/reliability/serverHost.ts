/**
 * The servers under attack in their own process, so a test can tell "closed one connection" from
 * "ended the process" (`node --import tsx test/reliability/serverHost.ts`): the embedded emulator
 * and browser mode's bridge. Prints one JSON line with their addresses, then serves until SIGTERM.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noLatency } from '../../app/emulator/latency';
import { startEmulator } from '../../app/emulator/server';
import { createCopilot } from '../../app/host/copilot';
import { startBrowserMode } from '../../main/browserServer';
import { recordingLogger, testDeps } from '../support/copilot';

const emulator = await startEmulator({ latency: noLatency });
const copilot = createCopilot(testDeps({}));
await copilot.start();
const rendererDir = await mkdtemp(join(tmpdir(), 'parley-reliability-'));
await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Parley</title>');
const browser = await startBrowserMode({ copilot, rendererDir, log: recordingLogger() });

process.once('SIGTERM', () => {
  void Promise.all([browser.close(), copilot.close(), emulator.close(), rm(rendererDir, { recursive: true, force: true })]).then(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ emulatorPort: emulator.port, bridgePort: new URL(browser.origin).port, origin: browser.origin, token: browser.token })}\n`);
