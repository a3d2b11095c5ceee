import { z } from 'zod';

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

export const setMutedRequest = z.strictObject({ muted: z.boolean() });

/** Checked here for shape only; the settings schema (app/settings) checks the values. */
export const updateSettingsRequest = z.strictObject({ patch: z.record(z.string(), z.unknown()) });

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
