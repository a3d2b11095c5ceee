import { afterEach, describe, expect, it } from 'vitest';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { commandChannels, pushChannel } from '../../app/contract';
import { createCopilot, type Copilot } from '../../app/host/copilot';
import { forwardEvents, registerIpc } from '../../main/ipc';
import { FakeWebContents, ipcMain } from '../support/fakeElectron';
import { recordingLogger, testDeps } from '../support/copilot';

let copilot: Copilot;
let unregister: () => void = () => undefined;
afterEach(async () => {
  unregister();
  await copilot.close();
});

async function setUp(trusted: boolean): Promise<ReturnType<typeof recordingLogger>> {
  const log = recordingLogger();
  copilot = createCopilot(testDeps({}, log));
  await copilot.start();
  unregister = registerIpc({ ipcMain, copilot, log, isTrustedSender: () => trusted });
  return log;
}

const invoke = (channel: string, payload: unknown) => {
  const handler = ipcMain.handlers.get(channel);
  if (handler === undefined) throw new Error(`no handler for ${channel}`);
  return handler({ senderFrame: { url: 'https://evil.example/' } } as unknown as IpcMainInvokeEvent, payload);
};

describe('registerIpc', () => {
  it('registers exactly the contract channels, all prefixed copilot:', async () => {
    await setUp(true);
    expect([...ipcMain.handlers.keys()].sort()).toEqual(Object.values(commandChannels).sort());
    expect([...ipcMain.handlers.keys()].every((channel) => channel.startsWith('copilot:'))).toBe(true);
  });

  it('refuses calls from an untrusted sender before looking at the payload', async () => {
    const log = await setUp(false);
    expect(await invoke(commandChannels.sendMessage, { text: 'hello' })).toMatchObject({ ok: false, problem: { code: 'forbidden_sender' } });
    expect(copilot.snapshot().turns).toEqual([]);
    expect(log.lines.some((line) => line.includes('untrusted sender') && line.includes('evil.example'))).toBe(true);
  });

  it('schema-checks payloads from a trusted sender', async () => {
    await setUp(true);
    expect(await invoke(commandChannels.sendMessage, 'hello')).toMatchObject({ ok: false, problem: { code: 'invalid_payload' } });
    expect(await invoke(commandChannels.sendMessage, { text: 'hello' })).toMatchObject({ ok: true });
  });
});

describe('forwardEvents', () => {
  it('pushes events to the window until it is destroyed', async () => {
    await setUp(true);
    const contents = new FakeWebContents();
    forwardEvents(copilot, contents as unknown as WebContents);
    await copilot.call(commandChannels.newConversation, {});
    expect(contents.sent.map((sent) => sent.channel)).toContain(pushChannel);
    const count = contents.sent.length;
    contents.emit('destroyed');
    await copilot.call(commandChannels.newConversation, {});
    expect(contents.sent).toHaveLength(count);
  });
});
