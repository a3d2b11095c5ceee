import { z } from 'zod';
import type { SettingsPatch } from './settings';

/** Longest message a user may send in one turn; longer text is refused with a clear error. */
export const maxMessageLength = 32_000;

export const sendMessageRequest = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1, 'Type a message before sending.')
    .max(maxMessageLength, `Messages are limited to ${maxMessageLength} characters.`),
});

export const emptyRequest = z.strictObject({}).optional();

/** Only web links leave Parley: a reply's `file:`, `javascript:` or custom-scheme link opens nothing. */
export const openLinkRequest = z.strictObject({
  url: z
    .string()
    .max(8192, 'That link is too long to open.')
    .refine((url) => /^https?:$/.test(URL.parse(url)?.protocol ?? ''), 'Parley opens only web links (http:// or https://).'),
});

export const setMutedRequest = z.strictObject({ muted: z.boolean() });

/**
 * Typed as a `SettingsPatch` for callers, but checked here for shape only: the settings service
 * checks the values with `settingsPatchSchema`, so each refusal names its field ("Not saved:
 * vad.threshold: …") and the panel shows it next to that field.
 */
export const updateSettingsRequest = z.strictObject({
  patch: z
    .custom<SettingsPatch>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'Settings come as an object of the fields to change.')
    .pipe(z.record(z.string(), z.unknown())),
});

export const setApiKeyRequest = z.strictObject({
  key: z
    .string()
    .trim()
    .min(20, 'That is too short to be an OpenAI API key.')
    .max(400, 'That is too long to be an OpenAI API key.')
    .regex(/^\S+$/, 'An API key has no spaces in it.'),
});

export const previewVoiceRequest = z.strictObject({ voice: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'Pick a voice from the list.') });

export const answerPermissionRequest = z.strictObject({ requestId: z.string().min(1).max(100), decision: z.enum(['once', 'always', 'deny']) });

/** Browser-mode frames from the renderer: one command call, correlated by `id`. */
export const bridgeCallFrame = z.strictObject({
  id: z.number().int().nonnegative(),
  channel: z.string().min(1).max(128),
  payload: z.unknown().optional(),
});
