/** Voice through the composition root: commands in, transcript turns and voice status out. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { commandChannels, type PushEvent, type Turn } from '../../../app/contract';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { testDeps } from '../../support/copilot';
import { fastScheduler, ManualDetector, SilencingCanceller, RecordingSink, ScriptedMic } from '../../../app/testing';
import type { VoiceDeps } from '../../../app/voice/controller';

let copilot: Copilot | null = null;
afterEach(async () => {
  await copilot?.close();
  copilot = null;
});

function voiceCopilot(speed = 20, voice: Partial<VoiceDeps> = {}) {
  const mic = new ScriptedMic();
  const sink = new RecordingSink();
  const events: PushEvent[] = [];
  copilot = createCopilot({ ...testDeps({}), voice: { createMic: () => mic, createSpeaker: () => sink, scheduler: fastScheduler(speed), ...voice } });
  copilot.onEvent((event) => events.push(event));
  const waitFor = <T extends PushEvent>(match: (event: PushEvent) => event is T): Promise<T> =>
    new Promise((resolve) => {
      const found = events.find(match);
      if (found) return resolve(found);
      const stop = copilot?.onEvent((event) => {
        if (match(event)) {
          stop?.();
          resolve(event);
        }
      });
    });
  return { copilot, mic, sink, events, waitFor };
}

const finishedVoiceReply = (event: PushEvent): event is Extract<PushEvent, { type: 'turn.finished' }> =>
  event.type === 'turn.finished' && event.turn.source === 'voice' && event.turn.role === 'assistant';

/** A copilot that has had one held-key utterance (0.9 s) answered by voice. */
async function heldKeyTurn(): Promise<Copilot> {
  const { copilot: app, mic, waitFor } = voiceCopilot();
  await app.start();
  await app.call(commandChannels.pressToTalk, {});
  mic.speak(900);
  await app.call(commandChannels.releaseToTalk, {});
  await waitFor(finishedVoiceReply);
  return app;
}

describe('voice through the copilot', () => {
  it('turns a held-key utterance into spoken turns in the transcript', async () => {
    const { copilot: app, mic, sink, waitFor, events } = voiceCopilot();
    await app.start();
    expect(await app.call(commandChannels.pressToTalk, {})).toEqual({ ok: true, value: null });
    expect(app.snapshot().voice.state).toBe('listening');
    mic.speak(900);
    expect(await app.call(commandChannels.releaseToTalk, {})).toEqual({ ok: true, value: null });
    const { turn } = await waitFor(finishedVoiceReply);
    expect(turn.text).toMatch(/I heard 0\.9 seconds of speech/);
    const roles = app.snapshot().turns.map((entry: Turn) => [entry.role, entry.source]);
    expect(roles).toEqual([
      ['user', 'voice'],
      ['assistant', 'voice'],
    ]);
    expect(events.some((event) => event.type === 'voice.level')).toBe(true);
    await expect.poll(() => sink.writtenMs).toBeGreaterThan(500);
  });

  it('drops a press too short to send, with a notice saying so', async () => {
    const { copilot: app, waitFor } = voiceCopilot(2);
    await app.start();
    await app.call(commandChannels.startVoice, {});
    await app.call(commandChannels.pressToTalk, {});
    await app.call(commandChannels.releaseToTalk, {});
    // Too short: dropped with a notice, nothing committed.
    await waitFor((event): event is Extract<PushEvent, { type: 'notice' }> => event.type === 'notice' && event.problem.message.includes('too short'));
    await app.call(commandChannels.sendMessage, { text: 'ignored by voice' });
    expect(app.snapshot().voice.state).not.toBe('error');
  });

  it('says plainly when this window has no voice', async () => {
    copilot = createCopilot(testDeps({}));
    await copilot.start();
    expect(await copilot.call(commandChannels.pressToTalk, {})).toMatchObject({ ok: false, problem: { message: 'Voice is not available in this window.' } });
    expect(await copilot.call(commandChannels.setMuted, { muted: 'yes' })).toMatchObject({ ok: false, problem: { code: 'invalid_payload' } });
  });

  it('reports a microphone that will not open, and keeps running', async () => {
    const { copilot: app, mic } = voiceCopilot();
    await app.start();
    mic.failNextStart({ code: 'internal', message: 'No microphone was found.', hint: 'Plug one in.' });
    await app.call(commandChannels.startVoice, {});
    const result = await app.call(commandChannels.pressToTalk, {});
    expect(result).toMatchObject({ ok: false, problem: { message: 'No microphone was found.' } });
    expect(app.snapshot().voice).toMatchObject({ state: 'error', problem: { message: 'No microphone was found.' } });
    expect(await app.call(commandChannels.getSnapshot, {})).toMatchObject({ ok: true });
  });
});

describe('voice in the inspector', () => {
  it('records state, commit, response and playout changes, and the mic level at most once a second', async () => {
    const app = await heldKeyTurn();
    await expect.poll(() => app.snapshot().events.some((event) => event.type === 'voice.playout' && event.phase === 'drained')).toBe(true);
    const types = new Set(app.snapshot().events.map((event) => event.type));
    for (const type of ['voice.state', 'voice.commit', 'voice.response', 'voice.playout', 'voice.level', 'voice.timing']) expect(types).toContain(type);
    // The turn's latency by stage, as pipeline mode reports it, from the realtime events.
    expect(app.snapshot().events.find((event) => event.type === 'voice.timing')).toMatchObject({ mode: 'realtime', totalMs: expect.any(Number) });
    expect(app.snapshot().events.filter((event) => event.type === 'voice.level').length).toBeLessThanOrEqual(2);
    // Nothing the user said or heard is in the log.
    expect(JSON.stringify(app.snapshot().events)).not.toMatch(/I heard/);
  });
});

describe('voice turns in the turn list and latency chart', () => {
  it('records a spoken turn as turn.finished with its latency, tokens and cost, beside the agent’s figures', async () => {
    const app = await heldKeyTurn();
    await expect.poll(() => app.snapshot().inspector.recentTurns.length).toBe(1);
    const finished = app.snapshot().events.filter((event) => event.type === 'turn.finished');
    expect(finished).toEqual([expect.objectContaining({ socket: 'voice', status: 'completed' })]);
    const [turn] = app.snapshot().inspector.recentTurns;
    expect(turn).toMatchObject({ socket: 'voice', turnId: expect.stringMatching(/^resp_/), requests: 1, toolCalls: 0, inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    // From the commit to the first reply audio, then to response.done.
    expect(turn?.timeToFirstByteMs).toBeGreaterThanOrEqual(0);
    expect(turn?.totalMs).toBeGreaterThanOrEqual(turn?.timeToFirstByteMs ?? Number.POSITIVE_INFINITY);
    expect(turn?.outputTokens).toBeGreaterThan(0);
    expect(turn?.costUsd).toBeGreaterThan(0);
    // The stage timing and the turn measure from the same start to the same first audio.
    const timing = app.snapshot().events.find((event) => event.type === 'voice.timing');
    expect(timing).toMatchObject({ mode: 'realtime', totalMs: turn?.timeToFirstByteMs });
    // Voice cost is metered once, as voice; the agent's last turn, responses and text cost are untouched.
    expect(app.snapshot().inspector).toMatchObject({ lastTurn: null, responsesSent: 0, costUsd: null });
    expect(app.snapshot().inspector.voiceCostUsd).toBeCloseTo(turn?.costUsd ?? 0, 10);
  });
});

describe('voice preview and cost', () => {
  it('previews a voice through the speaker without adding to the conversation', async () => {
    const { copilot: app, sink } = voiceCopilot();
    await app.start();
    expect(await app.call(commandChannels.previewVoice, { voice: 'cedar' })).toEqual({ ok: true, value: null });
    await expect.poll(() => sink.writtenMs).toBeGreaterThan(300);
    expect(app.snapshot().turns).toEqual([]);
    expect(await app.call(commandChannels.previewVoice, { voice: 'Robot Voice!' })).toMatchObject({ ok: false, problem: { code: 'invalid_payload' } });
  });

  it('meters what voice responses cost, separately from the agent', async () => {
    const app = await heldKeyTurn();
    await expect.poll(() => app.snapshot().inspector.voiceCostUsd ?? 0).toBeGreaterThan(0);
    expect(app.snapshot().inspector.costUsd).toBeNull();
  });
});

describe('echo on speakers through the copilot', () => {
  /** Voice on with a reply playing through the speaker, the mic still sending. */
  async function playingReply(settings: Record<string, unknown>, voice: Partial<VoiceDeps>) {
    const rig = voiceCopilot(20, voice);
    await rig.copilot.start();
    expect(await rig.copilot.call(commandChannels.updateSettings, { patch: { echo: 'speakers', turnMode: 'server_vad', ...settings } })).toMatchObject({ ok: true });
    await rig.copilot.call(commandChannels.previewVoice, { voice: 'cedar' });
    await expect.poll(() => rig.sink.writtenMs).toBeGreaterThan(200);
    return rig;
  }

  it('cancels by default: the user talking over a reply is heard by the local detector, and playback stops at once', async () => {
    const detector = new ManualDetector();
    const { sink, mic } = await playingReply({}, { createSpeechDetector: async () => detector });
    mic.silence(200);
    await expect.poll(() => detector.frames).toBeGreaterThan(0);
    const flushes = sink.flushes;
    detector.speak(0);
    expect(sink.flushes).toBe(flushes + 1);
  });

  it('runs no detector with the gate chosen', async () => {
    let created = 0;
    const { mic } = await playingReply({ echoCancellation: 'gate' }, { createSpeechDetector: async () => (created += 1, new ManualDetector()) });
    mic.silence(200);
    expect(created).toBe(0);
  });

  it('keeps voice running when the detector cannot load (the server still hears the user through the canceller)', async () => {
    const { copilot: app } = await playingReply({}, { createSpeechDetector: () => Promise.reject(new Error('onnxruntime-node is missing')) });
    expect(app.snapshot().voice.state).not.toBe('error');
  });

  it('falls back to the gate when the canceller cannot run, with no local detector over it', async () => {
    let created = 0;
    const { copilot: app } = await playingReply({}, {
      createEchoCanceller: () => {
        throw new Error('fft.js did not load');
      },
      createSpeechDetector: async () => (created += 1, new ManualDetector()),
    });
    expect(app.snapshot().voice.state).not.toBe('error');
    expect(created).toBe(0);
  });
});

describe('the system echo canceller through the copilot', () => {
  const pair = { input: 'pulse:parley_echo_cancel_source', output: 'pulse:parley_echo_cancel_sink' };

  /** A system canceller that hands out `pair` and counts how often it is let go. */
  function systemCanceller() {
    const opened: Array<{ input: string | null; output: string | null }> = [];
    const state = { closed: 0 };
    const open: NonNullable<VoiceDeps['openSystemEchoCanceller']> = async (devices) => {
      opened.push(devices);
      return { ...pair, close: async () => void (state.closed += 1) };
    };
    return { open, opened, state };
  }

  it("records and plays through its devices, sends the mic ungated, and lets them go when voice stops", async () => {
    const system = systemCanceller();
    const detector = new ManualDetector();
    const devices: string[] = [];
    const mic = new ScriptedMic();
    const sink = new RecordingSink();
    const { copilot: app } = voiceCopilot(20, {
      openSystemEchoCanceller: system.open,
      createMic: (device) => (devices.push(`mic ${device}`), mic),
      createSpeaker: (device) => (devices.push(`speaker ${device}`), sink),
      createSpeechDetector: async () => detector,
      createEchoCanceller: () => {
        throw new Error('Parley’s canceller must not run beside the system’s');
      },
    });
    await app.start();
    await app.call(commandChannels.updateSettings, { patch: { echo: 'speakers', turnMode: 'server_vad', echoCancellation: 'system', inputDevice: 'pulse:laptop_mic', outputDevice: 'pulse:laptop_speakers' } });
    await app.call(commandChannels.previewVoice, { voice: 'cedar' });
    await expect.poll(() => sink.writtenMs).toBeGreaterThan(200);
    expect(system.opened.at(-1)).toEqual({ input: 'pulse:laptop_mic', output: 'pulse:laptop_speakers' });
    expect(devices.slice(-2)).toEqual([`speaker ${pair.output}`, `mic ${pair.input}`]);
    // The gate would silence a mic quieter than the reply; the system has taken the echo out already.
    mic.faint(200);
    await expect.poll(() => detector.peak).toBeGreaterThan(0);
    await app.call(commandChannels.stopVoice, {});
    expect(system.state.closed).toBe(system.opened.length);
    expect(detector.closed).toBe(true);
  });

  it("says why when there is none, and Parley's own canceller listens instead", async () => {
    let cancellers = 0;
    const devices: string[] = [];
    const mic = new ScriptedMic();
    const { copilot: app, events } = voiceCopilot(20, {
      openSystemEchoCanceller: async () => ({ unavailable: 'The sound server could not load its echo canceller (Failure: Module initialization failed)' }),
      createMic: (device) => (devices.push(`mic ${device}`), mic),
      createEchoCanceller: () => (cancellers += 1, new SilencingCanceller()),
    });
    await app.start();
    await app.call(commandChannels.updateSettings, { patch: { echo: 'speakers', turnMode: 'server_vad', echoCancellation: 'system' } });
    await app.call(commandChannels.startVoice, {});
    expect(app.snapshot().voice.state).not.toBe('error');
    expect(cancellers).toBe(1);
    expect(devices.at(-1)).toBe('mic null');
    const notice = events.find((event) => event.type === 'notice' && event.problem.message.includes('echo canceller'));
    expect(notice).toMatchObject({ problem: { message: "Parley could not use the system's echo canceller. The sound server could not load its echo canceller (Failure: Module initialization failed). Parley's own canceller is listening instead." } });
  });

  it('lets the devices go when voice cannot start on them', async () => {
    const system = systemCanceller();
    const { copilot: app } = voiceCopilot(20, {
      openSystemEchoCanceller: system.open,
      createSpeaker: () =>
        new (class extends RecordingSink {
          override async open(): Promise<void> {
            throw new Error('The speaker (pulse:parley_echo_cancel_sink) could not be opened.');
          }
        })(),
    });
    await app.start();
    await app.call(commandChannels.updateSettings, { patch: { echo: 'speakers', turnMode: 'server_vad', echoCancellation: 'system' } });
    expect(await app.call(commandChannels.startVoice, {})).toMatchObject({ ok: false });
    expect(system.opened.length).toBe(1);
    expect(system.state.closed).toBe(1);
  });
});

describe('pipeline mode through the copilot', () => {
  it('is chosen in settings: a held-key utterance goes through transcription, the agent and speech', async () => {
    const { copilot: app, mic, sink, waitFor } = voiceCopilot();
    await app.start();
    expect(await app.call(commandChannels.updateSettings, { patch: { turnMode: 'pipeline' } })).toMatchObject({ ok: true });
    await app.call(commandChannels.pressToTalk, {});
    expect(app.snapshot().voice).toMatchObject({ turnMode: 'pipeline', pipelineListen: 'push_to_talk', state: 'listening' });
    mic.speak(900);
    await app.call(commandChannels.releaseToTalk, {});
    const { turn } = await waitFor(finishedVoiceReply);
    expect(turn.text.length).toBeGreaterThan(0);
    await expect.poll(() => sink.writtenMs).toBeGreaterThan(300);
    const user = app.snapshot().turns.find((entry: Turn) => entry.role === 'user');
    expect(user).toMatchObject({ source: 'voice', text: expect.stringMatching(/0\.9 s of speech/) });
    await expect.poll(() => app.snapshot().events.some((event) => event.type === 'voice.timing')).toBe(true);
    const timing = app.snapshot().events.find((event) => event.type === 'voice.timing');
    expect(timing).toMatchObject({ mode: 'pipeline', totalMs: expect.any(Number) });
    // The agent turn behind it is in the inspector like a typed one.
    expect(app.snapshot().events.some((event) => event.type === 'turn.finished' && event.status === 'completed')).toBe(true);
    // Back to realtime: the status says so.
    await app.call(commandChannels.updateSettings, { patch: { turnMode: 'push_to_talk' } });
    expect(app.snapshot().voice.turnMode).toBe('push_to_talk');
    expect(app.snapshot().voice).not.toHaveProperty('pipelineListen');
  });
});

describe('typed text with a voice conversation open', () => {
  it('goes to the voice front, which delegates to the agent and speaks the result', async () => {
    const mic = new ScriptedMic();
    const sink = new RecordingSink();
    copilot = createCopilot({
      ...testDeps({}),
      voice: { createMic: () => mic, createSpeaker: () => sink, scheduler: fastScheduler(50) },
      installTools: (registry) =>
        registry.register({
          name: 'search_notes',
          description: 'Searches the user notes.',
          parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
          risk: 'private',
          source: 'builtin',
          execute: async () => JSON.stringify({ matches: ['TODO: renew passport'] }),
        }),
    });
    const app = copilot;
    app.onEvent((event) => {
      if (event.type === 'permission') void app.call(commandChannels.answerPermission, { requestId: event.request.requestId, decision: 'once' });
    });
    await app.start();
    await app.call(commandChannels.startVoice, {});
    const spoken = new Promise<Turn>((resolve) =>
      app.onEvent((event) => event.type === 'turn.finished' && event.turn.source === 'voice' && event.turn.text.startsWith('Update:') && resolve(event.turn)),
    );
    expect(await app.call(commandChannels.sendMessage, { text: 'find the TODO items in my notes' })).toMatchObject({ ok: true });
    expect((await spoken).text).toContain('renew passport');
    const turns = app.snapshot().turns.map((turn) => `${turn.role}/${turn.source}: ${turn.text.slice(0, 40)}`);
    expect(turns[0]).toBe('user/typed: find the TODO items in my notes');
    expect(turns.some((turn) => turn.startsWith("assistant/voice: I'm on it"))).toBe(true);
    expect(turns.some((turn) => turn.startsWith('user/voice: (for the agent)'))).toBe(true);
    expect(app.snapshot().tools.map((tool) => `${tool.caller}:${tool.name}:${tool.status}`)).toEqual(['voice:delegate_to_agent:succeeded', 'agent:search_notes:succeeded']);
  });
});

describe('a press released while voice is still connecting', () => {
  it('does not leave the microphone listening', async () => {
    const { copilot: app, mic } = voiceCopilot();
    await app.start();
    // The release arrives before the press has finished opening the voice session.
    const pressed = app.call(commandChannels.pressToTalk, {});
    await app.call(commandChannels.releaseToTalk, {});
    await pressed;
    expect(mic.running).toBe(false);
    expect(app.snapshot().voice.state).toBe('idle');
  });
});

describe('a voice the server refuses', () => {
  it('says why in a notice, keeps later settings working, and speaks with it in the next voice conversation', async () => {
    const mic = new ScriptedMic();
    // What the voice server says it holds, read off the wire: its session.updated frames.
    const configured: Array<{ audio: { input: { turn_detection: { type: string } | null }; output: { voice: string } } }> = [];
    copilot = createCopilot({
      ...testDeps({}),
      createWebSocket: (url, options) => {
        const ws = new WebSocket(url, options);
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as { type: string; session?: (typeof configured)[number] };
          if (frame.type === 'session.updated' && frame.session !== undefined) configured.push(frame.session);
        });
        return ws;
      },
      voice: { createMic: () => mic, createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(50) },
    });
    const app = copilot;
    const events: PushEvent[] = [];
    app.onEvent((event) => events.push(event));
    await app.start();
    await app.call(commandChannels.pressToTalk, {});
    mic.speak(600);
    await app.call(commandChannels.releaseToTalk, {});
    await new Promise<void>((resolve) => app.onEvent((event) => finishedVoiceReply(event) && resolve()));
    await expect.poll(() => app.snapshot().events.some((event) => event.type === 'voice.response' && event.phase === 'done')).toBe(true);

    // Parley has spoken: the new voice is saved, refused for this conversation, and the notice says so.
    expect(await app.call(commandChannels.updateSettings, { patch: { voice: 'cedar' } })).toMatchObject({ ok: true });
    const notices = () => events.flatMap((event) => (event.type === 'notice' ? [event.problem.message] : []));
    expect(notices()).toEqual(["The voice can't change after Parley has spoken in this conversation; it applies to the next conversation."]);
    expect(configured.at(-1)?.audio.output.voice).toBe('marin');

    // A later turn-mode change applies, with no second notice about the voice.
    expect(await app.call(commandChannels.updateSettings, { patch: { turnMode: 'server_vad' } })).toMatchObject({ ok: true });
    expect(configured.at(-1)?.audio).toMatchObject({ input: { turn_detection: { type: 'server_vad' } }, output: { voice: 'marin' } });
    expect(notices()).toHaveLength(1);

    // The next voice conversation speaks with the voice that was chosen.
    await app.call(commandChannels.stopVoice, {});
    expect(await app.call(commandChannels.startVoice, {})).toEqual({ ok: true, value: null });
    expect(configured.at(-1)?.audio).toMatchObject({ input: { turn_detection: { type: 'server_vad' } }, output: { voice: 'cedar' } });
    expect(notices()).toHaveLength(1);
  });
});
