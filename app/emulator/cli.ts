/** `npm run emulator -- --port <n> [--host 127.0.0.1] [--tls] …`: the emulator on its own. */
import { parseEmulatorArgs } from './cliArgs';
import { controlPath, startEmulator } from './server';

const parsed = parseEmulatorArgs(process.argv.slice(2));
if (!parsed.ok) {
  console.error(parsed.message);
  process.exit(2);
}
const { options } = parsed;
try {
  const emulator = await startEmulator(options);
  const { rttMs, uncachedInputTokenMs, outputTokensPerSecond, httpSetupMs } = emulator.latency;
  console.log(
    `Parley emulator listening on ${emulator.baseUrl} (simulated latency: rtt ${rttMs} ms, ${uncachedInputTokenMs} ms per uncached input token, ` +
      `${outputTokensPerSecond} output tokens/s, HTTP setup ${httpSetupMs} ms; faults: POST ${emulator.baseUrl.replace(/\/v1$/, '')}${controlPath})`,
  );
  if (emulator.certificate !== null) console.log(`TLS certificate (trust it in clients):\n${emulator.certificate}`);
  const stop = (): void => void emulator.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`The emulator could not start on ${options.host}:${options.port}: ${(error as Error).message}`);
  process.exit(1);
}
