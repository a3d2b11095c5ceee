/**
 * Size limits shared by the built-in tools: a tool result goes into the model's context and the
 * UI's activity list, so it stays around 20 KB and says so when it was cut.
 */

/** The most characters a built-in tool returns. */
export const resultLimitChars = 20_000;

/** Cuts `text` to `limit` characters, ending with a note that says what was left out. */
export function truncate(text: string, limit = resultLimitChars, what = 'text'): string {
  if (text.length <= limit) return text;
  const note = `\n\n[Truncated: showing the first ${limit.toLocaleString('en-US')} of ${text.length.toLocaleString('en-US')} characters of ${what}.]`;
  return text.slice(0, limit) + note;
}

/** A string argument the registry has already type-checked (the schema says so). */
export function stringArg(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' ? value : undefined;
}

/** A message for whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Throws the signal's reason as an Error if the call was cancelled. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('The tool call was cancelled.');
}

/** A value from the model, quoted for a sentence and cut to `max` characters (the prompt lists it in full). */
export function quoted(value: unknown, max = 60): string {
  const text = (typeof value === 'string' ? value : JSON.stringify(value) ?? '').replace(/\s+/g, ' ').trim();
  return `“${text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text}”`;
}
