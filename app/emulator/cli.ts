/** `npm run emulator -- --port <n> [--host 127.0.0.1]`: the emulator on its own. */
import { parseArgs } from 'node:util';
import { startEmulator } from './server';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '4010' }, host: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a whole number from 0 to 65535, not "${values.port}".`);
  process.exit(2);
}
try {
  const emulator = await startEmulator({ port, host: values.host });
  console.log(`Parley emulator listening on ${emulator.baseUrl} (WebSocket: ${emulator.baseUrl.replace(/^http/, 'ws')}/responses)`);
  const stop = (): void => void emulator.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`The emulator could not start on ${values.host}:${port}: ${(error as Error).message}`);
  process.exit(1);
}
