/**
 * The official SDK's `OpenAIRealtimeWS` against the emulator. The SDK always dials `wss:`
 * (PROTOCOL.md §2 "Transport"), so the emulator serves TLS with a throwaway certificate, and the
 * SDK's `options` (passed straight to the `ws` constructor) carry it as `ca`: the connection is
 * verified like any other, nothing is switched off process-wide.
 */
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64 } from '../../../app/audio/pcm';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startEmulator({ latency: noLatency, tls: true });
});
afterEach(() => emulator.close());

/** Collects every event; `next` reads them in order, so none is missed between awaits. */
function recorder(rt: OpenAIRealtimeWS) {
  const events: RealtimeServerEvent[] = [];
  let cursor = 0;
  let wake: (() => void) | null = null;
  rt.on('event', (event) => {
    events.push(event);
    wake?.();
  });
  return {
    events,
    /** The first event of `type` after the one `next` last returned. */
    async next<T extends RealtimeServerEvent['type']>(type: T): Promise<Extract<RealtimeServerEvent, { type: T }>> {
      for (;;) {
        const index = events.findIndex((event, at) => at >= cursor && event.type === type);
        if (index >= 0) {
          cursor = index + 1;
          return events[index] as Extract<RealtimeServerEvent, { type: T }>;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    },
  };
}

function connect(): { rt: OpenAIRealtimeWS; log: ReturnType<typeof recorder>; errors: Error[] } {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: emulator.baseUrl });
  const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { ca: emulator.certificate ?? undefined } }, client);
  const errors: Error[] = [];
  rt.on('error', (error) => errors.push(error));
  return { rt, log: recorder(rt), errors };
}

/** A vowel-ish burst (140 Hz voice with 700 Hz energy) between silences: enough for server VAD. */
function spokenTurn(): Buffer {
  const rate = 24000;
  const samples = new Int16Array(rate * 2);
  for (let index = rate / 4; index < rate + rate / 4; index += 1) {
    const t = index / rate;
    samples[index] = Math.round(6000 * Math.sin(2 * Math.PI * 140 * t) + 6000 * Math.sin(2 * Math.PI * 700 * t));
  }
  return Buffer.from(samples.buffer);
}

describe('OpenAIRealtimeWS (official SDK) over wss against the emulator', () => {
  it('opens with session.created, updates the session, and completes a text turn', async () => {
    const { rt, log, errors } = connect();
    expect(rt.url.protocol).toBe('wss:');
    const created = await log.next('session.created');
    expect(created.session).toMatchObject({ type: 'realtime', object: 'realtime.session', model: 'gpt-realtime' });

    rt.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Answer in text.', output_modalities: ['text'] } });
    const updated = await log.next('session.updated');
    expect(updated.session).toMatchObject({ type: 'realtime', instructions: 'Answer in text.', output_modalities: ['text'] });

    rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } });
    rt.send({ type: 'response.create' });
    const done = await log.next('response.done');
    expect(done.response.status).toBe('completed');
    const message = done.response.output?.[0];
    expect(message?.type).toBe('message');
    const text = message?.type === 'message' && message.role === 'assistant' ? message.content[0]?.text : undefined;
    expect(text).toMatch(/^Hello!/);
    const deltas = log.events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
    expect(deltas.join('')).toBe(text);
    expect(errors).toEqual([]);
    rt.close();
  });

  it('runs a spoken turn: server VAD commits it and the answer comes back as audio with a transcript', async () => {
    const { rt, log, errors } = connect();
    await log.next('session.created');
    const audio = spokenTurn();
    for (let offset = 0; offset < audio.length; offset += 4800) rt.send({ type: 'input_audio_buffer.append', audio: toBase64(audio.subarray(offset, offset + 4800)) });
    const stopped = await log.next('input_audio_buffer.speech_stopped');
    const committed = await log.next('input_audio_buffer.committed');
    expect(committed.item_id).toBe(stopped.item_id);
    const transcript = (await log.next('response.output_audio_transcript.done')).transcript;
    const done = await log.next('response.done');
    expect(done.response.status).toBe('completed');
    const audioBytes = log.events.reduce((sum, event) => sum + (event.type === 'response.output_audio.delta' ? Buffer.from(event.delta, 'base64').length : 0), 0);
    expect(audioBytes).toBeGreaterThan(48 * 1000);
    // The user item spans the prefix padding (floored at 0 ms), 1 s of speech and 200 ms of closing silence.
    expect(transcript).toContain('1.4 seconds of speech');
    expect(errors).toEqual([]);
    rt.close();
  });

  it('surfaces a Realtime error event through the SDK error listener, and the session stays usable', async () => {
    const { rt, log, errors } = connect();
    await log.next('session.created');
    rt.send({ type: 'response.cancel', event_id: 'evt_sdk_cancel' });
    await log.next('error');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error & { error?: { code?: string; event_id?: string } }).error).toMatchObject({ code: 'response_cancel_not_active', event_id: 'evt_sdk_cancel' });
    rt.send({ type: 'session.update', session: { type: 'realtime', instructions: 'still here' } });
    expect((await log.next('session.updated')).session).toMatchObject({ instructions: 'still here' });
    rt.close();
  });
});
