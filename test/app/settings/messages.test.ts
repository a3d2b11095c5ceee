/** Settings errors reach the user in Parley's words, one sentence per field, never zod's own text. */
import { describe, expect, it } from 'vitest';
import { settingsErrorMap, settingsFieldErrors } from '../../../app/settings/messages';
import { settingsPatchSchema } from '../../../app/settings/schema';
import type { z } from 'zod';

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

  it('names the field in every message, nested ones by their own name', () => {
    const cases: [unknown, Record<string, string>][] = [
      [{ realtimeModel: 7 }, { realtimeModel: 'The voice model must be text.' }],
      [{ realtimeParallelToolCalls: 'yes' }, { realtimeParallelToolCalls: 'Calling several tools at once must be on or off.' }],
      [{ agentModel: 7 }, { agentModel: 'The agent model must be text.' }],
      [{ voice: 'robot' }, { voice: 'The voice must be one of: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar.' }],
      [{ pipelineListen: 'semantic_vad' }, { pipelineListen: 'Pipeline turns must be one of: push_to_talk, server_vad.' }],
      [{ transcriptionModel: 7 }, { transcriptionModel: 'The transcription model must be text.' }],
      [{ speechModel: 7 }, { speechModel: 'The speech model must be text.' }],
      [{ vad: 7 }, { vad: 'Voice detection must be a group of values.' }],
      [{ vad: { threshold: 2, prefixPaddingMs: -1, silenceDurationMs: 50 } }, { vad: 'The speech threshold can be at most 1. The audio kept before speech (ms) must be at least 0. The silence that ends a turn (ms) must be at least 100.' }],
      [{ vad: { threshold: 0.5, prefixPaddingMs: 1.5, silenceDurationMs: 500 } }, { vad: 'The audio kept before speech (ms) must be a whole number.' }],
      [{ eagerness: 'eager' }, { eagerness: 'Eagerness must be one of: low, medium, high, auto.' }],
      [{ echo: 'room' }, { echo: 'Speakers or headphones must be one of: speakers, headphones.' }],
      [{ echoCancellation: 'magic' }, { echoCancellation: 'Echo cancellation must be one of: auto, builtin, system, gate, off.' }],
      [{ audioFormat: 'mp3' }, { audioFormat: 'The audio format must be one of: pcm16, pcmu, pcma.' }],
      [{ inputDevice: 'm'.repeat(201) }, { inputDevice: 'The microphone can be at most 200 characters long.' }],
      [{ outputDevice: 7 }, { outputDevice: 'The speaker must be text.' }],
      [{ meetingAudioDevice: 7 }, { meetingAudioDevice: 'The meeting audio device must be text.' }],
      [{ earcons: 'loud' }, { earcons: 'Sounds must be on or off.' }],
      [{ store: 'yes' }, { store: 'Letting OpenAI store responses must be on or off.' }],
      [{ compaction: 7 }, { compaction: 'Compaction must be a group of values.' }],
      [{ compaction: { mode: 'often', thresholdTokens: 3_000_000 } }, { compaction: 'The compaction mode must be one of: off, server, endpoint. The compaction threshold (tokens) can be at most 2000000.' }],
      [{ rolloverMinutes: 0 }, { rolloverMinutes: 'The rollover time (minutes) must be at least 1.' }],
      [{ toolPermissions: 7 }, { toolPermissions: 'A tool permission must be a group of values.' }],
      [{ toolPermissions: { save_note: 'sometimes' } }, { toolPermissions: 'A tool permission must be one of: ask, allow, deny.' }],
      [{ workspaceFolders: '/home/me' }, { workspaceFolders: 'The list of workspace folders must be a list.' }],
      [{ mcpServers: Array.from({ length: 33 }, (_, index) => ({ name: `s${index}`, transport: 'stdio', command: 'mcp' })) }, { mcpServers: 'Parley takes at most 32 MCP servers.' }],
      [{ mcpServers: [{ name: 'notes', transport: 'stdio', command: '' }] }, { mcpServers: "An MCP server’s command can't be empty." }],
      [{ mcpServers: [{ name: 'notes', transport: 'http', url: 'nowhere' }] }, { mcpServers: 'An MCP server’s address must be a full address, like https://api.openai.com/v1.' }],
      [{ hotkey: 7 }, { hotkey: 'The hotkey must be text.' }],
      [{ mcpServers: 7 }, { mcpServers: 'The list of MCP servers must be a list.' }],
      [{ mcpServers: [{ name: 'notes', transport: 'stdio', command: 'mcp', args: 'all', enabled: 'yes' }] }, { mcpServers: 'An MCP server’s arguments must be a list. An MCP server’s on switch must be on or off.' }],
      [{ realtimeReasoningEffort: 7, agentReasoningEffort: 'max', historyRetentionDays: 7 }, { realtimeReasoningEffort: 'Choose auto, minimal, low, medium, high or xhigh.', agentReasoningEffort: 'Choose auto, none, minimal, low, medium, high or xhigh.', historyRetentionDays: 'Keep history for ever, 30 days or 90 days.' }],
      [{ startMinimised: 1 }, { startMinimised: 'Starting minimised must be on or off.' }],
      [{ hideFromCapture: 1 }, { hideFromCapture: 'Hiding Parley from screen sharing must be on or off.' }],
      [{ colour: 'blue', size: 'large' }, { settings: '“colour”, “size” are not settings Parley has.' }],
    ];
    for (const [patch, expected] of cases) expect(errorsOf(patch), JSON.stringify(patch)).toEqual(expected);
  });

  it('words the rules the schema does not use today, so a new rule never shows zod’s text', () => {
    const say = (issue: Record<string, unknown>) => settingsErrorMap({ path: ['instructions'], input: undefined, message: 'zod', ...issue } as unknown as Parameters<typeof settingsErrorMap>[0]);
    expect(say({ code: 'too_small', origin: 'string', minimum: 3, inclusive: true })).toBe('The instructions needs at least 3 characters.');
    expect(say({ code: 'too_small', origin: 'array', minimum: 2, inclusive: true })).toBe('The instructions needs at least 2.');
    expect(say({ code: 'too_small', origin: 'number', minimum: 0, inclusive: false })).toBe('The instructions must be more than 0.');
    expect(say({ code: 'too_big', origin: 'number', maximum: 9, inclusive: false })).toBe('The instructions must be less than 9.');
    expect(say({ code: 'too_big', origin: 'array', maximum: 4, inclusive: true })).toBe('The instructions can hold at most 4.');
    expect(say({ code: 'invalid_type', expected: 'number', input: Number.NaN })).toBe('The instructions must be a number.');
    expect(say({ code: 'invalid_type', expected: 'bigint', input: 'x' })).toBe('The instructions must be a bigint.');
    expect(say({ code: 'invalid_format', format: 'email' })).toBe('The instructions is not written the way Parley expects.');
    expect(say({ code: 'not_multiple_of', divisor: 10 })).toBe('The instructions must be a multiple of 10.');
    expect(say({ code: 'unrecognized_keys', keys: ['colour'], path: [] })).toBe('“colour” is not a setting Parley has.');
    expect(say({ code: 'invalid_union', errors: [] })).toBe('The instructions is not one of the values Parley takes.');
    expect(say({ code: 'custom' })).toBe('The instructions is not a value Parley can use.');
    expect(say({ code: 'custom', path: [] })).toBe('This setting is not a value Parley can use.');
  });

  it('joins a field’s different problems once each', () => {
    const issue = (path: string[], message: string) => ({ code: 'custom', path, message, input: undefined }) as z.core.$ZodIssue;
    expect(settingsFieldErrors([issue(['vad', 'threshold'], 'A.'), issue(['vad', 'threshold'], 'A.'), issue(['vad', 'prefixPaddingMs'], 'B.'), issue([], 'C.')])).toEqual({ vad: 'A. B.', settings: 'C.' });
  });
});
