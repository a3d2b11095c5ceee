/**
 * The voice controller on its own, against a scripted voice server on loopback: how each voice
 * event becomes transcript turns, voice status and inspector entries, how a spoken turn is timed,
 * and which echo handling runs. Time stands still (a ManualClock) until a test moves it, so the
 * latencies asserted are the gaps the test put between the server's events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { InspectorEvent, Problem, PushEvent } from '../../../app/contract';
import { Transcript } from '../../../app/host/transcript';
import { InspectorLog } from '../../../app/inspector/log';
import { ManualClock, ManualDetector, RecordingSink, ScriptedMic, SilencingCanceller } from '../../../app/testing';
import { VoiceController, type VoiceControllerOptions, type VoiceDeps } from '../../../app/voice/controller';
import type { VoiceSettings } from '../../../app/voice/settings';
import { recordingLogger } from '../../support/copilot';
import { scriptedRealtime, type ScriptedRealtime } from '../../support/scriptedRealtime';
import { serverEvents } from './rig';

const open: Array<{ controller: VoiceController; server: ScriptedRealtime; pushed: PushEvent[] }> = [];
afterEach(async () => {
  const rigs = open.splice(0);
  for (const { controller, server } of rigs) {
    await controller.stop();
    await server.close();
  }
  // Whatever a test did, each event pushed to the windows named what it is.
  for (const { pushed } of rigs) expect(pushed.map((event) => String(event.type)).filter((type) => type === '' || type === 'undefined')).toEqual([]);
});

const { created, audio, words, said, finished } = serverEvents;
const heardUser = (itemId: string, transcript: string) => ({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript });
const usage = (textIn: number, audioIn: number, cachedIn: number, textOut: number, audioOut: number) => ({
  usage: { input_token_details: { text_tokens: textIn, audio_tokens: audioIn, cached_tokens: cachedIn }, output_token_details: { text_tokens: textOut, audio_tokens: audioOut } },
});
const stopped = { type: 'input_audio_buffer.speech_stopped' };
const committed = (itemId: string) => ({ type: 'input_audio_buffer.committed', item_id: itemId });

interface ControllerRig {
  controller: VoiceController;
  server: ScriptedRealtime;
  mic: ScriptedMic;
  sink: RecordingSink;
  /** The controller's and the session's time. */
  clock: ManualClock;
  /** The playout's time: how much of the reply the listener has heard. */
  heard: ManualClock;
  pushed: PushEvent[];
  transcript: Transcript;
  inspector: InspectorLog;
  log: ReturnType<typeof recordingLogger>;
  /** Inspector entries of one type (the rig's own sync markers left out). */
  entries<T extends InspectorEvent['type']>(type: T): Array<Extract<InspectorEvent, { type: T }>>;
  /** At `atMs` on the clock, the server sends `events`; resolves once the controller has handled them all. */
  at(atMs: number, ...events: Array<Record<string, unknown>>): Promise<void>;
  /** Sockets the server has seen opened. */
  connections(): number;
}

/**
 * A VoiceController on a scripted server. `at` sends a committed event without its item id after
 * the test's events: the connection rejects it (an inspector `frame.rejected`), and the socket
 * keeps order, so once that entry is in everything before it has been handled.
 */
async function controllerRig(settings: Partial<VoiceSettings> = {}, deps: Partial<VoiceDeps> = {}, options: Partial<VoiceControllerOptions> = {}): Promise<ControllerRig> {
  const scripted = await scriptedRealtime();
  const mic = new ScriptedMic();
  const sink = new RecordingSink();
  const clock = new ManualClock();
  const heard = new ManualClock();
  const pushed: PushEvent[] = [];
  const transcript = new Transcript((event) => pushed.push(event));
  let marks = 0;
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  const inspector = new InspectorLog(2000, (event) => {
    if (event.type !== 'frame.rejected' || !event.reason.includes('input_audio_buffer.committed')) return;
    marks += 1;
    for (const waiter of waiting.filter((entry) => entry.count <= marks)) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const log = recordingLogger();
  let sent = 0;
  let connections = 0;
  const created = new VoiceController({
    baseUrl: scripted.baseUrl,
    apiKey: 'sk-test',
    settings: { turnMode: 'push_to_talk', echo: 'headphones', ...settings },
    deps: { createMic: () => mic, createSpeaker: () => sink, scheduler: heard, ...deps },
    createWebSocket: (url, socketOptions) => ((connections += 1), new WebSocket(url, socketOptions)),
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    log,
    transcript,
    inspector,
    emit: (event) => pushed.push(event),
    ...options,
  });
  open.push({ controller: created, server: scripted, pushed });
  return {
    controller: created,
    server: scripted,
    mic,
    sink,
    clock,
    heard,
    pushed,
    transcript,
    inspector,
    log,
    entries: <T extends InspectorEvent['type']>(type: T) =>
      inspector.events.filter((event): event is Extract<InspectorEvent, { type: T }> => event.type === type && !(event.type === 'frame.rejected' && event.reason.includes('input_audio_buffer.committed'))),
    at: async (atMs, ...events) => {
      clock.advanceSync(atMs - clock.now());
      sent += 1;
      const handled = new Promise<void>((resolve) => waiting.push({ count: sent, resolve }));
      for (const event of [...events, { type: 'input_audio_buffer.committed' }]) scripted.send(event);
      await handled;
    },
    connections: () => connections,
  };
}

const notices = (pushed: PushEvent[]) => pushed.flatMap((event) => (event.type === 'notice' ? [event.problem] : []));

describe('a spoken turn in the inspector', () => {
  it('times each stage from the end of speech and lists the turn with its tokens at response.done', async () => {
    const r = await controllerRig();
    await r.controller.start();
    // The user speaks from 400 to 1000: the turn is timed from the end of speech.
    await r.at(400, { type: 'input_audio_buffer.speech_started' });
    await r.at(1000, stopped, committed('item_user'));
    await r.at(1300, heardUser('item_user', 'what time is it'));
    await r.at(1500, created('resp_1'));
    await r.at(1700, words('resp_1', 'item_reply', 'It is '));
    await r.at(2000, audio('resp_1', 'item_reply', 200));
    expect(r.entries('voice.timing')).toEqual([
      { socket: 'voice', type: 'voice.timing', at: 2000, mode: 'realtime', speechEndToTranscriptMs: 300, transcriptToFirstTokenMs: 400, firstTokenToFirstAudioMs: 300, totalMs: 1000 },
    ]);
    expect(r.entries('turn.finished')).toEqual([]);
    await r.at(2600, words('resp_1', 'item_reply', 'noon.'), said('resp_1', 'item_reply', 'It is noon.'), finished('resp_1', 'completed', usage(10, 20, 4, 3, 30)));
    const [turn] = r.entries('turn.finished');
    expect(turn).toMatchObject({ socket: 'voice', at: 2600, status: 'completed' });
    expect(turn?.metrics).toMatchObject({
      turnId: 'resp_1',
      timeToFirstByteMs: 1000,
      timeToFirstDeltaMs: 700,
      totalMs: 1600,
      chained: false,
      requests: 1,
      toolCalls: 0,
      inputTokens: 30,
      cachedTokens: 4,
      outputTokens: 33,
    });
    expect(turn?.metrics?.costUsd).toBeGreaterThan(0);
    expect(r.inspector.summary.recentTurns).toHaveLength(1);
    expect(r.pushed.at(-1)).toMatchObject({ type: 'inspector', summary: { recentTurns: [expect.objectContaining({ turnId: 'resp_1' })] } });
    // The transcript: what the user said, and the reply as it finished.
    expect(r.transcript.turns.map((entry) => [entry.role, entry.source, entry.text, entry.status])).toEqual([
      ['user', 'voice', 'what time is it', 'completed'],
      ['assistant', 'voice', 'It is noon.', 'completed'],
    ]);
  });

  it('takes a transcript that arrives after the reply began, and ignores a response.done of another response', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(1000, stopped);
    await r.at(1200, created('resp_1'));
    await r.at(1600, heardUser('item_user', 'hello'));
    await r.at(1700, words('resp_1', 'item_reply', 'Hi.'));
    await r.at(1800, finished('resp_stray', 'cancelled'));
    expect(r.entries('turn.finished')).toEqual([]);
    await r.at(1900, audio('resp_1', 'item_reply', 200));
    expect(r.entries('voice.timing')).toMatchObject([{ speechEndToTranscriptMs: 600, transcriptToFirstTokenMs: 100, firstTokenToFirstAudioMs: 200, totalMs: 900 }]);
    await r.at(2500, finished('resp_1'));
    // Without usage the turn has no price, and no tokens.
    expect(r.entries('turn.finished')).toMatchObject([{ status: 'completed', metrics: { turnId: 'resp_1', totalMs: 1500, inputTokens: 0, outputTokens: 0, costUsd: null } }]);
  });

  it('carries a turn whose reply only called a tool on to the reply the tool output asks for', async () => {
    const ran: string[] = [];
    const r = await controllerRig({}, {}, { runTool: async (call) => (ran.push(call.name), '{"result":5}') });
    await r.controller.start();
    await r.at(1000, stopped);
    await r.at(1100, created('resp_1'));
    const call = { type: 'response.output_item.done', response_id: 'resp_1', output_index: 0, item: { id: 'item_call', type: 'function_call', call_id: 'call_1', name: 'calculator', arguments: '{"expression":"2+3"}' } };
    await r.at(1400, call, finished('resp_1', 'completed', usage(10, 0, 2, 1, 0)));
    await r.server.until('response.create');
    expect(ran).toEqual(['calculator']);
    expect(r.entries('turn.finished')).toEqual([]);
    await r.at(1500, created('resp_2'));
    await r.at(1800, audio('resp_2', 'item_reply', 200));
    await r.at(2400, said('resp_2', 'item_reply', 'Five.'), finished('resp_2', 'completed', usage(20, 0, 8, 0, 5)));
    // No transcript of the user and no words before the audio: those stages are unknown, not zero.
    expect(r.entries('voice.timing')).toMatchObject([{ speechEndToTranscriptMs: null, transcriptToFirstTokenMs: null, firstTokenToFirstAudioMs: null, totalMs: 800 }]);
    expect(r.entries('turn.finished')).toMatchObject([
      { status: 'completed', metrics: { turnId: 'resp_1', requests: 2, toolCalls: 1, timeToFirstByteMs: 800, totalMs: 1400, inputTokens: 30, cachedTokens: 10, outputTokens: 6 } },
    ]);
  });

  it('times the first audio only, when the reply speaks again after the user made a sound', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(1000, stopped);
    await r.at(1100, created('resp_1'), audio('resp_1', 'item_a', 100));
    // All of it heard; the user makes a sound (nothing playing, so no cut), and the reply goes on.
    r.heard.advanceSync(1000);
    await expect.poll(() => r.entries('voice.playout').length).toBe(2);
    await r.at(1200, { type: 'input_audio_buffer.speech_started' });
    await r.at(1300, audio('resp_1', 'item_a', 100));
    expect(r.entries('voice.state').map((entry) => entry.state)).toEqual(['connecting', 'idle', 'speaking', 'listening', 'speaking']);
    expect(r.entries('voice.timing')).toMatchObject([{ at: 1100, totalMs: 100 }]);
  });

  it('tells the inspector window when a turn is listed', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(1000, stopped);
    await r.at(1100, created('resp_1'), audio('resp_1', 'item_a', 100));
    // Sent without the rig's marker (whose rejection pushes a summary too): the turn's own push is awaited.
    r.server.send(finished('resp_1'));
    await expect.poll(() => r.pushed.some((event) => event.type === 'inspector' && event.summary.recentTurns.length === 1)).toBe(true);
  });

  it('lists a reply that ended before it said anything, with how it ended', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(1000, stopped);
    await r.at(1100, created('resp_1'));
    // The user makes a sound while the reply is on its way: no audio yet, so no stage timing.
    await r.at(1150, { type: 'input_audio_buffer.speech_started' });
    await r.at(1300, finished('resp_1', 'cancelled'));
    expect(r.entries('voice.timing')).toEqual([]);
    expect(r.entries('turn.finished')).toMatchObject([{ status: 'cancelled', metrics: { turnId: 'resp_1', timeToFirstByteMs: null, timeToFirstDeltaMs: null, totalMs: 300, requests: 1 } }]);
  });
});

describe('voice events in the transcript, status and inspector', () => {
  it('streams the reply into one turn, and shows a reply that came whole', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, created('resp_1'), words('resp_1', 'item_a', 'Hel'), words('resp_1', 'item_a', 'lo'));
    expect(r.transcript.turns).toMatchObject([{ id: 'item_a', role: 'assistant', source: 'voice', text: 'Hello', status: 'streaming' }]);
    // Text output without deltas: the done alone makes the turn.
    await r.at(200, { type: 'response.output_text.done', response_id: 'resp_1', item_id: 'item_b', output_index: 1, content_index: 0, text: 'And more.' });
    expect(r.transcript.turns[1]).toMatchObject({ id: 'item_b', role: 'assistant', source: 'voice', text: 'And more.', status: 'completed', startedAt: 200 });
  });

  it('streams what the user says into one turn, finished by the final transcript', async () => {
    const r = await controllerRig();
    await r.controller.start();
    const partial = (delta: string) => ({ type: 'conversation.item.input_audio_transcription.delta', item_id: 'item_u', content_index: 0, delta });
    await r.at(100, partial('what '), partial('time'));
    expect(r.transcript.turns).toMatchObject([{ id: 'item_u', role: 'user', source: 'voice', text: 'what time', status: 'streaming' }]);
    expect(r.pushed.filter((event) => event.type === 'turn.finished')).toEqual([]);
    await r.at(200, heardUser('item_u', 'What time is it?'));
    expect(r.transcript.turns).toMatchObject([{ id: 'item_u', text: 'What time is it?', status: 'completed', startedAt: 100 }]);
  });

  it('replaces a user transcript the server sends again for the same item', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, heardUser('item_u', 'helo'));
    await r.at(200, heardUser('item_u', 'hello'));
    expect(r.transcript.turns).toMatchObject([{ id: 'item_u', role: 'user', source: 'voice', text: 'hello', status: 'completed', startedAt: 100 }]);
    // The windows were told it finished, each time.
    expect(r.pushed.filter((event) => event.type === 'turn.finished').map((event) => event.type === 'turn.finished' && event.turn.text)).toEqual(['helo', 'hello']);
  });

  it('does not bring back a turn the user cleared when its transcript comes again', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, heardUser('item_u', 'helo'));
    r.transcript.clear();
    await r.at(200, heardUser('item_u', 'hello'));
    expect(r.transcript.turns).toEqual([]);
  });

  it('records a commit with its item, response phases with their status, and a cost only when usage came', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, committed('item_1'));
    expect(r.entries('voice.commit')).toEqual([{ socket: 'voice', type: 'voice.commit', at: 100, audioMs: 0 }]);
    const before = r.pushed.filter((event) => event.type === 'inspector').length;
    await r.at(200, created('resp_1'));
    expect(r.entries('voice.response')).toEqual([{ socket: 'voice', type: 'voice.response', at: 200, phase: 'created', status: null }]);
    // One summary push: the rig's own rejected marker frame's; the response without usage adds none.
    expect(r.pushed.filter((event) => event.type === 'inspector')).toHaveLength(before + 1);
    await r.at(300, finished('resp_1', 'completed', usage(5, 0, 0, 5, 0)));
    expect(r.entries('voice.response').at(-1)).toMatchObject({ phase: 'done', status: 'completed' });
    expect(r.inspector.summary.voiceCostUsd).toBeGreaterThan(0);
    expect(r.pushed.filter((event) => event.type === 'inspector').length).toBeGreaterThan(before);
  });

  it('records a held-key turn’s commit with how long it was', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.controller.press();
    r.mic.speak(600);
    await r.controller.release();
    expect(r.entries('voice.commit')).toEqual([{ socket: 'voice', type: 'voice.commit', at: 0, audioMs: 600 }]);
  });

  it('says a press too short to send is dropped, as a bad request the user can fix', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.controller.press();
    await r.controller.release();
    expect(notices(r.pushed)).toEqual([{ code: 'invalid_payload', message: 'That was too short to send.', hint: expect.stringContaining('Hold the key while you speak') }]);
    expect(r.entries('voice.commit')).toEqual([]);
  });

  it('records voice activity both ways', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, { type: 'input_audio_buffer.speech_started' }, stopped);
    expect(r.entries('voice.vad')).toEqual([
      { socket: 'voice', type: 'voice.vad', at: 100, speaking: true },
      { socket: 'voice', type: 'voice.vad', at: 100, speaking: false },
    ]);
  });

  it('shows a server error in the status until the voice moves on, and says it in a notice', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, { type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Something was off.' } });
    const problem = r.controller.status.problem;
    expect(problem?.message).toContain('Something was off.');
    expect(notices(r.pushed)).toContainEqual(problem);
    expect(r.log.lines.some((line) => line.startsWith('warn voice problem') && line.includes('Something was off.'))).toBe(true);
    await r.at(200, created('resp_1'), audio('resp_1', 'item_a', 100));
    expect(r.controller.status).toMatchObject({ state: 'speaking', problem: null });
    expect(r.controller.speaking).toBe(true);
    expect(r.entries('voice.state').at(-1)).toEqual({ socket: 'voice', type: 'voice.state', at: 200, state: 'speaking' });
  });

  it('cuts the reply when the user talks over it: the turn keeps what was heard, and the inspector says so', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, created('resp_1'), words('resp_1', 'item_a', 'Once upon a time there lived a king.'), audio('resp_1', 'item_a', 2000));
    await expect.poll(() => r.sink.writtenMs).toBeGreaterThan(0);
    r.heard.advanceSync(500);
    await r.at(600, { type: 'input_audio_buffer.speech_started' });
    const [cut] = r.entries('barge_in');
    expect(cut).toMatchObject({ socket: 'voice', type: 'barge_in', at: 600, reason: 'speech' });
    // Stopped, not drained: the inspector's playout lane shows only the start.
    expect(r.entries('voice.playout').map((entry) => entry.phase)).toEqual(['started']);
    expect(r.transcript.get('item_a')).toMatchObject({ status: 'incomplete', heardText: expect.any(String) });
    // The rest of the reply's words arrive: the cut turn keeps what was heard.
    await r.at(700, said('resp_1', 'item_a', 'Once upon a time there lived a king.'), finished('resp_1', 'cancelled'));
    expect(r.transcript.get('item_a')).toMatchObject({ status: 'incomplete' });
  });

  it('stops speaking on the key: the cut is recorded as the hotkey’s', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, created('resp_1'), audio('resp_1', 'item_a', 2000));
    await expect.poll(() => r.sink.writtenMs).toBeGreaterThan(0);
    r.controller.stopSpeaking();
    expect(r.entries('barge_in')).toMatchObject([{ reason: 'hotkey' }]);
    // Audio without words yet: there is no turn to mark as cut.
    expect(r.transcript.turns).toEqual([]);
  });

  it('records a frame it could not use', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, { type: 'response.output_audio_transcript.delta', response_id: 'resp_1' });
    expect(r.entries('frame.rejected')).toMatchObject([{ socket: 'voice', type: 'frame.rejected', at: 100, reason: expect.stringContaining('response.output_audio_transcript.delta') }]);
  });

  it('is not active once the server has ended the session, or told it to stop', async () => {
    for (const [code, state] of [[1000, 'offline'], [3000, 'error']] as const) {
      const r = await controllerRig();
      await r.controller.start();
      expect(r.controller.active).toBe(true);
      r.server.end(code);
      await expect.poll(() => r.controller.status.state).toBe(state);
      expect(r.controller.active).toBe(false);
    }
  });

  it('records a lost connection and its recovery', async () => {
    const r = await controllerRig();
    await r.controller.start();
    expect(r.controller.active).toBe(true);
    r.controller.sendText('remember this', 'turn_typed');
    r.server.drop();
    await expect.poll(() => r.entries('reconnect').length).toBe(1);
    expect(r.entries('reconnect')[0]).toMatchObject({ socket: 'voice', type: 'reconnect', attempt: 1 });
    expect(r.pushed.filter((event) => event.type === 'inspector').at(-1)).toMatchObject({ summary: { voiceReconnects: 1 } });
    await expect.poll(() => r.clock.pending).toBeGreaterThan(0);
    r.clock.advanceSync(60_000);
    await expect.poll(() => r.entries('recovery').length).toBe(1);
    expect(r.entries('recovery')[0]).toMatchObject({ socket: 'voice', type: 'recovery', items: 1 });
    await expect.poll(() => r.pushed.filter((event) => event.type === 'inspector').at(-1)).toMatchObject({ summary: { recoveries: 1 } });
    expect(r.connections()).toBe(2);
  });
});

describe('the typed side and the status', () => {
  it('starts off, connects, and is off again after stop, with no session on the server left open', async () => {
    const r = await controllerRig({}, {}, {});
    expect(r.controller.status).toMatchObject({ state: 'off', muted: false, problem: null, turnMode: 'push_to_talk' });
    expect(r.controller.active).toBe(false);
    const starting = r.controller.start();
    expect(r.controller.status.state).toBe('connecting');
    expect(r.controller.active).toBe(false);
    await starting;
    expect(r.pushed.filter((event) => event.type === 'voice').map((event) => event.type === 'voice' && event.voice.state)).toEqual(expect.arrayContaining(['connecting']));
    await r.controller.start();
    expect(r.connections()).toBe(1);
    expect(r.log.lines.some((line) => line.startsWith('info voice session open') && line.includes('push_to_talk'))).toBe(true);
    await r.controller.stop();
    expect(r.controller.status).toMatchObject({ state: 'off', problem: null });
    expect(r.controller.active).toBe(false);
    expect(r.pushed.at(-1)).toMatchObject({ type: 'voice', voice: { state: 'off' } });
  });

  it('shows typed text as a typed user turn, also with no voice open', async () => {
    const transcript = new Transcript(() => undefined);
    const idle = new VoiceController({
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'sk-test',
      deps: { createMic: () => new ScriptedMic(), createSpeaker: () => new RecordingSink(), scheduler: new ManualClock() },
      createWebSocket: (url, options) => new WebSocket(url, options),
      now: () => 42,
      sleep: async () => undefined,
      random: () => 0.5,
      log: recordingLogger(),
      transcript,
      inspector: new InspectorLog(),
      emit: () => undefined,
    });
    idle.sendText('hi', 'turn_1');
    idle.sendText('look', 'turn_2', { url: 'data:image/png;base64,AAAA', shown: 'look [screenshot]' });
    idle.addNote('done');
    idle.setTools([]);
    idle.stopSpeaking();
    idle.setMuted(true);
    await idle.release();
    expect(transcript.turns).toEqual([
      { id: 'turn_1', role: 'user', source: 'typed', text: 'hi', status: 'completed', startedAt: 42 },
      { id: 'turn_2', role: 'user', source: 'typed', text: 'look [screenshot]', status: 'completed', startedAt: 42 },
    ]);
    expect(idle.status).toMatchObject({ state: 'off', muted: true });
    expect(idle.speaking).toBe(false);
  });

  it('a key released while voice is still opening sends nothing and says nothing', async () => {
    const r = await controllerRig();
    const pressed = r.controller.press();
    await r.controller.release();
    await pressed;
    expect(r.mic.running).toBe(false);
    expect(notices(r.pushed)).toEqual([]);
    expect(r.server.sent('input_audio_buffer.clear')).toEqual([]);
  });

  it('a key released while the microphone is still starting leaves it off', async () => {
    let opened = (): void => undefined;
    const mic = new (class extends ScriptedMic {
      starts = 0;
      override async start(onChunk: (pcm: Int16Array) => void, onError?: (problem: Problem) => void): Promise<void> {
        this.starts += 1;
        await new Promise<void>((resolve) => (opened = resolve));
        return super.start(onChunk, onError);
      }
    })();
    const r = await controllerRig({}, { createMic: () => mic });
    await r.controller.start();
    const pressed = r.controller.press();
    await expect.poll(() => mic.starts).toBe(1);
    await r.controller.release();
    opened();
    await pressed;
    const appended = r.server.sent('input_audio_buffer.append').length;
    mic.speak(200);
    await r.at(100);
    expect(r.server.sent('input_audio_buffer.append').length).toBe(appended);
    expect(mic.running).toBe(false);
  });

  it('sends no audio while muted, and says so in the status', async () => {
    const r = await controllerRig();
    await r.controller.start();
    r.controller.setMuted(true);
    expect(r.controller.status.muted).toBe(true);
    await r.controller.press();
    r.mic.speak(600);
    await r.at(100);
    expect(r.server.sent('input_audio_buffer.append')).toEqual([]);
  });

  it('opens with the tools it was given while voice was off', async () => {
    const r = await controllerRig();
    const tool = { type: 'function' as const, name: 'lookup', description: 'Looks up.', parameters: { type: 'object', properties: {} } };
    r.controller.setTools([tool]);
    await r.controller.start();
    expect(r.server.sent('session.update')[0]).toMatchObject({ session: { tools: [expect.objectContaining({ name: 'lookup' })] } });
  });

  it('gives new tools to the open session', async () => {
    const r = await controllerRig();
    await r.controller.start();
    const updates = r.server.sent('session.update').length;
    const tool = { type: 'function' as const, name: 'lookup', description: 'Looks up.', parameters: { type: 'object', properties: {} } };
    r.controller.setTools([tool]);
    const frame = await r.server.until('session.update', updates + 1);
    expect(frame).toMatchObject({ session: { tools: [expect.objectContaining({ name: 'lookup' })] } });
  });

  it('meters the mic for the UI about 15 times a second and logs it once a second, silence as -120 dB', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.controller.press();
    const levels = () => r.pushed.flatMap((event) => (event.type === 'voice.level' ? [event.dbfs] : []));
    r.mic.silence(200);
    await expect.poll(() => levels().length).toBe(1);
    expect(levels()).toEqual([-120]);
    expect(r.entries('voice.level')).toMatchObject([{ dbfs: -120 }]);
    // Exactly the interval later: one more for the meter, none yet for the log.
    r.clock.advanceSync(66);
    r.mic.speak(40);
    await expect.poll(() => levels().length).toBe(2);
    expect(r.entries('voice.level')).toHaveLength(1);
    const spoken = levels()[1] ?? Number.NaN;
    expect(spoken).toBeGreaterThan(-60);
    expect(spoken).toBeLessThan(0);
    expect(Math.round(spoken * 10)).toBeCloseTo(spoken * 10, 6);
    // Exactly a second after the first entry: logged again, in whole decibels within a tenth of the meter's.
    r.clock.advanceSync(1000 - 66);
    r.mic.speak(40);
    await expect.poll(() => r.entries('voice.level').length).toBe(2);
    const logged = r.entries('voice.level')[1]?.dbfs ?? Number.NaN;
    expect(Math.abs(logged - (levels().at(-1) ?? Number.NaN))).toBeLessThanOrEqual(0.5);
  });

  it('speaks a voice preview until it has played', async () => {
    const r = await controllerRig();
    await r.controller.start();
    const preview = { type: 'response.created', response: { id: 'resp_preview', conversation_id: null, status: 'in_progress' } };
    await r.at(100, preview, audio('resp_preview', 'item_p', 500));
    await expect.poll(() => r.entries('voice.playout').length).toBe(1);
    expect(r.controller.status.state).toBe('speaking');
    r.heard.advanceSync(1000);
    await expect.poll(() => r.controller.status.state).toBe('idle');
    expect(r.transcript.turns).toEqual([]);
  });

  it('records playout starting and draining, and is idle once the reply has played', async () => {
    const r = await controllerRig();
    await r.controller.start();
    await r.at(100, created('resp_1'), audio('resp_1', 'item_a', 200), said('resp_1', 'item_a', 'Hi.'), finished('resp_1'));
    await expect.poll(() => r.entries('voice.playout').length).toBe(1);
    expect(r.entries('voice.playout')[0]).toMatchObject({ socket: 'voice', type: 'voice.playout', phase: 'started' });
    expect(r.controller.status.state).toBe('speaking');
    r.heard.advanceSync(1000);
    await expect.poll(() => r.entries('voice.playout').length).toBe(2);
    expect(r.entries('voice.playout')[1]).toMatchObject({ phase: 'drained', depthMs: 0 });
    await expect.poll(() => r.controller.status.state).toBe('idle');
    expect(r.controller.speaking).toBe(false);
  });
});

describe('voice that cannot start', () => {
  it('says why in the status and a notice, in general words when the failure has none of its own', async () => {
    const r = await controllerRig({}, {
      createSpeaker: () =>
        new (class extends RecordingSink {
          override async open(): Promise<void> {
            throw new Error('The speaker is busy.');
          }
        })(),
    });
    await expect(r.controller.start()).rejects.toThrow('The speaker is busy.');
    const problem = { code: 'internal', message: 'Voice could not start: The speaker is busy.', hint: 'Check the microphone and speaker in settings.' };
    expect(r.controller.status).toMatchObject({ state: 'error', problem });
    expect(notices(r.pushed)).toEqual([problem]);
    expect(r.log.lines.some((line) => line.startsWith('warn voice could not start') && line.includes('The speaker is busy.'))).toBe(true);
    expect(r.connections()).toBe(0);
  });

  it('passes on a failure that carries its own problem, and names a thrown non-error', async () => {
    const own = { code: 'internal' as const, message: 'No speaker was found.', hint: 'Plug one in.' };
    const r = await controllerRig({}, { createSpeaker: () => { throw Object.assign(new Error('x'), { problem: own }); } });
    await expect(r.controller.start()).rejects.toThrow();
    expect(r.controller.status.problem).toEqual(own);
    const s = await controllerRig({}, { createSpeaker: () => { throw 'no audio server'; } });
    await expect(s.controller.start()).rejects.toBe('no audio server');
    expect(s.controller.status.problem?.message).toBe('Voice could not start: no audio server');
    const t = await controllerRig({}, { createSpeaker: () => { throw null; } });
    await expect(t.controller.start()).rejects.toBeNull();
    expect(t.controller.status.problem?.message).toBe('Voice could not start: null');
  });

  it('needs the agent and fetch in pipeline mode', async () => {
    const agent = { runTurn: () => Promise.reject(new Error('unused')) };
    for (const options of [{}, { agent }, { fetch: (url: string, init: RequestInit) => fetch(url, init) }]) {
      const r = await controllerRig({}, {}, { pipeline: { mode: 'pipeline', pipeline: {} }, ...options });
      await expect(r.controller.start()).rejects.toThrow('Pipeline mode needs the agent and fetch.');
      expect(r.controller.status).toMatchObject({ state: 'error', turnMode: 'pipeline', problem: { message: 'Voice could not start: Pipeline mode needs the agent and fetch.' } });
    }
  });
});

describe('what the host gives the voice session', () => {
  it('says a server error in the host’s words where it has them', async () => {
    const r = await controllerRig({}, {}, { describeError: ({ code }) => (code === 'model_not_found' ? { code: 'model_unavailable', message: 'Your account cannot use this voice model.', hint: 'Pick another.' } : null) });
    await r.controller.start();
    await r.at(100, { type: 'error', error: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' } });
    expect(r.controller.status.problem).toEqual({ code: 'model_unavailable', message: 'Your account cannot use this voice model.', hint: 'Pick another.' });
  });

  it('opens knowing what was said earlier in the conversation', async () => {
    const r = await controllerRig({}, {}, { earlier: () => [{ role: 'user', text: 'my cat is called Miso' }] });
    await r.controller.start();
    expect(await r.server.until('conversation.item.create')).toMatchObject({ item: { role: 'user', content: [{ text: 'my cat is called Miso' }] } });
  });
});

describe('settings while voice is open', () => {
  it('reopens the session for a new model, device, mode or echo plan, and applies the rest live', async () => {
    const opened: string[] = [];
    const mic = new ScriptedMic();
    const r = await controllerRig({}, { createMic: (device) => (opened.push(`mic ${device}`), mic) });
    await r.controller.start();
    expect(opened).toEqual(['mic null']);
    const devices = { input: null, output: null };
    await r.controller.updateSettings({ voice: 'cedar', model: 'gpt-realtime' }, devices);
    expect(r.connections()).toBe(1);
    expect(r.server.sent('session.update').at(-1)).toMatchObject({ session: { audio: { output: { voice: 'cedar' } } } });
    await r.controller.updateSettings({ model: 'gpt-realtime-mini' }, devices);
    expect(r.connections()).toBe(2);
    await r.controller.updateSettings({}, { input: 'usb_mic', output: null });
    expect(opened.at(-1)).toBe('mic usb_mic');
    await r.controller.updateSettings({}, { input: 'usb_mic', output: 'usb_speaker' });
    expect(r.connections()).toBe(4);
    await r.controller.updateSettings({ echo: 'speakers', echoCanceller: 'gate' }, { input: 'usb_mic', output: 'usb_speaker' });
    expect(r.connections()).toBe(5);
    await r.controller.updateSettings({ turnMode: 'server_vad' }, { input: 'usb_mic', output: 'usb_speaker' });
    expect(r.connections()).toBe(5);
    expect(r.controller.status).toMatchObject({ turnMode: 'server_vad', state: 'listening' });
  });

  it('fails a change the microphone cannot follow (only a server refusal is a mere notice), saying it once', async () => {
    const r = await controllerRig();
    await r.controller.start();
    r.mic.failNextStart({ code: 'internal', message: 'The microphone stopped.', hint: 'Check the input device.' });
    await expect(r.controller.updateSettings({ turnMode: 'server_vad' }, { input: null, output: null })).rejects.toThrow('The microphone stopped.');
    expect(notices(r.pushed)).toEqual([{ code: 'internal', message: 'The microphone stopped.', hint: 'Check the input device.' }]);
  });

  it('keeps the settings when voice is off, and opens with them', async () => {
    const opened: string[] = [];
    const r = await controllerRig({}, { createSpeaker: (device) => (opened.push(`speaker ${device}`), new RecordingSink()) });
    await r.controller.updateSettings({ turnMode: 'server_vad' }, { input: null, output: 'usb_speaker' });
    expect(r.connections()).toBe(0);
    expect(r.controller.status).toMatchObject({ state: 'off', turnMode: 'server_vad' });
    await r.controller.start();
    expect(opened).toEqual(['speaker usb_speaker']);
  });
});

describe('pipeline mode', () => {
  /** Never asked in these tests: nothing is said, so the pipeline has nothing to hand it. */
  const agent = { runTurn: () => Promise.reject(new Error('no turn in this test')) };
  const fetchSpeech = (url: string, init: RequestInit) => fetch(url, init);

  it('opens the other kind of session when the mode changes', async () => {
    const r = await controllerRig({}, {}, { agent, fetch: fetchSpeech });
    await r.controller.start();
    expect(r.server.sent('session.update')[0]).toMatchObject({ session: { type: 'realtime' } });
    await r.controller.updateSettings({}, { input: null, output: null }, { mode: 'pipeline', pipeline: { listen: 'push_to_talk' } });
    expect(r.connections()).toBe(2);
    expect(r.server.sent('session.update').at(-1)).toMatchObject({ session: { type: 'transcription' } });
    expect(r.controller.status).toMatchObject({ state: 'idle', turnMode: 'pipeline', pipelineListen: 'push_to_talk' });
  });

  it('applies a change of how it listens to the open session', async () => {
    const r = await controllerRig({}, {}, { agent, fetch: fetchSpeech, pipeline: { mode: 'pipeline', pipeline: { listen: 'push_to_talk' } } });
    await r.controller.start();
    expect(r.controller.status).toMatchObject({ state: 'idle', turnMode: 'pipeline', pipelineListen: 'push_to_talk' });
    await r.controller.updateSettings({}, { input: null, output: null }, { mode: 'pipeline', pipeline: { listen: 'server_vad' } });
    expect(r.connections()).toBe(1);
    expect(r.controller.status).toMatchObject({ state: 'listening', pipelineListen: 'server_vad' });
    expect(r.mic.running).toBe(true);
  });
});

describe('which echo handling runs', () => {
  function counting(): { deps: Partial<VoiceDeps>; counts: { cancellers: number; detectors: number } } {
    const counts = { cancellers: 0, detectors: 0 };
    return {
      counts,
      deps: {
        createEchoCanceller: () => ((counts.cancellers += 1), new SilencingCanceller()),
        createSpeechDetector: async () => ((counts.detectors += 1), new ManualDetector()),
      },
    };
  }

  it('none with headphones, even with a canceller chosen', async () => {
    const { deps, counts } = counting();
    const r = await controllerRig({ echo: 'headphones', echoCanceller: 'builtin' }, deps);
    await r.controller.start();
    expect(counts).toEqual({ cancellers: 0, detectors: 0 });
  });

  it('none with the gate chosen', async () => {
    const { deps, counts } = counting();
    const r = await controllerRig({ echo: 'speakers', echoCanceller: 'gate' }, deps);
    await r.controller.start();
    expect(counts).toEqual({ cancellers: 0, detectors: 0 });
  });

  it("Parley's canceller the host gives, with the detector, on speakers", async () => {
    const processed: number[] = [];
    const detector = new ManualDetector();
    const r = await controllerRig({ echo: 'speakers', echoCanceller: 'builtin' }, {
      createEchoCanceller: () =>
        new (class extends SilencingCanceller {
          override process(mic: Int16Array): Int16Array {
            processed.push(mic.length);
            return super.process(mic);
          }
        })(),
      createSpeechDetector: async () => detector,
    });
    await r.controller.start();
    await r.controller.press();
    r.mic.speak(200);
    await expect.poll(() => processed.length).toBeGreaterThan(0);
    await r.controller.stop();
    expect(detector.closed).toBe(true);
  });

  it('the gate when the canceller cannot run, and the log says why', async () => {
    const { counts, deps } = counting();
    const r = await controllerRig({ echo: 'speakers', echoCanceller: 'builtin' }, { ...deps, createEchoCanceller: () => { throw new Error('fft.js did not load'); } });
    await r.controller.start();
    expect(counts.detectors).toBe(0);
    expect(r.log.lines.some((line) => line.startsWith('warn echo canceller cannot run') && line.includes('fft.js did not load'))).toBe(true);
  });

  it('a detector that will not load is logged, and one that is not offered is not', async () => {
    const r = await controllerRig({ echo: 'speakers', echoCanceller: 'builtin' }, { createEchoCanceller: () => new SilencingCanceller(), createSpeechDetector: () => Promise.reject(new Error('onnxruntime-node is missing')) });
    await r.controller.start();
    expect(r.log.lines.some((line) => line.startsWith('warn local speech detection unavailable') && line.includes('onnxruntime-node is missing'))).toBe(true);
    const s = await controllerRig({ echo: 'speakers', echoCanceller: 'builtin' }, { createEchoCanceller: () => new SilencingCanceller() });
    await s.controller.start();
    expect(s.log.lines.filter((line) => line.startsWith('warn'))).toEqual([]);
  });

  it("the system's: records and plays through its devices, logs them, and lets them go (a failure to is logged)", async () => {
    const opened: string[] = [];
    const mic = new ScriptedMic();
    const r = await controllerRig({ echo: 'speakers', echoCanceller: 'system' }, {
      createMic: (device) => (opened.push(`mic ${device}`), mic),
      createSpeaker: (device) => (opened.push(`speaker ${device}`), new RecordingSink()),
      openSystemEchoCanceller: async () => ({ input: 'pulse:ec_source', output: 'pulse:ec_sink', close: () => Promise.reject(new Error('pactl is gone')) }),
    });
    await r.controller.start();
    expect(opened).toEqual(['speaker pulse:ec_sink', 'mic pulse:ec_source']);
    expect(r.log.lines.some((line) => line.startsWith('info voice records and plays through the system echo canceller') && line.includes('pulse:ec_source'))).toBe(true);
    // The mic arrives clean: the session's settings say headphones, so nothing gates it.
    expect(notices(r.pushed)).toEqual([]);
    await r.controller.stop();
    expect(r.log.lines.some((line) => line.startsWith('warn the system echo canceller could not be unloaded') && line.includes('pactl is gone'))).toBe(true);
  });

  /** What the server receives of a faint voice (quieter than the reply) while a reply plays, in server-VAD mode on speakers. */
  async function faintVoiceDuringReply(echoCanceller: VoiceSettings['echoCanceller'], deps: Partial<VoiceDeps> = {}): Promise<Buffer[]> {
    const mic = new ScriptedMic();
    const r = await controllerRig({ echo: 'speakers', echoCanceller, turnMode: 'server_vad' }, { createMic: () => mic, ...deps });
    await r.controller.start();
    await r.at(100, created('resp_1'), audio('resp_1', 'item_a', 3000));
    await expect.poll(() => r.entries('voice.playout').length).toBe(1);
    // A little of the reply is out of the speaker: loud enough that the gate would hold a faint voice back.
    r.heard.advanceSync(200);
    const before = r.server.sent('input_audio_buffer.append').length;
    mic.faint(200);
    await expect.poll(() => r.server.sent('input_audio_buffer.append').length).toBeGreaterThan(before);
    return r.server.sent('input_audio_buffer.append').slice(before).map((frame) => Buffer.from(String(frame.audio), 'base64'));
  }

  it("sends the mic ungated through the system's: a voice quieter than the reply still reaches the server", async () => {
    const sent = await faintVoiceDuringReply('system', { openSystemEchoCanceller: async () => ({ input: 'pulse:ec_source', output: 'pulse:ec_sink', close: async () => undefined }) });
    expect(sent.some((bytes) => bytes.some((byte) => byte !== 0))).toBe(true);
  });

  it('with the gate chosen, holds back a voice quieter than the reply', async () => {
    const sent = await faintVoiceDuringReply('gate');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((bytes) => bytes.every((byte) => byte === 0))).toBe(true);
  });

  it("says why the system's cannot run: none on this system, or its failure, without a doubled full stop", async () => {
    const hint = "To stop this notice, choose Parley's canceller under Settings → Echo cancellation.";
    const r = await controllerRig({ echo: 'speakers', echoCanceller: 'system' }, { createEchoCanceller: () => new SilencingCanceller() });
    await r.controller.start();
    expect(notices(r.pushed)).toEqual([
      { code: 'internal', message: "Parley could not use the system's echo canceller. This system has none Parley can use: it needs Linux with PulseAudio or PipeWire. Parley's own canceller is listening instead.", hint },
    ]);
    expect(r.log.lines.some((line) => line.startsWith("warn system echo canceller unavailable; using Parley's") && line.includes('PipeWire'))).toBe(true);
    const s = await controllerRig({ echo: 'speakers', echoCanceller: 'system' }, { createEchoCanceller: () => new SilencingCanceller(), openSystemEchoCanceller: () => Promise.reject(new Error('pactl 16.1 failed.')) });
    await s.controller.start();
    expect(notices(s.pushed).map((problem) => problem.message)).toEqual(["Parley could not use the system's echo canceller. pactl 16.1 failed. Parley's own canceller is listening instead."]);
  });
});
