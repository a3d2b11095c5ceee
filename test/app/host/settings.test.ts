/** Settings and the API key through the composition root's commands. */
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels, type KeyStatus, type PushEvent } from '../../../app/contract';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { defaultSettings, type Settings } from '../../../app/settings/schema';
import type { KeyStore } from '../../../app/settings/store';
import { recordingLogger, testDeps } from '../../support/copilot';

let copilot: Copilot | null = null;
let server: Emulator | null = null;
afterEach(async () => {
  await copilot?.close();
  await server?.close();
  copilot = server = null;
});

/** Records saves; the real file store is tested in test/main. */
function memoryStore(initial: Partial<Settings> = {}, problems: string[] = []) {
  const saved: Settings[] = [];
  return { saved, store: { load: async () => ({ settings: { ...defaultSettings, ...initial }, problems, migratedFrom: null }), save: async (settings: Settings) => void saved.push(settings) } };
}

function memoryKeys(): KeyStore & { key: string | null } {
  const store = {
    key: null as string | null,
    status: (): KeyStatus => ({ set: store.key !== null, lastFour: store.key?.slice(-4) ?? null, storage: 'keychain', note: null }),
    read: () => store.key,
    write: async (key: string) => ((store.key = key), store.status()),
    clear: async () => ((store.key = null), store.status()),
  };
  return store;
}

describe('settings commands', () => {
  it('reports load problems as notices and in the settings view', async () => {
    const { store } = memoryStore({}, ['"voice" was invalid (Invalid option); the default is in use.']);
    const notices: PushEvent[] = [];
    copilot = createCopilot({ ...testDeps({}), settingsStore: store });
    copilot.onEvent((event) => event.type === 'notice' && notices.push(event));
    await copilot.start();
    expect(notices).toHaveLength(1);
    expect(await copilot.call(commandChannels.getSettings, undefined)).toMatchObject({ ok: true, value: { problems: [expect.stringContaining('"voice"')], key: { set: false } } });
  });

  it('saves a valid patch and refuses an invalid one without changing anything', async () => {
    const { store, saved } = memoryStore();
    copilot = createCopilot({ ...testDeps({}), settingsStore: store });
    await copilot.start();
    const ok = await copilot.call(commandChannels.updateSettings, { patch: { voice: 'cedar', vad: { threshold: 0.7, prefixPaddingMs: 200, silenceDurationMs: 600 } } });
    expect(ok).toMatchObject({ ok: true, value: { settings: { voice: 'cedar' } } });
    expect(saved.at(-1)).toMatchObject({ voice: 'cedar', vad: { threshold: 0.7 } });
    const bad = await copilot.call(commandChannels.updateSettings, { patch: { voice: 'robot', rolloverMinutes: 0 } });
    expect(bad).toMatchObject({
      ok: false,
      problem: {
        code: 'invalid_payload',
        fields: { voice: 'The voice must be one of: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar.', rolloverMinutes: 'The rollover time (minutes) must be at least 1.' },
      },
    });
    expect(saved).toHaveLength(1);
    expect(await copilot.call(commandChannels.updateSettings, { patch: 'voice=cedar' })).toMatchObject({ ok: false, problem: { code: 'invalid_payload' } });
  });

  it('refuses a workspace folder that does not exist, naming it, and asks the shell only about new folders', async () => {
    const { store, saved } = memoryStore({ workspaceFolders: ['/home/me/gone'] });
    const asked: string[] = [];
    const folderExists = async (path: string) => (asked.push(path), path === '/home/me/projects');
    copilot = createCopilot({ ...testDeps({}), settingsStore: store, folderExists });
    await copilot.start();
    const missing = await copilot.call(commandChannels.updateSettings, { patch: { workspaceFolders: ['/home/me/gone', '/home/me/typo'] } });
    expect(missing).toMatchObject({ ok: false, problem: { fields: { workspaceFolders: 'The folder “/home/me/typo” does not exist (or is not a folder).' } } });
    expect(saved).toHaveLength(0);
    expect(await copilot.call(commandChannels.updateSettings, { patch: { workspaceFolders: ['/home/me/gone', '/home/me/projects'] } })).toMatchObject({ ok: true });
    expect(saved.at(-1)?.workspaceFolders).toEqual(['/home/me/gone', '/home/me/projects']);
    expect(asked).toEqual(['/home/me/typo', '/home/me/projects']);
  });

  it('keeps both of two changes saved in quick succession', async () => {
    const { store, saved } = memoryStore();
    copilot = createCopilot({ ...testDeps({}), settingsStore: store });
    await copilot.start();
    // The second starts before the first has been saved and applied.
    await Promise.all([copilot.call(commandChannels.updateSettings, { patch: { voice: 'cedar' } }), copilot.call(commandChannels.updateSettings, { patch: { rolloverMinutes: 30 } })]);
    expect(saved.at(-1)).toMatchObject({ voice: 'cedar', rolloverMinutes: 30 });
    expect(await copilot.call(commandChannels.getSettings, undefined)).toMatchObject({ ok: true, value: { settings: { voice: 'cedar', rolloverMinutes: 30 } } });
  });

  it('stores a key, goes online with it, and never hands it back to the window', async () => {
    server = await startEmulator({ latency: noLatency });
    const keys = memoryKeys();
    const log = recordingLogger();
    const { store } = memoryStore({ baseUrl: server.baseUrl });
    copilot = createCopilot({ ...testDeps({}, log), settingsStore: store, keyStore: keys });
    await copilot.start();
    expect(copilot.snapshot().connection).toMatchObject({ mode: 'offline-emulator' });
    const key = 'sk-proj-0123456789abcdefghijWXYZ';
    const result = await copilot.call(commandChannels.setApiKey, { key });
    expect(result).toEqual({ ok: true, value: { set: true, lastFour: 'WXYZ', storage: 'keychain', note: null } });
    expect(copilot.snapshot().connection).toMatchObject({ status: 'open', mode: 'online' });
    expect(JSON.stringify(await copilot.call(commandChannels.getSettings, undefined))).not.toContain('0123456789abcdefghij');
    expect(JSON.stringify(copilot.snapshot())).not.toContain('0123456789abcdefghij');
    expect(log.lines.join('\n')).not.toContain('0123456789abcdefghij');
    expect(await copilot.call(commandChannels.setApiKey, { key: 'short' })).toMatchObject({ ok: false, problem: { message: expect.stringContaining('too short') } });
    expect(await copilot.call(commandChannels.clearApiKey, undefined)).toMatchObject({ ok: true, value: { set: false } });
    expect(copilot.snapshot().connection).toMatchObject({ mode: 'offline-emulator' });
  });

  it('checks a key with the service before keeping it: a revoked key is refused in a sentence and not stored', async () => {
    const revokedKey = 'sk-proj-revoked0123456789abcdQRST';
    server = await startEmulator({ latency: noLatency, revokedKeys: [revokedKey] });
    const keys = memoryKeys();
    const { store } = memoryStore({ baseUrl: server.baseUrl });
    copilot = createCopilot({ ...testDeps({}), settingsStore: store, keyStore: keys });
    await copilot.start();
    const refused = await copilot.call(commandChannels.setApiKey, { key: revokedKey });
    expect(refused).toEqual({
      ok: false,
      problem: {
        code: 'unauthorized',
        message: `${new URL(server.baseUrl).host} does not accept this key: it is wrong or has been revoked. It was not saved.`,
        hint: 'Copy the key again from platform.openai.com/api-keys and paste the whole of it, or continue offline.',
      },
    });
    expect(JSON.stringify(refused)).not.toContain('revoked0123456789');
    expect(keys.key).toBeNull();
    expect(copilot.snapshot().connection).toMatchObject({ mode: 'offline-emulator' });
    // A key the service accepts is kept, and Parley goes online with it.
    expect(await copilot.call(commandChannels.setApiKey, { key: 'sk-proj-good0123456789abcdefLMNO' })).toMatchObject({ ok: true, value: { set: true, lastFour: 'LMNO' } });
    expect(keys.key).toBe('sk-proj-good0123456789abcdefLMNO');
  });

  it('does not keep a key it could not check, and says where it could not reach', async () => {
    server = await startEmulator({ latency: noLatency });
    const baseUrl = server.baseUrl;
    await server.close();
    server = null;
    const keys = memoryKeys();
    const { store } = memoryStore({ baseUrl });
    copilot = createCopilot({ ...testDeps({}), settingsStore: store, keyStore: keys });
    await copilot.start();
    const result = await copilot.call(commandChannels.setApiKey, { key: 'sk-proj-0123456789abcdefghijWXYZ' });
    expect(result).toMatchObject({ ok: false, problem: { code: 'connection_failed', message: `Parley could not reach ${new URL(baseUrl).host} to check the key (ECONNREFUSED), so it was not saved.` } });
    expect(keys.key).toBeNull();
  });

  it('explains where a key cannot be stored and where devices cannot be listed', async () => {
    copilot = createCopilot(testDeps({}));
    await copilot.start();
    expect(await copilot.call(commandChannels.setApiKey, { key: 'sk-proj-0123456789abcdefghijWXYZ' })).toMatchObject({ ok: false, problem: { message: expect.stringContaining('cannot store an API key') } });
    expect(await copilot.call(commandChannels.listDevices, undefined)).toMatchObject({ ok: false });
  });
});
