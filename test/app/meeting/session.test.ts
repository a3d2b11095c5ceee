/**
 * Meeting mode against the emulator over real loopback sockets: two transcription sessions (the
 * microphone as "Me", the system's audio as "Them") into one transcript, live notes on their own
 * lane of the agent's socket, and questions answered from what was said. The sources are the
 * shipped scripted mics; the real system-audio capture is tested through PulseAudio in test/audio.
 */
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlayoutBuffer } from '../../../app/audio/playout';
import type { Problem } from '../../../app/contract';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { MeetingSession, type MeetingEvent } from '../../../app/meeting/session';
import { notesLane } from '../../../app/meeting/notes';
import type { ResponsesSession } from '../../../app/responses/session';
import { drainingPlayout, eventLog, fastScheduler, frameRecorder, ManualClock, RecordingSink, ScriptedMic, type EventLog, type FrameRecorder } from '../../../app/testing';
import { defaultPipelineSettings } from '../../../app/voice/pipeline';
import { testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
let meeting: MeetingSession | null = null;
let agent: ResponsesSession | null = null;
afterEach(async () => {
  await meeting?.stop();
  agent?.close();
  await emulator?.close();
  meeting = agent = emulator = null;
});

interface Rig extends Omit<EventLog<MeetingEvent>, 'push'> {
  meeting: MeetingSession;
  me: ScriptedMic;
  them: ScriptedMic;
  /** The agent's socket, both lanes. */
  agentWire: FrameRecorder;
  notesTimer: ManualClock;
}

interface RigOptions {
  systemSilenceMs?: number;
  outputTokensPerSecond?: number;
  playout?: PlayoutBuffer;
  /** The system's audio fails as it starts, as it does where it cannot be captured. */
  systemFails?: Problem;
  /** How the user hears Parley (default headphones). */
  echo?: 'speakers' | 'headphones';
}

async function rig(options: RigOptions = {}): Promise<Rig> {
  emulator = await startEmulator({ latency: { ...noLatency, outputTokensPerSecond: options.outputTokensPerSecond ?? 0 } });
  const agentWire = frameRecorder();
  agent = testSession(emulator.baseUrl, {}, { createWebSocket: agentWire.createWebSocket }).session;
  await agent.connect();
  const log = eventLog<MeetingEvent>();
  const me = new ScriptedMic();
  const them = new ScriptedMic();
  if (options.systemFails !== undefined) them.failNextStart(options.systemFails);
  // The notes' minute is the test's to move; every socket runs on real time.
  const notesTimer = new ManualClock();
  const playout = options.playout ?? drainingPlayout({ sink: new RecordingSink(), scheduler: fastScheduler(20) }).playout;
  meeting = new MeetingSession({
    baseUrl: emulator.baseUrl,
    apiKey: 'sk-test',
    createWebSocket: (url, wsOptions) => new WebSocket(url, wsOptions),
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    mic: me,
    system: them,
    playout,
    agent,
    settings: { transcriptionModel: defaultPipelineSettings.transcriptionModel, language: null, vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 }, echo: options.echo ?? 'headphones', frameMs: 40 },
    setTimer: (ms, callback) => notesTimer.after(ms, callback),
    ...(options.systemSilenceMs === undefined ? {} : { systemSilenceMs: options.systemSilenceMs }),
    onEvent: log.push,
  });
  await meeting.start();
  return { ...log, meeting, me, them, agentWire, notesTimer };
}

const finalLine = (r: Rig, speaker: 'me' | 'them') => r.until('segment', (event) => event.segment.final && event.segment.speaker === speaker);

describe('meeting mode', () => {
  it('hears both sides into one timestamped transcript, each line labelled by who said it', async () => {
    const r = await rig();
    r.them.speak(800);
    r.them.silence(600);
    const theirs = await finalLine(r, 'them');
    r.me.speak(500);
    r.me.silence(600);
    const mine = await finalLine(r, 'me');

    expect(theirs.segment.text).toMatch(/s of speech/);
    expect(mine.segment.text).toMatch(/s of speech/);
    expect(mine.segment.atMs).toBeGreaterThan(theirs.segment.atMs);
    const markdown = r.meeting.markdown('Call with Acme');
    expect(markdown).toMatch(/^# Call with Acme/);
    expect(markdown).toMatch(/\*\*\d\d:\d\d Them:\*\* \[\d\.\d s of speech\]\n- \*\*\d\d:\d\d Me:\*\* \[\d\.\d s of speech\]/);
  });

  it('never hears Parley\'s own voice as the other side: the system audio is dropped while Parley speaks', async () => {
    const speaker = new ManualClock();
    const { playout } = drainingPlayout({ sink: new RecordingSink(), scheduler: speaker });
    const r = await rig({ playout });
    // Parley is speaking (its playout clock stands still): the system's audio carries its voice.
    playout.enqueue('parley_reply', new Int16Array(24_000 * 5).fill(8000));
    expect(playout.playing).toBe(true);
    r.them.speak(900);
    r.them.silence(600);
    playout.stop();
    r.them.speak(400);
    r.them.silence(600);
    const line = await finalLine(r, 'them');
    // Only the speech after Parley stopped made a line: 0.4 s with the VAD's padding and silence
    // (0.6 s), where the 0.9 s said over Parley would have made at least 1.5 s.
    expect(Number(/\[([\d.]+) s of speech\]/.exec(line.segment.text)?.[1])).toBeLessThan(1.2);
    expect(r.of('segment').filter((event) => event.segment.speaker === 'them' && event.segment.final)).toHaveLength(1);
  });

  it('on speakers, the microphone does not make a line of Parley\'s voice as it hears it in the room', async () => {
    const speaker = new ManualClock();
    const { playout } = drainingPlayout({ sink: new RecordingSink(), scheduler: speaker });
    const r = await rig({ playout, echo: 'speakers' });
    playout.enqueue('parley_reply', new Int16Array(24_000 * 5).fill(8000));
    // The room's echo of Parley reaches the microphone, no louder than Parley plays.
    r.me.speak(900);
    r.me.silence(600);
    playout.stop();
    r.me.speak(400);
    r.me.silence(600);
    const line = await finalLine(r, 'me');
    // Only the 0.4 s said after Parley stopped made a line: with the VAD's padding and silence,
    // 1.0 s; the 0.9 s heard over Parley would have made a line of 1.2 s first.
    expect(Number(/\[([\d.]+) s of speech\]/.exec(line.segment.text)?.[1])).toBeLessThan(1.1);
    expect(r.of('segment').filter((event) => event.segment.speaker === 'me' && event.segment.final)).toHaveLength(1);
  });

  it('answers "what did they just ask?" from the other side\'s last line', async () => {
    const r = await rig();
    r.them.speak(700);
    r.them.silence(600);
    const theirs = await finalLine(r, 'them');
    r.me.speak(400);
    r.me.silence(600);
    await finalLine(r, 'me');

    const answer = await r.meeting.ask('what did they just ask?');
    expect(answer.status).toBe('completed');
    // The emulator quotes the last line it was given from the other side, with its time.
    expect(answer.text).toMatch(/^At \d\d:\d\d they said: "\[\d\.\d s of speech\]"$/);
    expect(answer.text).toContain(theirs.segment.text);
    // The next question sends only lines the agent has not seen: none here.
    await r.meeting.ask('summarise the meeting');
    const questions = r.agentWire.sent('response.create').filter((create) => create.stream_id === undefined);
    const lastInput = JSON.stringify(questions.at(-1)?.input);
    expect(lastInput).not.toMatch(/s of speech/);
  });

  it('keeps live notes on their own lane, each update carrying only the new lines', async () => {
    const r = await rig();
    r.them.speak(600);
    r.them.silence(600);
    await finalLine(r, 'them');
    const first = r.next('notes');
    r.notesTimer.advanceSync(60_000);
    expect((await first).markdown).toMatch(/1 lines so far: 0 from you, 1 from them/);

    r.me.speak(600);
    r.me.silence(600);
    await finalLine(r, 'me');
    await r.meeting.updateNotes();
    expect(r.meeting.notes).toMatch(/2 lines so far: 1 from you, 1 from them/);

    const notesRequests = r.agentWire.sent('response.create').filter((create) => create.stream_id === notesLane);
    expect(notesRequests).toHaveLength(2);
    // The second update continues the lane's chain with the one new line, not the whole meeting.
    expect(notesRequests[1]?.previous_response_id).toEqual(expect.any(String));
    expect(JSON.stringify(notesRequests[1]?.input).match(/s of speech/g)).toHaveLength(1);
  });

  it('does not hold up the user\'s question while the notes are being written', async () => {
    // Paced output: a notes update streams for a while.
    const r = await rig({ outputTokensPerSecond: 60 });
    r.them.speak(600);
    r.them.silence(600);
    await finalLine(r, 'them');
    const notes = r.meeting.updateNotes();
    const answer = await r.meeting.ask('what did they just ask?');
    expect(answer.status).toBe('completed');
    expect(r.meeting.notes).toBe('');
    await notes;
    expect(r.meeting.notes).toMatch(/## Action items/);
  });

  it('says when the system has been silent too long, and clears it when sound returns', async () => {
    const r = await rig({ systemSilenceMs: 2_000 });
    r.them.silence(2_100);
    const silent = await r.until('problem', (event) => event.source === 'them');
    expect(silent.problem.message).toMatch(/No audio from the system for 2 s/);
    r.them.speak(200);
    await r.until('problem.cleared');
  });

  it('goes on with the microphone when the system audio cannot start, and says what is missing', async () => {
    const r = await rig({ systemFails: { code: 'internal', message: "Hearing the system's audio is not built for Windows yet.", hint: 'Use Linux.' } });
    expect(r.of('problem').map((event) => [event.source, event.problem.message])).toEqual([['them', "Hearing the system's audio is not built for Windows yet."]]);
    r.me.speak(500);
    r.me.silence(600);
    await finalLine(r, 'me');
  });
});

