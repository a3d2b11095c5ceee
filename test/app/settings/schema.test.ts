import { describe, expect, it } from 'vitest';
import { modelWarning } from '../../../app/settings/models';
import { defaultSettings, loadSettings, settingsPatchSchema, settingsVersion } from '../../../app/settings/schema';

describe('settings', () => {
  it('loads a valid file as it is', () => {
    const saved = { ...defaultSettings, voice: 'cedar', turnMode: 'server_vad' };
    expect(loadSettings(saved)).toEqual({ settings: saved, problems: [], migratedFrom: null });
  });

  it('keeps the good fields of a damaged file and names each bad one', () => {
    const loaded = loadSettings({ ...defaultSettings, voice: 'robot', vad: { threshold: 3 }, hotkey: 'F9', colour: 'blue' });
    expect(loaded.settings).toMatchObject({ voice: defaultSettings.voice, vad: defaultSettings.vad, hotkey: 'F9' });
    expect(loaded.problems).toHaveLength(3);
    expect(loaded.problems).toContain('"voice" was invalid (The voice must be one of: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar.); the default is in use.');
    expect(loaded.problems.join('\n')).toMatch(/"vad" was invalid/);
    expect(loaded.problems.join('\n')).toMatch(/"colour" is not a Parley setting/);
  });

  it('replaces something that is not a settings object with defaults, saying so', () => {
    expect(loadSettings('oops')).toMatchObject({ settings: defaultSettings, problems: [expect.stringContaining('defaults are in use')] });
    expect(loadSettings(null).settings).toEqual(defaultSettings);
  });

  it('migrates the unversioned format', () => {
    const loaded = loadSettings({ pushToTalkKey: 'F8', model: 'gpt-5' });
    expect(loaded).toMatchObject({ migratedFrom: 0, problems: [], settings: { hotkey: 'F8', agentModel: 'gpt-5', version: settingsVersion, historyRetentionDays: null } });
  });

  it('accepts a partial patch and rejects bad values with a readable reason', () => {
    expect(settingsPatchSchema.safeParse({ turnMode: 'semantic_vad', eagerness: 'high' }).success).toBe(true);
    const bad = settingsPatchSchema.safeParse({ baseUrl: 'ftp://x', rolloverMinutes: 90 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['baseUrl', 'rolloverMinutes']);
    expect(settingsPatchSchema.safeParse({ version: 2 }).success).toBe(false);
  });
});

describe('model settings', () => {
  it('accepts models from the table and names the table does not know', () => {
    expect(settingsPatchSchema.safeParse({ realtimeModel: 'gpt-realtime-2', agentModel: 'gpt-5.5', transcriptionModel: 'gpt-live-transcribe', speechModel: 'tts-1' }).success).toBe(true);
    const custom = settingsPatchSchema.safeParse({ agentModel: 'ft:gpt-5.4-mini:acme::abc123' });
    expect(custom.success).toBe(true);
    expect(modelWarning('agent', custom.data?.agentModel ?? '', new Date('2026-12-01'))).toBe("Parley doesn't know the agent model ft:gpt-5.4-mini:acme::abc123; it will be sent as typed and the service may refuse it. Check the spelling.");
  });

  it('refuses what cannot be a model name, saying why', () => {
    const bad = settingsPatchSchema.safeParse({ realtimeModel: '', agentModel: 'gpt 5', speechModel: 'x'.repeat(101) });
    expect(bad.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
      'realtimeModel: Choose a voice model or type its name.',
      'agentModel: An agent model name has only letters, digits and . _ : - (no spaces).',
      'speechModel: A speech model name is at most 100 characters.',
    ]);
  });

  it('takes reasoning efforts and parallel tool calls, and refuses others', () => {
    expect(settingsPatchSchema.safeParse({ realtimeReasoningEffort: 'xhigh', realtimeParallelToolCalls: false, agentReasoningEffort: 'none' }).success).toBe(true);
    const bad = settingsPatchSchema.safeParse({ realtimeReasoningEffort: 'max', realtimeParallelToolCalls: 'yes' });
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['realtimeReasoningEffort', 'realtimeParallelToolCalls']);
    expect(bad.error?.issues[0]?.message).toBe('Choose auto, minimal, low, medium, high or xhigh.');
  });

  it('fills the new fields in for a settings file saved before they existed', () => {
    const { realtimeReasoningEffort: _effort, realtimeParallelToolCalls: _parallel, agentReasoningEffort: _agent, ...old } = defaultSettings;
    const loaded = loadSettings({ ...old, realtimeModel: 'gpt-realtime' });
    expect(loaded.problems).toEqual([]);
    expect(loaded.settings).toMatchObject({ realtimeModel: 'gpt-realtime', realtimeReasoningEffort: 'low', realtimeParallelToolCalls: true, agentReasoningEffort: 'auto' });
  });
});
