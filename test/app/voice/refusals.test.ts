/**
 * A `session.update` the Realtime server refuses (PROTOCOL.md §4 client 18, emulator 18), against
 * the emulator over real loopback sockets: each update is answered by its own `session.updated` or
 * the `error` that refused it, and a refused voice waits for the next conversation. What the
 * server holds is read off the wire (its `session.updated` and `response.created`), and what it
 * does (a VAD turn without a key), never the session's fields.
 */
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { RealtimeSession, type RealtimeSessionEvent } from '../../../app/voice/realtimeSession';
import { defaultVoiceSettings, type VoiceSettings } from '../../../app/voice/settings';
import type { WebSocketFactory } from '../../../app/transport/socket';
import { drainingPlayout, eventLog, fastScheduler, RecordingSink, ScriptedMic } from '../../../app/testing';

type Frame = Record<string, unknown> & { type: string };

let emulator: Emulator | null = null;
const sessions: RealtimeSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
  await emulator?.close();
  emulator = null;
});

const refusedVoice = "The voice can't change after Parley has spoken in this conversation; it applies to the next conversation.";

/** What the server sent on every socket, in order: its own account of the session it holds. */
function tappedSockets(): { createWebSocket: WebSocketFactory; frames: Frame[] } {
  const frames: Frame[] = [];
  const createWebSocket: WebSocketFactory = (url, options) => {
    const ws = new WebSocket(url, options);
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
    return ws;
  };
  return { createWebSocket, frames };
}

function open(settings: Partial<VoiceSettings>, createWebSocket: WebSocketFactory) {
  if (emulator === null) throw new Error('start the emulator first');
  const mic = new ScriptedMic();
  const log = eventLog<RealtimeSessionEvent>();
  const { playout, attach } = drainingPlayout({ sink: new RecordingSink(), scheduler: fastScheduler(50) });
  const session = new RealtimeSession({
    baseUrl: emulator.baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultVoiceSettings, ...settings },
    createWebSocket,
    mic,
    playout,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    onEvent: log.push,
  });
  attach(session);
  sessions.push(session);
  // Each wait is for what the step being tested causes, never an earlier event.
  return { session, mic, events: log.events, until: log.next };
}

const sessionOf = (frame: Frame | undefined) => frame?.session as { audio: { input: { turn_detection: { type: string } | null }; output: { voice: string } } } | undefined;
const voiceOfResponse = (frame: Frame | undefined) => (frame?.response as { audio: { output: { voice: string } } } | undefined)?.audio.output.voice;

describe('a refused session.update', () => {
  it('a voice change after the first spoken reply rejects in plain words; a later turn-mode change still applies; the voice applies to the next conversation', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const tap = tappedSockets();
    // Headphones: the mic is not gated while the first reply may still be playing.
    const first = open({ turnMode: 'push_to_talk', voice: 'marin', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } }, tap.createWebSocket);
    await first.session.connect();
    const spoken = first.until('response', (event) => event.phase === 'done');
    first.session.sendText('hello');
    await spoken;

    const refusal = await first.session.updateSettings({ voice: 'cedar' }).then(
      () => null,
      (error: unknown) => error as { problem?: { message: string } },
    );
    expect(refusal?.problem?.message).toBe(refusedVoice);
    // The server still speaks with the old voice and answered the refusal with no session.updated.
    expect(sessionOf(tap.frames.findLast((frame) => frame.type === 'session.updated'))?.audio.output.voice).toBe('marin');

    // A later turn-mode change is answered by its own session.updated and takes effect.
    await first.session.updateSettings({ turnMode: 'server_vad' });
    expect(sessionOf(tap.frames.findLast((frame) => frame.type === 'session.updated'))?.audio.input.turn_detection?.type).toBe('server_vad');
    const heard = first.until('transcript.assistant.done', (event) => event.text.includes('seconds of speech'));
    first.mic.silence(200);
    first.mic.speak(700);
    first.mic.silence(600);
    // The server's VAD made a turn of it without any key, spoken in the voice it had.
    expect((await heard).text).toMatch(/I heard [\d.]+ seconds of speech/);
    expect(voiceOfResponse(tap.frames.findLast((frame) => frame.type === 'response.created'))).toBe('marin');
    await first.session.close();

    // The next conversation opens with the voice that was refused.
    const next = open(first.session.settings, tap.createWebSocket);
    await next.session.connect();
    expect(sessionOf(tap.frames.findLast((frame) => frame.type === 'session.updated'))?.audio.output.voice).toBe('cedar');
    const reply = next.until('response', (event) => event.phase === 'done');
    next.session.sendText('hello again');
    await reply;
    expect(voiceOfResponse(tap.frames.findLast((frame) => frame.type === 'response.created'))).toBe('cedar');
    expect(next.events.filter((event) => event.type === 'problem')).toEqual([]);
  });

  it('answers updates in order: the refused one rejects alone, the ones after it resolve', async () => {
    emulator = await startEmulator({ latency: noLatency });
    const tap = tappedSockets();
    const { session, until } = open({ turnMode: 'push_to_talk', voice: 'marin' }, tap.createWebSocket);
    await session.connect();
    const spoken = until('response', (event) => event.phase === 'done');
    session.sendText('hello');
    await spoken;

    // Three updates in flight at once; the middle one asks for a new voice.
    const outcomes = await Promise.allSettled([
      session.updateSettings({ instructions: 'First.' }),
      session.updateSettings({ voice: 'ash', instructions: 'Second.' }),
      session.updateSettings({ turnMode: 'semantic_vad' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'cannot_update_voice', problem: { message: refusedVoice } });
    const updates = tap.frames.filter((frame) => frame.type === 'session.updated').slice(-3);
    expect(updates.map((frame) => (frame.session as { instructions: string }).instructions)).toEqual(['First.', 'Second.', 'Second.']);
    expect(sessionOf(updates.at(-1))?.audio).toMatchObject({ input: { turn_detection: { type: 'semantic_vad' } }, output: { voice: 'marin' } });
    // Only the voice was refused, once: no second refusal while that voice is still the wanted one.
    expect(tap.frames.filter((frame) => frame.type === 'error')).toHaveLength(1);
  });
});
