/**
 * Reading Responses items as the brain's conversation, and the emulator's stand-in for the
 * service's opaque compaction blobs (which it must accept back as input).
 */
import { seeImage, type ImageSeen } from '../images';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ResponseInputItem } from '../../protocol/responses';
import type { BrainMessage, BrainTool } from '../brain';
import { estimateTokens } from '../brain';

const compactionPrefix = 'emu2.';
/** What compaction keeps of an assistant reply or a tool output: the gist, as a summary would. */
const keptChars = 60;
/**
 * How many of the most recent messages a compaction keeps (in their gist form). Older ones fold
 * into a count of their user messages, so the item stays bounded like a real summary however
 * often a long conversation is compacted, and the brain still knows which message is which.
 */
export const keptMessages = 20;

/**
 * Packs the conversation a compaction item stands for, shortened and compressed so compacting
 * really shrinks the window; only this emulator can read it back.
 */
export function encodeCompaction(messages: readonly BrainMessage[]): string {
  const cut = Math.max(0, messages.length - keptMessages);
  const userMessages = messages.slice(0, cut).reduce((sum, message) => sum + (message.role === 'user' ? 1 : message.role === 'earlier' ? message.userMessages : 0), 0);
  const gist = messages.slice(cut).map((message) => {
    if (message.role === 'assistant') return { ...message, text: message.text.slice(0, keptChars) };
    if (message.role === 'tool_output') return { ...message, output: message.output.slice(0, keptChars) };
    return message;
  });
  const packed: BrainMessage[] = userMessages > 0 ? [{ role: 'earlier', userMessages }, ...gist] : gist;
  return compactionPrefix + deflateRawSync(JSON.stringify(packed)).toString('base64url');
}

function decodeCompaction(blob: string): BrainMessage[] | null {
  if (!blob.startsWith(compactionPrefix)) return null;
  try {
    const value = JSON.parse(inflateRawSync(Buffer.from(blob.slice(compactionPrefix.length), 'base64url')).toString('utf8')) as unknown;
    return Array.isArray(value) ? (value as BrainMessage[]) : null;
  } catch {
    return null;
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: string; text?: string }) => (part.type === 'input_text' || part.type === 'output_text' ? (part.text ?? '') : ''))
    .join('')
    .trim();
}

/** The images a message carries, as far as the brain can tell what they are. */
function imagesOf(content: unknown): { images?: ImageSeen[] } {
  if (!Array.isArray(content)) return {};
  const images = content.filter((part: { type?: unknown } | null) => part?.type === 'input_image').map((part: { image_url?: unknown }) => seeImage(part.image_url));
  return images.length === 0 ? {} : { images };
}

/** Client input is read loosely: a field of the wrong type reads as empty, never as a crash. */
export function toBrainMessages(items: readonly ResponseInputItem[]): BrainMessage[] {
  const messages: BrainMessage[] = [];
  const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));
  for (const entry of items) {
    const item = entry as unknown as Record<string, unknown>;
    const type = item.type ?? 'message';
    if (type === 'message' && item.role === 'user') messages.push({ role: 'user', text: textOf(item.content), ...imagesOf(item.content) });
    else if (type === 'message' && item.role === 'assistant') messages.push({ role: 'assistant', text: textOf(item.content) });
    else if (type === 'function_call') messages.push({ role: 'tool_call', callId: text(item.call_id), name: text(item.name), arguments: text(item.arguments) });
    else if (type === 'function_call_output') messages.push({ role: 'tool_output', callId: text(item.call_id), output: text(item.output) });
    else if (type === 'compaction') messages.push(...(decodeCompaction(text(item.encrypted_content)) ?? []));
  }
  return messages;
}

export function brainTools(tools: unknown): BrainTool[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .filter((tool): tool is { type: 'function'; name: string; description?: string; parameters?: Record<string, unknown> } => tool?.type === 'function' && typeof tool.name === 'string')
    .map((tool) => ({ name: tool.name, description: tool.description ?? null, parameters: tool.parameters ?? null }));
}

export function contextTokens(items: readonly ResponseInputItem[]): number {
  return items.length === 0 ? 0 : estimateTokens(JSON.stringify(items));
}
