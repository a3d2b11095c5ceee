/**
 * The emulator's reasoning models and the input rules the real service enforces on what a client
 * sends back: reasoning items held only by the client, and function calls left without output.
 */
import type { ResponseInputItem } from '../../protocol/responses';
import { newId } from '../ids';
import type { StoredResponse } from './connection';

/** gpt-5 family and the o-series reason; chat-tuned snapshots do not. */
export function isReasoningModel(model: string): boolean {
  return /^(gpt-5(?!.*-chat)|o\d|codex-)/.test(model);
}

const encryptedPrefix = 'emurs.';

export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  summary: [];
  encrypted_content?: string;
}

/**
 * A reasoning item as the service returns it: `{id, type, summary}`, plus `encrypted_content` only
 * when the request's `include` asked for it (recorded stream openai-reasoning-encrypted-content).
 */
export function reasoningItem(include: readonly string[] | null | undefined): ReasoningItem {
  const id = newId('rs');
  const item: ReasoningItem = { id, type: 'reasoning', summary: [] };
  if (include?.includes('reasoning.encrypted_content')) item.encrypted_content = encryptedPrefix + Buffer.from(id).toString('base64url');
  return item;
}

export interface InputRefusal {
  status: number;
  error: { type: string; code: string | null; message: string; param: string | null };
}

/**
 * What the service refuses in a request (the context it had cached, then the new input):
 * - with `store: false` a reasoning item is only accepted with its `encrypted_content`; by id alone
 *   it is "not found" (404 `invalid_request_error`, reported in vercel/ai#7543 and
 *   openai/openai-agents-python#919 against the real API);
 * - encrypted content the service did not issue cannot be verified;
 * - a function call needs its `function_call_output` in the same context (Roo-Code#12248:
 *   "No tool output found for function call …").
 */
export function refuseContext(
  cached: readonly ResponseInputItem[],
  input: readonly ResponseInputItem[],
  store: boolean,
  stored: ReadonlyMap<string, StoredResponse>,
): InputRefusal | null {
  const context = [...cached, ...input];
  const answered = new Set<string>();
  for (const entry of context) {
    const item = entry as unknown as Record<string, unknown>;
    if (item.type === 'function_call_output' && typeof item.call_id === 'string') answered.add(item.call_id);
  }
  const sent = new Set<unknown>(input);
  for (const entry of context) {
    const item = entry as unknown as Record<string, unknown>;
    // What the server cached itself it holds; only what the client sends must stand on its own.
    if (item.type === 'reasoning' && sent.has(entry)) {
      const id = typeof item.id === 'string' ? item.id : '';
      const encrypted = item.encrypted_content;
      if (typeof encrypted === 'string' && encrypted !== '') {
        if (!isIssued(encrypted)) {
          return { status: 400, error: { type: 'invalid_request_error', code: 'invalid_encrypted_content', message: `The encrypted content for item ${id} could not be verified.`, param: 'input' } };
        }
        continue;
      }
      if (!store || !isStored(id, stored)) {
        const why = store ? '' : ' Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input.';
        return { status: 404, error: { type: 'invalid_request_error', code: null, message: `Item with id '${id}' not found.${why}`, param: 'input' } };
      }
    }
    if (item.type === 'function_call' && typeof item.call_id === 'string' && !answered.has(item.call_id)) {
      return { status: 400, error: { type: 'invalid_request_error', code: null, message: `No tool output found for function call ${item.call_id}.`, param: 'input' } };
    }
  }
  return null;
}

function isIssued(encrypted: string): boolean {
  return encrypted.startsWith(encryptedPrefix) && Buffer.from(encrypted.slice(encryptedPrefix.length), 'base64url').toString().startsWith('rs_');
}

function isStored(id: string, stored: ReadonlyMap<string, StoredResponse>): boolean {
  for (const response of stored.values()) if (response.context.some((item) => (item as { id?: unknown }).id === id)) return true;
  return false;
}
