/** The emulator's `POST /v1/audio/speech`: streamed PCM, auth, validation and faults. */
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { controlPath, startEmulator, type Emulator } from '../../../app/emulator/server';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

function speak(body: unknown, key: string | null = 'sk-test'): Promise<Response> {
  return fetch(`${(emulator as Emulator).baseUrl}/audio/speech`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key === null ? {} : { Authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
}

async function readAll(response: Response): Promise<{ bytes: number; chunks: number }> {
  let bytes = 0;
  let chunks = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes, chunks };
    bytes += value.byteLength;
    chunks += 1;
  }
}

const request = { model: 'gpt-4o-mini-tts', input: 'The answer is forty two. Anything else?', voice: 'marin', response_format: 'pcm' };

describe('emulator POST /v1/audio/speech', () => {
  it('streams PCM16 at 24 kHz whose length fits the text', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const response = await speak(request);
    expect(response.status).toBe(200);
    const { bytes, chunks } = await readAll(response);
    expect(bytes % 2).toBe(0);
    const seconds = bytes / 2 / 24_000;
    // Seven words: well over half a second, well under ten, at any voice.
    expect(seconds).toBeGreaterThan(0.8);
    expect(seconds).toBeLessThan(10);
    expect(chunks).toBeGreaterThan(1);
  });

  it('waits the round trip of the latency model before the first byte', async () => {
    emulator = await startEmulator({ latency: { ...noLatency, rttMs: 150 } });
    const startedAt = performance.now();
    const response = await speak(request);
    await readAll(response);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
  });

  it('refuses a request without a key (401) and without input (400)', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const unauthorised = await speak(request, null);
    expect(unauthorised.status).toBe(401);
    const missing = await speak({ ...request, input: '' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('input');
  });

  it('refuses a request that leaves out the PCM format, which the service would answer in mp3', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const { response_format: _format, ...withoutFormat } = request;
    for (const body of [withoutFormat, { ...request, response_format: 'mp3' }]) {
      const refused = await speak(body);
      expect(refused.status).toBe(400);
      const { error } = (await refused.json()) as { error: { param: string; message: string } };
      expect(error.param).toBe('response_format');
      expect(error.message).toMatch(/streams 'pcm' only/);
    }
  });

  it('applies speech faults: rate limit, then a stream cut short', async () => {
    emulator = await startEmulator({ latency: noLatency });
    emulator.inject({ kind: 'rate_limit', retryAfterS: 2 }, 'speech');
    const limited = await speak(request);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    emulator.inject({ kind: 'drop_socket', afterDeltas: 1 }, 'speech');
    const cut = await speak(request);
    expect(cut.status).toBe(200);
    await expect(readAll(cut)).rejects.toThrow();
    const whole = await speak(request);
    expect((await readAll(whole)).bytes).toBeGreaterThan(0);
  });

  it('takes speech faults over the control endpoint', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const control = await fetch(`${emulator.baseUrl.replace(/\/v1$/, '')}${controlPath}`, { method: 'POST', body: JSON.stringify({ kind: 'rate_limit', protocol: 'speech' }) });
    expect(control.status).toBe(200);
    expect((await speak(request)).status).toBe(429);
  });
});
