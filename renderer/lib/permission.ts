/**
 * A tool call's arguments as the permission prompt shows them: one labelled field per argument,
 * long values cut with the full text kept for "Show all".
 */

/** Characters of a value shown before "Show all". */
export const shownChars = 160;

export interface ArgumentField {
  label: string;
  /** The whole value as text. */
  value: string;
  /** The value cut to `shownChars` with an ellipsis, or the whole value when it fits. */
  short: string;
}

/** `file_path` and `filePath` read as "File path". */
export function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words === '' ? key : words.charAt(0).toUpperCase() + words.slice(1);
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

export function argumentFields(args: unknown): ArgumentField[] {
  const entries: Array<[string, unknown]> =
    typeof args === 'object' && args !== null && !Array.isArray(args) ? Object.entries(args) : args === undefined ? [] : [['Arguments', args]];
  return entries.map(([key, raw]) => {
    const value = textOf(raw);
    return { label: labelOf(key), value, short: value.length > shownChars ? `${value.slice(0, shownChars - 1)}…` : value };
  });
}
