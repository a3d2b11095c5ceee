import { noLatency } from '../../../app/emulator/latency';
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels, type PushEvent } from '../../../app/contract';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { nextEvent, recordingLogger, testDeps } from '../../support/copilot';
import { defaultSettings } from '../../../app/settings/schema';

let copilot: Copilot | null = null;
let server: Emulator | null = null;
afterEach(async () => {
  await copilot?.close();
  await server?.close();
  copilot = server = null;
});

const finished = (event: PushEvent): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished';

describe('createCopilot', () => {
  it('runs offline on the embedded emulator when no key is set and streams a typed message back', async () => {
    copilot = createCopilot(testDeps({}));
    const events: PushEvent[] = [];
    copilot.onEvent((event) => events.push(event));
    await copilot.start();
    expect(copilot.snapshot().connection).toMatchObject({ status: 'open', mode: 'offline-emulator' });

    const done = nextEvent(copilot.onEvent, finished);
    const result = await copilot.call(commandChannels.sendMessage, { text: 'hello' });
    expect(result.ok).toBe(true);
    const { turn } = await done;
    expect(turn).toMatchObject({ role: 'assistant', status: 'completed' });
    expect(turn.text).toMatch(/^Hello!/);

    const streamed = events.filter((event) => event.type === 'turn.delta').map((event) => (event as { delta: string }).delta);
    expect(streamed.join('')).toBe(turn.text);
    expect(copilot.snapshot().turns.map((entry) => [entry.role, entry.status])).toEqual([
      ['user', 'completed'],
      ['assistant', 'completed'],
    ]);
    // Short instructions and no tools: nothing worth a warmup, so the first turn sends the context.
    expect(copilot.snapshot().inspector).toMatchObject({ responsesSent: 1, warmups: 0, lastTurn: { chained: false, requests: 1 } });
  });

  it('refuses malformed payloads and unknown commands with clear problems, and keeps running', async () => {
    copilot = createCopilot(testDeps({}));
    await copilot.start();
    expect(await copilot.call(commandChannels.sendMessage, { text: '   ' })).toEqual({
      ok: false,
      problem: { code: 'invalid_payload', message: 'Type a message before sending.', hint: expect.any(String) },
    });
    expect(await copilot.call(commandChannels.sendMessage, { text: 42 })).toMatchObject({ ok: false, problem: { code: 'invalid_payload' } });
    expect(await copilot.call(commandChannels.sendMessage, { text: 'hi', extra: true })).toMatchObject({ ok: false, problem: { code: 'invalid_payload' } });
    expect(await copilot.call(commandChannels.sendMessage, { text: 'x'.repeat(40_000) })).toMatchObject({
      ok: false,
      problem: { message: expect.stringContaining('limited to 32000 characters') },
    });
    expect(await copilot.call('copilot:format-disk', {})).toMatchObject({
      ok: false,
      problem: { code: 'unknown_command', message: expect.stringContaining('copilot:format-disk') },
    });
    expect(copilot.snapshot().turns).toEqual([]);
    expect(await copilot.call(commandChannels.getSnapshot, undefined)).toMatchObject({ ok: true });
  });

  it('reports a bad OPENAI_BASE_URL in the connection state and on send, and keeps running', async () => {
    copilot = createCopilot(testDeps({ OPENAI_API_KEY: 'sk-live', OPENAI_BASE_URL: 'api.openai.com' }));
    await copilot.start();
    expect(copilot.snapshot().connection).toMatchObject({ status: 'error', problem: { code: 'invalid_base_url' } });
    expect(await copilot.call(commandChannels.sendMessage, { text: 'hello' })).toMatchObject({
      ok: false,
      problem: { code: 'invalid_base_url', message: expect.stringContaining('api.openai.com') },
    });
  });

  it('goes online with OPENAI_API_KEY and OPENAI_BASE_URL, explains a revoked key, and never logs it', async () => {
    server = await startEmulator({ latency: noLatency, revokedKeys: ['sk-revoked-0123456789abcdef'] });
    const log = recordingLogger();
    copilot = createCopilot(testDeps({ OPENAI_API_KEY: 'sk-revoked-0123456789abcdef', OPENAI_BASE_URL: server.baseUrl }, log));
    const notices: PushEvent[] = [];
    copilot.onEvent((event) => event.type === 'notice' && notices.push(event));
    await copilot.start();
    expect(copilot.snapshot().connection).toMatchObject({ status: 'error', mode: 'online', problem: { code: 'unauthorized' } });
    expect(notices).toHaveLength(1);

    const done = nextEvent(copilot.onEvent, finished);
    await copilot.call(commandChannels.sendMessage, { text: 'hello' });
    expect((await done).turn).toMatchObject({ status: 'failed', problem: { code: 'unauthorized', message: expect.stringContaining('HTTP 401') } });
    expect(log.lines.join('\n')).not.toContain('0123456789abcdef');
  });

  it('chains the second turn and starts afresh after New conversation', async () => {
    server = await startEmulator({ latency: noLatency });
    copilot = createCopilot(testDeps({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseUrl }));
    await copilot.start();
    expect(copilot.snapshot().connection).toMatchObject({ status: 'open', mode: 'online' });
    for (const text of ['hello', 'second']) {
      const done = nextEvent(copilot.onEvent, finished);
      await copilot.call(commandChannels.sendMessage, { text });
      await done;
    }
    expect(copilot.snapshot().inspector.lastTurn).toMatchObject({ chained: true, inputItemsSent: 1 });
    expect(await copilot.call(commandChannels.newConversation, {})).toEqual({ ok: true, value: null });
    expect(copilot.snapshot().turns).toEqual([]);
    const done = nextEvent(copilot.onEvent, finished);
    await copilot.call(commandChannels.sendMessage, { text: 'hello' });
    expect((await done).turn.text).toContain('your first message');
  });
});

describe('configure', () => {
  it('applies agent settings live and reconnects when the endpoint changes', async () => {
    server = await startEmulator({ latency: noLatency });
    const second = await startEmulator({ latency: noLatency });
    try {
      const saved = { ...defaultSettings, baseUrl: server.baseUrl };
      copilot = createCopilot({ ...testDeps({ OPENAI_API_KEY: 'sk-env' }), settingsStore: { load: async () => ({ settings: saved, problems: [], migratedFrom: null }), save: async () => undefined } });
      await copilot.start();
      await copilot.configure({ settings: { ...defaultSettings, baseUrl: server.baseUrl, agentModel: 'gpt-5' } });
      let done = nextEvent(copilot.onEvent, finished);
      await copilot.call(commandChannels.sendMessage, { text: 'hello' });
      await done;
      expect(server.requests.at(-1)?.model).toBe('gpt-5');

      await copilot.configure({ settings: { ...defaultSettings, baseUrl: second.baseUrl }, apiKey: 'sk-stored' });
      expect(copilot.snapshot().connection).toMatchObject({ status: 'open', endpoint: expect.stringContaining(String(second.port)) });
      done = nextEvent(copilot.onEvent, finished);
      await copilot.call(commandChannels.sendMessage, { text: 'hello again' });
      await done;
      expect(second.requests).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe('a model the key cannot use', () => {
  it('names the model and the one to try instead, rather than the raw error', async () => {
    copilot = createCopilot(testDeps({}));
    await copilot.start();
    // A retired model, as a settings file from last year would still name it.
    await copilot.configure({ settings: { ...defaultSettings, agentModel: 'gpt-4-32k' } });
    const done = nextEvent(copilot.onEvent, finished);
    await copilot.call(commandChannels.sendMessage, { text: 'hello' });
    const { turn } = await done;
    expect(turn.status).toBe('failed');
    expect(turn.problem).toMatchObject({ code: 'model_unavailable', message: expect.stringMatching(/^The model gpt-4-32k is not available to your key.*Try gpt-/) });
    expect(turn.problem?.hint).toContain('Settings');
  });
});

describe('Cancel while the server has gone quiet', () => {
  it('frees the agent at once: the turn ends, New conversation works, the next message is answered', async () => {
    server = await startEmulator({ latency: noLatency });
    const emulator = server;
    copilot = createCopilot({ ...testDeps({}), startEmulator: async () => emulator });
    await copilot.start();
    emulator.inject({ kind: 'stall' });
    const cancelled = nextEvent(copilot.onEvent, finished);
    await copilot.call(commandChannels.sendMessage, { text: 'hello' });
    await expect.poll(() => emulator.requests.length).toBe(1);
    expect(await copilot.call(commandChannels.cancelAgent, undefined)).toEqual({ ok: true, value: null });
    expect((await cancelled).turn).toMatchObject({ status: 'failed', problem: { message: expect.stringContaining('Cancelled') } });
    expect(await copilot.call(commandChannels.newConversation, undefined)).toEqual({ ok: true, value: null });
    const answered = nextEvent(copilot.onEvent, finished);
    await copilot.call(commandChannels.sendMessage, { text: 'are you there?' });
    expect((await answered).turn).toMatchObject({ status: 'completed', text: expect.stringContaining('This is your first message') });
  });
});

describe('a reply that stops arriving', () => {
  it('is retried visibly: a notice says so, the inspector marks it, and the reply comes', async () => {
    server = await startEmulator({ latency: noLatency });
    const emulator = server;
    copilot = createCopilot({ ...testDeps({}), startEmulator: async () => emulator, agentStallTimeoutMs: 300 });
    const notices: string[] = [];
    copilot.onEvent((event) => event.type === 'notice' && notices.push(event.problem.message));
    await copilot.start();
    emulator.inject({ kind: 'stall' });
    const done = nextEvent(copilot.onEvent, finished);
    await copilot.call(commandChannels.sendMessage, { text: 'hello' });
    expect((await done).turn).toMatchObject({ status: 'completed', text: expect.stringContaining('Hello!') });
    expect(notices).toContain('No reply for 1 s: sending your message again on a new connection.');
    expect(copilot.snapshot().events.filter((event) => event.type === 'stalled')).toEqual([expect.objectContaining({ socket: 'agent', silentMs: 300, retrying: true })]);
  });
});
