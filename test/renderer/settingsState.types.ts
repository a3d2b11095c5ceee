/**
 * Compile-time checks of the settings state, run by svelte-check (tsconfig.web.json includes
 * test/renderer): what the panel sets is what the contract's `SettingsPatch` takes.
 */
import type { SettingsState } from '../../renderer/lib/state/Settings.svelte';

export function wrongValues(settings: SettingsState): void {
  settings.set('rolloverMinutes', 30);
  settings.set('turnMode', 'semantic_vad');
  // @ts-expect-error the rollover is a number of minutes
  settings.set('rolloverMinutes', '30');
  // @ts-expect-error turn modes are the listed ones
  settings.set('turnMode', 'always_on');
  // @ts-expect-error the settings version is not the panel's to change
  settings.set('version', 1);
  // @ts-expect-error there is no such setting
  settings.set('notASetting', true);
}
