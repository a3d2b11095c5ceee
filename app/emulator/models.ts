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
