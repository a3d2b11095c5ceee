/**
 * Parley's settings: defaults, validation and migration for the schema the contract defines
 * (app/contract/settings.ts). A settings file that
 * does not parse, or holds values that do not fit, loses only the bad values (reported), never
 * the whole file and never the app.
 */
import type { z } from 'zod';
import { settingsSchema, settingsVersion, type Settings, type settingsPatchSchema } from '../contract/settings';
import { settingsErrorMap } from './messages';
import { defaultModels, defaultRealtimeReasoningEffort } from './models';

// The shape and its messages live in the contract, which carries settings to the renderer.
export {
  mcpServerSchema,
  settingsPatchSchema,
  settingsSchema,
  settingsVersion,
  type McpServerSettings,
  type Settings,
  type SettingsPatch,
} from '../contract/settings';

export const defaultSettings: Settings = {
  version: settingsVersion,
  // The defaults and why: app/settings/models.ts `defaultModels`.
  realtimeModel: defaultModels.realtime,
  realtimeReasoningEffort: defaultRealtimeReasoningEffort,
  // The voice session answers several calls of one response with one `response.create`, so
  // letting the model call the clock and the agent together only saves a round trip.
  realtimeParallelToolCalls: true,
  agentModel: defaultModels.agent,
  agentReasoningEffort: 'auto',
  voice: 'marin',
  turnMode: 'push_to_talk',
  pipelineListen: 'push_to_talk',
  transcriptionModel: defaultModels.transcription,
  speechModel: defaultModels.speech,
  vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 },
  eagerness: 'auto',
  echo: 'speakers',
  echoCancellation: 'auto',
  audioFormat: 'pcm16',
  inputDevice: null,
  outputDevice: null,
  meetingAudioDevice: null,
  hotkey: 'CommandOrControl+Shift+Space',
  earcons: true,
  instructions: 'You are Parley, a concise desktop co-pilot. Answer briefly and plainly; say so when you are unsure.',
  baseUrl: null,
  store: false,
  compaction: { mode: 'server', thresholdTokens: 100_000 },
  rolloverMinutes: 55,
  toolPermissions: {},
  workspaceFolders: [],
  mcpServers: [],
  startMinimised: false,
  hideFromCapture: false,
  historyRetentionDays: null,
  window: null,
};

export interface LoadedSettings {
  settings: Settings;
  /** What was wrong and replaced by a default, one line per field, for the user. */
  problems: string[];
  migratedFrom: number | null;
}

/**
 * Reads whatever a settings file held: migrates old versions, keeps every valid field, replaces
 * each invalid one with its default and says which.
 */
export function loadSettings(raw: unknown): LoadedSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { settings: defaultSettings, problems: ['The settings file did not hold a settings object; defaults are in use.'], migratedFrom: null };
  }
  const { value, migratedFrom } = migrate(raw as Record<string, unknown>);
  const problems: string[] = [];
  const settings: Record<string, unknown> = { ...defaultSettings };
  const shape = settingsSchema.shape as Record<string, z.ZodType>;
  for (const [key, schema] of Object.entries(shape)) {
    if (key === 'version' || !(key in value)) continue;
    // Worded as a save's refusal would be: the path starts at the field, so the sentence names it.
    const parsed = schema.safeParse(value[key], { error: (issue) => settingsErrorMap({ ...issue, path: [key, ...(issue.path ?? [])] }) });
    if (parsed.success) settings[key] = parsed.data;
    else problems.push(`"${key}" was invalid (${parsed.error.issues[0]?.message ?? 'wrong type'}); the default is in use.`);
  }
  for (const key of Object.keys(value)) {
    if (!(key in shape)) problems.push(`"${key}" is not a Parley setting and was dropped.`);
  }
  return { settings: settings as Settings, problems, migratedFrom };
}

/**
 * Version 0 (before versioning) kept the hotkey as `pushToTalkKey` and the model as `model`.
 * Version 1 kept no history, so nothing was stored to expire: it keeps conversations for ever.
 */
function migrate(value: Record<string, unknown>): { value: Record<string, unknown>; migratedFrom: number | null } {
  const version = typeof value.version === 'number' ? value.version : 0;
  if (version === settingsVersion) return { value, migratedFrom: null };
  const { pushToTalkKey, model, version: _version, ...rest } = value;
  return {
    value: {
      ...rest,
      ...(pushToTalkKey === undefined ? {} : { hotkey: pushToTalkKey }),
      ...(model === undefined ? {} : { agentModel: model }),
      ...(version < 2 ? { historyRetentionDays: null } : {}),
    },
    migratedFrom: version,
  };
}

/** Applies a validated patch. */
export function applyPatch(settings: Settings, patch: z.output<typeof settingsPatchSchema>): Settings {
  return { ...settings, ...patch } as Settings;
}
