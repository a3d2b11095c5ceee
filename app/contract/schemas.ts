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

export const commandRequestSchemas = {
  sendMessage: sendMessageRequest,
  getSnapshot: emptyRequest,
  newConversation: emptyRequest,
  startVoice: emptyRequest,
  stopVoice: emptyRequest,
  pressToTalk: emptyRequest,
  releaseToTalk: emptyRequest,
  stopSpeaking: emptyRequest,
  setMuted: setMutedRequest,
} as const;

/** Browser-mode frames from the renderer: one command call, correlated by `id`. */
export const bridgeCallFrame = z.strictObject({
  id: z.number().int().nonnegative(),
  channel: z.string().min(1).max(128),
  payload: z.unknown().optional(),
});
