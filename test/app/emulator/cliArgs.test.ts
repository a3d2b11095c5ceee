import { describe, expect, it } from 'vitest';
import { parseEmulatorArgs } from '../../../app/emulator/cliArgs';
import { startEmulator } from '../../../app/emulator/server';

describe('emulator command line', () => {
  it('reads port, host, TLS, latency and limits', () => {
    expect(parseEmulatorArgs(['--port', '5000', '--tls', '--rtt-ms', '25', '--output-tps', '0', '--connection-limit-s', '90', '--revoked-key', 'sk-a', '--revoked-key', 'sk-b'])).toEqual({
      ok: true,
      options: {
        port: 5000,
        host: '127.0.0.1',
        allowNonLoopback: false,
        tls: true,
        latency: { rttMs: 25, outputTokensPerSecond: 0 },
        connectionLimitMs: 90_000,
        revokedKeys: ['sk-a', 'sk-b'],
      },
    });
  });

  it.each([
    [['--port', 'abc'], '--port must be a whole number'],
    [['--port', '70000'], '--port must be a whole number'],
    [['--rtt-ms=-5'], '--rtt-ms must be zero or more'],
    [['--rtt-ms', '-5'], "argument is ambiguous"],
    [['--connection-limit-s', '0'], '--connection-limit-s must be more than zero'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('explains %j', (argv, says) => {
    const parsed = parseEmulatorArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.message).toContain(says);
      expect(parsed.message).toContain('Usage:');
    }
  });

  it('refuses a non-loopback host unless told explicitly', async () => {
    await expect(startEmulator({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });
});
