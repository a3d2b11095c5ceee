/**
 * The IPC channel table. Kept free of imports so the sandboxed preload can bundle it alone.
 * Every channel is prefixed `copilot:`; commands are request/response, `copilot:event` is the
 * one push channel from main to the renderer.
 */
export const commandChannels = {
  sendMessage: 'copilot:send-message',
  getSnapshot: 'copilot:get-snapshot',
  newConversation: 'copilot:new-conversation',
  startVoice: 'copilot:start-voice',
  stopVoice: 'copilot:stop-voice',
  pressToTalk: 'copilot:press-to-talk',
  releaseToTalk: 'copilot:release-to-talk',
  stopSpeaking: 'copilot:stop-speaking',
  setMuted: 'copilot:set-muted',
  previewVoice: 'copilot:preview-voice',
  getSettings: 'copilot:get-settings',
  updateSettings: 'copilot:update-settings',
  setApiKey: 'copilot:set-api-key',
  clearApiKey: 'copilot:clear-api-key',
  listDevices: 'copilot:list-devices',
  answerPermission: 'copilot:answer-permission',
  cancelAgent: 'copilot:cancel-agent',
} as const;

export type CommandName = keyof typeof commandChannels;
export type CommandChannel = (typeof commandChannels)[CommandName];

export const pushChannel = 'copilot:event';

const channelToCommand = new Map<string, CommandName>(
  (Object.keys(commandChannels) as CommandName[]).map((name) => [commandChannels[name], name]),
);

export function commandForChannel(channel: string): CommandName | undefined {
  return channelToCommand.get(channel);
}
