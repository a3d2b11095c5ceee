/**
 * Which model names the emulated service serves. It keeps its own list, apart from the client's
 * model table, so that a client's stale or mistyped model fails here as it would on the service.
 */

/** Retired models: the Realtime previews were shut down when the GA models replaced them. */
const retired = [/^gpt-4o(-mini)?-realtime-preview/, /^gpt-4o(-mini)?-audio-preview/, /^gpt-4-32k/, /^gpt-4-vision-preview/, /^text-davinci-/];
/** The families OpenAI names its models in; anything else does not exist. */
const families = /^(gpt-|o\d|chatgpt-|codex-|computer-use-|whisper-|tts-)/;

export interface ModelRefusal {
  type: 'invalid_request_error';
  code: 'model_not_found';
  message: string;
}

/**
 * The service's answer to a model it does not serve, in its own words (seen for a Realtime
 * response in openai/openai-realtime-console#561: code `model_not_found`, "The model `…` does not
 * exist or you do not have access to it.").
 */
export function modelRefusal(model: string): ModelRefusal | null {
  if (families.test(model) && !retired.some((pattern) => pattern.test(model))) return null;
  return { type: 'invalid_request_error', code: 'model_not_found', message: `The model \`${model}\` does not exist or you do not have access to it.` };
}

/** What `GET /v1/models` lists: the models Parley uses by default (any model of a live family is served). */
const listed = ['gpt-realtime-2.1-mini', 'gpt-5.4-mini', 'gpt-transcribe', 'gpt-4o-mini-tts'];

/** The body of `GET /v1/models`, in the service's list shape. */
export function modelList(createdS: number): { object: 'list'; data: Array<{ id: string; object: 'model'; created: number; owned_by: string }> } {
  return { object: 'list', data: listed.map((id) => ({ id, object: 'model', created: createdS, owned_by: 'system' })) };
}
