/**
 * The settings' shape and the message for each value that does not fit, shared by both sides of
 * the contract: the renderer sends a typed `SettingsPatch`, the settings service checks it with
 * `settingsPatchSchema`. Defaults, migration and loading stay in app/settings.
 */
import { z } from 'zod';

export const settingsVersion = 2;

const voices = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;

/**
 * Any model name is accepted, table or not (a fine-tune, a model newer than this build); the
 * panel warns about unknown and legacy ones (`modelWarning`). Only what cannot be a model name
 * is refused.
 */
const modelName = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `Choose ${what} model or type its name.`)
    .max(100, `${capital(what)} model name is at most 100 characters.`)
    .regex(/^([A-Za-z0-9][\w.:-]*)?$/, `${capital(what)} model name has only letters, digits and . _ : - (no spaces).`);

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Electron's accelerator modifiers, lower-cased: a hotkey needs one of them beside its key. */
const hotkeyModifiers = new Set(['command', 'cmd', 'control', 'ctrl', 'commandorcontrol', 'cmdorctrl', 'alt', 'option', 'altgr', 'shift', 'super', 'meta']);

/**
 * The global hotkey as an Electron accelerator. A bare key is refused: registered system-wide, it
 * would swallow every press of that key in every other program. Function keys are the exception.
 */
const hotkey = z
  .string()
  .trim()
  .min(1, 'Choose a hotkey: press the button, then the keys.')
  .max(64, 'The hotkey is at most 64 characters.')
  .superRefine((value, context) => {
    const parts = value.split('+').map((part) => part.trim().toLowerCase());
    const key = parts.filter((part) => !hotkeyModifiers.has(part));
    if (key.length === 0) context.addIssue({ code: 'custom', message: 'The hotkey needs a key besides Ctrl/Cmd, Alt and Shift, like Ctrl+Shift+Space.' });
    // A bare function key (F9) is typed nowhere, so it may stand alone.
    else if (key.length === parts.length && !/^f([1-9]|1\d|2[0-4])$/.test(key[0] ?? '')) {
      context.addIssue({ code: 'custom', message: `The hotkey needs Ctrl/Cmd, Alt or Shift with its key: “${value}” alone would fire every time you press ${value} in any program.` });
    }
  });

/** A path from the top of the file system: /home/you, C:\Users\you or \\server\share. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

/** A folder the file tools may read; whether it exists is checked where the file system is. */
const workspaceFolder = z
  .string()
  .trim()
  .min(1, 'A workspace folder can\'t be empty.')
  .max(1000, 'A workspace folder path is at most 1000 characters.')
  .refine(isAbsolutePath, { error: (issue) => `“${String(issue.input)}” is not a full path; give the whole folder, like /home/you/projects or C:\\Users\\you\\projects.` });

const realtimeEffort = z.enum(['auto', 'minimal', 'low', 'medium', 'high', 'xhigh'], { error: 'Choose auto, minimal, low, medium, high or xhigh.' });
const agentEffort = z.enum(['auto', 'none', 'minimal', 'low', 'medium', 'high', 'xhigh'], { error: 'Choose auto, none, minimal, low, medium, high or xhigh.' });

export const mcpServerSchema = z.discriminatedUnion('transport', [
  z.strictObject({ name: z.string().regex(/^[a-z0-9_-]{1,32}$/i, 'Use 1–32 letters, digits, - or _.'), transport: z.literal('stdio'), command: z.string().min(1), args: z.array(z.string()).default([]), enabled: z.boolean().default(true) }),
  z.strictObject({ name: z.string().regex(/^[a-z0-9_-]{1,32}$/i, 'Use 1–32 letters, digits, - or _.'), transport: z.literal('http'), url: z.url(), enabled: z.boolean().default(true) }),
]);

export const settingsSchema = z.strictObject({
  version: z.literal(settingsVersion),
  realtimeModel: modelName('a voice'),
  /** Sent as `reasoning.effort` in `session.update` when the voice model reasons; `auto` sends none. */
  realtimeReasoningEffort: realtimeEffort,
  /** Sent as `parallel_tool_calls` when the voice model takes it. */
  realtimeParallelToolCalls: z.boolean(),
  agentModel: modelName('an agent'),
  /** Sent as `reasoning.effort` with agent requests when the model takes that effort; `auto` sends none. */
  agentReasoningEffort: agentEffort,
  voice: z.enum(voices),
  /** `pipeline`: transcription → the Responses agent → speech, instead of the speech-to-speech model. */
  turnMode: z.enum(['push_to_talk', 'server_vad', 'semantic_vad', 'pipeline']),
  /** How a pipeline turn ends: releasing push-to-talk, or server VAD. */
  pipelineListen: z.enum(['push_to_talk', 'server_vad']),
  transcriptionModel: modelName('a transcription'),
  speechModel: modelName('a speech'),
  vad: z.strictObject({
    threshold: z.number().min(0).max(1),
    prefixPaddingMs: z.number().int().min(0).max(2000),
    silenceDurationMs: z.number().int().min(100).max(5000),
  }),
  eagerness: z.enum(['low', 'medium', 'high', 'auto']),
  echo: z.enum(['speakers', 'headphones']),
  /**
   * With speakers: how Parley keeps its own voice out of the mic. `builtin`: its own canceller and
   * local speech detector (any platform, a few percent of one core; talk over Parley at your
   * normal level); `system`: the sound server's canceller (Linux with PulseAudio or PipeWire; no
   * CPU in Parley; voice records and plays through its pair of devices, and Parley's canceller
   * stands in, with a notice, where there is none); `gate`: silence while Parley is louder (no CPU, but you must be clearly louder
   * to interrupt); `off`: nothing (Parley may interrupt itself); `auto`: the canceller, and the
   * gate only where the canceller cannot run.
   */
  echoCancellation: z.enum(['auto', 'builtin', 'system', 'gate', 'off']),
  audioFormat: z.enum(['pcm16', 'pcmu', 'pcma']),
  inputDevice: z.string().max(200).nullable(),
  outputDevice: z.string().max(200).nullable(),
  /** Meeting mode hears the call through this output's monitor; the system default when null. */
  meetingAudioDevice: z.string().max(200).nullable(),
  hotkey,
  earcons: z.boolean(),
  instructions: z.string().max(20_000),
  /** Overrides OPENAI_BASE_URL when set. */
  baseUrl: z.url({ protocol: /^(https?|wss?)$/ }).nullable(),
  store: z.boolean(),
  compaction: z.strictObject({ mode: z.enum(['off', 'server', 'endpoint']), thresholdTokens: z.number().int().min(1000).max(2_000_000) }),
  rolloverMinutes: z.number().min(1).max(59),
  toolPermissions: z.record(z.string().max(100), z.enum(['ask', 'allow', 'deny'])),
  /** Folders the file tools may list, search and read (absolute paths). */
  workspaceFolders: z.array(workspaceFolder).max(20),
  mcpServers: z.array(mcpServerSchema).max(32),
  startMinimised: z.boolean(),
  /** Hide Parley's window from screen sharing and recordings (BrowserWindow.setContentProtection). */
  hideFromCapture: z.boolean(),
  /** How long saved conversations are kept after their last use: null keeps them for ever. */
  historyRetentionDays: z.union([z.literal(30), z.literal(90)], { error: 'Keep history for ever, 30 days or 90 days.' }).nullable(),
  window: z.strictObject({ x: z.number().int(), y: z.number().int(), width: z.number().int().min(400), height: z.number().int().min(300) }).nullable(),
});

export type Settings = z.output<typeof settingsSchema>;
export type McpServerSettings = z.output<typeof mcpServerSchema>;

/** A change the settings panel may send: any subset of the user-editable fields. */
export const settingsPatchSchema = settingsSchema.omit({ version: true, window: true }).partial();
export type SettingsPatch = z.input<typeof settingsPatchSchema>;

