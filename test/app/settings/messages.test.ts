/** Settings errors reach the user in Parley's words, one sentence per field, never zod's own text. */
import { describe, expect, it } from 'vitest';
import { settingsErrorMap, settingsFieldErrors } from '../../../app/settings/messages';
import { settingsPatchSchema } from '../../../app/settings/schema';

/** The field errors a patch gets, as the settings service words them. */
function errorsOf(patch: unknown): Record<string, string> {
  const parsed = settingsPatchSchema.safeParse(patch, { error: settingsErrorMap });
  if (parsed.success) return {};
  return settingsFieldErrors(parsed.error.issues);
}

describe('settings messages', () => {
  it('words every field of a bad patch at once, in sentences naming the field', () => {
    expect(
      errorsOf({
        agentModel: '',
        hotkey: 'A',
        workspaceFolders: ['projects'],
        rolloverMinutes: 90,
        compaction: { mode: 'server', thresholdTokens: 10 },
        baseUrl: 'not a url',
        instructions: 'x'.repeat(20_001),
        turnMode: 'telepathy',
      }),
    ).toEqual({
      agentModel: 'Choose an agent model or type its name.',
      hotkey: 'The hotkey needs Ctrl/Cmd, Alt or Shift with its key: “A” alone would fire every time you press A in any program.',
      workspaceFolders: '“projects” is not a full path; give the whole folder, like /home/you/projects or C:\\Users\\you\\projects.',
      rolloverMinutes: 'The rollover time (minutes) can be at most 59.',
      compaction: 'The compaction threshold (tokens) must be at least 1000.',
      baseUrl: 'The base URL must be a full address, like https://api.openai.com/v1.',
      instructions: 'The instructions can be at most 20000 characters long.',
      turnMode: 'The turn mode must be one of: push_to_talk, server_vad, semantic_vad, pipeline.',
    });
  });

  it('never lets zod word a message itself', () => {
    const patches: unknown[] = [
      { rolloverMinutes: 'soon' },
      { vad: { threshold: 2, prefixPaddingMs: 1.5, silenceDurationMs: 50 } },
      { workspaceFolders: Array.from({ length: 21 }, (_, index) => `/w/${index}`) },
      { toolPermissions: { save_note: 'sometimes' } },
      { mcpServers: [{ name: 'x', transport: 'carrier-pigeon' }] },
      { earcons: 'yes' },
      { colour: 'blue' },
    ];
    const messages = patches.flatMap((patch) => Object.values(errorsOf(patch)));
    expect(messages).toHaveLength(patches.length);
    for (const message of messages) {
      expect(message).not.toMatch(/expected|Invalid input|Too (small|big)|Unrecognized|>=|<=/);
      expect(message).toMatch(/^[“A-Z].*\.$/);
    }
    expect(errorsOf({ workspaceFolders: Array.from({ length: 21 }, (_, index) => `/w/${index}`) })).toEqual({ workspaceFolders: 'Parley takes at most 20 workspace folders.' });
    expect(errorsOf({ colour: 'blue' })).toEqual({ settings: '“colour” is not a setting Parley has.' });
  });

  it('takes a hotkey with a modifier or a bare function key, and refuses a lone letter or modifiers alone', () => {
    for (const hotkey of ['CommandOrControl+Shift+Space', 'Alt+A', 'Shift+F2', 'F9', 'Super+K']) expect(errorsOf({ hotkey })).toEqual({});
    expect(errorsOf({ hotkey: 'Space' }).hotkey).toMatch(/needs Ctrl\/Cmd, Alt or Shift/);
    expect(errorsOf({ hotkey: 'Ctrl+Shift' }).hotkey).toBe('The hotkey needs a key besides Ctrl/Cmd, Alt and Shift, like Ctrl+Shift+Space.');
  });

  it('takes absolute folders on every platform and refuses relative ones', () => {
    expect(errorsOf({ workspaceFolders: ['/home/me', 'C:\\Users\\me', 'D:/work', '\\\\server\\share'] })).toEqual({});
    for (const folder of ['projects', './projects', '~/projects', 'C:relative']) expect(errorsOf({ workspaceFolders: [folder] }).workspaceFolders).toContain(`“${folder}” is not a full path`);
  });
});
