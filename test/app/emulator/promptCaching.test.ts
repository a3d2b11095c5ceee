/**
 * The latency model's HTTP prompt caching: a full resend over HTTP finds the prefix an earlier
 * request sent as cached, as the service's prompt caching does, and only when the model says so.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

const first = [{ role: 'user' as const, content: 'hello there' }];
const prompt = { model: 'gpt-5-mini', instructions: 'Be brief.', store: false };

async function cachedTokensOfResend(httpPromptCaching: boolean): Promise<{ first: number; resend: number; otherPrompt: number }> {
  emulator = await startEmulator({ latency: { ...noLatency, httpPromptCaching } });
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: emulator.baseUrl, maxRetries: 0 });
  const one = await client.responses.create({ ...prompt, input: first });
  const reply = one.output.filter((item) => item.type === 'message').map((item) => ({ role: 'assistant' as const, content: item.content.map((part) => (part.type === 'output_text' ? part.text : '')).join('') }));
  const resend = await client.responses.create({ ...prompt, input: [...first, ...reply, { role: 'user', content: 'and again' }] });
  const otherPrompt = await client.responses.create({ ...prompt, instructions: 'Be long.', input: first });
  return {
    first: one.usage?.input_tokens_details.cached_tokens ?? -1,
    resend: resend.usage?.input_tokens_details.cached_tokens ?? -1,
    otherPrompt: otherPrompt.usage?.input_tokens_details.cached_tokens ?? -1,
  };
}

describe('HTTP prompt caching in the latency model', () => {
  it('counts the prefix an earlier request sent as cached, for the same instructions only', async () => {
    const figures = await cachedTokensOfResend(true);
    expect(figures.first).toBe(0);
    expect(figures.resend).toBeGreaterThan(0);
    expect(figures.otherPrompt).toBe(0);
  });

  it('caches nothing over HTTP when the model has no prompt caching', async () => {
    expect(await cachedTokensOfResend(false)).toEqual({ first: 0, resend: 0, otherPrompt: 0 });
  });
});
