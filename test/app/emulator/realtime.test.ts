/**
 * The emulator's `/v1/realtime` against PROTOCOL.md §4 "Emulator must" items 1–9 and §2, over
 * real loopback sockets. Test names start with the item they prove.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { bytesPerMs, fromPcm24k } from '../../../app/audio/encoding';
import { fromBase64, levelDbfs, realtimePcmRate, toBase64 } from '../../../app/audio/pcm';
import { ManualClock } from '../../../app/emulator/clock';
import { FaultQueue } from '../../../app/emulator/faults';
import { noLatency } from '../../../app/emulator/latency';
import { defaultServerVad } from '../../../app/emulator/realtime/config';
import { RealtimeSession } from '../../../app/emulator/realtime/session';
import { defaultSpeech, espeakSpeech, toneSpeech } from '../../../app/emulator/realtime/speech';
import { thresholdToDbfs } from '../../../app/emulator/realtime/vad';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { wsUrl } from '../../support/wire';

type Frame = Record<string, unknown> & { type: string };
type Item = { id: string; type: string; role?: string; status?: string; content?: Array<Record<string, unknown>>; call_id?: string; name?: string; arguments?: string };

/** A raw client that keeps every frame (non-JSON ones as `{type: '(raw)'}`) and waits on events, never on time. */
interface Client {
  ws: WebSocket;
  all: Frame[];
  send(event: unknown): void;
  /** Frames from the last read up to and including the first one `until` accepts. */
  until(until: string | ((frame: Frame) => boolean)): Promise<Frame[]>;
  next(until: string | ((frame: Frame) => boolean)): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
}

async function connect(url: string, options: { headers?: Record<string, string>; ca?: string } = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers: options.headers ?? { Authorization: 'Bearer sk-test' }, ...(options.ca === undefined ? {} : { ca: options.ca }) });
  const all: Frame[] = [];
  let cursor = 0;
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    const text = data.toString();
    try {
      all.push(JSON.parse(text) as Frame);
    } catch {
      all.push({ type: '(raw)', raw: text });
    }
    wake?.();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  closed.then(() => wake?.(), () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const matcher = (until: string | ((frame: Frame) => boolean)) => (typeof until === 'string' ? (frame: Frame) => frame.type === until : until);
  const client: Client = {
    ws,
    all,
    send: (event) => ws.send(typeof event === 'string' ? event : JSON.stringify(event)),
    async until(until) {
      const accept = matcher(until);
      const frames: Frame[] = [];
      for (;;) {
        while (cursor < all.length) {
          const frame = all[cursor] as Frame;
          cursor += 1;
          frames.push(frame);
          if (accept(frame)) return frames;
        }
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`Socket closed while waiting; got ${frames.map((frame) => frame.type).join(', ')}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    },
    async next(until) {
      return (await client.until(until)).at(-1) as Frame;
    },
    closed,
  };
  return client;
}

// ── deterministic test audio ─────────────────────────────────────────────────

/** A vowel-like sound: a 140 Hz voice with energy around 700 and 1200 Hz (formants), at about -15 dBFS. */
function speech(ms: number, rate = realtimePcmRate): Int16Array {
  const count = Math.round((rate * ms) / 1000);
  const samples = new Int16Array(count);
  for (let index = 0; index < count; index += 1) {
    const t = index / rate;
    let value = 0;
    for (let harmonic = 1; harmonic * 140 < Math.min(3500, rate / 2); harmonic += 1) {
      const frequency = harmonic * 140;
      const formants = Math.exp(-(((frequency - 700) / 250) ** 2)) + 0.6 * Math.exp(-(((frequency - 1200) / 300) ** 2)) + 0.2 / harmonic;
      value += formants * Math.sin(2 * Math.PI * frequency * t);
    }
    samples[index] = Math.round(value * 5000);
  }
  return samples;
}

function silence(ms: number): Int16Array {
  return new Int16Array(Math.round((realtimePcmRate * ms) / 1000));
}

/** Appends PCM16 24 kHz audio (converted to `encoding`) in 100 ms chunks, as a microphone would. */
function appendAudio(client: Client, samples: Int16Array, encoding: 'pcm16' | 'pcmu' | 'pcma' = 'pcm16'): void {
  const chunk = realtimePcmRate / 10;
  for (let start = 0; start < samples.length; start += chunk) {
    client.send({ type: 'input_audio_buffer.append', audio: toBase64(fromPcm24k(samples.subarray(start, start + chunk), encoding)) });
  }
}

const userText = (text: string) => ({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
const isDone = (frame: Frame): boolean => frame.type === 'response.done';
const responseOf = (frame: Frame) => frame.response as { id: string; status: string; status_details: { type?: string; reason?: string } | null; output: Item[]; conversation_id: string | null; metadata: unknown; usage: Record<string, unknown> | null };
const errorOf = (frame: Frame) => frame.error as { type: string; code: string | null; message: string; param: string | null; event_id: string | null };

/**
 * PROTOCOL.md §4 item 5: within one response, output_item.added precedes its content_part.added,
 * which precedes its deltas; every *.added has a *.done, in order; exactly one response.done, last.
 */
function expectWellNested(frames: Frame[], id?: string): void {
  const created = frames.filter((frame) => frame.type === 'response.created' && (id === undefined || responseOf(frame).id === id));
  expect(created).toHaveLength(1);
  const responseId = responseOf(created[0] as Frame).id;
  const own = frames.filter((frame) => frame.response_id === responseId || (frame.response as { id?: string } | undefined)?.id === responseId);
  expect(own[0]?.type).toBe('response.created');
  expect(own.filter(isDone)).toHaveLength(1);
  expect(own.at(-1)?.type).toBe('response.done');
  const openItems = new Set<string>();
  const closedItems = new Set<string>();
  const openParts = new Set<string>();
  for (const frame of own) {
    const itemId = (frame.item_id as string | undefined) ?? (frame.item as Item | undefined)?.id;
    const part = `${itemId}:${String(frame.content_index)}`;
    switch (frame.type) {
      case 'response.output_item.added':
        openItems.add(itemId as string);
        break;
      case 'response.content_part.added':
        expect(openItems.has(itemId as string)).toBe(true);
        openParts.add(part);
        break;
      case 'response.output_audio.delta':
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta':
        expect(openParts.has(part)).toBe(true);
        break;
      case 'response.function_call_arguments.delta':
        expect(openItems.has(itemId as string)).toBe(true);
        break;
      case 'response.content_part.done':
        expect(openParts.delete(part)).toBe(true);
        break;
      case 'response.output_item.done':
        expect([...openParts].some((open) => open.startsWith(`${itemId}:`))).toBe(false);
        expect(openItems.delete(itemId as string)).toBe(true);
        closedItems.add(itemId as string);
        break;
    }
  }
  expect(openItems.size).toBe(0);
  expect(openParts.size).toBe(0);
  // The default conversation hears of each output item too, added after output_item.added and done after output_item.done.
  for (const itemId of closedItems) {
    const index = (type: string) => frames.findIndex((frame) => frame.type === type && ((frame.item as Item | undefined)?.id ?? frame.item_id) === itemId);
    if (index('conversation.item.added') >= 0) {
      expect(index('conversation.item.added')).toBeGreaterThan(index('response.output_item.added'));
      expect(index('conversation.item.done')).toBeGreaterThan(index('response.output_item.done'));
    }
  }
}

function audioBytes(frames: Frame[]): number {
  return frames.filter((frame) => frame.type === 'response.output_audio.delta').reduce((sum, frame) => sum + (fromBase64(frame.delta as string)?.length ?? 0), 0);
}

let emulator: Emulator;
let url: string;

beforeEach(async () => {
  emulator = await startEmulator({ latency: noLatency, revokedKeys: ['sk-revoked'] });
  url = wsUrl(emulator.baseUrl, '/realtime?model=gpt-realtime');
});
afterEach(() => emulator.close());

async function open(path = '/realtime?model=gpt-realtime'): Promise<{ client: Client; created: Frame }> {
  const client = await connect(wsUrl(emulator.baseUrl, path));
  const created = await client.next('session.created');
  if ((created.session as { type: string }).type === 'realtime') await client.next('conversation.created');
  return { client, created };
}

/** Server VAD turn: 500 ms silence, 1 s speech, 600 ms silence. */
function voiceTurn(client: Client, encoding: 'pcm16' | 'pcmu' | 'pcma' = 'pcm16'): void {
  appendAudio(client, silence(500), encoding);
  appendAudio(client, speech(1000), encoding);
  appendAudio(client, silence(600), encoding);
}

describe('emulator /v1/realtime: session', () => {
  it('§4.1 the first frame is session.created with the full default config, then conversation.created', async () => {
    const client = await connect(url);
    const [first, second] = await client.until('conversation.created');
    expect(first?.type).toBe('session.created');
    const session = first?.session as Record<string, unknown>;
    expect(session).toMatchObject({
      type: 'realtime',
      object: 'realtime.session',
      model: 'gpt-realtime',
      output_modalities: ['audio'],
      tools: [],
      tool_choice: 'auto',
      max_output_tokens: 'inf',
      truncation: 'auto',
      tracing: null,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: null,
          noise_reduction: null,
          turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200, idle_timeout_ms: null, create_response: true, interrupt_response: true },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
      },
    });
    expect(session.id).toMatch(/^sess_/);
    expect(typeof session.instructions).toBe('string');
    expect((session.instructions as string).length).toBeGreaterThan(10);
    expect(second?.conversation).toMatchObject({ object: 'realtime.conversation' });
    client.ws.close();
  });

  it('§4.3 session.update merges only the supplied fields (deep in audio) and answers with the full config', async () => {
    const { client, created } = await open();
    const before = created.session as Record<string, unknown>;
    client.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Be brief.', audio: { output: { voice: 'marin' } } } });
    const updated = (await client.next('session.updated')).session as Record<string, unknown>;
    expect(updated).toEqual({ ...before, instructions: 'Be brief.', audio: { ...(before.audio as object), output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin', speed: 1 } } });

    const tools = [{ type: 'function', name: 'get_time', description: 'Current time', parameters: { type: 'object', properties: {} } }];
    client.send({ type: 'session.update', session: { type: 'realtime', tools, audio: { input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad', silence_duration_ms: 700 } } } } });
    const second = (await client.next('session.updated')).session as { tools: unknown[]; instructions: string; audio: { input: Record<string, unknown>; output: Record<string, unknown> } };
    expect(second.tools).toEqual(tools);
    expect(second.instructions).toBe('Be brief.');
    expect(second.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(second.audio.input.turn_detection).toEqual({ ...defaultServerVad, silence_duration_ms: 700 });
    expect(second.audio.output.voice).toBe('marin');

    client.send({ type: 'session.update', session: { type: 'realtime', instructions: '', tools: [], audio: { input: { turn_detection: null } } } });
    const cleared = (await client.next('session.updated')).session as typeof second;
    expect(cleared.instructions).toBe('');
    expect(cleared.tools).toEqual([]);
    expect(cleared.audio.input.turn_detection).toBeNull();
    expect(cleared.audio.input.format).toEqual({ type: 'audio/pcmu' });
    client.ws.close();
  });

  it('§4.3 invalid session.update fields are errors naming the param and echoing event_id; nothing changes and the session stays open', async () => {
    const { client } = await open();
    const cases: Array<[unknown, string, string]> = [
      [{ instructions: 'no type' }, 'missing_required_parameter', 'session.type'],
      [{ type: 'realtime', voice: 'alloy' }, 'unknown_parameter', 'session.voice'],
      [{ type: 'realtime', audio: { output: { voice: 'fable' } } }, 'invalid_value', 'session.audio.output.voice'],
      [{ type: 'realtime', audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } }, 'invalid_value', 'session.audio.input.format.rate'],
      [{ type: 'realtime', audio: { input: { format: { type: 'audio/wav' } } } }, 'invalid_value', 'session.audio.input.format.type'],
      [{ type: 'realtime', audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'eager' } } } }, 'invalid_value', 'session.audio.input.turn_detection.eagerness'],
      [{ type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', threshold: 2 } } } }, 'decimal_above_max_value', 'session.audio.input.turn_detection.threshold'],
      [{ type: 'realtime', instructions: 42 }, 'invalid_type', 'session.instructions'],
      [{ type: 'realtime', output_modalities: ['audio', 'text'] }, 'invalid_value', 'session.output_modalities'],
      [{ type: 'realtime', max_output_tokens: 5000 }, 'integer_above_max_value', 'session.max_output_tokens'],
      [{ type: 'realtime', tools: [{ type: 'function' }] }, 'missing_required_parameter', 'session.tools[0].name'],
      [{ type: 'realtime', instructions: 'half applied', audio: { output: { speed: 3 } } }, 'decimal_above_max_value', 'session.audio.output.speed'],
    ];
    for (const [index, [session, code, param]] of cases.entries()) {
      client.send({ type: 'session.update', event_id: `evt_${index}`, session });
      const error = errorOf(await client.next('error'));
      expect(error).toMatchObject({ type: 'invalid_request_error', code, param, event_id: `evt_${index}` });
      expect(error.message.length).toBeGreaterThan(10);
    }
    client.send({ type: 'session.update', session: { type: 'realtime' } });
    const unchanged = (await client.next('session.updated')).session as { instructions: string; audio: { output: { speed: number } } };
    expect(unchanged.instructions).not.toBe('half applied');
    expect(unchanged.audio.output.speed).toBe(1);
    client.ws.close();
  });

  it('§4.3 the voice cannot change once the model has spoken; other updates still work', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'coral' } } } });
    await client.next('session.updated');
    client.send(userText('hello'));
    client.send({ type: 'response.create' });
    await client.next(isDone);
    // Refused as the service refuses it (§4 emulator 18, openai-agents-python#1661): param null, the client's event_id echoed, nothing changed.
    client.send({ type: 'session.update', event_id: 'evt_voice', session: { type: 'realtime', audio: { output: { voice: 'ash', speed: 1.4 } } } });
    const refused = await client.until('error');
    expect(refused.filter((frame) => frame.type === 'session.updated')).toEqual([]);
    const error = refused.at(-1) as Frame;
    expect(error.event_id).toEqual(expect.stringMatching(/^event_/));
    expect(errorOf(error)).toEqual({
      type: 'invalid_request_error',
      code: 'cannot_update_voice',
      message: "Cannot update a conversation's voice if assistant audio is present.",
      param: null,
      event_id: 'evt_voice',
    });
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'coral' } }, instructions: 'Same voice is fine.' } });
    const updated = await client.until('session.updated');
    // No session.updated answered the refused update: the next one is this update's.
    expect(updated.map((frame) => frame.type)).toEqual(['session.updated']);
    const session = (updated.at(-1) as Frame).session as { instructions: string; audio: { output: { voice: string; speed: number } } };
    expect(session.instructions).toBe('Same voice is fine.');
    expect(session.audio.output).toMatchObject({ voice: 'coral', speed: 1 });
    client.ws.close();
  });

  it('§4.2 every server event has a unique event_id and no sequence_number', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'gpt-4o-transcribe' } } } } });
    voiceTurn(client);
    await client.until(isDone);
    client.send({ type: 'response.cancel' });
    await client.next('error');
    client.send('{oops');
    await client.next('error');
    const ids = client.all.map((frame) => frame.event_id);
    expect(client.all.length).toBeGreaterThan(20);
    for (const frame of client.all) {
      expect(frame.event_id).toMatch(/^event_[0-9a-f]+$/);
      expect(frame).not.toHaveProperty('sequence_number');
    }
    expect(new Set(ids).size).toBe(ids.length);
    client.ws.close();
  });
});

describe('emulator /v1/realtime: input audio and turns', () => {
  it('§4.4 a server_vad turn emits speech_started → speech_stopped → committed → item.added → item.done → response.created with one item chain', async () => {
    const { client } = await open();
    voiceTurn(client);
    const frames = await client.until(isDone);
    const types = frames.map((frame) => frame.type);
    expect(types.slice(0, 6)).toEqual([
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.done',
      'response.created',
    ]);
    const [started, stopped, committed, added, done] = frames as [Frame, Frame, Frame, Frame, Frame];
    // Speech began at 500 ms; 300 ms prefix padding; it ended at 1500 ms and 200 ms of silence closed the turn.
    expect(started.audio_start_ms).toBe(200);
    expect(stopped.audio_end_ms).toBe(1700);
    const itemId = started.item_id as string;
    expect(stopped.item_id).toBe(itemId);
    expect(committed).toMatchObject({ item_id: itemId, previous_item_id: null });
    expect(added).toMatchObject({ previous_item_id: null, item: { id: itemId, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] } });
    expect(done.item).toEqual(added.item);
    expectWellNested(frames);
    const assistant = responseOf(frames.at(-1) as Frame).output[0] as Item;
    expect(assistant.content?.[0]?.transcript).toContain('1.5 seconds of speech');

    // The next turn follows the assistant's item.
    voiceTurn(client);
    const next = await client.until(isDone);
    const nextCommitted = next.find((frame) => frame.type === 'input_audio_buffer.committed') as Frame;
    expect(nextCommitted.previous_item_id).toBe(assistant.id);
    expect((next.find((frame) => frame.type === 'input_audio_buffer.speech_started') as Frame).audio_start_ms).toBeGreaterThanOrEqual(1700);
    client.ws.close();
  });

  it('§4.4 VAD reads G.711 μ-law input, and answers in G.711 at 8 bytes per millisecond', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } } });
    await client.next('session.updated');
    voiceTurn(client, 'pcmu');
    const frames = await client.until(isDone);
    expect((frames.find((frame) => frame.type === 'input_audio_buffer.speech_started') as Frame).audio_start_ms).toBe(200);
    expect((frames.find((frame) => frame.type === 'input_audio_buffer.speech_stopped') as Frame).audio_end_ms).toBe(1700);
    expect((frames.find((frame) => frame.type === 'response.created') as Frame).response).toMatchObject({ audio: { output: { format: { type: 'audio/pcmu' } } } });
    const bytes = audioBytes(frames);
    expect(bytes).toBeGreaterThan(8 * 500);
    const item = responseOf(frames.at(-1) as Frame).output[0] as Item;
    // The audio's duration is what truncation accepts: one millisecond more is refused.
    const ms = bytes / bytesPerMs('pcmu');
    client.send({ type: 'conversation.item.truncate', item_id: item.id, content_index: 0, audio_end_ms: Math.floor(ms) + 1 });
    expect(errorOf(await client.next('error')).param).toBe('audio_end_ms');
    client.send({ type: 'conversation.item.truncate', item_id: item.id, content_index: 0, audio_end_ms: Math.floor(ms) });
    await client.next('conversation.item.truncated');
    client.ws.close();
  });

  it('§4.4 semantic_vad waits longer or shorter by eagerness (high: 400 ms of silence)', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } } } } });
    await client.next('session.updated');
    appendAudio(client, silence(500));
    appendAudio(client, speech(1000));
    appendAudio(client, silence(300));
    client.send({ type: 'input_audio_buffer.clear', event_id: 'probe' });
    const beforeClear = await client.until('input_audio_buffer.cleared');
    expect(beforeClear.map((frame) => frame.type)).toEqual(['input_audio_buffer.speech_started', 'input_audio_buffer.cleared']);
    appendAudio(client, speech(500));
    appendAudio(client, silence(500));
    const stopped = await client.next('input_audio_buffer.speech_stopped');
    expect(stopped.audio_end_ms).toBe(1800 + 500 + 400);
    await client.until(isDone);
    client.ws.close();
  });

  it('§4.3 with turn_detection null the server hears no turns: the client commits and asks for a response', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], audio: { input: { turn_detection: null } } } });
    await client.next('session.updated');
    voiceTurn(client);
    client.send({ type: 'input_audio_buffer.commit' });
    const committed = await client.until('input_audio_buffer.committed');
    expect(committed.map((frame) => frame.type)).toEqual(['input_audio_buffer.committed']);
    await client.until('conversation.item.done');
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    expectWellNested(frames);
    const item = responseOf(frames.at(-1) as Frame).output[0] as Item;
    expect(item.content?.[0]).toMatchObject({ type: 'output_text' });
    expect(item.content?.[0]?.text).toContain('2.1 seconds of speech');
    client.ws.close();
  });

  it('§4.9 committing less than 100 ms is input_audio_buffer_commit_empty; clear answers cleared', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
    await client.next('session.updated');
    client.send({ type: 'input_audio_buffer.commit', event_id: 'evt_empty' });
    expect(errorOf(await client.next('error'))).toMatchObject({ type: 'invalid_request_error', code: 'input_audio_buffer_commit_empty', event_id: 'evt_empty' });
    appendAudio(client, speech(40));
    client.send({ type: 'input_audio_buffer.commit' });
    expect(errorOf(await client.next('error')).message).toBe(
      'Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 40.00ms of audio.',
    );
    appendAudio(client, speech(100));
    client.send({ type: 'input_audio_buffer.clear' });
    await client.next('input_audio_buffer.cleared');
    client.send({ type: 'input_audio_buffer.commit' });
    expect(errorOf(await client.next('error')).message).toContain('only has 0.00ms');
    client.ws.close();
  });

  it('transcribes an utterance as the words a test said it holds, in order, and answers them as said', async () => {
    emulator.hear('what time is it?', 'hello there');
    const { client } = await open('/realtime?intent=transcription');
    voiceTurn(client);
    expect(await client.next('conversation.item.input_audio_transcription.completed')).toMatchObject({ transcript: 'what time is it?' });
    client.ws.close();
    const { client: voice } = await open();
    voiceTurn(voice);
    const done = (await voice.until(isDone)).at(-1) as Frame;
    expect(JSON.stringify(responseOf(done).output)).toContain('Hello! I am Parley');
    voice.ws.close();
  });

  it('transcribes input honestly: a bracketed duration, not words', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'gpt-4o-transcribe', language: 'en' } } } } });
    await client.next('session.updated');
    voiceTurn(client);
    const completed = await client.next('conversation.item.input_audio_transcription.completed');
    expect(completed).toMatchObject({ content_index: 0, transcript: '[1.5 s of speech]', usage: { type: 'duration', seconds: 1.5 } });
    await client.until(isDone);
    client.send({ type: 'conversation.item.retrieve', item_id: completed.item_id });
    const retrieved = (await client.next('conversation.item.retrieved')).item as Item;
    expect(retrieved.content?.[0]?.transcript).toBe('[1.5 s of speech]');
    // 1.5 s of PCM16 at 24 kHz comes back as it went in.
    expect(fromBase64(retrieved.content?.[0]?.audio as string)?.length).toBe(1500 * 48);
    client.ws.close();
  });

  it('server_vad idle_timeout_ms: after the answer has played, silence triggers a turn', async () => {
    const { client } = await open();
    client.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], audio: { input: { turn_detection: { type: 'server_vad', idle_timeout_ms: 6000 } } } } });
    await client.next('session.updated');
    voiceTurn(client);
    await client.until('rate_limits.updated');
    appendAudio(client, silence(5000));
    client.send({ type: 'input_audio_buffer.clear' });
    expect((await client.until('input_audio_buffer.cleared')).map((frame) => frame.type)).toEqual(['input_audio_buffer.cleared']);
    appendAudio(client, silence(1500));
    const timeout = await client.next('input_audio_buffer.timeout_triggered');
    expect(timeout.audio_end_ms as number).toBeGreaterThanOrEqual(2100 + 6000);
    expect(timeout.audio_end_ms as number).toBeLessThan(2100 + 6000 + 200);
    await client.until(isDone);
    client.ws.close();
  });
});

describe('emulator /v1/realtime: responses', () => {
  it('fails every response of a session on a retired model, as the service does', async () => {
    const { client } = await open('/realtime?model=gpt-4o-realtime-preview-2024-10-01');
    client.send(userText('hello there'));
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    expect(frames.map((frame) => frame.type).filter((type) => type.startsWith('response.'))).toEqual(['response.created', 'response.done']);
    expect(responseOf(frames.at(-1) as Frame)).toMatchObject({
      status: 'failed',
      status_details: { type: 'failed', error: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model `gpt-4o-realtime-preview-2024-10-01` does not exist or you do not have access to it.' } },
    });
  });

  it('§4.5 an audio response nests correctly and ends with exactly one response.done, usage and rate limits', async () => {
    const { client } = await open();
    client.send(userText('hello there'));
    const [added, done] = await client.until('conversation.item.done');
    expect(added?.type).toBe('conversation.item.added');
    expect(done?.item).toMatchObject({ role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'hello there' }] });
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    expectWellNested(frames);
    const types = frames.map((frame) => frame.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.output_item.added', 'conversation.item.added', 'response.content_part.added']);
    expect(types.slice(-6)).toEqual([
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const created = responseOf(frames[0] as Frame);
    expect(created).toMatchObject({ object: 'realtime.response', status: 'in_progress', output: [], output_modalities: ['audio'], status_details: null, usage: null });
    expect(created.conversation_id).toMatch(/^conv_/);
    expect(frames[3]?.part).toEqual({ type: 'audio', transcript: '' });
    const transcript = frames
      .filter((frame) => frame.type === 'response.output_audio_transcript.delta')
      .map((frame) => frame.delta)
      .join('');
    expect(transcript).toMatch(/^Hello!/);
    expect((frames.find((frame) => frame.type === 'response.output_audio_transcript.done') as Frame).transcript).toBe(transcript);
    const final = responseOf(frames.at(-1) as Frame);
    expect(final.status).toBe('completed');
    expect(final.output).toEqual([expect.objectContaining({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_audio', transcript }] })]);
    expect(JSON.stringify(final.output)).not.toContain('"audio":');
    const bytes = audioBytes(frames);
    expect(bytes % 2).toBe(0);
    expect(bytes / 48).toBeGreaterThan(transcript.split(' ').length * 100);
    expect(final.usage).toMatchObject({ output_token_details: { audio_tokens: Math.ceil(bytes / 48 / 50) } });
    const rateLimits = await client.next('rate_limits.updated');
    expect(rateLimits.rate_limits).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'requests' }), expect.objectContaining({ name: 'tokens' })]));
    client.ws.close();
  });

  it('§4.5 text-only responses stream output_text; a function call streams its arguments; tool output answers', async () => {
    const { client } = await open();
    const tools = [{ type: 'function', name: 'get_time', description: 'The current time', parameters: { type: 'object', properties: { timezone: { type: 'string' } } } }];
    client.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], tools } });
    await client.next('session.updated');
    client.send(userText('What time is it?'));
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    expectWellNested(frames);
    const call = responseOf(frames.at(-1) as Frame).output[0] as Item;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_time', status: 'completed', arguments: '{}' });
    expect(frames.filter((frame) => frame.type === 'response.function_call_arguments.delta').map((frame) => frame.delta).join('')).toBe(call.arguments);
    expect(frames.find((frame) => frame.type === 'response.function_call_arguments.done')).toMatchObject({ call_id: call.call_id, name: 'get_time', arguments: call.arguments });
    expect(responseOf(frames.at(-1) as Frame).status).toBe('completed');

    client.send({ type: 'conversation.item.create', event_id: 'evt_wrong_call', item: { type: 'function_call_output', call_id: 'call_nope', output: '12:00' } });
    expect(errorOf(await client.next('error'))).toMatchObject({ param: 'item.call_id', event_id: 'evt_wrong_call' });
    client.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: '{"time":"12:00"}' } });
    const outputDone = await client.next('conversation.item.done');
    expect(outputDone).toMatchObject({ previous_item_id: call.id, item: { type: 'function_call_output', call_id: call.call_id } });
    client.send({ type: 'response.create' });
    const answer = await client.until(isDone);
    expectWellNested(answer);
    expect(answer.map((frame) => frame.type)).toContain('response.output_text.delta');
    const text = (answer.find((frame) => frame.type === 'response.output_text.done') as Frame).text as string;
    expect(text).toBe("It's 12:00.");
    expect(responseOf(answer.at(-1) as Frame).output[0]?.content).toEqual([{ type: 'output_text', text }]);
    client.ws.close();
  });

  it('§4.6 a second response.create while one is active is conversation_already_has_active_response; the session stays open', async () => {
    const { client } = await open();
    emulator.inject({ kind: 'stall', ms: 60_000 }, 'realtime');
    client.send(userText('hello'));
    client.send({ type: 'response.create' });
    const created = responseOf(await client.next('response.created'));
    client.send({ type: 'response.create', event_id: 'evt_second' });
    const error = errorOf(await client.next('error'));
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'conversation_already_has_active_response', event_id: 'evt_second' });
    expect(error.message).toContain(created.id);
    // Out of band is allowed beside it, and writes nothing to the conversation.
    client.send({ type: 'response.create', response: { conversation: 'none', output_modalities: ['text'], metadata: { purpose: 'summary' }, input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] } });
    const outOfBand = await client.until((frame) => isDone(frame) && responseOf(frame).metadata !== null);
    expect(outOfBand.some((frame) => frame.type.startsWith('conversation.item'))).toBe(false);
    expect(responseOf(outOfBand.at(-1) as Frame)).toMatchObject({ conversation_id: null, metadata: { purpose: 'summary' }, status: 'completed' });
    client.send({ type: 'response.cancel' });
    expect(responseOf(await client.next(isDone))).toMatchObject({ id: created.id, status: 'cancelled' });
    client.send({ type: 'response.create' });
    expect(responseOf(await client.next(isDone)).status).toBe('completed');
    client.ws.close();
  });

  it('§4.7 response.cancel with nothing active is response_cancel_not_active; mid-response it ends cancelled with every added done', async () => {
    const { client } = await open();
    client.send({ type: 'response.cancel', event_id: 'evt_cancel' });
    expect(errorOf(await client.next('error'))).toEqual({
      type: 'invalid_request_error',
      code: 'response_cancel_not_active',
      message: 'Cancellation failed: no active response found.',
      param: null,
      event_id: 'evt_cancel',
    });
    emulator.inject({ kind: 'stall', ms: 60_000 }, 'realtime');
    client.send(userText('hello'));
    client.send({ type: 'response.create' });
    await client.next('response.content_part.added');
    client.send({ type: 'response.cancel' });
    const frames = await client.until(isDone);
    expect(frames.map((frame) => frame.type)).toEqual([
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const done = responseOf(frames.at(-1) as Frame);
    expect(done).toMatchObject({ status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' } });
    expect(done.output[0]?.status).toBe('incomplete');
    expectWellNested(client.all.slice(client.all.findIndex((frame) => frame.type === 'response.created')));
    client.send({ type: 'response.cancel' });
    expect(errorOf(await client.next('error')).code).toBe('response_cancel_not_active');
    client.ws.close();
  });

  it('§4.5 barge-in: speech during an answer cancels it (reason turn_detected) and starts the next turn', async () => {
    const { client } = await open();
    emulator.inject({ kind: 'stall', ms: 60_000 }, 'realtime');
    client.send(userText('hello'));
    client.send({ type: 'response.create' });
    const created = responseOf(await client.next('response.created'));
    await client.next('response.content_part.added');
    voiceTurn(client);
    const frames = await client.until((frame) => isDone(frame) && responseOf(frame).id === created.id);
    expect(frames.findIndex((frame) => frame.type === 'input_audio_buffer.speech_started')).toBeLessThan(frames.length - 1);
    expect(responseOf(frames.at(-1) as Frame)).toMatchObject({ status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' } });
    expectWellNested(client.all, created.id);
    // The new turn is committed when its speech stops; its answer starts once the interrupted one is done.
    const next = await client.until(isDone);
    expect([...frames, ...next].map((frame) => frame.type)).toContain('input_audio_buffer.committed');
    expect(next.map((frame) => frame.type)).toContain('response.created');
    expect(responseOf(next.at(-1) as Frame).status).toBe('completed');
    client.ws.close();
  });

  it('§4.8 truncate past the generated audio is an error; within it, the unheard transcript is removed', async () => {
    const { client } = await open();
    client.send(userText('Please tell me something long enough to interrupt.'));
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    const item = responseOf(frames.at(-1) as Frame).output[0] as Item;
    const transcript = item.content?.[0]?.transcript as string;
    const generatedMs = audioBytes(frames) / 48;
    expect(generatedMs).toBeGreaterThan(2000);

    client.send({ type: 'conversation.item.truncate', event_id: 'evt_long', item_id: item.id, content_index: 0, audio_end_ms: Math.ceil(generatedMs) + 1 });
    expect(errorOf(await client.next('error'))).toMatchObject({ type: 'invalid_request_error', param: 'audio_end_ms', event_id: 'evt_long' });
    const user = client.all.find((frame) => frame.type === 'conversation.item.added') as Frame;
    client.send({ type: 'conversation.item.truncate', item_id: (user.item as Item).id, content_index: 0, audio_end_ms: 0 });
    expect(errorOf(await client.next('error')).code).toBe('unsupported_content_type');

    const heardMs = Math.floor(generatedMs / 2);
    client.send({ type: 'conversation.item.truncate', item_id: item.id, content_index: 0, audio_end_ms: heardMs });
    expect(await client.next('conversation.item.truncated')).toMatchObject({ item_id: item.id, content_index: 0, audio_end_ms: heardMs });
    client.send({ type: 'conversation.item.retrieve', item_id: item.id });
    const retrieved = (await client.next('conversation.item.retrieved')).item as Item;
    const kept = retrieved.content?.[0]?.transcript as string;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(transcript.length * 0.75);
    expect(transcript.startsWith(kept)).toBe(true);
    expect(fromBase64(retrieved.content?.[0]?.audio as string)?.length).toBe(heardMs * 48);
    // Truncating again past the new end is refused too.
    client.send({ type: 'conversation.item.truncate', item_id: item.id, content_index: 0, audio_end_ms: heardMs + 1 });
    expect(errorOf(await client.next('error')).param).toBe('audio_end_ms');
    client.ws.close();
  });

  it('deletes items, and refuses unknown ones', async () => {
    const { client } = await open();
    client.send(userText('one'));
    const done = await client.next('conversation.item.done');
    const id = (done.item as Item).id;
    client.send({ type: 'conversation.item.delete', item_id: id });
    expect(await client.next('conversation.item.deleted')).toMatchObject({ item_id: id });
    client.send({ type: 'conversation.item.retrieve', event_id: 'evt_gone', item_id: id });
    expect(errorOf(await client.next('error'))).toMatchObject({ param: 'item_id', event_id: 'evt_gone' });
    client.send({ type: 'conversation.item.delete', item_id: id });
    expect(errorOf(await client.next('error')).param).toBe('item_id');
    client.ws.close();
  });

  it('max_output_tokens cuts the answer short: status incomplete', async () => {
    const { client } = await open();
    client.send(userText('hello'));
    client.send({ type: 'response.create', response: { output_modalities: ['text'], max_output_tokens: 5 } });
    const frames = await client.until(isDone);
    expectWellNested(frames);
    const done = responseOf(frames.at(-1) as Frame);
    expect(done).toMatchObject({ status: 'incomplete', status_details: { type: 'incomplete', reason: 'max_output_tokens' } });
    expect((done.output[0]?.content?.[0]?.text as string).length).toBeLessThanOrEqual(20);
    client.ws.close();
  });
});

describe('emulator /v1/realtime: faults', () => {
  it('rate_limit answers the create with rate_limit_exceeded and no response', async () => {
    const { client } = await open();
    emulator.inject({ kind: 'rate_limit', retryAfterS: 3 }, 'realtime');
    client.send(userText('hello'));
    client.send({ type: 'response.create', event_id: 'evt_limited' });
    const frames = await client.until('error');
    expect(frames.some((frame) => frame.type === 'response.created')).toBe(false);
    expect(errorOf(frames.at(-1) as Frame)).toMatchObject({ code: 'rate_limit_exceeded', event_id: 'evt_limited' });
    expect(errorOf(frames.at(-1) as Frame).message).toContain('3s');
    client.send({ type: 'response.create' });
    expect(responseOf(await client.next(isDone)).status).toBe('completed');
    client.ws.close();
  });

  it('error_mid_stream sends an error, closes what was open, and ends failed', async () => {
    const { client } = await open();
    emulator.inject({ kind: 'error_mid_stream', afterDeltas: 3 }, 'realtime');
    client.send(userText('hello'));
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    expectWellNested(frames.slice(frames.findIndex((frame) => frame.type === 'response.created')));
    const error = frames.find((frame) => frame.type === 'error') as Frame;
    expect(errorOf(error)).toMatchObject({ type: 'server_error', code: 'server_error' });
    expect(frames.filter((frame) => frame.type.endsWith('.delta'))).toHaveLength(3);
    expect(responseOf(frames.at(-1) as Frame)).toMatchObject({ status: 'failed', status_details: { type: 'failed', error: { code: 'server_error' } } });
    client.send({ type: 'response.create' });
    expect(responseOf(await client.next(isDone)).status).toBe('completed');
    client.ws.close();
  });

  it('drop_socket closes after N deltas, with the given code or abruptly (1006)', async () => {
    const first = await open();
    emulator.inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 2 }, 'realtime');
    first.client.send(userText('hello'));
    first.client.send({ type: 'response.create' });
    expect((await first.client.closed).code).toBe(1011);
    expect(first.client.all.filter((frame) => frame.type.endsWith('.delta'))).toHaveLength(2);
    expect(first.client.all.some(isDone)).toBe(false);

    const second = await open();
    emulator.inject({ kind: 'drop_socket', afterDeltas: 0 }, 'realtime');
    second.client.send(userText('hello'));
    second.client.send({ type: 'response.create' });
    expect((await second.client.closed).code).toBe(1006);
  });

  it('malformed_frame and oversized_frame send a broken frame, then the response carries on', async () => {
    const { client } = await open();
    emulator.inject({ kind: 'malformed_frame' }, 'realtime');
    client.send(userText('hello'));
    client.send({ type: 'response.create' });
    const frames = await client.until(isDone);
    expect(frames[frames.findIndex((frame) => frame.type === 'response.created') - 1]?.type).toBe('(raw)');
    emulator.inject({ kind: 'oversized_frame', bytes: 2_000_000 }, 'realtime');
    client.send({ type: 'response.create' });
    await client.next(isDone);
    const big = client.all.find((frame) => frame.type === 'response.output_audio.delta' && (frame.delta as string).length >= 2_000_000);
    expect(big).toBeDefined();
    client.ws.close();
  });
});

describe('emulator /v1/realtime: bad input never closes the session', () => {
  it('answers malformed JSON, non-objects, unknown types, wrong field types and missing fields with error events', async () => {
    const { client } = await open();
    const cases: Array<[unknown, Partial<ReturnType<typeof errorOf>>]> = [
      ['{"type": "session.update",', { code: 'invalid_json', event_id: null }],
      ['[1, 2, 3]', { code: 'invalid_type', event_id: null }],
      [{ event_id: 'evt_a', type: 'conversation.item.frobnicate' }, { code: 'invalid_value', param: 'type', event_id: 'evt_a' }],
      [{ event_id: 'evt_b' }, { code: 'missing_required_parameter', param: 'type', event_id: 'evt_b' }],
      [{ event_id: 'evt_c', type: 'input_audio_buffer.append', audio: 12 }, { code: 'invalid_type', param: 'audio', event_id: 'evt_c' }],
      [{ event_id: 'evt_d', type: 'input_audio_buffer.append', audio: 'not base64!' }, { code: 'invalid_value', param: 'audio', event_id: 'evt_d' }],
      [{ event_id: 'evt_e', type: 'input_audio_buffer.append' }, { code: 'missing_required_parameter', param: 'audio', event_id: 'evt_e' }],
      [{ event_id: 'evt_f', type: 'conversation.item.truncate', content_index: 0, audio_end_ms: 10 }, { code: 'missing_required_parameter', param: 'item_id', event_id: 'evt_f' }],
      [{ event_id: 'evt_g', type: 'response.create', response: { modalities: ['text'] } }, { code: 'unknown_parameter', param: 'response.modalities', event_id: 'evt_g' }],
      [{ event_id: 'evt_h', type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'output_text', text: 'x' }] } }, { code: 'invalid_value', param: 'item.content[0].type' }],
      [{ event_id: 'evt_i', type: 'response.cancel', extra: true }, { code: 'unknown_parameter', param: 'extra' }],
      [{ event_id: 42, type: 'response.cancel' }, { code: 'invalid_type', param: 'event_id' }],
      [{ type: 'output_audio_buffer.clear' }, { param: 'type' }],
    ];
    for (const [event, expected] of cases) {
      client.send(event);
      const error = errorOf(await client.next('error'));
      expect(error).toMatchObject({ type: 'invalid_request_error', ...expected });
    }
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(errorOf(await client.next('error')).type).toBe('invalid_request_error');
    client.send(userText('still here?'));
    client.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    expect(responseOf(await client.next(isDone)).status).toBe('completed');
    client.ws.close();
  });
});

describe('emulator /v1/realtime: connection limits and keys', () => {
  it('expires after 60 minutes on the injected clock: session_expired, then close 1001', async () => {
    const clock = new ManualClock(Date.now());
    const limited = await startEmulator({ latency: noLatency, clock });
    try {
      const client = await connect(wsUrl(limited.baseUrl, '/realtime?model=gpt-realtime'));
      const created = await client.next('session.created');
      expect((created.session as { expires_at: number }).expires_at).toBe(Math.floor((clock.now() + 3_600_000) / 1000));
      clock.advance(59 * 60 * 1000);
      client.send({ type: 'response.cancel' });
      expect(errorOf(await client.next('error')).code).toBe('response_cancel_not_active');
      clock.advance(60 * 1000);
      const error = errorOf(await client.next('error'));
      expect(error).toEqual({ type: 'invalid_request_error', code: 'session_expired', message: 'Your session hit the maximum duration of 60 minutes.', param: null, event_id: null });
      expect(await client.closed).toEqual({ code: 1001, reason: 'Your session hit the maximum duration of 60 minutes.' });
    } finally {
      await limited.close();
    }
  });

  it('the expire_connection fault expires at once', async () => {
    const { client } = await open();
    emulator.inject({ kind: 'expire_connection' });
    expect(errorOf(await client.next('error')).code).toBe('session_expired');
    expect((await client.closed).code).toBe(1001);
  });

  it('a revoked key gets invalid_api_key and close 3000', async () => {
    const client = await connect(url, { headers: { Authorization: 'Bearer sk-revoked' } });
    const [frame] = await client.until('error');
    expect(errorOf(frame as Frame)).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(await client.closed).toEqual({ code: 3000, reason: 'invalid_request_error.invalid_api_key' });
  });
});

describe('emulator /v1/realtime?intent=transcription', () => {
  it('opens a transcription session that transcribes VAD turns (honestly) and never answers', async () => {
    const { client, created } = await open('/realtime?intent=transcription');
    expect(created.session).toMatchObject({ type: 'transcription', object: 'realtime.transcription_session', audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: { type: 'server_vad' } } } });
    expect((created.session as { id: string }).id).toMatch(/^sess_/);
    client.send({ type: 'session.update', event_id: 'evt_type', session: { type: 'realtime' } });
    expect(errorOf(await client.next('error'))).toMatchObject({ param: 'session.type', event_id: 'evt_type' });
    client.send({ type: 'session.update', session: { type: 'transcription', audio: { input: { transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' } } } } });
    expect(await client.next('session.updated')).toMatchObject({ session: { type: 'transcription', audio: { input: { transcription: { model: 'gpt-4o-mini-transcribe' } } } } });
    voiceTurn(client);
    const frames = await client.until('conversation.item.input_audio_transcription.completed');
    expect(frames.map((frame) => frame.type)).toEqual([
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.done',
      'conversation.item.input_audio_transcription.delta',
      'conversation.item.input_audio_transcription.completed',
    ]);
    expect(frames.at(-1)).toMatchObject({ transcript: '[1.5 s of speech]' });
    client.send({ type: 'response.create', event_id: 'evt_no' });
    expect(errorOf(await client.next('error'))).toMatchObject({ param: 'type', event_id: 'evt_no' });
    client.ws.close();
  });
});

describe('emulator speech', () => {
  it('maps the VAD threshold onto dBFS: 0 → -60, 0.5 → -35, 1 → -10', () => {
    expect(thresholdToDbfs(0)).toBe(-60);
    expect(thresholdToDbfs(0.5)).toBe(-35);
    expect(thresholdToDbfs(1)).toBe(-10);
    expect(levelDbfs(speech(100))).toBeGreaterThan(-25);
  });

  it('the synthetic voice is a tone pulse per word, never silence, a whole number of G.711 samples', async () => {
    const samples = await toneSpeech.synthesize('one two three', { voice: 'alloy', speed: 1 });
    expect(samples.length % 3).toBe(0);
    expect(samples.length / 24).toBeGreaterThan(3 * 120);
    expect(levelDbfs(samples)).toBeGreaterThan(-20);
    const slow = await toneSpeech.synthesize('one two three', { voice: 'alloy', speed: 0.5 });
    expect(slow.length).toBeGreaterThan(samples.length * 1.8);
  });

  it('uses espeak-ng for real speech when it is installed (else the tone), with a plausible duration', async () => {
    const synth = await defaultSpeech();
    const text = 'The quick brown fox jumps over the lazy dog.';
    const samples = await synth.synthesize(text, { voice: 'alloy', speed: 1 });
    expect(samples.length % 3).toBe(0);
    expect(levelDbfs(samples)).toBeGreaterThan(-40);
    const seconds = samples.length / realtimePcmRate;
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(6);
    if (synth.kind === 'espeak-ng') {
      // Faster speech is shorter; a different voice sounds different.
      const fast = await synth.synthesize(text, { voice: 'alloy', speed: 1.5 });
      expect(fast.length).toBeLessThan(samples.length * 0.85);
      const other = await synth.synthesize(text, { voice: 'coral', speed: 1 });
      expect(Buffer.compare(Buffer.from(other.buffer), Buffer.from(samples.buffer))).not.toBe(0);
    }
  });

  it('a missing espeak-ng binary is an error the response falls back from', async () => {
    await expect(espeakSpeech('espeak-ng-not-installed').synthesize('hello', { voice: 'alloy', speed: 1 })).rejects.toThrow();
  });

  it('a session given the synthetic voice streams it as audio (never silence) at 48 bytes per millisecond', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (ws) => {
      new RealtimeSession({ ws, model: 'gpt-realtime', intent: 'conversation', clock: new ManualClock(), latency: noLatency, faults: new FaultQueue(), sessionLimitMs: 3_600_000, speech: toneSpeech });
    });
    try {
      const client = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
      client.send(userText('hello'));
      client.send({ type: 'response.create' });
      const frames = await client.until(isDone);
      const transcript = (frames.find((frame) => frame.type === 'response.output_audio_transcript.done') as Frame).transcript as string;
      const expected = await toneSpeech.synthesize(transcript, { voice: 'alloy', speed: 1 });
      expect(audioBytes(frames)).toBe(expected.length * 2);
      const pcm = Buffer.concat(frames.filter((frame) => frame.type === 'response.output_audio.delta').map((frame) => fromBase64(frame.delta as string) ?? Buffer.alloc(0)));
      expect(levelDbfs(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2))).toBeGreaterThan(-25);
      client.ws.close();
    } finally {
      for (const ws of server.clients) ws.terminate();
      server.close();
    }
  });
});
