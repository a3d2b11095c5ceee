/** What the settings panel's echo choices mean for the voice session. */
import { describe, expect, it } from 'vitest';
import { voiceSettingsOf } from '../../../app/host/copilot';
import { defaultSettings } from '../../../app/settings/schema';

describe('echo choices with speakers', () => {
  it('cancels the echo unless the user picks the gate, and keeps nothing out when off', () => {
    const on = (echoCancellation: typeof defaultSettings.echoCancellation) => voiceSettingsOf({ ...defaultSettings, echo: 'speakers', echoCancellation });
    expect(on('auto')).toMatchObject({ echo: 'speakers', echoCanceller: 'builtin' });
    expect(on('gate')).toMatchObject({ echo: 'speakers', echoCanceller: 'gate' });
    expect(on('builtin')).toMatchObject({ echo: 'speakers', echoCanceller: 'builtin' });
    // Off protects nothing: the mic is as open as with headphones.
    expect(on('off')).toMatchObject({ echo: 'headphones' });
    expect(voiceSettingsOf({ ...defaultSettings, echo: 'headphones', echoCancellation: 'builtin' })).toMatchObject({ echo: 'headphones' });
  });
});
