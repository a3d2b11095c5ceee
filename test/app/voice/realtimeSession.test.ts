/**
 * RealtimeSession against the emulator's /v1/realtime over real loopback sockets. The mic and
 * speaker are stand-ins here (the real-device loop is in test/audio); playout time runs fast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { levelDbfs, pcm16FromBytes } from '../../../app/audio/pcm';
import { ManualClock } from '../../../app/emulator/clock';
import { ManualClock as PlayoutClock, ManualDetector, SilencingCanceller } from '../../../app/testing';
import { RealtimeRequestError } from '../../../app/voice/waiters';
import { calculator, scriptedConversation, serverEvents, closeRig, paced, pressAfterHearing, rig, scriptedRig, type Rig } from './rig';

afterEach(closeRig);

const doneText = (r: Rig) => r.until('transcript.assistant.done');
const heardSeconds = (text: string) => Number(/I heard ([\d.]+) seconds/.exec(text)?.[1] ?? Number.NaN);

describe('push-to-talk', () => {
  it('captures while held, commits on release, and plays the spoken reply', async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    expect(r.session.state).toBe('offline');
    await r.session.connect();
    expect(r.session.state).toBe('idle');
    await r.session.press();
    expect(r.mic.running).toBe(true);
    r.mic.speak(1200);
    const backToIdle = r.next('state', (event) => event.state === 'idle');
    await r.session.release();
    expect(r.mic.running).toBe(false);
    const reply = await doneText(r);
    expect(reply.text).toMatch(/I heard 1\.2 seconds of speech/);
    // Idle again only once the whole reply has played.
    await backToIdle;
    // Every generated millisecond reached the speaker.
    expect(r.sink.writtenMs).toBeCloseTo(r.playout.generatedMs(reply.itemId), 0);
    expect(r.sink.writtenMs).toBeGreaterThan(500);
    expect(r.of('state').map((event) => event.state)).toEqual(['connecting', 'idle', 'listening', 'thinking', 'speaking', 'idle']);
    await r.session.close();
    expect(r.session.state).toBe('offline');
    expect(r.of('state').at(-1)?.state).toBe('offline');
  });

  it("shows the user's words as they are transcribed, then the final transcript", async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(1200);
    await r.session.release();
    const final = await r.until('transcript.user', (event) => event.final);
    // The emulator's "transcript" is the speech's length; it arrives as a delta first.
    const partial = r.of('transcript.user').filter((event) => !event.final);
    expect(partial).toEqual([expect.objectContaining({ itemId: final.itemId, text: '[1.2 s of speech]' })]);
    expect(final.text).toBe('[1.2 s of speech]');
  });

  it('drops a release under 100 ms with a hint instead of committing', async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(40);
    await r.session.release();
    const [dropped] = r.of('ptt.dropped');
    expect(dropped?.audioMs).toBe(40);
    expect(dropped?.hint).toMatch(/too short/);
    expect(r.of('commit')).toEqual([]);
    expect(r.of('problem')).toEqual([]);
  });
});

describe('changing the turn mode mid-session', () => {
  it('shows the new mode at rest: listening once voice detection is on, idle once it is push-to-talk again', async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    await r.session.connect();
    expect(r.session.state).toBe('idle');
    await r.session.updateSettings({ turnMode: 'server_vad' });
    expect(r.mic.running).toBe(true);
    expect(r.session.state).toBe('listening');
    await r.session.updateSettings({ turnMode: 'push_to_talk' });
    expect(r.mic.running).toBe(false);
    expect(r.session.state).toBe('idle');
  });

  it('a setting changed while the key is held keeps the listening state of the turn being said', async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    await r.session.connect();
    await r.session.press();
    await r.session.updateSettings({ vad: { threshold: 0.6, prefixPaddingMs: 300, silenceDurationMs: 300 } });
    expect(r.session.state).toBe('listening');
    r.mic.speak(600);
    await r.session.release();
    expect((await doneText(r)).text).toMatch(/I heard 0\.6 seconds of speech/);
  });
});

describe('voice activity detection', () => {
  it('server_vad: speech then silence makes a turn without any key', async () => {
    const r = await rig({ turnMode: 'server_vad', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } });
    await r.session.connect();
    expect(r.session.state).toBe('listening');
    r.mic.silence(200);
    r.mic.speak(800);
    r.mic.silence(500);
    await r.until('vad', (event) => !event.speaking);
    const reply = await doneText(r);
    // The user's talk is shown starting and stopping, and the turn it made.
    expect(r.of('vad').map((event) => event.speaking)).toEqual([true, false]);
    const [commit] = r.of('commit');
    const heard = await r.until('transcript.user', (event) => event.final);
    expect(commit?.itemId).toBe(heard.itemId);
    expect(r.of('state').map((event) => event.state).slice(0, 4)).toEqual(['connecting', 'listening', 'thinking', 'speaking']);
    // What the user said is remembered as theirs, before the reply.
    expect(r.session.history.slice(0, 2)).toEqual([
      { role: 'user', itemId: heard.itemId, text: heard.text },
      { role: 'assistant', itemId: reply.itemId, text: reply.text },
    ]);
    // The committed turn is the speech plus the prefix padding and the silence that ended it.
    expect(heardSeconds((await doneText(r)).text)).toBeGreaterThanOrEqual(0.8);
    expect(heardSeconds((await doneText(r)).text)).toBeLessThanOrEqual(0.8 + 0.3 + 0.3 + 0.05);
  });

  it('semantic_vad: the session is configured with the eagerness', async () => {
    const r = await rig({ turnMode: 'semantic_vad', eagerness: 'high' });
    await r.session.connect();
    r.mic.speak(600);
    r.mic.silence(1200);
    // High eagerness ends the turn after a short pause: speech, padding and a brief wait.
    const seconds = heardSeconds((await doneText(r)).text);
    expect(seconds).toBeGreaterThanOrEqual(0.6);
    expect(seconds).toBeLessThan(0.6 + 0.3 + 0.8);
  });
});

describe('tools and response discipline', () => {
  it('runs a function call once, returns its output, and asks for exactly one response', async () => {
    const runs: string[] = [];
    const r = await rig({ tools: [calculator] }, { runTool: async (call) => (runs.push(call.callId), '5') });
    await r.session.connect();
    r.session.sendText('what is 2 + 3?');
    const answer = await r.until('transcript.assistant.done', (event) => event.text.includes('= 5'));
    expect(answer.text).toBe('2 + 3 = 5.');
    expect(runs).toHaveLength(1);
    expect(r.of('tool').map((event) => event.status)).toEqual(['started', 'done']);
    expect(r.of('response').filter((event) => event.phase === 'created')).toHaveLength(2);
    expect(r.of('problem')).toEqual([]);
  });

  it('defers a second request while a response is active instead of dropping it', async () => {
    const r = await rig();
    await r.session.connect();
    r.session.sendText('first question');
    r.session.sendText('second question');
    await r.until('transcript.assistant.done', (event) => event.text.includes('second question'));
    expect(r.of('response').filter((event) => event.phase === 'created')).toHaveLength(2);
    expect(r.of('problem')).toEqual([]);
  });
});

describe('a resumed conversation', () => {
  it('is told what was said before, so its first reply follows on from it', async () => {
    const earlier = [
      { role: 'user' as const, text: 'plan a trip to Lisbon' },
      { role: 'assistant' as const, text: 'Here is a plan.' },
      { role: 'user' as const, text: 'and the food?' },
      { role: 'assistant' as const, text: 'Try pasteis de nata.' },
    ];
    const r = await rig({}, { earlier });
    await r.session.connect();
    r.session.sendText('thanks');
    // The emulator counts the user messages in the conversation it holds: two earlier, one new.
    expect((await doneText(r)).text).toContain('message 3 of our conversation');
    expect(r.session.history.map((entry) => entry.text).slice(0, 4)).toEqual(earlier.map((entry) => entry.text));
  });
});

describe('barge-in', () => {
  it('on speech: stops playback, truncates at what was heard, and the server accepts it', async () => {
    const r = await rig({ turnMode: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 300 } }, { speed: 4 });
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.until('state', (event) => event.state === 'speaking');
    await r.until('transcript.assistant.done');
    // The user talks over the reply.
    r.mic.speak(400);
    const cut = await r.until('barge_in');
    expect(cut.reason).toBe('speech');
    expect(r.sink.flushes).toBe(1);
    // The item is cut where playback stopped, in whole milliseconds the server accepts.
    const [truncate] = r.wire.sent('conversation.item.truncate');
    expect(truncate).toMatchObject({ item_id: cut.itemId, content_index: 0, audio_end_ms: cut.audioEndMs });
    expect(Number.isInteger(cut.audioEndMs)).toBe(true);
    expect(cut.audioEndMs).toBeGreaterThan(0);
    expect(cut.audioEndMs).toBeLessThanOrEqual(cut.playedMs);
    expect(cut.playedMs - cut.audioEndMs).toBeLessThan(1);
    expect(cut.audioEndMs).toBeLessThan(cut.generatedMs);
    // With server VAD the server cancels on speech: the client does not cancel as well.
    expect(r.wire.sent('response.cancel')).toEqual([]);
    r.mic.silence(400);
    await r.until('transcript.assistant.done', (event) => event.text.includes('seconds of speech'));
    expect(r.wire.received('conversation.item.truncated')).toEqual([expect.objectContaining({ item_id: cut.itemId, audio_end_ms: cut.audioEndMs })]);
    expect(r.of('problem')).toEqual([]);
    expect(r.session.history.find((entry) => entry.itemId === cut.itemId)?.text).toBe(cut.heardText);
  });

  it('on the hotkey: cancels the response still streaming and truncates', async () => {
    // Paced output, so the reply is still being generated when the key goes down.
    const r = await rig({ turnMode: 'push_to_talk' }, { speed: 2, emulator: paced });
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.until('state', (event) => event.state === 'speaking');
    await r.session.press();
    const cut = await r.until('barge_in');
    expect(cut.reason).toBe('hotkey');
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    const done = await r.until('response', (event) => event.phase === 'done');
    expect(done.status).toBe('cancelled');
    expect(r.wire.sent('conversation.item.truncate')).toEqual([expect.objectContaining({ item_id: cut.itemId, audio_end_ms: cut.audioEndMs })]);
    expect(r.playout.playing).toBe(false);
    await r.session.release();
    expect(r.of('problem')).toEqual([]);
  });

  it('truncates at 1 ms, never 0, when the cut comes before anything was heard', async () => {
    // Playout time stands still: the reply is queued but not one sample has reached the listener.
    const { r, cut } = await pressAfterHearing(0);
    expect(cut.playedMs).toBe(0);
    expect(cut.audioEndMs).toBe(1);
    expect(r.wire.sent('conversation.item.truncate')).toEqual([expect.objectContaining({ item_id: cut.itemId, audio_end_ms: 1 })]);
    expect(cut.heardText).toBe('');
    await r.session.release();
  });

  it('truncates at exactly what was heard by the playout clock', async () => {
    const { r, cut } = await pressAfterHearing(90.5);
    expect(cut.playedMs).toBe(90.5);
    // Whole milliseconds, rounded down: never past what was heard.
    expect(r.wire.sent('conversation.item.truncate')[0]?.audio_end_ms).toBe(90);
    await r.session.release();
  });
});

describe('echo on speakers, with a canceller and a local detector', () => {
  /** How loud the mic audio the server was sent since `from` (an index into the appends) was. */
  const loudestSent = (r: Rig, from: number) => Math.max(...r.wire.sent('input_audio_buffer.append').slice(from).map((event) => levelDbfs(pcm16FromBytes(Buffer.from(String(event.audio), 'base64')))));

  it('without a canceller, the mic is gated to silence while a reply plays on speakers, and not on headphones', async () => {
    const loudest: Record<string, number> = {};
    for (const echo of ['speakers', 'headphones'] as const) {
      const r = await rig({ turnMode: 'server_vad', echo }, { speed: 1, emulator: paced });
      await r.session.connect();
      r.session.sendText('tell me something long');
      await r.until('state', (event) => event.state === 'speaking');
      await expect.poll(() => r.sink.writtenMs).toBeGreaterThan(100);
      const from = r.wire.sent('input_audio_buffer.append').length;
      // The reply's own sound, picked up no louder than it plays.
      r.mic.faint(300);
      expect(r.playout.playing).toBe(true);
      await expect.poll(() => r.wire.sent('input_audio_buffer.append').length).toBeGreaterThanOrEqual(from + 5);
      loudest[echo] = loudestSent(r, from);
      await closeRig();
    }
    expect(loudest.speakers).toBe(-Infinity);
    expect(loudest.headphones).toBeGreaterThan(-50);
  });

  it('sends the server what the canceller leaves of the mic, not the raw mic', async () => {
    // All this mic picks up is the speaker's echo, which a perfect canceller removes.
    const r = await rig({ turnMode: 'server_vad', echo: 'speakers' }, { echoCanceller: new SilencingCanceller() });
    await r.session.connect();
    r.mic.speak(400);
    await expect.poll(() => r.wire.sent('input_audio_buffer.append').length).toBeGreaterThanOrEqual(10);
    const levels = r.wire.sent('input_audio_buffer.append').map((event) => levelDbfs(pcm16FromBytes(Buffer.from(String(event.audio), 'base64'))));
    expect(Math.max(...levels)).toBe(-Infinity);
  });

  it('the detector hearing the user over a reply stops playback at once, cut at what was heard', async () => {
    const detector = new ManualDetector();
    const r = await rig({ turnMode: 'server_vad', echo: 'speakers' }, { speed: 4, emulator: paced, echoCanceller: new SilencingCanceller(), speechDetector: detector });
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.until('state', (event) => event.state === 'speaking');
    r.mic.silence(200);
    await expect.poll(() => detector.frames).toBeGreaterThan(0);
    detector.speak(0);
    const cut = await r.until('barge_in');
    expect(cut.reason).toBe('speech');
    expect(r.sink.flushes).toBe(1);
    expect(r.playout.playing).toBe(false);
    expect(r.wire.sent('conversation.item.truncate')).toEqual([expect.objectContaining({ item_id: cut.itemId, audio_end_ms: cut.audioEndMs })]);
  });
});

describe('formats and recovery', () => {
  it('speaks G.711 μ-law both ways', async () => {
    const r = await rig({ encoding: 'pcmu', turnMode: 'push_to_talk' });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(700);
    await r.session.release();
    const reply = await doneText(r);
    expect(reply.text).toMatch(/I heard 0\.7 seconds of speech/);
    await r.until('response', (event) => event.phase === 'done');
    expect(r.playout.generatedMs(reply.itemId)).toBeGreaterThan(500);
  });

  it('recovers from session_expired: reopens, replays settings and history, and carries on', async () => {
    const clock = new ManualClock();
    const r = await rig({}, { emulator: { clock } });
    await r.session.connect();
    r.session.sendText('remember this');
    await doneText(r);
    await r.until('response', (event) => event.phase === 'done');
    clock.advance(60 * 60 * 1000);
    const recovered = await r.until('recovered');
    expect(recovered.itemsReplayed).toBe(2);
    // The new socket is told the conversation: the user's words as theirs, the reply as the assistant's.
    const replayed = r.wire.frames.filter((f) => f.socket === 2 && f.direction === 'client' && f.frame.type === 'conversation.item.create').map((f) => f.frame.item);
    const [said, answered] = r.session.history;
    expect(replayed).toEqual([
      { id: said?.itemId, type: 'message', role: 'user', content: [{ type: 'input_text', text: 'remember this' }] },
      { id: answered?.itemId, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: answered?.text }] },
    ]);
    expect(answered?.text).not.toBe('');
    r.session.sendText('and this');
    const reply = await r.until('transcript.assistant.done', (event) => event.text.includes('and this'));
    // The emulator counts the user messages it holds: the replayed history arrived.
    expect(reply.text).toContain('message 2 of our conversation');
    // The expiry is the server's notice that a recovery follows, not a problem to show.
    expect(r.of('problem')).toEqual([]);
  });

  it('reports a microphone that cannot start, clearly', async () => {
    const r = await rig({ turnMode: 'server_vad' });
    r.mic.failNextStart({ code: 'internal', message: 'No microphone named "usb-headset" was found.', hint: 'Pick an input device in settings.' });
    await expect(r.session.connect()).rejects.toThrow(/usb-headset/);
    expect(r.of('problem')[0]?.problem.message).toContain('usb-headset');
    expect(r.session.state).toBe('error');
  });
});

describe('turns besides speech', () => {
  it('a typed message with a screenshot sends the picture once and remembers only the words', async () => {
    const r = await rig();
    await r.session.connect();
    const image = 'data:image/png;base64,iVBORw0KGgo=';
    r.session.sendText('what is on my screen?', image);
    await doneText(r);
    const [item] = r.wire.sent('conversation.item.create');
    expect(item?.item).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: 'what is on my screen?' }, { type: 'input_image', image_url: image }] });
    expect(r.session.history[0]).toMatchObject({ role: 'user', text: 'what is on my screen?' });
  });

  it('a finished task\'s note goes in as a system message and the assistant speaks about it', async () => {
    const r = await rig();
    await r.session.connect();
    r.session.addNote('The background build finished.');
    await doneText(r);
    expect(r.wire.sent('conversation.item.create')[0]?.item).toMatchObject({ type: 'message', role: 'system', content: [{ type: 'input_text', text: 'The background build finished.' }] });
    expect(r.wire.sent('response.create')).toHaveLength(1);
  });

  it('reports what each reply cost, as the server counted it: spoken input, and what was cached', async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    await r.session.connect();
    await r.session.press();
    r.mic.speak(800);
    await r.session.release();
    await r.until('response', (event) => event.phase === 'done');
    r.session.sendText('hello there');
    const done = await r.until('response', (event) => event.phase === 'done' && r.of('response').filter((e) => e.phase === 'done').length === 2);
    const served = r.wire.received('response.done')[1]?.response as { usage: { input_token_details: Record<string, number>; output_token_details: Record<string, number> } };
    expect(done.status).toBe('completed');
    expect(done.usage).toEqual({
      textIn: served.usage.input_token_details.text_tokens,
      audioIn: served.usage.input_token_details.audio_tokens,
      cachedIn: served.usage.input_token_details.cached_tokens,
      textOut: served.usage.output_token_details.text_tokens,
      audioOut: served.usage.output_token_details.audio_tokens,
    });
    expect(done.usage?.textIn).toBeGreaterThan(0);
    expect(done.usage?.audioIn).toBeGreaterThan(0);
    expect(done.usage?.cachedIn).toBeGreaterThan(0);
    expect(done.usage?.audioOut).toBeGreaterThan(0);
  });

  it('previews a voice without joining the conversation or holding up the next turn', async () => {
    const r = await rig();
    await r.session.connect();
    r.session.previewVoice('cedar');
    const previewed = await r.until('response', (event) => event.phase === 'done');
    const [create] = r.wire.sent('response.create');
    expect(create?.response).toMatchObject({ conversation: 'none', audio: { output: { voice: 'cedar' } } });
    expect(String((create?.response as { instructions: string }).instructions)).toContain('cedar voice');
    expect(r.playout.generatedMs(r.wire.received('response.output_audio.delta')[0]?.item_id as string)).toBeGreaterThan(0);
    // Its words are not the assistant's turn, and it is in no history.
    expect(r.of('transcript.assistant')).toEqual([]);
    expect(r.of('transcript.assistant.done')).toEqual([]);
    expect(r.of('response').filter((event) => event.phase === 'created')).toEqual([]);
    expect(r.session.history).toEqual([]);
    expect(previewed.status).toBe('completed');
    r.session.sendText('thanks');
    // The emulator counts the user messages in the conversation: the preview added none.
    expect((await doneText(r)).text).toContain('your first message');
  });

  it('talking over a voice preview stops it without truncating anything', async () => {
    const clock = new PlayoutClock();
    const r = await rig({ turnMode: 'push_to_talk' }, { scheduler: clock, emulator: paced });
    await r.session.connect();
    r.session.previewVoice('cedar');
    await r.until('state', (event) => event.state === 'speaking');
    clock.advanceSync(50);
    await r.session.press();
    expect(r.playout.playing).toBe(false);
    expect(r.of('barge_in')).toEqual([]);
    expect(r.wire.sent('conversation.item.truncate')).toEqual([]);
    await r.session.release();
  });
});

describe('tools and memory', () => {
  it('tools given mid-session are offered from the next turn; a tool the server refuses is reported', async () => {
    const runs: string[] = [];
    const r = await rig({}, { runTool: async (call) => (runs.push(call.name), '5') });
    await r.session.connect();
    r.session.setTools([calculator]);
    expect(r.session.settings.tools).toEqual([calculator]);
    r.session.sendText('what is 2 + 3?');
    await r.until('transcript.assistant.done', (event) => event.text.includes('= 5'));
    expect(runs).toEqual(['calculator']);

    r.session.setTools([{ ...calculator, name: 'not a name!' }]);
    const { problem } = await r.until('problem');
    expect(problem.message).toMatch(/not a name!|tools\[0\]\.name/);
  });

  it('remembers each turn once, under its own id, the typed words and the reply as heard', async () => {
    const r = await rig();
    await r.session.connect();
    r.session.sendText('hello there');
    const reply = await doneText(r);
    await r.until('response', (event) => event.phase === 'done');
    r.session.sendText('thanks');
    const second = await r.until('transcript.assistant.done', (event) => event.itemId !== reply.itemId);
    await r.until('response', (event) => event.phase === 'done' && r.of('response').filter((e) => e.phase === 'done').length === 2);
    expect(r.session.history).toEqual([
      { role: 'user', itemId: 'parley_text_1', text: 'hello there' },
      { role: 'assistant', itemId: reply.itemId, text: reply.text },
      { role: 'user', itemId: 'parley_text_2', text: 'thanks' },
      { role: 'assistant', itemId: second.itemId, text: second.text },
    ]);
  });
});

describe('refused settings', () => {
  it('a setting the server refuses rejects in its words and leaves the session as it was', async () => {
    const r = await rig({ turnMode: 'push_to_talk' });
    await r.session.connect();
    await expect(r.session.updateSettings({ turnMode: 'server_vad', vad: { threshold: 2, prefixPaddingMs: 300, silenceDurationMs: 300 } })).rejects.toBeInstanceOf(RealtimeRequestError);
    expect(r.session.settings.turnMode).toBe('push_to_talk');
    expect(r.session.settings.vad.threshold).not.toBe(2);
    expect(r.mic.running).toBe(false);
    expect(r.session.state).toBe('idle');
  });

  it('a revoked key says so, and what to check', async () => {
    const r = await rig({}, { emulator: { revokedKeys: ['sk-test'] } });
    await r.session.connect().catch(() => undefined);
    const { problem } = await r.until('problem', (event) => event.problem.code === 'unauthorized');
    expect(problem.message).toMatch(/^The voice server reported: Incorrect API key provided/);
    expect(problem.hint).toBe('Check OPENAI_API_KEY.');
  });
});

describe('replies the server does not give', () => {
  it('a model the account cannot use fails each reply and says so, in the host\'s words when it has them', async () => {
    const seen: Array<{ code: string | null; model: string }> = [];
    const r = await rig(
      { model: 'realtime-unserved-zz' },
      { describeError: ({ code, model }) => (seen.push({ code, model }), code === 'model_not_found' ? { code: 'model_unavailable' as const, message: `Your account cannot use ${model}.`, hint: 'Pick another voice model.' } : null) },
    );
    await r.session.connect();
    r.session.sendText('hello there');
    const { problem } = await r.until('problem');
    expect(problem).toEqual({ code: 'model_unavailable', message: 'Your account cannot use realtime-unserved-zz.', hint: 'Pick another voice model.' });
    expect(seen).toEqual([{ code: 'model_not_found', model: 'realtime-unserved-zz' }]);
    expect((await r.until('response', (event) => event.phase === 'done')).status).toBe('failed');
  });

  it('without the host\'s words, a failed reply says the server\'s', async () => {
    const r = await rig({ model: 'realtime-unserved-zz' });
    await r.session.connect();
    r.session.sendText('hello there');
    const { problem } = await r.until('problem');
    expect(problem).toEqual({ code: 'server_error', message: 'The voice server could not answer: The model `realtime-unserved-zz` does not exist or you do not have access to it.', hint: 'Try again.' });
  });

  it('a rate-limited reply says so and frees the voice: the next message is answered', async () => {
    const r = await rig();
    await r.session.connect();
    r.emulator.inject({ kind: 'rate_limit', retryAfterS: 2 }, 'realtime');
    r.session.sendText('first question');
    const { problem } = await r.until('problem');
    expect(problem).toEqual({ code: 'server_error', message: 'The voice server reported: Rate limit reached for requests. Please try again in 2s.', hint: 'Try again.' });
    // Back at rest at once, not thinking until a reply that will never come.
    await expect.poll(() => r.session.state).toBe(r.session.settings.turnMode === 'push_to_talk' ? 'idle' : 'listening');
    r.session.sendText('second question');
    expect((await doneText(r)).text).toContain('second question');
  });
});

// What the emulator never sends, from a scripted server on loopback (rig.ts, `scriptedRig`).
const { created, audio, words, said, finished } = serverEvents;
const serverError = (code: string, message: string, eventId?: string) => ({ type: 'error', error: { type: 'invalid_request_error', code, message, ...(eventId === undefined ? {} : { event_id: eventId }) } });

describe('a reply that keeps streaming after it was stopped', () => {
  it('cut by the key: the rest of its audio and words is neither played, shown nor remembered', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.server.until('response.create');
    await r.script(created('resp_1'), audio('resp_1', 'item_1', 400), words('resp_1', 'item_1', 'Once upon '), words('resp_1', 'item_1', 'a time '));
    expect(r.session.state).toBe('speaking');
    r.heard.advanceSync(200);
    await r.session.press();
    const cut = await r.until('barge_in');
    expect(cut).toMatchObject({ itemId: 'item_1', playedMs: 200, generatedMs: 400, audioEndMs: 200 });
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    // The server had more of the reply on the way before the cancel reached it.
    await r.script(audio('resp_1', 'item_1', 400), words('resp_1', 'item_1', 'there lived a king.'), said('resp_1', 'item_1', 'Once upon a time there lived a king.'), finished('resp_1', 'cancelled'));
    expect(r.playout.generatedMs('item_1')).toBe(400);
    expect(r.playout.playing).toBe(false);
    expect(r.of('transcript.assistant').map((event) => event.delta)).toEqual(['Once upon ', 'a time ']);
    expect(r.of('transcript.assistant.done')).toEqual([]);
    expect(r.session.history).toEqual([
      { role: 'user', itemId: 'parley_text_1', text: 'tell me something long' },
      { role: 'assistant', itemId: 'item_1', text: cut.heardText },
    ]);
    expect(cut.heardText).not.toBe('Once upon a time there lived a king.');
    expect(cut.heardText).not.toBe('');
    expect('Once upon a time '.startsWith(cut.heardText)).toBe(true);
    await r.session.release();
  });

  it('given up before any of it played: none of what it still sends plays, shows or is remembered, and the next reply plays', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.server.until('response.create');
    await r.script(created('resp_1'));
    await r.session.press();
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    expect(r.of('barge_in')).toEqual([]);
    await r.script(audio('resp_1', 'item_1', 300), words('resp_1', 'item_1', 'Once upon a time.'), said('resp_1', 'item_1', 'Once upon a time.'), finished('resp_1', 'cancelled'));
    expect(r.playout.generatedMs('item_1')).toBe(0);
    expect(r.of('transcript.assistant')).toEqual([]);
    expect(r.of('transcript.assistant.done')).toEqual([]);
    expect(r.session.history.map((entry) => entry.role)).toEqual(['user']);
    await r.session.release();
    r.session.sendText('and now?');
    await r.server.until('response.create', 2);
    await r.script(created('resp_2'), audio('resp_2', 'item_2', 300), said('resp_2', 'item_2', 'Now this.'));
    expect(r.playout.generatedMs('item_2')).toBe(300);
    expect(r.of('transcript.assistant.done')).toEqual([expect.objectContaining({ itemId: 'item_2', text: 'Now this.' })]);
  });

  it('the key pressed with nothing playing and nothing coming cancels nothing', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    await r.session.press();
    await r.session.release();
    r.session.sendText('hello');
    await r.server.until('response.create');
    expect(r.wire.sent('response.cancel')).toEqual([]);
  });

  it('the key pressed while a reply that has ended still plays truncates it but cancels nothing', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'), audio('resp_1', 'item_1', 400), said('resp_1', 'item_1', 'Hello to you.'), finished('resp_1'));
    r.heard.advanceSync(100);
    await r.session.press();
    expect((await r.until('barge_in')).audioEndMs).toBe(100);
    expect(r.wire.sent('conversation.item.truncate')).toEqual([expect.objectContaining({ item_id: 'item_1', audio_end_ms: 100 })]);
    expect(r.wire.sent('response.cancel')).toEqual([]);
    await r.session.release();
  });

  it('the key pressed while a second message waits behind an unheard reply cancels that reply', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('first');
    r.session.sendText('second');
    await r.server.until('response.create');
    await r.script(created('resp_1'));
    await r.session.press();
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    await r.script(audio('resp_1', 'item_1', 300), finished('resp_1', 'cancelled'));
    expect(r.playout.generatedMs('item_1')).toBe(0);
    await r.session.release();
  });
});

describe('a connection lost mid-reply', () => {
  it('stops the reply at once, and after the reconnect the next message is answered, not held behind the lost reply', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('tell me something long');
    await r.server.until('response.create');
    await r.script(created('resp_1'), audio('resp_1', 'item_1', 400));
    expect(r.playout.playing).toBe(true);
    const reconnect = r.next('reconnect');
    r.server.drop();
    const { delayMs } = await reconnect;
    expect(r.playout.playing).toBe(false);
    const recovered = r.next('recovered');
    await r.clock.advance(delayMs);
    await recovered;
    r.session.sendText('are you there?');
    await r.server.until('response.create', 2);
    expect(r.session.state).toBe('thinking');
  });

  it('tools given just before the connection drops are no problem to show: the reconnected session offers them', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.server.quiet = true;
    r.session.setTools([calculator]);
    await r.server.until('session.update', 2);
    r.server.quiet = false;
    const reconnect = r.next('reconnect');
    r.server.drop();
    const { delayMs } = await reconnect;
    const recovered = r.next('recovered');
    await r.clock.advance(delayMs);
    await recovered;
    expect(r.server.sent('session.update').at(-1)?.session).toMatchObject({ tools: [calculator] });
    expect(r.of('problem')).toEqual([]);
  });
});

describe('what else a server may send', () => {
  it('a text reply (output_text) is shown as it streams and remembered', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    const text = (type: string, extra: Record<string, unknown>) => ({ type, response_id: 'resp_1', item_id: 'item_1', output_index: 0, content_index: 0, ...extra });
    await r.script(created('resp_1'), text('response.output_text.delta', { delta: 'Hi ' }), text('response.output_text.delta', { delta: 'there.' }), text('response.output_text.done', { text: 'Hi there.' }), finished('resp_1'));
    expect(r.of('transcript.assistant').map((event) => event.delta)).toEqual(['Hi ', 'there.']);
    expect(r.of('transcript.assistant.done')).toEqual([{ type: 'transcript.assistant.done', itemId: 'item_1', text: 'Hi there.' }]);
    expect(r.session.history.at(-1)).toEqual({ role: 'assistant', itemId: 'item_1', text: 'Hi there.' });
    expect(r.session.state).toBe('idle');
  });

  it('an audio delta that is not base64 plays nothing and breaks nothing; the next one plays', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'), { ...audio('resp_1', 'item_1', 0), delta: 'abc' });
    expect(r.playout.generatedMs('item_1')).toBe(0);
    expect(r.session.state).toBe('thinking');
    await r.script(audio('resp_1', 'item_1', 100));
    expect(r.playout.generatedMs('item_1')).toBe(100);
    expect(r.session.state).toBe('speaking');
    expect(r.of('problem')).toEqual([]);
  });

  it('a user message the server adds (another client, the server itself) is remembered in its words', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    const added = (item: Record<string, unknown>) => ({ type: 'conversation.item.added', previous_item_id: null, item });
    await r.script(
      added({ id: 'item_u1', type: 'message', role: 'user', content: [{ type: 'input_audio' }, { type: 'input_text', text: 'from ' }, { type: 'input_text', text: 'elsewhere' }] }),
      added({ id: 'item_u2', type: 'message', role: 'user', content: [{ type: 'input_audio' }] }),
      added({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'no id' }] }),
      added({ id: 'item_a1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'not a user turn' }] }),
    );
    expect(r.session.history).toEqual([{ role: 'user', itemId: 'item_u1', text: 'from elsewhere' }]);
  });

  it('reports what a reply cost with the counts the server left out as zero, and nothing for a reply without usage', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'), finished('resp_1', 'completed', { usage: { input_token_details: { text_tokens: 7 }, output_token_details: { audio_tokens: 11 } } }));
    r.session.sendText('again');
    await r.server.until('response.create', 2);
    await r.script(created('resp_2'), finished('resp_2', 'completed', { usage: {} }));
    r.session.sendText('and again');
    await r.server.until('response.create', 3);
    await r.script(created('resp_3'), { type: 'response.done', response: { conversation_id: scriptedConversation } });
    expect(r.of('response').filter((event) => event.phase === 'created').map((event) => event.responseId)).toEqual(['resp_1', 'resp_2', 'resp_3']);
    const done = r.of('response').filter((event) => event.phase === 'done');
    expect(done).toEqual([
      { type: 'response', phase: 'done', responseId: 'resp_1', status: 'completed', usage: { textIn: 7, audioIn: 0, cachedIn: 0, textOut: 0, audioOut: 11 } },
      { type: 'response', phase: 'done', responseId: 'resp_2', status: 'completed', usage: { textIn: 0, audioIn: 0, cachedIn: 0, textOut: 0, audioOut: 0 } },
      { type: 'response', phase: 'done', responseId: '', status: 'completed' },
    ]);
  });

  it('a reply that fails without saying why says so in general words', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'), finished('resp_1', 'failed', { status_details: { type: 'failed', error: { type: 'server_error' } } }));
    expect(r.of('problem').map((event) => event.problem)).toEqual([{ code: 'server_error', message: 'The voice server could not answer: The reply failed.', hint: 'Try again.' }]);
    expect(r.session.state).toBe('idle');
  });

  it('a reply that fails without any details is still reported, not left to end in silence', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'), finished('resp_1', 'failed'));
    expect(r.of('problem').map((event) => event.problem)).toEqual([{ code: 'server_error', message: 'The voice server could not answer: The reply failed.', hint: 'Try again.' }]);
    expect(r.session.state).toBe('idle');
  });
});

describe('frames the session cannot read', () => {
  const brokenDone = (id: string) => ({ type: 'response.done', response: { id, status: 42 } });

  it('a broken response.done still ends the reply: the voice is free, and a message waiting behind it goes', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('first');
    r.session.sendText('second');
    await r.server.until('response.create');
    await r.script(created('resp_1'), brokenDone('resp_1'));
    expect(r.wire.sent('response.create')).toHaveLength(2);
    await r.script(created('resp_2'), brokenDone('resp_2'));
    expect(r.session.state).toBe('idle');
  });

  it("a voice preview's broken response.done does not end the conversation's reply", async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('first');
    await r.server.until('response.create');
    await r.script(created('resp_1'));
    r.session.previewVoice('cedar');
    r.session.sendText('second');
    await r.script({ type: 'response.created', response: { id: 'resp_preview', conversation_id: null } }, brokenDone('resp_preview'));
    // The preview's create aside, the second message still waits for the first reply.
    expect(r.wire.sent('response.create').filter((event) => event.event_id !== undefined)).toHaveLength(1);
    expect(r.session.state).toBe('thinking');
  });

  it('a broken error frees the request it names, and only that one', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('first');
    const first = await r.server.until('response.create');
    const brokenError = (eventId: string) => ({ type: 'error', error: { event_id: eventId, message: 5 } });
    await r.script(brokenError('evt_someone_else'));
    expect(r.session.state).toBe('thinking');
    await r.script(brokenError(String(first.event_id)));
    expect(r.session.state).toBe('idle');
    r.session.sendText('second');
    expect(r.wire.sent('response.create')).toHaveLength(2);
  });

  it('a broken frame during a reply is still a sign of life: the reply is not given up', async () => {
    const r = await scriptedRig({}, { replyDeadlineMs: 1_000 });
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'));
    await r.clock.advance(600);
    // Awaited by its own event, not `script`, whose closing event would count as a sign of life too.
    const rejected = r.next('frame.rejected');
    r.server.send({ type: 'response.output_audio.delta', response_id: 'resp_1', item_id: 5, delta: '' });
    await rejected;
    await r.clock.advance(600);
    expect(r.of('problem')).toEqual([]);
    expect(r.wire.sent('response.cancel')).toEqual([]);
  });
});

describe('refusals and the state shown', () => {
  it('a refused request lets the message waiting behind it go', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('first');
    r.session.sendText('second');
    const first = await r.server.until('response.create');
    await r.script(serverError('rate_limit_exceeded', 'Rate limit reached.', String(first.event_id)));
    expect(r.wire.sent('response.create')).toHaveLength(2);
    expect(r.session.state).toBe('thinking');
  });

  it("an error naming another request leaves the waiting reply alone, and the host's words get the error's code", async () => {
    const codes: Array<string | null> = [];
    const r = await scriptedRig({}, { describeError: ({ code }) => (codes.push(code), null) });
    await r.session.connect();
    r.session.sendText('first');
    await r.server.until('response.create');
    await r.script(serverError('invalid_value', 'Bad item.', 'evt_not_a_response'));
    expect(codes).toEqual(['invalid_value']);
    expect(r.session.state).toBe('thinking');
    r.session.sendText('second');
    expect(r.wire.sent('response.create')).toHaveLength(1);
  });

  it('a reply that finished playing while the next is on its way still shows thinking', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('first');
    r.session.sendText('second');
    await r.server.until('response.create');
    await r.script(created('resp_1'), audio('resp_1', 'item_1', 100), finished('resp_1'));
    expect(r.wire.sent('response.create')).toHaveLength(2);
    await r.heard.advance(1_000);
    expect(r.playout.playing).toBe(false);
    expect(r.session.state).toBe('thinking');
  });

  it('a new audio format mid-session is sent to the server', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    await r.session.updateSettings({ encoding: 'pcmu' });
    expect(r.server.sent('session.update').at(-1)?.session).toMatchObject({ audio: { output: { format: { type: 'audio/pcmu' } } } });
  });
});

describe('server errors that are not problems', () => {
  it('a cancel that came too late, an empty commit and an expiry notice show nothing', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    await r.script(
      serverError('response_cancel_not_active', 'Cancellation failed: no active response found.'),
      serverError('input_audio_buffer_commit_empty', 'Error committing input audio buffer: buffer too small.'),
      serverError('session_expired', 'Your session hit the maximum duration of 60 minutes.'),
    );
    expect(r.of('problem')).toEqual([]);
    // An error that is one is still shown.
    await r.script(serverError('server_error', 'Something broke.'));
    expect(r.of('problem').map((event) => event.problem.message)).toEqual(['The voice server reported: Something broke.']);
  });

  it('a request refused because the server started a reply of its own goes out once that reply has ended', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    const first = await r.server.until('response.create');
    await r.script(serverError('conversation_already_has_active_response', 'Conversation already has an active response in progress: resp_vad.', String(first.event_id)), created('resp_vad'));
    expect(r.wire.sent('response.create')).toHaveLength(1);
    expect(r.session.state).not.toBe('idle');
    await r.script(finished('resp_vad'));
    const again = await r.server.until('response.create', 2);
    expect(again.event_id).not.toBe(first.event_id);
    expect(r.of('problem')).toEqual([]);
  });

  it('the same refusal after the server\'s own reply has already ended asks again at once', async () => {
    const r = await scriptedRig();
    await r.session.connect();
    r.session.sendText('hello');
    const first = await r.server.until('response.create');
    // The server's own reply started and ended before it read ours; the refusal comes last.
    await r.script(created('resp_vad'), finished('resp_vad'), serverError('conversation_already_has_active_response', 'Conversation already has an active response in progress: resp_vad.', String(first.event_id)));
    expect(r.wire.sent('response.create')).toHaveLength(2);
    expect(r.session.state).toBe('thinking');
    expect(r.of('problem')).toEqual([]);
  });
});

describe('a reply the server goes quiet on, and tools, by the session clock', () => {
  const call = (callId: string | undefined, name: string) => ({ type: 'response.output_item.done', response_id: 'resp_1', output_index: 0, item: { id: 'item_call', type: 'function_call', ...(callId === undefined ? {} : { call_id: callId }), name, arguments: '{"expression":"2+3"}' } });

  it('a stalled reply with a message waiting behind it is cancelled, its late audio dropped, its tool calls forgotten, and the waiting message answered', async () => {
    const runs: string[] = [];
    const r = await scriptedRig({}, { replyDeadlineMs: 1_000, runTool: async (c) => (runs.push(c.callId), '5') });
    await r.session.connect();
    r.session.sendText('first');
    r.session.sendText('second');
    await r.server.until('response.create');
    await r.script(created('resp_1'), call('call_1', 'calculator'));
    await r.clock.advance(1_000);
    expect(r.of('problem').map((event) => event.problem.message)).toEqual(['The voice reply stalled: nothing came from the voice server for 1 s, so Parley gave up on it.']);
    expect(r.wire.sent('response.cancel')).toHaveLength(1);
    // The message behind it goes at once.
    expect(r.wire.sent('response.create')).toHaveLength(2);
    expect(r.session.state).toBe('thinking');
    await r.script(audio('resp_1', 'item_1', 300), finished('resp_1', 'cancelled'), created('resp_2'), finished('resp_2'));
    expect(r.playout.generatedMs('item_1')).toBe(0);
    expect(runs).toEqual([]);
    expect(r.of('tool')).toEqual([]);
    expect(r.session.state).toBe('idle');
  });

  it('a request the server never answered is given up without a cancel, and the voice is free again', async () => {
    const r = await scriptedRig({}, { replyDeadlineMs: 1_000 });
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.clock.advance(1_000);
    expect(r.of('problem').map((event) => event.problem)).toEqual([
      { code: 'server_error', message: 'The voice reply stalled: nothing came from the voice server for 1 s, so Parley gave up on it.', hint: 'Say it again, or type it; the connection stays open.' },
    ]);
    expect(r.wire.sent('response.cancel')).toEqual([]);
    expect(r.session.state).toBe('idle');
  });

  it('a reply that ended is never reported as stalled, however long the quiet after it', async () => {
    const r = await scriptedRig({}, { replyDeadlineMs: 1_000 });
    await r.session.connect();
    r.session.sendText('hello');
    await r.server.until('response.create');
    await r.script(created('resp_1'), said('resp_1', 'item_1', 'Hello.'), finished('resp_1'));
    await r.clock.advance(5_000);
    expect(r.of('problem')).toEqual([]);
    expect(r.wire.sent('response.cancel')).toEqual([]);
  });

  it('a tool call shows how long it ran and whether it failed, and its output goes back with one response', async () => {
    const r = await scriptedRig({}, {
      runTool: async (c) => {
        r.clock.advanceSync(c.name === 'calculator' ? 250 : 40);
        if (c.name !== 'calculator') throw new Error('no such tool');
        return '5';
      },
    });
    await r.session.connect();
    r.session.sendText('what is 2 + 3?');
    await r.server.until('response.create');
    await r.script(created('resp_1'), call('call_1', 'calculator'), call('call_2', 'weather'), call(undefined, 'calculator'), finished('resp_1'));
    await r.server.until('response.create', 2);
    expect(r.of('tool')).toEqual([
      { type: 'tool', callId: 'call_1', name: 'calculator', status: 'started' },
      { type: 'tool', callId: 'call_1', name: 'calculator', status: 'done', durationMs: 250 },
      { type: 'tool', callId: 'call_2', name: 'weather', status: 'started' },
      { type: 'tool', callId: 'call_2', name: 'weather', status: 'failed', durationMs: 40 },
    ]);
    const outputs = r.wire.sent('conversation.item.create').map((event) => event.item as { type: string; call_id?: string; output?: string }).filter((item) => item.type === 'function_call_output');
    expect(outputs.map((item) => item.call_id)).toEqual(['call_1', 'call_2']);
    expect(outputs[0]?.output).toBe('5');
    expect(r.wire.sent('response.create')).toHaveLength(2);
  });
});
