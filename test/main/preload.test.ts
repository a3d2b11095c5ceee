import { describe, expect, it, vi } from 'vitest';
import { commandChannels, pushChannel, type CopilotBridge, type PushEvent } from '../../app/contract';

import type * as FakeElectron from '../support/fakeElectron';

type Fake = typeof FakeElectron;

describe('the preload', () => {
  it('exposes window.copilot as named functions on copilot: channels, never ipcRenderer', async () => {
    vi.resetModules();
    const electron = (await import('electron')) as unknown as Fake;
    electron.resetFakeElectron();
    await import('../../main/preload');
    const bridge = electron.contextBridge.exposed.get('copilot') as CopilotBridge;
    expect([...electron.contextBridge.exposed.keys()]).toEqual(['copilot']);
    expect(Object.keys(bridge).sort()).toEqual(['answerPermission', 'askAboutScreen', 'askMeeting', 'cancelAgent', 'captureScreen', 'clearApiKey', 'currentConversation', 'deleteConversation', 'editLastMessage', 'exportConversation', 'exportMeeting', 'getMeeting', 'getSettings', 'getSnapshot', 'listConversations', 'listDevices', 'listScreenSources', 'newConversation', 'onEvent', 'openConversation', 'openLink', 'pressToTalk', 'previewVoice', 'regenerateReply', 'releaseToTalk', 'renameConversation', 'searchConversations', 'sendMessage', 'setApiKey', 'setCompact', 'setMuted', 'startMeeting', 'startVoice', 'stopMeeting', 'stopSpeaking', 'stopVoice', 'updateMeetingNotes', 'updateSettings']);
    expect(Object.values(bridge).every((value) => typeof value === 'function')).toBe(true);

    await bridge.sendMessage({ text: 'hi' });
    await bridge.getSnapshot();
    expect(electron.ipcRenderer.invoked).toEqual([
      { channel: commandChannels.sendMessage, args: [{ text: 'hi' }] },
      { channel: commandChannels.getSnapshot, args: [] },
    ]);

    const received: PushEvent[] = [];
    const stop = bridge.onEvent((event) => received.push(event));
    electron.ipcRenderer.emit(pushChannel, { sender: 'hidden' }, { type: 'conversation.reset' });
    stop();
    electron.ipcRenderer.emit(pushChannel, {}, { type: 'conversation.reset' });
    // The listener gets the payload only, never the IPC event (which would leak the sender).
    expect(received).toEqual([{ type: 'conversation.reset' }]);
  });
});
