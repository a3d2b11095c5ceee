/**
 * Electron IPC: one handler per command channel, each checking that the call comes from our own
 * window's main frame before the composition root schema-checks the payload.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { commandChannels, pushChannel, type CommandResult, type PushEvent } from '../app/contract';
import type { Copilot, Logger } from '../app/host/copilot';

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  copilot: Copilot;
  log: Logger;
  /** True for the window Parley created and its own page; everything else is refused. */
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
}

export function registerIpc({ ipcMain, copilot, log, isTrustedSender }: IpcOptions): () => void {
  const channels = Object.values(commandChannels);
  for (const channel of channels) {
    ipcMain.handle(channel, async (event, payload: unknown): Promise<CommandResult<unknown>> => {
      if (!isTrustedSender(event)) {
        log.warn('refused IPC from an untrusted sender', { channel, url: event.senderFrame?.url ?? null });
        return { ok: false, problem: { code: 'forbidden_sender', message: 'This window may not talk to Parley.', hint: 'Use the Parley window.' } };
      }
      return copilot.call(channel, payload);
    });
  }
  return () => channels.forEach((channel) => ipcMain.removeHandler(channel));
}

/** Forwards push events to one window while it lives. */
export function forwardEvents(copilot: Copilot, contents: WebContents): () => void {
  const stop = copilot.onEvent((event: PushEvent) => {
    if (!contents.isDestroyed()) contents.send(pushChannel, event);
  });
  contents.once('destroyed', stop);
  return stop;
}
