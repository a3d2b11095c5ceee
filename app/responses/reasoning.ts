/** Which agent models reason, and what a request must ask for to keep their reasoning. */

/** The gpt-5 family (not its chat-tuned snapshots), the o-series and codex models reason. */
export function isReasoningModel(model: string): boolean {
  return /^(gpt-5(?!.*-chat)|o\d|codex-)/.test(model);
}

/**
 * With `store: false` the service keeps a reasoning item nowhere but in our ledger, so the item
 * must come back with its encrypted content (`include`, as vercel/ai#9412 and
 * openai-agents-python#1756 add automatically); only reasoning models take that `include`.
 */
export function reasoningInclude(model: string, store: boolean): Array<'reasoning.encrypted_content'> | null {
  return !store && isReasoningModel(model) ? ['reasoning.encrypted_content'] : null;
}
