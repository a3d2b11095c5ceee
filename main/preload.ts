/**
 * The sandboxed preload: exposes `window.copilot` as a list of named functions, one per command in
 * the contract's table. It never hands the page `ipcRenderer` itself, and imports only the channel
 * table (no Node, no zod: a sandboxed preload can `require` nothing but electron).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { commandFunctions, pushChannel } from '../app/contract/channels';
import type { CopilotBridge, PushEvent } from '../app/contract';

const bridge: CopilotBridge = {
  ...commandFunctions((channel, ...request) => ipcRenderer.invoke(channel, ...request)),
  onEvent(listener) {
    const handler = (_event: IpcRendererEvent, pushed: PushEvent): void => listener(pushed);
    ipcRenderer.on(pushChannel, handler);
    return () => {
      ipcRenderer.removeListener(pushChannel, handler);
    };
  },
};

contextBridge.exposeInMainWorld('copilot', bridge);
