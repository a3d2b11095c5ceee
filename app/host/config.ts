/**
 * Where Parley connects, from the ecosystem's environment variables: `OPENAI_API_KEY` and
 * `OPENAI_BASE_URL`, as the `openai` package reads them. No key means the offline emulator.
 */
import type { Problem } from '../contract';

export const defaultBaseUrl = 'https://api.openai.com/v1';
export const defaultAgentModel = 'gpt-5-mini';
export const defaultInstructions =
  'You are Parley, a concise desktop co-pilot. Answer briefly and plainly; say so when you are unsure.';

export type ConnectionPlan =
  | { kind: 'online'; apiKey: string; baseUrl: string }
  | { kind: 'offline-emulator' }
  | { kind: 'invalid'; problem: Problem };

/**
 * The key and base URL from settings (the stored key, the settings panel's URL) win over the
 * environment, which wins over the defaults.
 */
export function planConnection(env: Readonly<Record<string, string | undefined>>, overrides: { apiKey?: string | null; baseUrl?: string | null } = {}): ConnectionPlan {
  const apiKey = (overrides.apiKey ?? env.OPENAI_API_KEY)?.trim() ?? '';
  if (apiKey === '') return { kind: 'offline-emulator' };
  const rawBaseUrl = overrides.baseUrl?.trim() || env.OPENAI_BASE_URL?.trim() || defaultBaseUrl;
  const baseUrl = checkBaseUrl(rawBaseUrl);
  if (typeof baseUrl !== 'string') return { kind: 'invalid', problem: baseUrl };
  return { kind: 'online', apiKey, baseUrl };
}

function checkBaseUrl(raw: string): string | Problem {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalidBaseUrl(`OPENAI_BASE_URL "${raw}" is not a URL.`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    return invalidBaseUrl(`OPENAI_BASE_URL "${raw}" uses ${url.protocol.replace(':', '')}; Parley needs http(s) or ws(s).`);
  }
  if (url.search !== '' || url.hash !== '') {
    return invalidBaseUrl(`OPENAI_BASE_URL "${raw}" must not carry a query or fragment.`);
  }
  return url.toString().replace(/\/+$/, '');
}

function invalidBaseUrl(message: string): Problem {
  return {
    code: 'invalid_base_url',
    message,
    hint: 'Set OPENAI_BASE_URL to an API root such as https://api.openai.com/v1, or unset it, then restart Parley.',
  };
}
