/** Loading old and partial settings files, and applying a patch: what survives, what is reported. */
import { describe, expect, it } from 'vitest';
import { applyPatch, defaultSettings, loadSettings } from '../../../app/settings/schema';

describe('settings files', () => {
  it('migrates an unversioned file that never set the renamed fields without inventing problems', () => {
    const loaded = loadSettings({ earcons: false });
    expect(loaded.problems).toEqual([]);
    expect(loaded.migratedFrom).toBe(0);
    expect(loaded.settings.hotkey).toBe(defaultSettings.hotkey);
    expect(loaded.settings.agentModel).toBe(defaultSettings.agentModel);
    expect(loaded.settings.earcons).toBe(false);
  });

  it('starts shown, not minimised, by default', () => {
    expect(defaultSettings.startMinimised).toBe(false);
  });

  it('applies a patch over the current settings, leaving the rest', () => {
    const patched = applyPatch(defaultSettings, { earcons: !defaultSettings.earcons });
    expect(patched).toEqual({ ...defaultSettings, earcons: !defaultSettings.earcons });
  });
});
