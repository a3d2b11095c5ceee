/**
 * Clipboard: `read_clipboard` (private) and `write_clipboard` (write), text only. Touches only
 * the system clipboard, through the port (Electron's `clipboard` in the desktop shell).
 */
import type { ToolDefinition } from '../registry';
import { quoted, stringArg, truncate } from './limits';

export interface ClipboardPort {
  readText(): string | Promise<string>;
  writeText(text: string): void | Promise<void>;
}

const maxWriteChars = 1_000_000;

export function createClipboardTools(ports: { clipboard: ClipboardPort }): ToolDefinition[] {
  const { clipboard } = ports;
  return [
    {
      name: 'read_clipboard',
      description: 'Read the text currently on the system clipboard.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
      risk: 'private',
      source: 'builtin',
      summarize: () => 'read the text on your clipboard',
      async execute() {
        const text = await clipboard.readText();
        if (text === '') return 'The clipboard is empty or holds no text.';
        return truncate(text, undefined, 'the clipboard');
      },
    },
    {
      name: 'write_clipboard',
      description: 'Put text on the system clipboard, replacing what is there, so the user can paste it.',
      parameters: {
        type: 'object',
        properties: { text: { type: 'string', description: 'The text to copy.' } },
        required: ['text'],
        additionalProperties: false,
      },
      risk: 'write',
      source: 'builtin',
      summarize: (args) => `put text on your clipboard: ${quoted(args.text)}`,
      async execute(args) {
        const text = stringArg(args, 'text') ?? '';
        if (text.length > maxWriteChars) throw new Error(`The text is too long for the clipboard tool (${text.length} characters; the limit is ${maxWriteChars}).`);
        await clipboard.writeText(text);
        return `Copied ${text.length} characters to the clipboard.`;
      },
    },
  ];
}
