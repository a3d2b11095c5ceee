/**
 * The meeting's listen-only transcription session on its own, over real loopback sockets: against
 * the emulator for what it hears, and against a tiny server this test scripts for what the
 * emulator never sends on a transcription socket (a failed transcription, an error, a broken
 * frame, a server that never answers). Every problem here is what the meeting shows beside a
 * source, word for word (app/meeting/session.ts passes them on as they are).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator } from '../../../app/emulator/server';
import { drainingPlayout, eventLog, fastScheduler, frameRecorder, ManualClock, RecordingSink, ScriptedMic } from '../../../app/testing';
import type { VoiceSessionEvent } from '../../../app/voice/session';
import { Transcriber } from '../../../app/voice/transcriber';
import { scriptedRealtime } from '../../support/scriptedRealtime';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function scriptedServer(options: { quiet?: boolean } = {}) {
  const server = await scriptedRealtime(options);
  cleanup.push(() => server.close());
  return server;
}

interface ListenerOptions {
  echo?: 'speakers' | 'headphones';
  clock?: ManualClock;
}

function listener(baseUrl: string, options: ListenerOptions = {}) {
  const mic = new ScriptedMic();
  const log = eventLog<VoiceSessionEvent>();
  const wire = frameRecorder();
  const { playout } = drainingPlayout({ sink: new RecordingSink(), scheduler: fastScheduler(20) });
  const transcriber = new Transcriber({
    baseUrl,
    apiKey: 'sk-test',
    createWebSocket: wire.createWebSocket,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    ...(options.clock === undefined ? {} : { setTimer: options.clock.after }),
    mic,
    playout,
    settings: { transcriptionModel: 'gpt-4o-mini-transcribe', language: null, vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 }, echo: options.echo ?? 'headphones', frameMs: 40 },
    onEvent: log.push,
  });
  cleanup.push(() => transcriber.close());
  return { transcriber, mic, playout, wire, ...log };
}

const problems = (log: { of: (type: 'problem') => Array<Extract<VoiceSessionEvent, { type: 'problem' }>> }) => log.of('problem').map((event) => event.problem);

describe('Transcriber against the emulator', () => {
  it('says when someone starts and stops talking, and what they said, partial then final', async () => {
    const emulator = await startEmulator({ latency: noLatency });
    cleanup.push(() => emulator.close());
    const l = listener(emulator.baseUrl);
    await l.transcriber.connect();
    expect(l.transcriber.state).toBe('listening');
    l.mic.speak(700);
    await l.until('vad', (event) => event.speaking);
    l.mic.silence(600);
    await l.until('vad', (event) => !event.speaking);
    const final = await l.until('transcript.user', (event) => event.final);
    expect(final.text).toBe('[1.0 s of speech]');
    expect(l.of('vad').map((event) => event.speaking)).toEqual([true, false]);
    expect(l.of('transcript.user').filter((event) => !event.final)).toEqual([expect.objectContaining({ itemId: final.itemId, final: false })]);
    expect(problems(l)).toEqual([]);
  });
});

describe('Transcriber against a scripted server', () => {
  it('a line the server could not transcribe is reported as missing from the transcript, with the reason when given', async () => {
    const server = await scriptedServer();
    const l = listener(server.baseUrl);
    await l.transcriber.connect();
    server.send({ type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_1', content_index: 0, error: { type: 'transcription_error', message: 'audio too noisy' } });
    server.send({ type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_2', content_index: 0, error: {} });
    await l.until('problem', (event) => /unknown error/.test(event.problem.message));
    expect(problems(l)).toEqual([
      { code: 'server_error', message: 'A line of the meeting could not be transcribed: audio too noisy.', hint: 'It is missing from the transcript.' },
      { code: 'server_error', message: 'A line of the meeting could not be transcribed: unknown error.', hint: 'It is missing from the transcript.' },
    ]);
    expect(l.of('transcript.user')).toEqual([]);
  });

  it('a final line the server sent unreadably is reported as missing; other broken frames only as skipped', async () => {
    const server = await scriptedServer();
    const l = listener(server.baseUrl);
    await l.transcriber.connect();
    // Known types with a wrong field: a commit (nothing of the transcript in it), then a final line.
    server.send({ type: 'input_audio_buffer.committed', item_id: 42, previous_item_id: null });
    // Each broken frame is noted for the inspector; a broken commit is not put to the user.
    await l.until('frame.rejected');
    expect(problems(l)).toEqual([]);
    server.send({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'item_2', content_index: 0, transcript: 42 });
    await l.until('problem');
    expect(l.of('frame.rejected')).toHaveLength(2);
    expect(problems(l)).toEqual([{ code: 'malformed_frame', message: 'A line of the meeting could not be read back from the transcription server.', hint: 'It is missing from the transcript.' }]);
  });

  it('a frame it cannot read at all says it came from the transcription server', async () => {
    const server = await scriptedServer();
    const l = listener(server.baseUrl);
    await l.transcriber.connect();
    server.raw('{"type":"conversation.item.input_audio_transcription.completed", not json');
    const { problem } = await l.until('problem');
    expect(problem.message).toMatch(/^The transcription server sent a frame Parley could not read: /);
  });

  it('server errors are shown in its words, a refused key as unauthorized, and an empty commit not at all', async () => {
    const server = await scriptedServer();
    const l = listener(server.baseUrl);
    await l.transcriber.connect();
    server.send({ type: 'error', error: { type: 'invalid_request_error', code: 'input_audio_buffer_commit_empty', message: 'Error committing input audio buffer: buffer too small.', param: null, event_id: null } });
    server.send({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.', param: null, event_id: null } });
    server.send({ type: 'error', error: { type: 'server_error', code: 'server_error', message: 'The server had an error.', param: null, event_id: null } });
    await l.until('problem', (event) => event.problem.message.includes('had an error'));
    expect(problems(l)).toEqual([
      { code: 'unauthorized', message: 'The transcription server reported: Incorrect API key provided.', hint: 'Try again.' },
      { code: 'server_error', message: 'The transcription server reported: The server had an error.', hint: 'Try again.' },
    ]);
  });

  it('a server that never answers the settings fails the start with a hint about the meeting', async () => {
    const server = await scriptedServer({ quiet: true });
    const clock = new ManualClock();
    const l = listener(server.baseUrl, { clock });
    const started = l.transcriber.connect().then(
      () => null,
      (error: unknown) => error as { problem?: { message: string; hint: string } },
    );
    // The socket opens and the settings go out; then the answer's deadline passes.
    await expect.poll(() => l.wire.sent('session.update').length).toBe(1);
    await clock.advance(30_000);
    const failure = await started;
    expect(failure?.problem?.message).toMatch(/^The transcription server did not answer/);
    expect(failure?.problem?.hint).toBe('Check your connection; the meeting transcript resumes when it is back.');
    expect(l.transcriber.state).toBe('error');
  });
});
