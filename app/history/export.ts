/** A saved conversation as a file to keep: Markdown to read, JSON to process (with its ledger). */
import type { ConversationExport } from '../contract';
import type { StoredConversation } from './store';

export type ExportFormat = 'markdown' | 'json';

export function exportConversation(conversation: StoredConversation, format: ExportFormat): ConversationExport {
  const base = fileStem(conversation.summary.title);
  if (format === 'json') {
    const { summary, turns, ledger } = conversation;
    const content = `${JSON.stringify({ format: 'parley-conversation', version: 1, ...summary, turns, ledger: ledger.entries.map((entry) => entry.item) }, null, 2)}\n`;
    return { fileName: `${base}.json`, mimeType: 'application/json', content };
  }
  return { fileName: `${base}.md`, mimeType: 'text/markdown', content: markdownOf(conversation) };
}

function markdownOf({ summary, turns }: StoredConversation): string {
  const lines = [`# ${summary.title}`, '', `Started ${new Date(summary.createdAt).toISOString()}, last used ${new Date(summary.updatedAt).toISOString()}.`, ''];
  for (const turn of turns) {
    const who = turn.role === 'user' ? 'You' : 'Parley';
    const how = turn.source === 'voice' ? ' (spoken)' : '';
    lines.push(`## ${who}${how}`, '', turn.text === '' ? '_(no text)_' : turn.text, '');
    if (turn.heardText !== undefined) lines.push(`> Heard before you interrupted: ${turn.heardText}`, '');
    if (turn.problem !== undefined) lines.push(`> ${turn.problem.message}`, '');
  }
  return lines.join('\n');
}

/** A file name from the title: letters, digits and dashes, never empty, never a path. */
function fileStem(title: string): string {
  const stem = title
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .toLowerCase();
  return stem === '' ? 'conversation' : stem;
}
