/**
 * Every numeric setting's bounds, at the edge and one step past it: what the settings panel lets
 * through is what the sessions can send (a rollover at 60 minutes would meet the service's own
 * limit first; VAD silence under 100 ms ends turns mid-word).
 */
import { describe, expect, it } from 'vitest';
import { defaultSettings, settingsPatchSchema } from '../../../app/settings/schema';

const accepts = (patch: Record<string, unknown>) => settingsPatchSchema.safeParse(patch).success;
const vad = (change: Record<string, unknown>) => ({ vad: { ...defaultSettings.vad, ...change } });
const compaction = (thresholdTokens: number) => ({ compaction: { ...defaultSettings.compaction, thresholdTokens } });

describe('settings bounds', () => {
  it.each([
    ['vad.threshold', vad({ threshold: 0 }), vad({ threshold: -0.01 })],
    ['vad.threshold', vad({ threshold: 1 }), vad({ threshold: 1.01 })],
    ['vad.prefixPaddingMs', vad({ prefixPaddingMs: 0 }), vad({ prefixPaddingMs: -1 })],
    ['vad.prefixPaddingMs', vad({ prefixPaddingMs: 2000 }), vad({ prefixPaddingMs: 2001 })],
    ['vad.prefixPaddingMs', vad({ prefixPaddingMs: 300 }), vad({ prefixPaddingMs: 300.5 })],
    ['vad.silenceDurationMs', vad({ silenceDurationMs: 100 }), vad({ silenceDurationMs: 99 })],
    ['vad.silenceDurationMs', vad({ silenceDurationMs: 5000 }), vad({ silenceDurationMs: 5001 })],
    ['compaction.thresholdTokens', compaction(1000), compaction(999)],
    ['compaction.thresholdTokens', compaction(2_000_000), compaction(2_000_001)],
    ['rolloverMinutes', { rolloverMinutes: 1 }, { rolloverMinutes: 0.99 }],
    ['rolloverMinutes', { rolloverMinutes: 59 }, { rolloverMinutes: 60 }],
    ['hotkey', { hotkey: 'Alt+A' }, { hotkey: '' }],
    ['hotkey', { hotkey: `Alt+${'x'.repeat(60)}` }, { hotkey: `Alt+${'x'.repeat(61)}` }],
    ['instructions', { instructions: 'x'.repeat(20_000) }, { instructions: 'x'.repeat(20_001) }],
    ['inputDevice', { inputDevice: 'x'.repeat(200) }, { inputDevice: 'x'.repeat(201) }],
    ['outputDevice', { outputDevice: 'x'.repeat(200) }, { outputDevice: 'x'.repeat(201) }],
    ['workspaceFolders', { workspaceFolders: Array.from({ length: 20 }, (_, index) => `/w/${index}`) }, { workspaceFolders: Array.from({ length: 21 }, (_, index) => `/w/${index}`) }],
    ['workspaceFolders', { workspaceFolders: ['/'] }, { workspaceFolders: [''] }],
  ])('%s: takes the edge, refuses one step past it', (_name, edge, past) => {
    expect(accepts(edge)).toBe(true);
    expect(accepts(past)).toBe(false);
  });

  it('says which field is out of bounds', () => {
    const result = settingsPatchSchema.safeParse({ rolloverMinutes: 60 });
    expect(result.error?.issues[0]?.path).toEqual(['rolloverMinutes']);
  });
});
