/**
 * `npm run browser -- [--port <n>] [--data-dir <folder>] [--verbose]`: Parley in a browser tab, for
 * machines without the desktop shell. Its first line of output is the page's URL; logs are shown
 * with `--verbose`. Settings and conversation history live in the data folder (default
 * `~/.config/parley`, or `$XDG_CONFIG_HOME/parley`).
 */
import * as fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { warmBuiltins } from '../app/agent/builtins';
import { createCopilot } from '../app/host/copilot';
import { readyLines, startBrowserMode, startupLog } from './browserServer';
import { consoleLogger } from './log';
import { defaultDataDir, nodeCopilotDeps } from './nodeDeps';
import { copilotSettingsStore, createSettingsFile } from './settingsStore';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'data-dir': { type: 'string' }, verbose: { type: 'boolean', default: false } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a whole number from 0 to 65535, not "${values.port}".`);
  process.exit(2);
}

const startup = startupLog(consoleLogger('browser'), values.verbose);
const log = startup.log;
const dataDir = values['data-dir'] === undefined ? defaultDataDir(process.env) : resolve(values['data-dir']);
const settingsFile = createSettingsFile({ dir: dataDir, fs, now: Date.now });
const loaded = await settingsFile.load();
const deps = nodeCopilotDeps(process.env, log, { dataDir });
let emulatorBaseUrl: string | null = null;
const copilot = createCopilot({
  ...deps,
  settingsStore: copilotSettingsStore(settingsFile, loaded),
  startEmulator: async () => {
    const emulator = await deps.startEmulator();
    emulatorBaseUrl = emulator.baseUrl;
    return emulator;
  },
});
try {
  await copilot.start();
  const rendererDir = join(fileURLToPath(new URL('.', import.meta.url)), '../renderer');
  const browser = await startBrowserMode({ copilot, rendererDir, log, port });
  for (const line of readyLines(browser.url, emulatorBaseUrl)) console.log(line);
  startup.ready();
  // After the URL is out, so warming never delays start-up.
  void warmBuiltins();
  const stop = (): void => {
    void Promise.all([browser.close(), copilot.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  startup.ready();
  console.error(`Parley could not start browser mode on port ${port}: ${(error as Error).message}`);
  await copilot.close();
  process.exit(1);
}
