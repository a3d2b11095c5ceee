/**
 * The sandboxed preload: exposes `window.copilot` as a list of named functions. It never hands the
 * page `ipcRenderer` itself, and imports only the channel table (no Node, no zod).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { commandChannels, pushChannel } from '../app/contract/channels';
import type { CopilotBridge, PushEvent } from '../app/contract';

const bridge: CopilotBridge = {
  sendMessage: (request) => ipcRenderer.invoke(commandChannels.sendMessage, request),
  getSnapshot: () => ipcRenderer.invoke(commandChannels.getSnapshot),
  newConversation: () => ipcRenderer.invoke(commandChannels.newConversation),
  startVoice: () => ipcRenderer.invoke(commandChannels.startVoice),
  stopVoice: () => ipcRenderer.invoke(commandChannels.stopVoice),
  pressToTalk: () => ipcRenderer.invoke(commandChannels.pressToTalk),
  releaseToTalk: () => ipcRenderer.invoke(commandChannels.releaseToTalk),
  stopSpeaking: () => ipcRenderer.invoke(commandChannels.stopSpeaking),
  setMuted: (request) => ipcRenderer.invoke(commandChannels.setMuted, request),
  previewVoice: (request) => ipcRenderer.invoke(commandChannels.previewVoice, request),
  getSettings: () => ipcRenderer.invoke(commandChannels.getSettings),
  updateSettings: (request) => ipcRenderer.invoke(commandChannels.updateSettings, request),
  setApiKey: (request) => ipcRenderer.invoke(commandChannels.setApiKey, request),
  clearApiKey: () => ipcRenderer.invoke(commandChannels.clearApiKey),
  listDevices: () => ipcRenderer.invoke(commandChannels.listDevices),
  answerPermission: (request) => ipcRenderer.invoke(commandChannels.answerPermission, request),
  cancelAgent: () => ipcRenderer.invoke(commandChannels.cancelAgent),
  onEvent(listener) {
    const handler = (_event: IpcRendererEvent, pushed: PushEvent): void => listener(pushed);
    ipcRenderer.on(pushChannel, handler);
    return () => {
      ipcRenderer.removeListener(pushChannel, handler);
    };
  },
};

contextBridge.exposeInMainWorld('copilot', bridge);
