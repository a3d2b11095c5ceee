/**
 * Image input at the emulator: what the service accepts in an `input_image` part and the refusals
 * it sends otherwise, through the official SDK on both protocols, and the brain saying what it got.
 */
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import type { ResponseInputImage } from 'openai/resources/responses/responses';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { describeImage, imageRefusal, maxImageBytes, responsesImageRules, seeImage } from '../../../app/emulator/images';
import { encodePng } from '../../../main/png';

let emulator: Emulator;
let client: OpenAI;

beforeEach(async () => {
  emulator = await startEmulator({ latency: noLatency });
  client = new OpenAI({ apiKey: 'sk-test', baseURL: emulator.baseUrl, maxRetries: 0 });
});
afterEach(() => emulator.close());

function pngUrl(width: number, height: number): string {
  return `data:image/png;base64,${encodePng(width, height, new Uint8Array(width * height * 4).fill(200)).toString('base64')}`;
}

function ask(image: Omit<ResponseInputImage, 'detail'> & { detail?: string }) {
  return client.responses.create({
    model: 'gpt-5.4-mini',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is on my screen?' }, { detail: 'auto', ...image } as ResponseInputImage] }],
  });
}

describe('Responses input_image', () => {
  it('takes a PNG data URL and the brain says it received a picture of that size', async () => {
    const reply = await ask({ type: 'input_image', image_url: pngUrl(64, 48) });
    expect(reply.output_text).toContain('I received a 64×48 PNG image with your question "What is on my screen?"');
  });

  it('takes an https URL and a file_id without reading them', async () => {
    expect((await ask({ type: 'input_image', image_url: 'https://example.com/shot.png' })).output_text).toContain('I received an image');
    expect((await ask({ type: 'input_image', file_id: 'file-abc' })).output_text).toContain('I received an image');
  });

  it.each([
    [{ image_url: 'http://example.com/shot.png' }, 'invalid_image_url', 'input[0].content[1].image_url'],
    [{ image_url: 'data:text/plain;base64,aGVsbG8=' }, 'invalid_image_format', 'input[0].content[1].image_url'],
    [{ image_url: 'data:image/png,not-base64' }, 'invalid_image_url', 'input[0].content[1].image_url'],
    [{ image_url: pngUrl(2, 2), detail: 'medium' }, 'invalid_value', 'input[0].content[1].detail'],
    [{}, 'missing_required_parameter', 'input[0].content[1].image_url'],
  ])('refuses %j with %s naming %s', async (part, code, param) => {
    await expect(ask({ type: 'input_image', ...part })).rejects.toMatchObject({ status: 400, type: 'invalid_request_error', code, param });
  });

  it('refuses an image over the size limit with the service error shape', () => {
    // Checked directly: a 20 MB body is over the emulator's HTTP body limit, which answers first.
    const big = `data:image/png;base64,${'A'.repeat(Math.ceil((maxImageBytes * 4) / 3) + 8)}`;
    expect(imageRefusal({ type: 'input_image', image_url: big }, 'input[0].content[1]', responsesImageRules)).toEqual({
      type: 'invalid_request_error',
      code: 'image_too_large',
      message: "Invalid 'input[0].content[1].image_url': the image is 20.0 MB, over the 20 MB limit for an image.",
      param: 'input[0].content[1].image_url',
    });
    expect(imageRefusal({ type: 'input_image', image_url: pngUrl(4, 4) }, 'input[0].content[1]', responsesImageRules)).toBeNull();
  });
});

describe('Realtime input_image in conversation.item.create', () => {
  async function events(send: (rt: OpenAIRealtimeWS) => void, until: RealtimeServerEvent['type']): Promise<RealtimeServerEvent[]> {
    const tls = await startEmulator({ latency: noLatency, tls: true });
    try {
      const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { ca: tls.certificate ?? undefined } }, new OpenAI({ apiKey: 'sk-test', baseURL: tls.baseUrl }));
      const seen: RealtimeServerEvent[] = [];
      // The SDK also raises an error event as an 'error'; the test reads it from the events.
      rt.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        rt.on('event', (event) => {
          seen.push(event);
          if (event.type === 'session.created') send(rt);
          if (event.type === until) resolve();
        });
      });
      rt.close();
      return seen;
    } finally {
      tls.close();
    }
  }

  it('answers about an image it was given', async () => {
    const seen = await events((rt) => {
      rt.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
      rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: pngUrl(10, 20) }] } });
      rt.send({ type: 'response.create' });
    }, 'response.done');
    const done = seen.find((event) => event.type === 'response.done');
    expect(JSON.stringify(done)).toContain('I received a 10×20 PNG image');
  });

  it('refuses a WebP data URL: the Realtime API takes PNG and JPEG only', async () => {
    const seen = await events((rt) => {
      rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:image/webp;base64,UklGRg==' }] } });
    }, 'error');
    expect(seen.find((event) => event.type === 'error')).toMatchObject({ error: { code: 'invalid_image_format', param: 'item.content[0].image_url' } });
  });
});

describe('seeImage', () => {
  it('reads a JPEG frame header', () => {
    // SOI, an APP0 segment of 16 bytes, then SOF0: precision 8, height 0x0102, width 0x0304.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...new Array<number>(14).fill(0), 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x02, 0x03, 0x04, 3, 0, 0, 0]);
    expect(describeImage(seeImage(`data:image/jpeg;base64,${jpeg.toString('base64')}`))).toBe('a 772×258 JPEG image');
  });
});
