/**
 * The soak harness itself stays bounded: what it asks the emulator to keep must not grow with the
 * run, or the soak measures its own bookkeeping instead of the session (it once kept 1000
 * requests, each a full resend of the conversation: 888 MB of heap at 2,000 turns).
 */
import { describe, expect, it } from 'vitest';
import { soak, soakHistoryLimit } from '../bench/soak';

describe('the soak harness', () => {
  it('keeps only a few of the emulator’s requests however many turns run', async () => {
    const report = await soak('off', 24, 3, 1000);
    expect(report).toMatchObject({ crashes: 0, lostTurns: 0, hangs: 0 });
    // 24 turns, half with a tool step, plus warmups and resends: far more requests than are kept.
    expect(report.toolRuns).toBe(12);
    expect(report.emulatorRequestsKept).toBe(soakHistoryLimit);
    expect(soakHistoryLimit).toBeLessThanOrEqual(16);
  }, 60_000);
});
