/**
 * Checks an API key with the service before Parley keeps it: one cheap authenticated request,
 * `GET {baseUrl}/models`, through the injected `fetch`. A key the service refuses is explained in
 * a sentence and never stored; the key itself is never put in a message or a log.
 */
import type { Problem } from '../contract';

/** What the service says in its error body, `{ "error": { "message", "code" } }`, if anything. */
async function serviceError(response: Response): Promise<{ message: string | null; code: string | null }> {
  try {
    const body = (await response.json()) as { error?: { message?: unknown; code?: unknown } };
    return { message: typeof body.error?.message === 'string' ? body.error.message : null, code: typeof body.error?.code === 'string' ? body.error.code : null };
  } catch {
    return { message: null, code: null };
  }
}

/** The HTTP root for a base URL that may be given as ws(s). */
function httpRoot(baseUrl: string): string {
  return baseUrl.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
}

/** Null when the service accepts `key`; otherwise why not, in plain words. */
export async function checkApiKey(fetcher: typeof fetch, baseUrl: string, key: string, timeoutMs = 15_000): Promise<Problem | null> {
  const root = httpRoot(baseUrl);
  const host = URL.parse(root)?.host ?? root;
  let response: Response;
  try {
    response = await fetcher(`${root}/models`, { method: 'GET', headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer in ${Math.round(timeoutMs / 1000)} s` : ((error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
    return { code: 'connection_failed', message: `Parley could not reach ${host} to check the key (${reason}), so it was not saved.`, hint: 'Check your network connection and try again, or continue offline.' };
  }
  if (response.ok) {
    await response.body?.cancel();
    return null;
  }
  const said = await serviceError(response);
  if (response.status === 401) {
    const revoked = said.code === 'invalid_api_key';
    return {
      code: 'unauthorized',
      message: revoked ? `${host} does not accept this key: it is wrong or has been revoked. It was not saved.` : `${host} refused the key (HTTP 401), so it was not saved.`,
      hint: 'Copy the key again from platform.openai.com/api-keys and paste the whole of it, or continue offline.',
    };
  }
  if (response.status === 403) {
    return { code: 'unauthorized', message: `${host} accepted the key but refused access (HTTP 403${said.message === null ? '' : `: ${said.message}`}). It was not saved.`, hint: 'Check that the key belongs to a project with API access, or that your region is supported.' };
  }
  return { code: 'server_error', message: `${host} could not check the key (HTTP ${response.status}), so it was not saved.`, hint: 'Try again in a moment.' };
}
