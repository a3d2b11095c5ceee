import type { CommandName, CommandRequest } from '../contract';

/** One valid request for every command; the type makes every new command bring one. */
export const sampleRequests: { [N in CommandName]: CommandRequest<N> } = {
  sendMessage: { text: 'hello' },
  getSnapshot: undefined,
  newConversation: undefined,
  startVoice: undefined,
  stopVoice: undefined,
  pressToTalk: undefined,
  releaseToTalk: undefined,
  stopSpeaking: undefined,
  setMuted: { muted: true },
  previewVoice: { voice: 'cedar' },
  getSettings: undefined,
  updateSettings: { patch: { earcons: false } },
  setApiKey: { key: 'sk-test-0123456789abcdefghij' },
  clearApiKey: undefined,
  listDevices: undefined,
  answerPermission: { requestId: 'r1', decision: 'deny' },
  cancelAgent: undefined,
  currentConversation: undefined,
  listConversations: undefined,
  searchConversations: { query: 'hello' },
  openConversation: { id: 'c1' },
  renameConversation: { id: 'c1', title: 'Plans' },
  deleteConversation: { id: 'c1' },
  exportConversation: { id: 'c1', format: 'markdown' },
};
