/**
 * The voice session against a tiny Realtime server on loopback that this test controls and that
 * answers with broken frames (PROTOCOL.md §4 client 19): known event types with a field missing or
 * of the wrong type, unknown types, and text that is not JSON. Every `session.update` and every
 * turn must still settle, the process must not throw, and the session must work afterwards.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeSession, type RealtimeSessionEvent } from '../../../app/voice/realtimeSession';
import { defaultVoiceSettings } from '../../../app/voice/settings';
import { RealtimeRequestError } from '../../../app/voice/waiters';
import { drainingPlayout, fastScheduler, RecordingSink, ScriptedMic } from '../../../app/testing';
import { seeded } from '../../../app/testing';

type Json = Record<string, unknown>;


type Kind = 'string' | 'object' | 'array';
/**
 * A well-formed event of a type the session acts on, and the fields whose wrong type (or, unless
 * the SDK marks them optional, whose loss) makes it invalid.
 */
interface Template {
  event: Json;
  required: Array<[path: string, kind: Kind, optional?: 'optional']>;
}

const response = (status: string) => ({ id: 'resp_fuzz', object: 'realtime.response', status, conversation_id: 'conv_fuzz', usage: null });
const templates: Template[] = [
  { event: { type: 'error', error: { type: 'invalid_request_error', code: 'fuzz', message: 'fuzzed', param: null, event_id: 'evt_nobody' } }, required: [['error', 'object'], ['error.type', 'string'], ['error.message', 'string']] },
  { event: { type: 'input_audio_buffer.committed', item_id: 'item_fuzz', previous_item_id: null }, required: [['item_id', 'string']] },
  { event: { type: 'conversation.item.input_audio_transcription.delta', item_id: 'item_fuzz', content_index: 0, delta: 'hi' }, required: [['item_id', 'string'], ['delta', 'string', 'optional']] },
  { event: { type: 'conversation.item.input_audio_transcription.completed', item_id: 'item_fuzz', content_index: 0, transcript: 'hi' }, required: [['item_id', 'string'], ['transcript', 'string']] },
  { event: { type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_fuzz', content_index: 0, error: { message: 'no' } }, required: [['error', 'object'], ['error.message', 'string', 'optional']] },
  {
    event: { type: 'conversation.item.added', item: { id: 'item_fuzz', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } },
    required: [['item', 'object'], ['item.type', 'string'], ['item.content', 'array'], ['item.content.0.text', 'string', 'optional']],
  },
  { event: { type: 'response.created', response: response('in_progress') }, required: [['response', 'object'], ['response.id', 'string', 'optional'], ['response.status', 'string', 'optional']] },
  { event: { type: 'response.done', response: response('completed') }, required: [['response', 'object'], ['response.id', 'string', 'optional'], ['response.status', 'string', 'optional']] },
  {
    event: { type: 'response.output_item.done', response_id: 'resp_fuzz', output_index: 0, item: { type: 'function_call', call_id: 'call_fuzz', name: 'calculator', arguments: '{}' } },
    required: [['item', 'object'], ['item.name', 'string'], ['item.arguments', 'string']],
  },
  { event: { type: 'response.output_audio.delta', response_id: 'resp_fuzz', item_id: 'item_fuzz', delta: 'AAAA' }, required: [['item_id', 'string'], ['delta', 'string']] },
  ...['response.output_audio_transcript.delta', 'response.output_text.delta'].map(
    (type): Template => ({ event: { type, response_id: 'resp_fuzz', item_id: 'item_fuzz', delta: 'hi' }, required: [['response_id', 'string'], ['item_id', 'string'], ['delta', 'string']] }),
  ),
  { event: { type: 'response.output_audio_transcript.done', response_id: 'resp_fuzz', item_id: 'item_fuzz', transcript: 'hi' }, required: [['response_id', 'string'], ['item_id', 'string'], ['transcript', 'string']] },
  { event: { type: 'response.output_text.done', response_id: 'resp_fuzz', item_id: 'item_fuzz', text: 'hi' }, required: [['response_id', 'string'], ['item_id', 'string'], ['text', 'string']] },
];

const wrongValues: Record<Kind, unknown[]> = {
  string: [42, null, true, {}, ['x']],
  object: [42, 'object', null, true, [1]],
  array: [42, 'array', null, { 0: 'x' }],
};

/** The frame with one required field removed or replaced by a value of another type. */
function broken(template: Template, random: () => number): Json {
  const event = structuredClone(template.event);
  const [path, kind, optional] = pick(template.required, random);
  const keys = path.split('.');
  const last = keys.pop() as string;
  let parent: Record<string, unknown> = event;
  for (const key of keys) parent = parent[key] as Record<string, unknown>;
  if (optional === undefined && random() < 0.4) delete parent[last];
  else parent[last] = pick(wrongValues[kind], random);
  return event;
}

function pick<T>(values: readonly T[], random: () => number): T {
  return values[Math.floor(random() * values.length)] as T;
}

/**
 * A Realtime server that answers each client request correctly or brokenly, with broken frames
 * around the answers. It counts what it fuzzed, and notes how it answered each `session.update`.
 */
async function fuzzingServer(seed: number) {
  const random = seeded(seed);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const sent = { invalid: 0, unknown: 0, unreadable: 0 };
  const updateAnswers: Array<'updated' | 'refused' | 'broken'> = [];
  let fuzzing = false;
  let rounds = 0;
  let serverEvents = 0;

  server.on('connection', (ws: WebSocket) => {
    const send = (event: Json) => ws.send(JSON.stringify({ event_id: `event_${(serverEvents += 1)}`, ...event }));
    const noise = () => {
      const count = fuzzing ? Math.floor(random() * 4) : 0;
      for (let index = 0; index < count; index += 1) {
        const roll = random();
        if (roll < 0.75) {
          sent.invalid += 1;
          send(broken(pick(templates, random), random));
        } else if (roll < 0.95) {
          sent.unknown += 1;
          send({ type: pick(['fuzz.unknown', 'rate_limits.updated', 'response.mcp_call.failed', 'conversation.item.fuzzed'], random), response: 7, item: null });
        } else {
          sent.unreadable += 1;
          ws.send(pick(['{"type":"response.done",', '[1,2,3]', '{"type":7}', 'not json'], random));
        }
      }
    };
    /** The answer itself: well-formed, or (while fuzzing) broken about half the time. */
    const answer = (event: Json): void => {
      const template = templates.find((entry) => entry.event.type === event.type);
      if (fuzzing && template !== undefined && random() < 0.5) {
        sent.invalid += 1;
        send(broken({ ...template, event }, random));
      } else send(event);
    };
    send({ type: 'session.created', session: { type: 'realtime', object: 'realtime.session', id: 'sess_fuzz' } });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Json;
      switch (message.type) {
        case 'session.update': {
          noise();
          const roll = fuzzing ? random() : 0;
          if (roll < 0.4) {
            updateAnswers.push('updated');
            send({ type: 'session.updated', session: message.session as Json });
          } else if (roll < 0.7) {
            updateAnswers.push('refused');
            send({ type: 'error', error: { type: 'invalid_request_error', code: 'cannot_update_voice', message: "Cannot update a conversation's voice if assistant audio is present.", param: null, event_id: message.event_id } });
          } else {
            // A refusal that cannot be read, but still names the update it answers.
            updateAnswers.push('broken');
            sent.invalid += 1;
            send({ type: 'error', error: { code: 42, event_id: message.event_id } });
          }
          return;
        }
        case 'conversation.item.create':
          noise();
          send({ type: 'conversation.item.added', item: { id: `item_${serverEvents}`, type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
          return;
        case 'response.create':
          rounds += 1;
          noise();
          answer({ type: 'response.created', response: response('in_progress') });
          noise();
          send({ type: 'response.output_text.delta', response_id: 'resp_fuzz', item_id: `item_reply_${rounds}`, delta: 'Fine.' });
          send({ type: 'response.output_text.done', response_id: 'resp_fuzz', item_id: `item_reply_${rounds}`, text: 'Fine.' });
          noise();
          answer({ type: 'response.done', response: response('completed') });
          // Not a Realtime event: the session passes it by; the test knows the round has arrived.
          send({ type: 'fuzz.round_end', round: rounds });
          return;
        default:
      }
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    sent,
    updateAnswers,
    /** Fuzzes from now on (the session first opens and configures against a well-behaved server). */
    setFuzzing: (on: boolean) => {
      fuzzing = on;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('server frames with missing fields, wrong types and unknown types', () => {
  it('never leave a settings update or a turn unresolved, and never throw', async () => {
    const thrown: unknown[] = [];
    const onThrow = (error: unknown) => thrown.push(error);
    process.on('uncaughtException', onThrow);
    process.on('unhandledRejection', onThrow);
    cleanup.push(async () => {
      process.off('uncaughtException', onThrow);
      process.off('unhandledRejection', onThrow);
    });
    const server = await fuzzingServer(20_240_611);
    cleanup.push(server.close);

    const events: RealtimeSessionEvent[] = [];
    const roundEnds: Array<(round: number) => void> = [];
    const { playout, attach } = drainingPlayout({ sink: new RecordingSink(), scheduler: fastScheduler(50) });
    const session = new RealtimeSession({
      baseUrl: server.baseUrl,
      apiKey: 'sk-test',
      settings: { ...defaultVoiceSettings, turnMode: 'push_to_talk' },
      createWebSocket: (url, options) => {
        const ws = new WebSocket(url, options);
        // Heard before the session's own listener runs; awaiting it resumes after the session handled the frame.
        ws.on('message', (data) => {
          const text = data.toString();
          if (!text.includes('"fuzz.round_end"')) return;
          const { round } = JSON.parse(text) as { round: number };
          for (const resolve of roundEnds.splice(0)) resolve(round);
        });
        return ws;
      },
      mic: new ScriptedMic(),
      playout,
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: () => 0.5,
      onEvent: (event) => events.push(event),
    });
    attach(session);
    const voice = session;
    cleanup.push(() => voice.close());
    await voice.connect();
    server.setFuzzing(true);

    const rounds = 40;
    for (let round = 1; round <= rounds; round += 1) {
      // Two changes in flight at once: new instructions (one session.update), and a new voice (the
      // settings, then the voice on its own: two). Each is answered, refused or answered unreadably.
      const updates = await Promise.allSettled([voice.updateSettings({ instructions: `Round ${round}.` }), voice.updateSettings({ voice: round % 2 === 0 ? 'marin' : 'cedar' })]);
      const [instructions, settings, voiceAlone] = server.updateAnswers.slice(-3);
      expect(server.updateAnswers).toHaveLength(1 + 3 * round);
      // Only a session.updated resolves an update; a refusal or an unreadable answer rejects it with a Problem.
      expect(updates.map((update) => update.status)).toEqual([
        instructions === 'updated' ? 'fulfilled' : 'rejected',
        settings === 'updated' && voiceAlone === 'updated' ? 'fulfilled' : 'rejected',
      ]);
      const reasons = updates.flatMap((update) => (update.status === 'rejected' ? [update.reason as unknown] : []));
      expect(reasons).toEqual(reasons.map(() => expect.objectContaining({ problem: expect.objectContaining({ message: expect.any(String) }) })));
      expect(reasons.every((reason) => reason instanceof RealtimeRequestError)).toBe(true);
      const ended = new Promise<number>((resolve) => roundEnds.push(resolve));
      voice.sendText(`question ${round}`);
      // The server only answers a response.create the session really sent: a stuck turn would never get here.
      expect(await ended).toBe(round);
      expect(voice.state).toBe('idle');
    }

    // Afterwards, with a well-behaved server, everything works as before.
    server.setFuzzing(false);
    await expect(voice.updateSettings({ instructions: 'Calm now.' })).resolves.toBeUndefined();
    const calm = new Promise<number>((resolve) => roundEnds.push(resolve));
    voice.sendText('all good?');
    expect(await calm).toBe(rounds + 1);
    expect(voice.state).toBe('idle');

    const fuzzed = server.sent.invalid + server.sent.unknown + server.sent.unreadable;
    process.stdout.write(`fuzz: ${fuzzed} fuzzed frames sent over ${rounds} rounds (${server.sent.invalid} known types with a missing or wrong field, ${server.sent.unknown} unknown types, ${server.sent.unreadable} not JSON objects)\n`);
    expect(fuzzed).toBeGreaterThan(200);
    // Every broken frame of a known type was reported to the inspector once; unknown types passed by.
    expect(events.filter((event) => event.type === 'frame.rejected')).toHaveLength(server.sent.invalid);
    expect(thrown).toEqual([]);
  });
});
