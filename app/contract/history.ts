/**
 * Conversation history as it crosses IPC: what the history list and search show, and the
 * requests of the history commands. The store itself is app/history.
 */
import { z } from 'zod';

/** One saved conversation as the history list shows it. */
export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  turnCount: number;
}

/** A conversation that matched a search, with the best-matching passage. */
export interface ConversationHit extends ConversationSummary {
  /** Text around the match, in pieces, the matched words marked: plain text, never HTML. Empty when only the name matched. */
  snippet: SnippetPart[];
}

export interface SnippetPart {
  text: string;
  match: boolean;
}

/** The conversation on screen: saved under `id`, or private (never written anywhere). */
export interface CurrentConversation {
  id: string;
  title: string | null;
  private: boolean;
}

/** A conversation exported for download. */
export interface ConversationExport {
  fileName: string;
  mimeType: string;
  content: string;
}

const conversationId = z.string().trim().min(1, 'Choose a conversation.').max(100, 'That is not a conversation id.');

export const newConversationRequest = z.strictObject({ private: z.boolean().optional() }).optional();

export const listConversationsRequest = z
  .strictObject({
    limit: z.number().int().min(1).max(500).optional(),
    offset: z.number().int().min(0).optional(),
  })
  .optional();

export const searchConversationsRequest = z.strictObject({
  query: z.string().trim().min(1, 'Type a word to search for.').max(200, 'Search for at most 200 characters.'),
});

export const conversationRequest = z.strictObject({ id: conversationId });

export const renameConversationRequest = z.strictObject({
  id: conversationId,
  title: z.string().trim().min(1, 'A conversation needs a name.').max(120, 'Keep the name under 120 characters.'),
});

export const exportConversationRequest = z.strictObject({
  id: conversationId,
  format: z.enum(['markdown', 'json'], { error: 'Export as markdown or json.' }),
});
