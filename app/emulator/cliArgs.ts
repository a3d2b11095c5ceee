/** The emulator's command line, parsed into options or a message saying what is wrong. */
import { parseArgs } from 'node:util';
import { defaultLatency } from './latency';
import type { EmulatorOptions } from './server';

export const usage = `Usage: npm run emulator -- [--port 4010] [--host 127.0.0.1] [--allow-non-loopback] [--tls]
  [--rtt-ms ${defaultLatency.rttMs}] [--input-token-ms ${defaultLatency.uncachedInputTokenMs}] [--output-tps ${defaultLatency.outputTokensPerSecond}] [--http-setup-ms ${defaultLatency.httpSetupMs}]
  [--connection-limit-s 3600] [--session-limit-s 3600] [--revoked-key KEY]…
Latency figures are simulated. The control endpoint POST /_emulator/faults takes a JSON fault.`;

export type ParsedArgs = { ok: true; options: EmulatorOptions } | { ok: false; message: string };

export function parseEmulatorArgs(argv: readonly string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string', default: '4010' },
        host: { type: 'string', default: '127.0.0.1' },
        'allow-non-loopback': { type: 'boolean', default: false },
        tls: { type: 'boolean', default: false },
        'rtt-ms': { type: 'string' },
        'input-token-ms': { type: 'string' },
        'output-tps': { type: 'string' },
        'http-setup-ms': { type: 'string' },
        'connection-limit-s': { type: 'string' },
        'session-limit-s': { type: 'string' },
        'revoked-key': { type: 'string', multiple: true },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return { ok: false, message: `${(error as Error).message}\n${usage}` };
  }
  if (values.help) return { ok: false, message: usage };

  const problems: string[] = [];
  const number = (name: string, raw: string | undefined, check: (value: number) => boolean, rule: string): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) {
      problems.push(`--${name} must be ${rule}, not "${raw}".`);
      return undefined;
    }
    return value;
  };
  const port = number('port', values.port, (value) => Number.isInteger(value) && value >= 0 && value <= 65535, 'a whole number from 0 to 65535');
  const rttMs = number('rtt-ms', values['rtt-ms'], (value) => value >= 0, 'zero or more');
  const uncachedInputTokenMs = number('input-token-ms', values['input-token-ms'], (value) => value >= 0, 'zero or more');
  const outputTokensPerSecond = number('output-tps', values['output-tps'], (value) => value >= 0, 'zero (no pacing) or more');
  const httpSetupMs = number('http-setup-ms', values['http-setup-ms'], (value) => value >= 0, 'zero or more');
  const connectionLimitS = number('connection-limit-s', values['connection-limit-s'], (value) => value > 0, 'more than zero');
  const sessionLimitS = number('session-limit-s', values['session-limit-s'], (value) => value > 0, 'more than zero');
  if (problems.length > 0) return { ok: false, message: `${problems.join('\n')}\n${usage}` };

  const latency = Object.fromEntries(
    Object.entries({ rttMs, uncachedInputTokenMs, outputTokensPerSecond, httpSetupMs }).filter(([, value]) => value !== undefined),
  );
  return {
    ok: true,
    options: {
      port: port ?? 4010,
      host: values.host,
      allowNonLoopback: values['allow-non-loopback'],
      tls: values.tls,
      latency,
      ...(connectionLimitS === undefined ? {} : { connectionLimitMs: connectionLimitS * 1000 }),
      ...(sessionLimitS === undefined ? {} : { realtimeSessionLimitMs: sessionLimitS * 1000 }),
      revokedKeys: values['revoked-key'] ?? [],
    },
  };
}
