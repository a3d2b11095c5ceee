import { describe, expect, it } from 'vitest';
import type { CopilotBridge, SettingsView } from '../../app/contract';
import { defaultSettings } from '../../app/settings/schema';
import { SettingsState } from '../../renderer/lib/state/Settings.svelte';

const view: SettingsView = { settings: { ...defaultSettings }, key: { set: false, lastFour: null, storage: 'keychain', note: null }, problems: [] };

describe('settings being edited', () => {
  it('keeps an edit made before a second load of the settings answers', async () => {
    const bridge = { getSettings: async () => ({ ok: true, value: view }), listDevices: async () => ({ ok: true, value: { inputs: [], outputs: [] } }), onEvent: () => () => undefined } as unknown as CopilotBridge;
    const settings = new SettingsState(bridge);
    await settings.load();
    settings.set('voice', 'cedar');
    await settings.load();
    expect(settings.draft.voice).toBe('cedar');
    expect(settings.dirty).toBe(true);
  });
});
