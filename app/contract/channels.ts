/**
 * The command names and their IPC channels, with no run-time imports: the sandboxed preload
 * bundles it alone and the renderer may import it (the only run-time import it has from app/).
 * The command table (commands.ts) must name exactly these commands; the compiler checks it.
 * Every channel is prefixed `copilot:`; commands are request/response, `copilot:event` is the one
 * push channel from main to the renderer.
 */
import type { CommandFunctions, CommandResult } from './types';

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
  currentConversation: 'copilot:current-conversation',
  listConversations: 'copilot:list-conversations',
  searchConversations: 'copilot:search-conversations',
  openConversation: 'copilot:open-conversation',
  renameConversation: 'copilot:rename-conversation',
  deleteConversation: 'copilot:delete-conversation',
  exportConversation: 'copilot:export-conversation',
  regenerateReply: 'copilot:regenerate-reply',
  editLastMessage: 'copilot:edit-last-message',
  openLink: 'copilot:open-link',
  getMeeting: 'copilot:get-meeting',
  startMeeting: 'copilot:start-meeting',
  stopMeeting: 'copilot:stop-meeting',
  askMeeting: 'copilot:ask-meeting',
  updateMeetingNotes: 'copilot:update-meeting-notes',
  exportMeeting: 'copilot:export-meeting',
  captureScreen: 'copilot:capture-screen',
  listScreenSources: 'copilot:list-screen-sources',
  askAboutScreen: 'copilot:ask-about-screen',
  setCompact: 'copilot:set-compact',
} as const;

export type CommandName = keyof typeof commandChannels;
export type CommandChannel = (typeof commandChannels)[CommandName];

export const commandNames = Object.keys(commandChannels) as CommandName[];

export const pushChannel = 'copilot:event';

const channelToCommand = new Map<string, CommandName>(commandNames.map((name) => [commandChannels[name], name]));

export function commandForChannel(channel: string): CommandName | undefined {
  return channelToCommand.get(channel);
}

/** Sends one command's channel and, when the caller gave one, its request. */
export type Invoke = (channel: CommandChannel, ...request: [] | [unknown]) => Promise<CommandResult<unknown>>;

/**
 * One function per command over `invoke`: the preload passes `ipcRenderer.invoke`, browser mode's
 * socket bridge its own call. A function called without a request sends none.
 */
export function commandFunctions(invoke: Invoke): CommandFunctions {
  const functions: Record<string, (...request: unknown[]) => Promise<CommandResult<unknown>>> = {};
  for (const name of commandNames) {
    const channel = commandChannels[name];
    functions[name] = (...request) => (request.length === 0 ? invoke(channel) : invoke(channel, request[0]));
  }
  return functions as CommandFunctions;
}
