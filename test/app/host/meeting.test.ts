/**
 * Meeting mode through the copilot's command table, on the embedded emulator: start, the lines
 * pushed as they are heard, a question answered from them, the notes, stop and export. The
 * microphone and the system's audio are the shipped scripted sources.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels, type MeetingView, type PushEvent } from '../../../app/contract';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { meetingTranscriptTool } from '../../../app/host/meeting';
import { MeetingTranscript } from '../../../app/meeting/transcript';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { noLatency } from '../../../app/emulator/latency';
import { fastScheduler, ScriptedMic, RecordingSink } from '../../../app/testing';
import { nextEvent, testDeps } from '../../support/copilot';

let copilot: Copilot | null = null;
afterEach(async () => {
  await copilot?.close();
  copilot = null;
});

async function meetingCopilot(options: { systemAudio?: boolean } = {}) {
  const me = new ScriptedMic();
  const them = new ScriptedMic();
  // The meeting asks for the microphone first; a voice conversation opened later gets its own.
  const mics: ScriptedMic[] = [];
  let emulator: Emulator | null = null;
  copilot = createCopilot({
    ...testDeps({}),
    startEmulator: async () => (emulator = await startEmulator({ latency: noLatency })),
    voice: {
      createMic: () => {
        const mic = mics.length === 0 ? me : new ScriptedMic();
        mics.push(mic);
        return mic;
      },
      createSpeaker: () => new RecordingSink(),
      ...(options.systemAudio === false ? {} : { createSystemAudio: () => them }),
      scheduler: fastScheduler(20),
    },
  });
  await copilot.start();
  const call = async <T>(channel: string, payload?: unknown): Promise<T> => {
    const result = await copilot!.call(channel, payload);
    if (!result.ok) throw new Error(result.problem.message);
    return result.value as T;
  };
  const onEvent = (listener: (event: PushEvent) => void) => copilot!.onEvent(listener);
  const hear = (text: string) => emulator!.hear(text);
  return { me, them, mics, call, onEvent, hear };
}

const finalLine = (onEvent: (listener: (event: PushEvent) => void) => () => void, speaker: 'me' | 'them') =>
  nextEvent(onEvent, (event): event is Extract<PushEvent, { type: 'meeting.line' }> => event.type === 'meeting.line' && event.line.final && event.line.speaker === speaker);

describe('meeting mode through the commands', () => {
  it('starts, pushes both sides\' lines, answers from them, keeps notes, stops and exports Markdown', async () => {
    const { me, them, call, onEvent } = await meetingCopilot();
    const started = await call<MeetingView>(commandChannels.startMeeting);
    expect(started).toMatchObject({ live: true, lines: [], problems: [] });

    const theirs = finalLine(onEvent, 'them');
    them.speak(700);
    them.silence(600);
    await theirs;
    const mine = finalLine(onEvent, 'me');
    me.speak(400);
    me.silence(600);
    await mine;

    const answer = await call<{ text: string }>(commandChannels.askMeeting, { question: 'what did they just ask?' });
    expect(answer.text).toMatch(/they said: "\[\d\.\d s of speech\]"/);
    const noted = await call<MeetingView>(commandChannels.updateMeetingNotes);
    expect(noted.notes).toMatch(/2 lines so far: 1 from you, 1 from them/);

    const stopped = await call<MeetingView>(commandChannels.stopMeeting);
    expect(stopped.live).toBe(false);
    expect(stopped.lines.map((line) => line.speaker)).toEqual(['them', 'me']);
    const exported = await call<{ fileName: string; content: string }>(commandChannels.exportMeeting);
    expect(exported.fileName).toMatch(/^meeting-\d{4}-\d\d-\d\d-\d\d-\d\d\.md$/);
    expect(exported.content).toMatch(/## Notes[\s\S]*## Transcript\n\n- \*\*\d\d:\d\d Them:\*\*/);
  });

  it('where the system\'s audio cannot be heard, says so and transcribes the microphone', async () => {
    const { me, call, onEvent } = await meetingCopilot({ systemAudio: false });
    const started = await call<MeetingView>(commandChannels.startMeeting);
    expect(started.problems).toEqual([expect.objectContaining({ source: 'them', message: "This window cannot hear the system's audio, so the other side of a call is not transcribed." })]);
    const mine = finalLine(onEvent, 'me');
    me.speak(400);
    me.silence(600);
    await mine;
  });

  it('refuses a question with nothing in it, and export before any meeting, in words', async () => {
    const { call } = await meetingCopilot();
    await expect(call(commandChannels.askMeeting, { question: '   ' })).rejects.toThrow(/Type a question about the meeting/);
    await expect(call(commandChannels.exportMeeting)).rejects.toThrow(/No meeting has been held yet/);
  });

  it('answers a question typed into the chat from the meeting, through the transcript tool the agent and the voice are given', async () => {
    const { them, call, onEvent } = await meetingCopilot();
    const catalog = copilot!.snapshot().toolCatalog.find((tool) => tool.name === 'get_meeting_transcript');
    // Safe, so the voice front has it too (it keeps only safe tools and the delegation).
    expect(catalog).toMatchObject({ risk: 'safe', source: 'builtin' });
    await call(commandChannels.startMeeting);
    const theirs = finalLine(onEvent, 'them');
    them.speak(900);
    them.silence(600);
    const heard = (await theirs).line.text;
    const reply = nextEvent(onEvent, (event): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.role === 'assistant');
    await call(commandChannels.sendMessage, { text: 'what did they just ask?' });
    const { turn } = await reply;
    expect(turn.text).toMatch(/^At \d\d:\d\d they said: "/);
    expect(turn.text).toContain(heard);
    expect(copilot!.snapshot().tools.map((tool) => [tool.name, tool.status])).toEqual([['get_meeting_transcript', 'succeeded']]);
  });

  it('answers a push-to-talk question from the meeting: the voice front calls the transcript tool and says what they asked', async () => {
    const { them, mics, call, onEvent, hear } = await meetingCopilot();
    await call(commandChannels.startMeeting);
    const theirs = finalLine(onEvent, 'them');
    them.speak(900);
    them.silence(600);
    const heard = (await theirs).line.text;

    await call(commandChannels.startVoice);
    const voiceMic = mics.at(-1)!;
    expect(voiceMic).not.toBe(mics[0]);
    // The emulator cannot understand audio: it is told what the held-key utterance says.
    hear('what did they just ask?');
    const reply = nextEvent(onEvent, (event): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.source === 'voice' && event.turn.role === 'assistant');
    await call(commandChannels.pressToTalk);
    voiceMic.speak(900);
    await call(commandChannels.releaseToTalk);
    const { turn } = await reply;
    expect(turn.text).toMatch(/^At \d\d:\d\d they said: "/);
    expect(turn.text).toContain(heard);
    expect(copilot!.snapshot().tools.map((tool) => [tool.name, tool.status])).toEqual([['get_meeting_transcript', 'succeeded']]);
  });
});

describe('the meeting transcript tool', () => {
  const minute = 60_000;
  /** A meeting from 10:00 with lines at 1, 7 and 9 minutes in. */
  function heldMeeting(): MeetingTranscript {
    const transcript = new MeetingTranscript(10 * 60 * minute);
    transcript.heard('them', 'a', 'Shall we start?', true, transcript.startedAt + 1 * minute);
    transcript.heard('me', 'b', 'Yes, the budget first.', true, transcript.startedAt + 7 * minute);
    transcript.heard('them', 'c', 'What about March?', true, transcript.startedAt + 9 * minute);
    return transcript;
  }
  const ask = async (live: boolean, now: number, args: Record<string, unknown>) => {
    const tool = meetingTranscriptTool(() => ({ live, transcript: heldMeeting() }), () => now);
    return JSON.parse(await tool.execute(args, { signal: new AbortController().signal })) as { live: boolean; lines: string[] };
  };

  it('gives a live meeting\'s last minutes up to now', async () => {
    // Now is 11 minutes in: the last three minutes hold the line said at 9.
    expect(await ask(true, 10 * 60 * minute + 11 * minute, { last_minutes: 3 })).toEqual({ live: true, lines: ['[09:00] Them: What about March?'] });
  });

  it('gives the last minutes of a meeting that is over from its end, however long ago it was', async () => {
    // It ended 9 minutes in: its last three minutes hold the lines said at 7 and 9.
    const nextDay = 34 * 60 * minute;
    expect(await ask(false, nextDay, { last_minutes: 3 })).toEqual({ live: false, lines: ['[07:00] Me: Yes, the budget first.', '[09:00] Them: What about March?'] });
    expect((await ask(false, nextDay, {})).lines).toHaveLength(3);
  });
});
