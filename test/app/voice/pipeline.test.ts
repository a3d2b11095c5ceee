/**
 * PipelineSession against the emulator over real loopback sockets: transcription session in,
 * Responses agent in the middle, `POST /v1/audio/speech` out into the PlayoutBuffer. The mic and
 * speaker are stand-ins (the real-device loop is in test/audio); playout time runs fast.
 */
import { WebSocket } from 'ws';
import { levelDbfs, pcm16FromBytes } from '../../../app/audio/pcm';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlayoutBuffer, Scheduler } from '../../../app/audio/playout';
import { noLatency, type LatencyModel } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { userMessage } from '../../../app/protocol/responses';
import type { ResponsesSession } from '../../../app/responses/session';
import { defaultPipelineSettings, PipelineSession, splitSentences, type PipelineAgent, type PipelineSessionEvent, type PipelineSettings } from '../../../app/voice/pipeline';
import { calculatorTool, countingCalculator, testSession } from '../../support/sessions';
import { drainingPlayout, eventLog, fastScheduler, ManualClock, RecordingSink, ScriptedMic, type EventLog } from '../../../app/testing';
import { RealtimeRequestError } from '../../../app/voice/waiters';
import type { VoiceState } from '../../../app/voice/session';
import { scriptedRealtime, type ScriptedRealtime } from '../../support/scriptedRealtime';

let emulator: Emulator | null = null;
let pipeline: PipelineSession | null = null;
let agentSession: ResponsesSession | null = null;
afterEach(async () => {
  await pipeline?.close();
  agentSession?.close();
  await emulator?.close();
  pipeline = emulator = agentSession = null;
});

type Of<T extends PipelineSessionEvent['type']> = Extract<PipelineSessionEvent, { type: T }>;

interface Rig extends Omit<EventLog<PipelineSessionEvent>, 'push'> {
  session: PipelineSession;
  mic: ScriptedMic;
  sink: RecordingSink;
  playout: PlayoutBuffer;
  fetched: string[];
  /** How often the playout told the session it had played everything. */
  drains(): number;
  /** Every speech request as sent: its address, headers and body. */
  speechRequests: Array<{ url: string; headers: Record<string, string>; body: Record<string, unknown> }>;
}

interface RigOptions {
  latency?: Partial<LatencyModel>;
  speed?: number;
  /** The playout's clock, when the test drives it instead of real time. */
  scheduler?: Scheduler;
  /** Wraps the real agent, e.g. to put words where the emulator can only hear "speech". */
  agent?: (agent: ResponsesSession) => PipelineAgent;
  runTool?: ReturnType<typeof countingCalculator>['runner'];
  /** The session's reply deadline (default 30 s). */
  replyDeadlineMs?: number;
  /** A scripted transcription server in the emulator's place; speech still comes from the emulator. */
  transcription?: ScriptedRealtime;
  /** Stands between the session and the speech endpoint's answer, e.g. to split its chunks. */
  speechBody?: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
  /** Answers the speech request in the emulator's place (a proxy's error page, say). */
  speechAnswer?: () => Response;
  /** The base URL as a user may type it, with a trailing slash. */
  trailingSlash?: boolean;
  /** Holds speech request `index` (0 = the first) until the promise it returns settles. */
  holdSpeech?: (index: number) => Promise<void> | undefined;
}

async function rig(settings: Partial<PipelineSettings> = {}, options: RigOptions = {}): Promise<Rig> {
  emulator = await startEmulator({ latency: { ...noLatency, ...options.latency } });
  const { session: agent } = testSession(emulator.baseUrl, { tools: [calculatorTool] }, options.runTool === undefined ? {} : { runTool: options.runTool });
  agentSession = agent;
  await agent.connect();
  const mic = new ScriptedMic();
  const sink = new RecordingSink();
  const log = eventLog<PipelineSessionEvent>();
  const fetched: string[] = [];
  const speechRequests: Rig['speechRequests'] = [];
  const { playout, attach } = drainingPlayout({ sink, scheduler: options.scheduler ?? fastScheduler(options.speed ?? 20) });
  const emulatorUrl = emulator.baseUrl;
  const baseUrl = (options.transcription?.baseUrl ?? emulatorUrl) + (options.trailingSlash === true ? '/' : '');
  const created = new PipelineSession({
    baseUrl,
    apiKey: 'sk-test',
    settings: { ...defaultPipelineSettings, ...settings },
    agent: options.agent?.(agent) ?? agent,
    createWebSocket: (url, wsOptions) => new WebSocket(url, wsOptions),
    fetch: async (url, init) => {
      const body = JSON.parse(String(init.body)) as Record<string, unknown>;
      fetched.push(String(body.input));
      speechRequests.push({ url, headers: { ...(init.headers as Record<string, string>) }, body });
      await options.holdSpeech?.(speechRequests.length - 1);
      if (options.speechAnswer !== undefined) return options.speechAnswer();
      const answer = await fetch(options.transcription === undefined ? url : url.replace(options.transcription.baseUrl, emulatorUrl), init);
      return options.speechBody === undefined || answer.body === null ? answer : new Response(options.speechBody(answer.body), { status: answer.status, headers: answer.headers });
    },
    mic,
    playout,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
    ...(options.replyDeadlineMs === undefined ? {} : { replyDeadlineMs: options.replyDeadlineMs }),
    onEvent: log.push,
  });
  let drains = 0;
  attach({
    playbackDrained: () => {
      drains += 1;
      created.playbackDrained();
    },
  });
  pipeline = created;
  return { ...log, session: created, mic, sink, playout, fetched, speechRequests, drains: () => drains };
}

/**
 * The first `state` the session enters after it was first `from`: where a turn ends up. (An
 * `until` over the whole log would take the resting state from before the turn.)
 */
function backTo(r: Rig, state: VoiceState, from: VoiceState): Promise<Of<'state'>> {
  const firstFrom = () => r.events.findIndex((event) => event.type === 'state' && event.state === from);
  return r.until('state', (event) => event.state === state && firstFrom() >= 0 && r.events.indexOf(event) > firstFrom());
}

/** The emulator hears only "[n s of speech]"; these tests say what the user meant in its place. */
const meaning = (text: string) => (agent: ResponsesSession): PipelineAgent => ({
  runTurn: (input, handlers) => agent.runTurn([...input.filter((item) => !('role' in item) || item.role !== 'user'), userMessage(text)], handlers),
});

/** An agent whose stream restarts once: `before` streams, the session retries, `after` streams from the start. */
const restarting = (before: string, after: string[]) => (): PipelineAgent => ({
  runTurn: async (_input, handlers) => {
    handlers?.onTextDelta?.(before);
    handlers?.onRestart?.();
    for (const delta of after) handlers?.onTextDelta?.(delta);
    return { status: 'completed', text: after.join(''), responseId: 'resp_1', metrics: null as never };
  },
});


describe('sentences', () => {
  it('splits whole sentences as text streams and keeps the unfinished rest', () => {
    expect(splitSentences('Hello there. How are')).toEqual({ sentences: ['Hello there.'], rest: ' How are' });
    expect(splitSentences('Yes! No? Maybe')).toEqual({ sentences: ['Yes!', 'No?'], rest: ' Maybe' });
    expect(splitSentences('It costs 3.5 euros')).toEqual({ sentences: [], rest: 'It costs 3.5 euros' });
    expect(splitSentences('Line one\nLine two')).toEqual({ sentences: ['Line one'], rest: 'Line two' });
    // The end of the text may still be mid-sentence ("Dr." then "Smith"): it waits for more.
    expect(splitSentences('Done.')).toEqual({ sentences: [], rest: 'Done.' });
    // Runs of marks end one sentence; a line break at the very end waits like a full stop.
    expect(splitSentences('Really?! Wait... what')).toEqual({ sentences: ['Really?!', 'Wait...'], rest: ' what' });
    expect(splitSentences('Line one\n')).toEqual({ sentences: [], rest: 'Line one\n' });
    expect(splitSentences('One.\n\nTwo')).toEqual({ sentences: ['One.'], rest: 'Two' });
  });
});

describe('pipeline voice mode', () => {
  it('push-to-talk: transcribes, runs an agent turn, and speaks the reply into the speaker', async () => {
    const r = await rig();
    await r.session.connect();
    expect(r.session.state).toBe('idle');
    await r.session.press();
    r.mic.speak(1500);
    await r.session.release();
    const user = await r.until('transcript.user', (event) => event.final);
    expect(user.text).toMatch(/1\.5 s of speech/);
    const reply = await r.until('transcript.assistant.done');
    expect(reply.text.length).toBeGreaterThan(0);
    await backTo(r, 'idle', 'speaking');
    expect(r.sink.writtenMs).toBeGreaterThan(500);
    expect(r.sink.writtenMs).toBeCloseTo(r.playout.generatedMs(reply.itemId), 0);
    expect(r.fetched.join(' ').replace(/\s+/g, ' ')).toBe(reply.text.trim().replace(/\s+/g, ' '));
    const [timing] = r.of('timing');
    expect(timing?.timing.speechEndToTranscriptMs).toBeGreaterThanOrEqual(0);
    expect(timing?.timing.transcriptToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(timing?.timing.firstTokenToFirstAudioMs).toBeGreaterThanOrEqual(0);
    expect(timing?.timing.totalMs).toBeGreaterThanOrEqual(0);
    // The three parts add up to the whole, give or take each part's rounding to the millisecond.
    const { speechEndToTranscriptMs, transcriptToFirstTokenMs, firstTokenToFirstAudioMs, totalMs } = timing?.timing ?? {};
    expect(Math.abs(Number(totalMs) - (Number(speechEndToTranscriptMs) + Number(transcriptToFirstTokenMs) + Number(firstTokenToFirstAudioMs)))).toBeLessThanOrEqual(2);
    expect(r.of('timing')).toHaveLength(1);
    expect(r.of('problem')).toEqual([]);
    expect(r.of('state').map((event) => event.state)).toEqual(['connecting', 'idle', 'listening', 'thinking', 'speaking', 'idle']);
  });

  it('a sentence whose speech never comes is reported after the deadline, and the sentences behind it are spoken', async () => {
    const r = await rig({}, { replyDeadlineMs: 1_000, agent: meaning('tell me about the sea') });
    await r.session.connect();
    // The speech endpoint holds its first answer for ten minutes.
    emulator?.inject({ kind: 'stall', ms: 600_000 }, 'speech');
    await r.session.press();
    r.mic.speak(800);
    await r.session.release();
    const problem = await r.until('problem');
    expect(problem.problem.message).toMatch(/could not be spoken: the speech server sent nothing for 1 s/);
    await backTo(r, 'idle', 'speaking');
    expect(r.fetched.length).toBeGreaterThanOrEqual(2);
    expect(r.sink.writtenMs).toBeGreaterThan(0);
    expect(r.of('problem')).toHaveLength(1);
  });

  it('drops a release under 100 ms with a hint', async () => {
    const r = await rig();
    await r.session.connect();
    await r.session.press();
    r.mic.speak(40);
    await r.session.release();
    expect(r.of('ptt.dropped')[0]?.hint).toMatch(/too short/);
    expect(r.of('commit')).toEqual([]);
  });

  it('server VAD: speech then silence makes a turn without any key', async () => {
    const r = await rig({ listen: 'server_vad', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } });
    await r.session.connect();
    expect(r.session.state).toBe('listening');
    r.mic.speak(1000);
    r.mic.silence(600);
    const user = await r.until('transcript.user', (event) => event.final);
    expect(user.text).toMatch(/s of speech/);
    // The meter's voice light followed the server: on at the speech, off at the silence.
    expect(r.of('vad').map((event) => event.speaking)).toEqual([true, false]);
    await r.until('transcript.assistant.done');
    // The turn's time runs from where the server heard the speech end.
    const { timing } = await r.until('timing');
    expect(timing.speechEndToTranscriptMs).toBeGreaterThanOrEqual(0);
    expect(timing.speechEndToTranscriptMs).toBeLessThan(5_000);
  });

  it('runs the agent tool loop inside a spoken turn and speaks the answer', async () => {
    const calculator = countingCalculator();
    const r = await rig({}, { agent: meaning('What is 6 * 7?'), runTool: calculator.runner });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(800);
    await r.session.release();
    const reply = await r.until('transcript.assistant.done');
    expect(calculator.runs).toHaveLength(1);
    expect(reply.text).toMatch(/42/);
    await r.until('timing');
    expect(r.fetched.join(' ')).toMatch(/42/);
  });

  it('barge-in: pressing during the reply stops playback, cancels pending speech, and keeps what was heard', async () => {
    // The playout clock is the test's: exactly 400 ms of the reply are heard before the press.
    const clock = new ManualClock();
    const r = await rig({}, { scheduler: clock, agent: meaning('Please write a long answer about the history of the telephone, with many sentences.') });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(600);
    await r.session.release();
    await r.until('state', (event) => event.state === 'speaking');
    // The turn's timing is known as soon as its first audio is, long before the reply ends.
    expect(r.of('timing')).toHaveLength(1);
    await clock.advance(400);
    await r.session.press();
    const bargeIn = await r.until('barge_in');
    expect(bargeIn.reason).toBe('hotkey');
    expect(bargeIn.playedMs).toBe(400);
    expect(bargeIn.audioEndMs).toBe(400);
    expect(r.playout.playing).toBe(false);
    expect(r.sink.flushes).toBe(1);
    const generatedAtStop = r.playout.generatedMs(bargeIn.itemId);
    // What was heard is the start of what was said, and no more.
    const said = r.events.filter((event): event is Of<'transcript.assistant'> => event.type === 'transcript.assistant').map((event) => event.delta).join('');
    expect(bargeIn.heardText.length).toBeGreaterThan(0);
    expect(said.replace(/\s+/g, ' ').startsWith(bargeIn.heardText.replace(/\s+/g, ' '))).toBe(true);
    expect(bargeIn.heardText.length).toBeLessThan(said.length);
    // The next turn tells the agent what the user really heard.
    r.mic.speak(600);
    await r.session.release();
    let answered = false;
    void r.until('transcript.assistant.done', (event) => event.itemId !== bargeIn.itemId).then(() => (answered = true));
    // Playout runs on while the next turn is answered (sockets get their turn between steps);
    // nothing of the cut reply is spoken again.
    while (!answered) {
      await clock.advance(50);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(r.playout.generatedMs(bargeIn.itemId)).toBe(generatedAtStop);
    expect(r.playout.playedMs(bargeIn.itemId)).toBe(400);
    expect(emulator?.requests.at(-1)?.input).toContainEqual({ type: 'message', role: 'developer', content: [{ type: 'input_text', text: expect.stringContaining('they heard only') }] });
  });

  it('a transcription socket drop while nobody speaks reconnects without a word about lost speech', async () => {
    const r = await rig();
    await r.session.connect();
    emulator?.dropConnections(1001);
    // The conversation lives with the agent: the new transcription session needs none of it.
    expect((await r.until('recovered')).itemsReplayed).toBe(0);
    expect(r.of('problem')).toEqual([]);
    expect(r.session.state).toBe('idle');
  });

  it('voice detection: a drop while nobody speaks leaves the microphone listening, and the next words make a turn', async () => {
    const r = await rig({ listen: 'server_vad', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } });
    await r.session.connect();
    emulator?.dropConnections(1001);
    await r.until('recovered');
    expect(r.mic.running).toBe(true);
    r.mic.speak(1000);
    r.mic.silence(600);
    expect((await r.until('transcript.user', (event) => event.final)).text).toMatch(/s of speech/);
    expect(r.of('problem')).toEqual([]);
  });

  it('a transcription socket drop mid-utterance: says the words were lost, reconnects, and works again', async () => {
    const r = await rig();
    await r.session.connect();
    await r.session.press();
    r.mic.speak(500);
    emulator?.dropConnections(1001);
    const problem = await r.until('problem');
    expect(problem.problem).toEqual({ code: 'connection_failed', message: 'The transcription connection dropped while you were speaking, so that was lost.', hint: 'Say it again once voice is back (it reconnects on its own).' });
    // The held key's capture ended with the socket: nothing of it goes to the new one.
    expect(r.mic.running).toBe(false);
    await r.until('recovered');
    expect(r.session.state).toBe('idle');
    await r.session.release();
    await r.session.press();
    r.mic.speak(1200);
    await r.session.release();
    const user = await r.until('transcript.user', (event) => event.final);
    expect(user.text).toMatch(/1\.2 s of speech/);
    await r.until('transcript.assistant.done');
    // A later drop with nobody speaking loses nothing, so says nothing.
    emulator?.dropConnections(1001);
    await r.until('recovered', () => r.of('recovered').length === 2);
    expect(r.of('problem')).toHaveLength(1);
  });
});

describe('pipeline turns besides speech', () => {
  it('speaks a typed message and a finished task\'s note, each as its own reply', async () => {
    const r = await rig();
    await r.session.connect();
    r.session.sendText('hello there');
    const typed = await r.until('transcript.assistant.done');
    expect(typed.text.length).toBeGreaterThan(0);
    // The agent got the typed words as the user's, and nothing else.
    expect(emulator?.requests.at(-1)?.input).toEqual([userMessage('hello there')]);
    await backTo(r, 'idle', 'speaking');
    expect(r.sink.writtenMs).toBeCloseTo(r.playout.generatedMs(typed.itemId), 0);
    // A typed turn has no speech before it: its timing starts at the text.
    const [timing] = r.of('timing');
    expect(timing?.timing.speechEndToTranscriptMs).toBeNull();
    // Its parts add up to the whole, give or take each part's rounding to the millisecond.
    const parts = (timing?.timing.transcriptToFirstTokenMs ?? Number.NaN) + (timing?.timing.firstTokenToFirstAudioMs ?? Number.NaN);
    expect(Math.abs((timing?.timing.totalMs ?? Number.NaN) - parts)).toBeLessThanOrEqual(1);

    r.session.addNote('The background build finished.');
    const noted = await r.until('transcript.assistant.done', (event) => event.itemId !== typed.itemId);
    expect(noted.text.length).toBeGreaterThan(0);
    // The agent got the note as the developer's, not as something the user said.
    expect(emulator?.requests.at(-1)?.input).toEqual([{ type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'The background build finished.' }] }]);
    expect(r.of('problem')).toEqual([]);
  });

  it('previews a voice by speaking a sample, without a turn', async () => {
    const r = await rig();
    await r.session.connect();
    const requestsBefore = emulator?.requests.length;
    r.session.previewVoice('cedar');
    await expect.poll(() => r.sink.writtenMs).toBeGreaterThan(200);
    expect(r.fetched).toEqual(['This is the cedar voice.']);
    expect(emulator?.requests.length).toBe(requestsBefore);
    expect(r.of('transcript.assistant')).toEqual([]);
    // Played out with no reply around it: the voice rests as it did.
    await expect.poll(() => r.drains()).toBeGreaterThan(0);
    expect(r.session.state).toBe('idle');
  });

  it('speech the server refuses is reported in its words; the reply is still in the transcript', async () => {
    const r = await rig();
    await r.session.connect();
    emulator?.inject({ kind: 'rate_limit', retryAfterS: 2 }, 'speech');
    r.session.sendText('hello there');
    const problem = await r.until('problem');
    expect(problem.problem).toEqual({ code: 'server_error', message: 'Part of the reply could not be spoken: Rate limit reached for requests. Please try again in 2s.', hint: 'The full text is in the transcript.' });
    expect((await r.until('transcript.assistant.done')).text.length).toBeGreaterThan(0);
    // The preview says so too.
    emulator?.inject({ kind: 'rate_limit', retryAfterS: 3 }, 'speech');
    r.session.previewVoice('cedar');
    const preview = await r.until('problem', (event) => event.problem.message.includes('3s'));
    expect(preview.problem.message).toBe('Part of the reply could not be spoken: Rate limit reached for requests. Please try again in 3s.');
  });

  it('a speech server answering with a page that is not the API\'s error says its HTTP status', async () => {
    const r = await rig({}, { speechAnswer: () => new Response('<html>Bad gateway</html>', { status: 502 }) });
    await r.session.connect();
    r.session.previewVoice('cedar');
    expect((await r.until('problem')).problem.message).toBe('Part of the reply could not be spoken: HTTP 502');
  });

  it('a speech error answered as spaced-out JSON is still read in its own words', async () => {
    const r = await rig({}, { speechAnswer: () => new Response('{\n  "error": {\n    "message" : "Quota exceeded for speech"\n  }\n}', { status: 429 }) });
    await r.session.connect();
    r.session.previewVoice('cedar');
    expect((await r.until('problem')).problem.message).toBe('Part of the reply could not be spoken: Quota exceeded for speech');
  });

  it('an agent that fails says so, and the voice is idle again', async () => {
    const r = await rig({}, { agent: () => ({ runTurn: () => Promise.reject(new Error('the agent socket is gone')) }) });
    await r.session.connect();
    r.session.sendText('hello there');
    const problem = await r.until('problem');
    expect(problem.problem).toEqual({ code: 'internal', message: 'The agent failed: the agent socket is gone', hint: 'Try again.' });
    await r.until('transcript.assistant.done');
    await backTo(r, 'idle', 'thinking');
    expect(r.fetched).toEqual([]);
  });
});

describe('pipeline settings', () => {
  it('switches to voice detection mid-session; a refused setting changes nothing and says why', async () => {
    const r = await rig();
    await r.session.connect();
    expect(r.mic.running).toBe(false);
    await r.session.updateSettings({ listen: 'server_vad', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } });
    expect(r.session.state).toBe('listening');
    expect(r.mic.running).toBe(true);
    r.mic.speak(1000);
    r.mic.silence(600);
    const user = await r.until('transcript.user', (event) => event.final);
    expect(r.of('commit')).toEqual([expect.objectContaining({ itemId: user.itemId })]);
    await r.until('transcript.assistant.done');

    await expect(r.session.updateSettings({ vad: { threshold: 2, prefixPaddingMs: 300, silenceDurationMs: 300 } })).rejects.toBeInstanceOf(RealtimeRequestError);
    expect(r.session.settings.vad.threshold).toBe(0.5);
    expect(r.session.settings.listen).toBe('server_vad');
  });
});

describe('pipeline transcription problems', () => {
  async function scripted(settings: Partial<PipelineSettings> = {}) {
    const transcription = await scriptedRealtime();
    const r = await rig({ listen: 'server_vad', echo: 'headphones', ...settings }, { transcription });
    await r.session.connect();
    return { r, transcription };
  }
  const completed = (itemId: string, transcript: string) => ({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript });
  /** The agent turns asked for so far: each request that carries something the user said. */
  const askedTurns = () => (emulator?.requests ?? []).map((request) => request.input).filter((input) => JSON.stringify(input).includes('"role":"user"'));
  /** Words that do come back: the agent's turn and its reply. */
  async function sayHello(r: Rig, transcription: ScriptedRealtime, itemId: string): Promise<void> {
    transcription.send(completed(itemId, 'hello there'));
    await r.until('transcript.assistant.done');
  }

  it('what could not be transcribed is said, and the voice listens again without asking the agent', async () => {
    const { r, transcription } = await scripted();
    transcription.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'item_1' });
    await r.until('vad', (event) => event.speaking);
    expect(r.session.state).toBe('listening');
    transcription.send({ type: 'input_audio_buffer.committed', item_id: 'item_1', previous_item_id: null });
    await r.until('state', (event) => event.state === 'thinking');
    transcription.send({ type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_1', content_index: 0, error: { type: 'transcription_error', message: 'audio too noisy' } });
    const { problem } = await r.until('problem');
    expect(problem).toEqual({ code: 'server_error', message: 'What you said could not be transcribed: audio too noisy.', hint: 'Say it again.' });
    await backTo(r, 'listening', 'thinking');
    transcription.send({ type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_2', content_index: 0, error: {} });
    expect((await r.until('problem', (event) => event.problem.message.includes('unknown'))).problem.message).toBe('What you said could not be transcribed: unknown error.');
    // The failed words are over: a drop now loses nothing, so says nothing.
    transcription.drop();
    await r.until('recovered');
    expect(r.of('problem')).toHaveLength(2);
    // The agent was asked nothing until words came back.
    await sayHello(r, transcription, 'item_3');
    expect(askedTurns()).toEqual([[userMessage('hello there')]]);
  });

  it('words that come back blank start no reply; words that come back unreadable are reported once', async () => {
    const { r, transcription } = await scripted();
    transcription.send({ type: 'input_audio_buffer.committed', item_id: 'item_1', previous_item_id: null });
    await r.until('state', (event) => event.state === 'thinking');
    transcription.send(completed('item_1', '   '));
    await backTo(r, 'listening', 'thinking');

    // A broken final transcript of nothing the user said is only skipped.
    transcription.send({ ...completed('item_2', ''), transcript: 42 });
    await r.until('frame.rejected');
    expect(r.of('problem')).toEqual([]);
    transcription.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'item_3' });
    await r.until('vad', (event) => event.speaking);
    transcription.send({ ...completed('item_3', ''), transcript: 42 });
    const { problem } = await r.until('problem');
    expect(problem).toEqual({ code: 'malformed_frame', message: 'What you said could not be read back from the transcription server.', hint: 'Say it again.' });
    expect(r.session.state).toBe('listening');
    // That utterance is over: a drop now loses nothing, so says nothing.
    transcription.drop();
    await r.until('recovered');
    expect(r.of('problem')).toHaveLength(1);
    // Reported once: another broken transcript with nobody speaking is only skipped.
    transcription.send({ ...completed('item_3', ''), transcript: 42 });
    await r.until('frame.rejected', () => r.of('frame.rejected').length === 3);
    expect(r.of('problem')).toHaveLength(1);
    // The same for a broken failure notice; a broken frame that ends nothing says nothing.
    transcription.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'item_4' });
    await r.until('vad', (event) => event.speaking && r.of('vad').filter((v) => v.speaking).length === 2);
    transcription.send({ type: 'input_audio_buffer.committed', item_id: 42, previous_item_id: null });
    await r.until('frame.rejected', () => r.of('frame.rejected').length === 4);
    expect(r.of('problem')).toHaveLength(1);
    transcription.send({ type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_4', content_index: 0, error: 42 });
    await r.until('problem', () => r.of('problem').length === 2);
    expect(r.of('problem').map((event) => event.problem.code)).toEqual(['malformed_frame', 'malformed_frame']);
    // Only words that came back start a reply: the blank ones asked the agent nothing.
    await sayHello(r, transcription, 'item_5');
    expect(askedTurns()).toEqual([[userMessage('hello there')]]);
  });

  it('server errors are shown in its words, a refused key as unauthorized, and an empty commit only ends the turn', async () => {
    const { r, transcription } = await scripted();
    transcription.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'item_1' });
    transcription.send({ type: 'input_audio_buffer.committed', item_id: 'item_1', previous_item_id: null });
    await r.until('state', (event) => event.state === 'thinking');
    transcription.send({ type: 'error', error: { type: 'invalid_request_error', code: 'input_audio_buffer_commit_empty', message: 'buffer too small', param: null, event_id: null } });
    await backTo(r, 'listening', 'thinking');
    transcription.send({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.', param: null, event_id: null } });
    transcription.send({ type: 'error', error: { type: 'server_error', code: 'server_error', message: 'The server had an error.', param: null, event_id: null } });
    await r.until('problem', (event) => event.problem.message.includes('had an error'));
    expect(r.of('problem').map((event) => event.problem)).toEqual([
      { code: 'unauthorized', message: 'The transcription server reported: Incorrect API key provided.', hint: 'Try again.' },
      { code: 'server_error', message: 'The transcription server reported: The server had an error.', hint: 'Try again.' },
    ]);
    // The empty commit ended the utterance: a drop now loses nothing.
    transcription.drop();
    await r.until('recovered');
    expect(r.of('problem')).toHaveLength(2);
    // A frame that is not JSON is named as the transcription server's.
    transcription.raw('{not json');
    expect((await r.until('problem', () => r.of('problem').length === 3)).problem.message).toMatch(/^The transcription server sent a frame Parley could not read/);
  });

  it('a setting sent as the socket drops is kept, and the reopened session gets it', async () => {
    const { r, transcription } = await scripted();
    transcription.quiet = true;
    const update = r.session.updateSettings({ language: 'fr' });
    await transcription.until('session.update', 2);
    transcription.quiet = false;
    transcription.drop();
    // No refusal: the server never judged it.
    await expect(update).resolves.toBeUndefined();
    expect(r.session.settings.language).toBe('fr');
    await r.until('recovered');
    expect(JSON.stringify(transcription.sent('session.update').at(-1))).toContain('"language":"fr"');
  });

  it('push-to-talk: a commit is the key\'s, not a turn the server found', async () => {
    const { r, transcription } = await scripted({ listen: 'push_to_talk' });
    transcription.send({ type: 'input_audio_buffer.committed', item_id: 'item_1', previous_item_id: null });
    transcription.send(completed('item_1', 'hello there'));
    await backTo(r, 'idle', 'speaking');
    expect(r.of('commit')).toEqual([]);
    expect(r.of('state').map((event) => event.state)).toEqual(['connecting', 'idle', 'thinking', 'speaking', 'idle']);
  });
});

describe('pipeline speech and interruptions', () => {
  it('plays every sample as the server sent it, however the chunks split the samples', async () => {
    const sent: Uint8Array[] = [];
    // Pieces of 3 bytes: every other one ends mid-sample.
    const splitInThrees = (body: ReadableStream<Uint8Array>) =>
      body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            sent.push(chunk.slice());
            for (let offset = 0; offset < chunk.byteLength; offset += 3) controller.enqueue(chunk.slice(offset, offset + 3));
          },
        }),
      );
    const r = await rig({}, { speechBody: splitInThrees });
    await r.session.connect();
    r.session.previewVoice('cedar');
    await expect.poll(() => r.sink.writtenMs).toBeGreaterThan(200);
    await expect.poll(() => r.sink.written.reduce((sum, part) => sum + part.length, 0)).toBe(sent.reduce((sum, chunk) => sum + chunk.byteLength, 0) / 2);
    const bytes = Buffer.concat(sent);
    const expected = Array.from({ length: bytes.byteLength / 2 }, (_, index) => bytes.readInt16LE(index * 2));
    const played = r.sink.written.flatMap((part) => Array.from(part));
    expect(played).toEqual(expected);
  });

  it('voice detection: the user talking over a reply stops it', async () => {
    const clock = new ManualClock();
    const r = await rig({ listen: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } }, { scheduler: clock, agent: meaning('Please write a long answer about the history of the telephone, with many sentences.') });
    await r.session.connect();
    r.session.sendText('tell me about the telephone');
    await r.until('state', (event) => event.state === 'speaking');
    await clock.advance(300);
    r.mic.speak(400);
    const cut = await r.until('barge_in');
    expect(cut.reason).toBe('speech');
    expect(cut.playedMs).toBe(300);
    expect(r.playout.playing).toBe(false);
  });

  it('pressing the key with nothing to talk over interrupts nothing', async () => {
    const r = await rig();
    await r.session.connect();
    r.session.sendText('hello there');
    await backTo(r, 'idle', 'speaking');
    await r.session.press();
    r.mic.speak(300);
    await r.session.release();
    await r.until('transcript.assistant.done', () => r.of('transcript.assistant.done').length === 2);
    expect(r.of('barge_in')).toEqual([]);
    // Nothing was cut, so the agent is told of no interruption.
    expect(JSON.stringify(emulator?.requests.at(-1)?.input)).not.toContain('they heard only');
  });

  it('a second message while the first is still answered cuts the first; only the second is spoken to the end', async () => {
    const clock = new ManualClock();
    const r = await rig({}, { scheduler: clock, agent: meaning('Please write a long answer about the history of the telephone, with many sentences.') });
    await r.session.connect();
    r.session.sendText('first');
    await r.until('state', (event) => event.state === 'speaking');
    r.session.sendText('second');
    const cut = await r.until('barge_in');
    expect(cut.reason).toBe('speech');
    const cutAt = r.playout.generatedMs(cut.itemId);
    const second = await r.until('transcript.assistant.done', (event) => event.itemId !== cut.itemId);
    await r.until('state', (event) => event.state === 'speaking' && r.of('state').filter((s) => s.state === 'speaking').length === 2);
    expect(r.playout.generatedMs(second.itemId)).toBeGreaterThan(0);
    // Nothing more of the first reply is spoken, and the agent hears what of it was heard.
    expect(r.playout.generatedMs(cut.itemId)).toBe(cutAt);
    // The cut turn's end is no failure to tell the user about.
    expect(r.of('problem')).toEqual([]);
    // Its playout clock never moved: none of it was heard, and the agent is told so.
    expect(JSON.stringify(emulator?.requests.at(-1)?.input)).toContain('The user interrupted before hearing any of your last reply.');
  });

  it('closing mid-reply stops the agent\'s turn and its speech', async () => {
    const clock = new ManualClock();
    let signal: AbortSignal | undefined;
    const r = await rig({}, {
      scheduler: clock,
      agent: (agent) => ({
        runTurn: (input, handlers) => {
          signal = handlers?.signal;
          return agent.runTurn([...input, userMessage('Please write a long answer about the history of the telephone, with many sentences.')], handlers);
        },
      }),
    });
    await r.session.connect();
    r.session.sendText('tell me');
    await r.until('state', (event) => event.state === 'speaking');
    await r.session.close();
    expect(signal?.aborted).toBe(true);
    expect(r.session.state).toBe('offline');
  });
});

describe('pipeline barge-in edges', () => {
  const longAnswer = meaning('Please write a long answer about the history of the telephone, with many sentences.');

  it('pressing while the agent is still thinking cancels its turn, and the agent hears that nothing was heard', async () => {
    let signal: AbortSignal | undefined;
    const r = await rig({}, { agent: (agent) => ({ runTurn: (input, handlers) => ((signal = handlers?.signal), longAnswer(agent).runTurn(input, handlers)) }) });
    await r.session.connect();
    r.session.sendText('tell me about the telephone');
    expect(r.session.state).toBe('thinking');
    await r.session.press();
    const cut = await r.until('barge_in');
    expect(cut).toMatchObject({ reason: 'hotkey', playedMs: 0, audioEndMs: 0, heardText: '' });
    expect(signal?.aborted).toBe(true);
    r.mic.speak(600);
    await r.session.release();
    await r.until('transcript.assistant.done', (event) => event.itemId !== cut.itemId);
    expect(JSON.stringify(emulator?.requests.at(-1)?.input)).toContain('The user interrupted before hearing any of your last reply.');
  });

  it('a voice preview playing ahead of the reply is what was heard, not the reply', async () => {
    const clock = new ManualClock();
    const r = await rig({}, { scheduler: clock, agent: longAnswer });
    await r.session.connect();
    r.session.previewVoice('cedar');
    await expect.poll(() => r.playout.playing).toBe(true);
    r.session.sendText('tell me about the telephone');
    await r.until('state', (event) => event.state === 'speaking');
    // 200 ms of the preview reach the ear; the reply waits behind it.
    await clock.advance(200);
    await r.session.press();
    const cut = await r.until('barge_in');
    expect(cut).toMatchObject({ playedMs: 0, audioEndMs: 0, heardText: '' });
    expect(cut.generatedMs).toBeGreaterThan(0);
  });

  it('closing mid-reply ends it quietly: nothing more of the reply, and the voice stays offline', async () => {
    const clock = new ManualClock();
    let turn: Promise<unknown> | undefined;
    const r = await rig({}, { scheduler: clock, agent: (agent) => ({ runTurn: (input, handlers) => (turn = longAnswer(agent).runTurn(input, handlers)) }) });
    await r.session.connect();
    r.session.sendText('tell me');
    await r.until('state', (event) => event.state === 'speaking');
    const closedAt = r.events.length;
    await r.session.close();
    await turn;
    // The aborted speech requests and the turn's end run out in the next few turns of the loop.
    for (let spin = 0; spin < 20; spin += 1) await new Promise((resolve) => setImmediate(resolve));
    // Nothing but the socket's own news follows the close: no end of reply, problem, or idle.
    expect(r.events.slice(closedAt).filter((event) => event.type !== 'socket')).toEqual([{ type: 'state', state: 'offline' }]);
  });
});

describe('pipeline speech requests', () => {
  it('asks for raw PCM in the chosen model and voice, with the key, even at a base URL typed with a slash', async () => {
    const r = await rig({ speechModel: 'gpt-4o-mini-tts', voice: 'cedar' }, { trailingSlash: true });
    await r.session.connect();
    r.session.sendText('hello there');
    await r.until('transcript.assistant.done');
    await r.until('timing');
    const [first] = r.speechRequests;
    expect(first?.url).toBe(`${emulator?.baseUrl}/audio/speech`);
    expect(first?.headers).toEqual({ Authorization: 'Bearer sk-test', 'Content-Type': 'application/json' });
    expect(first?.body).toEqual({ model: 'gpt-4o-mini-tts', input: r.fetched[0], voice: 'cedar', response_format: 'pcm' });
    expect(r.of('problem')).toEqual([]);
  });

  it('an error answer whose body cannot be read still says its HTTP status', async () => {
    const broken = () => new Response(new ReadableStream({ start: (controller) => controller.error(new Error('connection reset')) }), { status: 503 });
    const r = await rig({}, { speechAnswer: broken });
    await r.session.connect();
    r.session.previewVoice('cedar');
    expect((await r.until('problem')).problem.message).toBe('Part of the reply could not be spoken: HTTP 503');
  });

  it('a retried agent stream does not say again what was already said, and leaves no unsent text behind', async () => {
    const r = await rig({}, { agent: restarting('Hello there. How are', ['Hello there. ', 'How are you ', 'today? Fine.']) });
    await r.session.connect();
    r.session.sendText('hi');
    const done = await r.until('transcript.assistant.done');
    expect(done.text).toBe('Hello there. How are you today? Fine.');
    await backTo(r, 'idle', 'speaking');
    expect(r.fetched).toEqual(['Hello there.', 'How are you today?', 'Fine.']);
  });

  it('a retry that says something else is said from where it differs, repeats and all', async () => {
    const r = await rig({}, { agent: restarting('Hello there. ', ['Hi. ', 'Hello there. ', 'Bye.']) });
    await r.session.connect();
    r.session.sendText('hi');
    await r.until('transcript.assistant.done');
    await backTo(r, 'idle', 'speaking');
    expect(r.fetched).toEqual(['Hello there.', 'Hi.', 'Hello there.', 'Bye.']);
  });

  it('a reply that ends in a space leaves nothing unsaid and asks for no blank speech', async () => {
    const r = await rig({}, { agent: restarting('', ['Hello there. ', 'Bye. ']) });
    await r.session.connect();
    r.session.sendText('hi');
    await r.until('transcript.assistant.done');
    await backTo(r, 'idle', 'speaking');
    expect(r.fetched).toEqual(['Hello there.', 'Bye.']);
    expect(r.of('problem')).toEqual([]);
  });
});

describe('pipeline replies that pause', () => {
  it('a reply whose next sentence is late keeps speaking, and can still be talked over', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const r = await rig({}, { agent: restarting('', ['First of all, hello. ', 'Then the rest of it. ', 'Bye.']), holdSpeech: (index) => (index === 1 ? held : undefined) });
    await r.session.connect();
    r.session.sendText('hi');
    await r.until('state', (event) => event.state === 'speaking');
    // The first sentence plays out while the second's speech has not come.
    await expect.poll(() => r.drains()).toBe(1);
    expect(r.sink.writtenMs).toBeGreaterThan(0);
    expect(r.session.state).toBe('speaking');
    await r.session.press();
    const cut = await r.until('barge_in');
    expect(cut.reason).toBe('hotkey');
    release();
    await r.session.release();
    // The held request and the sentence queued behind it run out in the next turns of the loop.
    for (let spin = 0; spin < 20; spin += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(r.fetched).toEqual(['First of all, hello.', 'Then the rest of it.']);
  });

  it('an agent that streams on after the cut is neither shown nor spoken', async () => {
    const clock = new ManualClock();
    let goOn = (): void => undefined;
    const more = new Promise<void>((resolve) => (goOn = resolve));
    let finished: Promise<unknown> | undefined;
    const stubborn = (): PipelineAgent => ({
      runTurn: (_input, handlers) =>
        (finished = (async () => {
          handlers?.onTextDelta?.('One sentence first. Then a second one. ');
          // It does not stop at the abort: more text, then a normal end.
          await more;
          handlers?.onTextDelta?.('Three, after the cut. Four. ');
          return { status: 'completed' as const, text: 'One sentence first. Then a second one. Three, after the cut. Four. ', responseId: 'resp_1', metrics: null as never };
        })()),
    });
    const r = await rig({}, { scheduler: clock, agent: stubborn });
    await r.session.connect();
    r.session.sendText('hi');
    await r.until('state', (event) => event.state === 'speaking');
    await r.session.press();
    const cut = await r.until('barge_in');
    const shownAtCut = r.of('transcript.assistant').length;
    const fetchedAtCut = r.fetched.length;
    const generatedAtCut = r.playout.generatedMs(cut.itemId);
    goOn();
    await finished;
    for (let spin = 0; spin < 20; spin += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(r.of('transcript.assistant')).toHaveLength(shownAtCut);
    expect(r.fetched).toHaveLength(fetchedAtCut);
    expect(r.of('transcript.assistant.done').filter((event) => event.itemId === cut.itemId)).toEqual([]);
    expect(r.playout.generatedMs(cut.itemId)).toBe(generatedAtCut);
    await r.session.release();
  });
});

describe('pipeline on speakers', () => {
  it.each([
    { echo: 'speakers' as const, reachesServer: false },
    { echo: 'headphones' as const, reachesServer: true },
  ])('the reply\'s own sound at the mic reaches the transcription server on $echo: $reachesServer', async ({ echo, reachesServer }) => {
    const transcription = await scriptedRealtime();
    // Speakers is the default: that row sets nothing.
    const r = await rig({ listen: 'server_vad', ...(echo === 'speakers' ? {} : { echo }) }, { transcription, speed: 1, agent: meaning('Please write a long answer about the history of the telephone, with many sentences.') });
    await r.session.connect();
    r.session.sendText('tell me about the telephone');
    await r.until('state', (event) => event.state === 'speaking');
    await expect.poll(() => r.sink.writtenMs).toBeGreaterThan(100);
    const from = transcription.sent('input_audio_buffer.append').length;
    // The reply's own sound, picked up no louder than it plays.
    r.mic.faint(300);
    expect(r.playout.playing).toBe(true);
    await expect.poll(() => transcription.sent('input_audio_buffer.append').length).toBeGreaterThanOrEqual(from + 5);
    const loudest = Math.max(...transcription.sent('input_audio_buffer.append').slice(from).map((event) => levelDbfs(pcm16FromBytes(Buffer.from(String(event.audio), 'base64')))));
    expect(loudest > -60).toBe(reachesServer);
    await transcription.close();
  });
});

describe('pipeline edges of a turn', () => {
  it('pressing during a voice preview stops it, and cuts no reply', async () => {
    const clock = new ManualClock();
    const r = await rig({}, { scheduler: clock });
    await r.session.connect();
    r.session.previewVoice('cedar');
    await expect.poll(() => r.playout.playing).toBe(true);
    await r.session.press();
    expect(r.playout.playing).toBe(false);
    expect(r.of('barge_in')).toEqual([]);
    await r.session.release();
  });

  it('a reply is cut once however often the key is pressed over it', async () => {
    const clock = new ManualClock();
    const r = await rig({}, { scheduler: clock, agent: meaning('Please write a long answer about the history of the telephone, with many sentences.') });
    await r.session.connect();
    r.session.sendText('tell me about the telephone');
    await r.until('state', (event) => event.state === 'speaking');
    await r.session.press();
    await r.until('barge_in');
    // A tap too short to send, then another press while the cut reply is still winding down.
    await r.session.release();
    await r.session.press();
    await r.session.release();
    expect(r.of('barge_in')).toHaveLength(1);
  });

  it('a reply that has all arrived before it has all played goes idle when it has played', async () => {
    const clock = new ManualClock();
    let ended = 0;
    const counting = (body: ReadableStream<Uint8Array>) => body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => void (ended += 1) }));
    const r = await rig({}, { scheduler: clock, speechBody: counting, agent: restarting('', ['Hello there. ', 'Bye.']) });
    await r.session.connect();
    r.session.sendText('hi');
    await r.until('transcript.assistant.done');
    // Every sentence's speech has come in full, and none of it has played: the clock has not moved.
    await expect.poll(() => ended).toBe(2);
    for (let spin = 0; spin < 20; spin += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(r.session.state).toBe('speaking');
    await clock.advance(r.playout.generatedMs(r.of('transcript.assistant.done')[0]?.itemId ?? '') + 500);
    expect(r.session.state).toBe('idle');
  });

  it('a reply with nothing to say still has its timing, with no audio in it', async () => {
    const r = await rig({}, { agent: restarting('', []) });
    await r.session.connect();
    r.session.sendText('hi');
    const { timing } = await r.until('timing');
    expect(timing.firstTokenToFirstAudioMs).toBeNull();
    expect(timing.totalMs).toBeNull();
    expect(r.fetched).toEqual([]);
  });

  it('push-to-talk: a drop after the key is released and before the words come back says they were lost', async () => {
    const transcription = await scriptedRealtime();
    const r = await rig({ echo: 'headphones' }, { transcription });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(600);
    await r.session.release();
    await transcription.until('input_audio_buffer.commit');
    transcription.drop();
    expect((await r.until('problem')).problem.message).toBe('The transcription connection dropped while you were speaking, so that was lost.');
    await transcription.close();
  });
});
