/**
 * The emulator's deterministic "model": it answers from the conversation it was given, so a test
 * (or a person) can tell from the reply whether the context reached it intact.
 */
import type { ResponseInputItem } from '../protocol/responses';

export function userTexts(items: readonly ResponseInputItem[]): string[] {
  const texts: string[] = [];
  for (const item of items) {
    if (!('role' in item) || item.role !== 'user') continue;
    if (item.type !== undefined && item.type !== 'message') continue;
    const { content } = item;
    if (typeof content === 'string') {
      texts.push(content);
      continue;
    }
    const text = content
      .map((part) => (part.type === 'input_text' ? part.text : ''))
      .join('')
      .trim();
    texts.push(text);
  }
  return texts;
}

/** The reply to the last user message, given everything the emulator knows of the conversation. */
export function reply(context: readonly ResponseInputItem[]): string {
  const said = userTexts(context);
  const last = said.at(-1);
  if (last === undefined) return 'I am ready. Ask me anything.';
  const count = said.length;
  const ordinal = count === 1 ? 'your first message' : `message ${count} of our conversation`;
  if (/^\s*(hello|hi|hey)\b/i.test(last)) {
    return `Hello! I am Parley's offline emulator, streaming this reply the way the Responses API does. This is ${ordinal}.`;
  }
  return `You said: "${last}". This is ${ordinal}; I am the offline emulator, so set OPENAI_API_KEY to talk to a real model.`;
}

/** Splits text the way models stream it: a word with its leading space per delta. */
export function deltas(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** A rough token count (about four characters per token), for usage figures. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
