/**
 * "Ask about my screen" in the composition root, against the emulator on loopback: capturing asks
 * first with the tools' permission prompt (and its stored "always", revoked like a tool's), the
 * desktop port's picture comes back, the question reaches the agent with its image as an
 * `input_image` part (or the voice conversation, when the voice is on and its model takes
 * images), and saved history holds the picture only when the user kept it.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandChannels, screenPermission, type PushEvent, type Turn } from '../../../app/contract';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { createCopilot, type Copilot, type CopilotDeps } from '../../../app/host/copilot';
import { screenshotNotKept } from '../../../app/host/screen';
import { encodePng } from '../../../main/png';
import { fastScheduler, frameRecorder, RecordingSink, ScriptedMic } from '../../../app/testing';
import { nextEvent, testDeps } from '../../support/copilot';

let dir: string;
let copilot: Copilot | null = null;
let server: Emulator | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-screen-'));
});
afterEach(async () => {
  await copilot?.close();
  await server?.close();
  copilot = server = null;
  rmSync(dir, { recursive: true, force: true });
});

const shot = `data:image/png;base64,${encodePng(8, 6, new Uint8Array(8 * 6 * 4).fill(90)).toString('base64')}`;

async function online(overrides: Partial<CopilotDeps> = {}): Promise<Copilot> {
  server = await startEmulator({ latency: noLatency });
  copilot = createCopilot({ ...testDeps({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseUrl }), openHistory: () => new Database(join(dir, 'history.sqlite')), ...overrides });
  await copilot.start();
  return copilot;
}

const asked = (event: PushEvent): event is Extract<PushEvent, { type: 'permission' }> => event.type === 'permission';
const finished = (event: PushEvent): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.role === 'assistant';

async function capture(running: Copilot, answer: 'once' | 'always' | 'deny' | null): Promise<unknown> {
  const prompt = nextEvent(running.onEvent, asked);
  const result = running.call(commandChannels.captureScreen, undefined);
  if (answer !== null) {
    const { request } = await prompt;
    expect(request).toMatchObject({ name: screenPermission, risk: 'private' });
    expect(await running.call(commandChannels.answerPermission, { requestId: request.requestId, decision: answer })).toEqual({ ok: true, value: null });
  }
  return result;
}

async function ask(running: Copilot, keep: boolean): Promise<Turn> {
  const done = nextEvent(running.onEvent, finished);
  expect(await running.call(commandChannels.askAboutScreen, { text: 'What is this window?', image: shot, keep })).toMatchObject({ ok: true });
  return (await done).turn;
}

function savedLedger(): string {
  const reader = new Database(join(dir, 'history.sqlite'), { readonly: true });
  const rows = reader.prepare('SELECT * FROM ledger').all();
  reader.close();
  return JSON.stringify(rows);
}

describe('screen capture permission', () => {
  it('asks first; deny refuses in words, allow once asks again next time, always stops asking until revoked', async () => {
    const running = await online({ captureScreen: async () => shot });
    expect(await capture(running, 'deny')).toMatchObject({ ok: false, problem: { message: 'Screen capture is not allowed.' } });
    expect(await capture(running, 'once')).toEqual({ ok: true, value: { image: shot } });
    expect(await capture(running, 'always')).toEqual({ ok: true, value: { image: shot } });
    expect(await capture(running, null)).toEqual({ ok: true, value: { image: shot } });
    const snapshot = (await running.call(commandChannels.getSnapshot, undefined)) as { value: { toolCatalog: { name: string }[] } };
    expect(snapshot.value.toolCatalog.map((tool) => tool.name)).toContain(screenPermission);

    // Revoked the way Settings revokes a tool: the permission goes back to "ask".
    await running.call(commandChannels.updateSettings, { patch: { toolPermissions: { [screenPermission]: 'ask' } } });
    expect(await capture(running, 'deny')).toMatchObject({ ok: false });
  });

  it('in browser mode (no capture port) says the page may capture, once allowed', async () => {
    const running = await online();
    expect(await capture(running, 'once')).toEqual({ ok: true, value: { image: null } });
  });

  it('says why when the desktop capture fails', async () => {
    const running = await online({
      captureScreen: async () => {
        throw new Error('no screen sources');
      },
    });
    expect(await capture(running, 'once')).toMatchObject({ ok: false, problem: { message: 'The screen could not be captured: no screen sources' } });
  });
});

describe('picking a screen or window', () => {
  const offered = [
    { id: 'screen:1:0', name: 'Entire screen', kind: 'screen' as const, thumbnail: shot },
    { id: 'window:7:0', name: 'Budget.xlsx', kind: 'window' as const, thumbnail: shot },
  ];

  async function list(running: Copilot, answer: 'once' | 'deny'): Promise<unknown> {
    const prompt = nextEvent(running.onEvent, asked);
    const result = running.call(commandChannels.listScreenSources, undefined);
    const { request } = await prompt;
    expect(request).toMatchObject({ name: screenPermission, risk: 'private' });
    await running.call(commandChannels.answerPermission, { requestId: request.requestId, decision: answer });
    return result;
  }

  it('asks once, lists the sources, and captures the one picked without asking again', async () => {
    const captured: Array<string | undefined> = [];
    const running = await online({ listScreens: async () => offered, captureScreen: async (id) => (captured.push(id), shot) });
    expect(await list(running, 'once')).toEqual({ ok: true, value: { sources: offered } });
    expect(await running.call(commandChannels.captureScreen, { sourceId: 'window:7:0' })).toEqual({ ok: true, value: { image: shot } });
    expect(captured).toEqual(['window:7:0']);
  });

  it('captures nothing that the last allowed listing did not offer, and each pick only once', async () => {
    const captured: Array<string | undefined> = [];
    const running = await online({ listScreens: async () => offered, captureScreen: async (id) => (captured.push(id), shot) });
    expect(await running.call(commandChannels.captureScreen, { sourceId: 'window:7:0' })).toMatchObject({ ok: false, problem: { message: 'That screen or window was not offered to pick.' } });
    expect(await list(running, 'deny')).toMatchObject({ ok: false, problem: { message: 'Screen capture is not allowed.' } });
    expect(await running.call(commandChannels.captureScreen, { sourceId: 'window:7:0' })).toMatchObject({ ok: false });
    await list(running, 'once');
    expect(await running.call(commandChannels.captureScreen, { sourceId: 'window:99:0' })).toMatchObject({ ok: false, problem: { message: 'That screen or window was not offered to pick.' } });
    expect(await running.call(commandChannels.captureScreen, { sourceId: 'screen:1:0' })).toMatchObject({ ok: true });
    expect(await running.call(commandChannels.captureScreen, { sourceId: 'screen:1:0' })).toMatchObject({ ok: false });
    expect(captured).toEqual(['screen:1:0']);
  });

  it('in browser mode (no lister) the listing says the page chooses, once allowed', async () => {
    const running = await online();
    expect(await list(running, 'once')).toEqual({ ok: true, value: { sources: null } });
  });

  it('says why when listing fails', async () => {
    const running = await online({ listScreens: async () => Promise.reject(new Error('no portal')), captureScreen: async () => shot });
    expect(await list(running, 'once')).toMatchObject({ ok: false, problem: { message: 'The screen could not be listed: no portal' } });
  });
});

describe('asking about a screenshot', () => {
  it('sends the question with the picture as an input_image part, and the transcript shows the question only', async () => {
    const running = await online();
    const reply = await ask(running, false);
    expect(reply.text).toContain('I received a 8×6 PNG image with your question "What is this window?"');
    const input = server?.requests.at(-1)?.input as Array<{ role?: string; content?: unknown }>;
    expect(input.at(-1)).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this window?' }, { type: 'input_image', image_url: shot, detail: 'auto' }] });
    const snapshot = (await running.call(commandChannels.getSnapshot, undefined)) as { value: { turns: Turn[] } };
    expect(snapshot.value.turns.map((turn) => turn.text)[0]).toBe('(with a screenshot) What is this window?');
  });

  it('leaves a screenshot out of saved history unless it is kept', async () => {
    const running = await online();
    await ask(running, false);
    expect(savedLedger()).not.toContain('data:image');
    expect(savedLedger()).toContain(screenshotNotKept);
    await ask(running, true);
    expect(savedLedger()).toContain(shot);
  });

  it('refuses what is not a PNG or JPEG data URL, in words', async () => {
    const running = await online();
    expect(await running.call(commandChannels.askAboutScreen, { text: 'what?', image: 'https://example.com/a.png', keep: false })).toMatchObject({ ok: false, problem: { message: expect.stringContaining('PNG or JPEG data URL') } });
  });

  it('with the voice on and a model that takes images, sends the picture into the voice conversation, which answers about it', async () => {
    const wire = frameRecorder();
    const running = await online({ createWebSocket: wire.createWebSocket, voice: { createMic: () => new ScriptedMic(), createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(20) } });
    expect(await running.call(commandChannels.startVoice, undefined)).toEqual({ ok: true, value: null });
    const reply = nextEvent(running.onEvent, finished);
    expect(await running.call(commandChannels.askAboutScreen, { text: 'What is this window?', image: shot, keep: false })).toMatchObject({ ok: true });
    // The emulator's realtime model describes the picture it was given (it cannot see it).
    const { turn } = await reply;
    expect(turn.source).toBe('voice');
    expect(turn.text).toContain('I received a 8×6 PNG image with your question "What is this window?"');
    const created = wire.frames.filter((entry) => entry.protocol === 'realtime' && entry.direction === 'client' && entry.frame.type === 'conversation.item.create');
    expect(created.map((entry) => entry.frame.item)).toContainEqual(
      expect.objectContaining({
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this window?' },
          { type: 'input_image', image_url: shot, detail: 'auto' },
        ],
      }),
    );
    // Not also an agent turn.
    expect(JSON.stringify(server?.requests)).not.toContain('data:image');
  });
});
