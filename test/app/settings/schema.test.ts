import { describe, expect, it } from 'vitest';
import { defaultSettings, loadSettings, settingsPatchSchema } from '../../../app/settings/schema';

describe('settings', () => {
  it('loads a valid file as it is', () => {
    const saved = { ...defaultSettings, voice: 'cedar', turnMode: 'server_vad' };
    expect(loadSettings(saved)).toEqual({ settings: saved, problems: [], migratedFrom: null });
  });

  it('keeps the good fields of a damaged file and names each bad one', () => {
    const loaded = loadSettings({ ...defaultSettings, voice: 'robot', vad: { threshold: 3 }, hotkey: 'F9', colour: 'blue' });
    expect(loaded.settings).toMatchObject({ voice: defaultSettings.voice, vad: defaultSettings.vad, hotkey: 'F9' });
    expect(loaded.problems).toHaveLength(3);
    expect(loaded.problems.join('\n')).toMatch(/"voice" was invalid/);
    expect(loaded.problems.join('\n')).toMatch(/"vad" was invalid/);
    expect(loaded.problems.join('\n')).toMatch(/"colour" is not a Parley setting/);
  });

  it('replaces something that is not a settings object with defaults, saying so', () => {
    expect(loadSettings('oops')).toMatchObject({ settings: defaultSettings, problems: [expect.stringContaining('defaults are in use')] });
    expect(loadSettings(null).settings).toEqual(defaultSettings);
  });

  it('migrates the unversioned format', () => {
    const loaded = loadSettings({ pushToTalkKey: 'F8', model: 'gpt-5' });
    expect(loaded).toMatchObject({ migratedFrom: 0, problems: [], settings: { hotkey: 'F8', agentModel: 'gpt-5', version: 1 } });
  });

  it('accepts a partial patch and rejects bad values with a readable reason', () => {
    expect(settingsPatchSchema.safeParse({ turnMode: 'semantic_vad', eagerness: 'high' }).success).toBe(true);
    const bad = settingsPatchSchema.safeParse({ baseUrl: 'ftp://x', rolloverMinutes: 90 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['baseUrl', 'rolloverMinutes']);
    expect(settingsPatchSchema.safeParse({ version: 2 }).success).toBe(false);
  });
});
