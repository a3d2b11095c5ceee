/**
 * Compile-time checks of the command table, run by `npx tsc -p tsconfig.node.json` (this file is
 * in its include; vitest does not run it). Each `@ts-expect-error` line must fail to compile: if
 * the table stopped typing a command's request or response, the directive itself would error.
 */
import type { CommandHandlers, CommandResponse, CopilotBridge, SendMessageResult, SettingsView } from '../../../app/contract';

declare const bridge: CopilotBridge;

export async function wrongPayloads(): Promise<void> {
  await bridge.sendMessage({ text: 'hello' });
  // @ts-expect-error a message is `text`, not `body`
  await bridge.sendMessage({ body: 'hello' });
  // @ts-expect-error sendMessage needs its request
  await bridge.sendMessage();
  // @ts-expect-error `muted` is a boolean
  await bridge.setMuted({ muted: 'yes' });
  // @ts-expect-error a permission answer is once, always or deny
  await bridge.answerPermission({ requestId: 'r1', decision: 'maybe' });
  await bridge.updateSettings({ patch: { rolloverMinutes: 30, voice: 'cedar' } });
  // @ts-expect-error settings cross the contract typed: the rollover is a number of minutes
  await bridge.updateSettings({ patch: { rolloverMinutes: 'soon' } });
  // @ts-expect-error a patch holds settings only
  await bridge.updateSettings({ patch: { notASetting: true } });
  // @ts-expect-error the voice is one of the listed voices
  await bridge.updateSettings({ patch: { voice: 'robot' } });
  // @ts-expect-error commands without a request take no argument
  await bridge.getSnapshot({});
  // @ts-expect-error there is no such command
  await bridge.deleteEverything();
}

export async function typedResponses(): Promise<void> {
  const sent = await bridge.sendMessage({ text: 'hello' });
  if (sent.ok) {
    const ids: SendMessageResult = sent.value;
    void ids;
    // @ts-expect-error a send answers with turn ids, not settings
    const view: SettingsView = sent.value;
    void view;
  }
  const response: CommandResponse<'newConversation'> = null;
  void response;
}

export const handlersAreExhaustive = (complete: CommandHandlers): CommandHandlers => {
  const { cancelAgent: _dropped, ...rest } = complete;
  // @ts-expect-error a handler table without cancelAgent does not compile
  const missing: CommandHandlers = rest;
  void missing;
  return {
    ...complete,
    // @ts-expect-error a handler answers with its command's response type
    getSnapshot: () => ({ ok: true, value: null }),
  };
};
