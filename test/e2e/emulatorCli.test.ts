/** `npm run emulator` as a user runs it: the built CLI prints one line with its base URL. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/browserMode';

function run(args: string[]): Promise<{ firstLine: string; code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'out/main/emulator.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let firstLine = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      // Node may print a warning of its own first; the emulator's line is the one that counts.
      const listening = output.split('\n').find((line) => line.startsWith('Parley emulator listening'));
      if (firstLine === '' && listening !== undefined && output.includes(`${listening}\n`)) {
        firstLine = listening;
        setTimeout(() => child.kill('SIGTERM'), 50);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => resolve({ firstLine: firstLine || (output.split('\n')[0] ?? ''), code, output }));
  });
}

describe('npm run emulator', () => {
  it('prints its base URL on one line, over TLS when asked', async () => {
    const plain = await run(['--port', '0', '--rtt-ms', '5']);
    expect(plain.firstLine).toMatch(/^Parley emulator listening on http:\/\/127\.0\.0\.1:\d+\/v1 \(simulated latency: rtt 5 ms/);
    const tls = await run(['--port', '0', '--tls']);
    expect(tls.firstLine).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(tls.output).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('refuses a non-loopback host and bad flags with a clear message', async () => {
    const open = await run(['--port', '0', '--host', '0.0.0.0']);
    expect(open.code).toBe(1);
    expect(open.output).toContain('binds loopback only');
    const bad = await run(['--port', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--port must be a whole number');
  });
});
