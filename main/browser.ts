/** `npm run browser -- --port <n>`: Parley in a browser tab, for machines without the desktop shell. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCopilot } from '../app/host/copilot';
import { startBrowserMode } from './browserServer';
import { consoleLogger } from './log';
import { nodeCopilotDeps } from './nodeDeps';

const log = consoleLogger('browser');
const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a whole number from 0 to 65535, not "${values.port}".`);
  process.exit(2);
}

const copilot = createCopilot(nodeCopilotDeps(process.env, log));
try {
  await copilot.start();
  const rendererDir = join(fileURLToPath(new URL('.', import.meta.url)), '../renderer');
  const browser = await startBrowserMode({ copilot, rendererDir, log, port });
  console.log(`Parley is running in browser mode: open ${browser.url}`);
  const stop = (): void => {
    void Promise.all([browser.close(), copilot.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`Parley could not start browser mode on port ${port}: ${(error as Error).message}`);
  await copilot.close();
  process.exit(1);
}
