/**
 * The command table: each command's request schema and response type, in one place. The channel
 * names (channels.ts, kept import-free for the preload and the renderer), `CopilotBridge`, the
 * host's handler table and both bridges are derived from it; the compiler holds the table and the
 * channel names to the same set of commands.
 */
import type { z } from 'zod';
import type { CommandName } from './channels';
import {
  answerPermissionRequest,
  emptyRequest,
  openLinkRequest,
  previewVoiceRequest,
  sendMessageRequest,
  setApiKeyRequest,
  setMutedRequest,
  updateSettingsRequest,
} from './schemas';
import {
  conversationRequest,
  exportConversationRequest,
  listConversationsRequest,
  newConversationRequest,
  renameConversationRequest,
  searchConversationsRequest,
  type ConversationExport,
  type ConversationHit,
  type ConversationSummary,
  type CurrentConversation,
} from './history';
import type { CopilotSnapshot, DeviceList, KeyStatus, OpenLinkResult, SendMessageResult, SettingsView } from './types';
import { askMeetingRequest, type MeetingAnswer, type MeetingExport, type MeetingView } from './meeting';
import { askAboutScreenRequest, captureScreenRequest, setCompactRequest, type CompactResult, type ScreenCapture, type ScreenSources } from './screen';

declare const responseType: unique symbol;

/** A command's response type, carried by the table as a type only: there is no value behind it. */
export interface Returns<T> {
  readonly [responseType]?: T;
}

const returns = <T>(): Returns<T> => ({});

export interface CommandSpec {
  /** Checked by the composition root before the command runs; may accept `undefined` for no request. */
  request: z.ZodType;
  response: Returns<unknown>;
}

export const commands = {
  sendMessage: { request: sendMessageRequest, response: returns<SendMessageResult>() },
  getSnapshot: { request: emptyRequest, response: returns<CopilotSnapshot>() },
  newConversation: { request: newConversationRequest, response: returns<null>() },
  startVoice: { request: emptyRequest, response: returns<null>() },
  stopVoice: { request: emptyRequest, response: returns<null>() },
  pressToTalk: { request: emptyRequest, response: returns<null>() },
  releaseToTalk: { request: emptyRequest, response: returns<null>() },
  stopSpeaking: { request: emptyRequest, response: returns<null>() },
  setMuted: { request: setMutedRequest, response: returns<null>() },
  previewVoice: { request: previewVoiceRequest, response: returns<null>() },
  getSettings: { request: emptyRequest, response: returns<SettingsView>() },
  updateSettings: { request: updateSettingsRequest, response: returns<SettingsView>() },
  setApiKey: { request: setApiKeyRequest, response: returns<KeyStatus>() },
  clearApiKey: { request: emptyRequest, response: returns<KeyStatus>() },
  listDevices: { request: emptyRequest, response: returns<DeviceList>() },
  answerPermission: { request: answerPermissionRequest, response: returns<null>() },
  cancelAgent: { request: emptyRequest, response: returns<null>() },
  currentConversation: { request: emptyRequest, response: returns<CurrentConversation>() },
  listConversations: { request: listConversationsRequest, response: returns<ConversationSummary[]>() },
  searchConversations: { request: searchConversationsRequest, response: returns<ConversationHit[]>() },
  openConversation: { request: conversationRequest, response: returns<CurrentConversation>() },
  renameConversation: { request: renameConversationRequest, response: returns<ConversationSummary>() },
  deleteConversation: { request: conversationRequest, response: returns<CurrentConversation>() },
  exportConversation: { request: exportConversationRequest, response: returns<ConversationExport>() },
  /** Answers the last typed message again (or retries it after a failure), the old reply forgotten. */
  regenerateReply: { request: emptyRequest, response: returns<SendMessageResult>() },
  /** Replaces the last typed message and its reply with this text, answered afresh. */
  editLastMessage: { request: sendMessageRequest, response: returns<SendMessageResult>() },
  openLink: { request: openLinkRequest, response: returns<OpenLinkResult>() },
  getMeeting: { request: emptyRequest, response: returns<MeetingView>() },
  startMeeting: { request: emptyRequest, response: returns<MeetingView>() },
  stopMeeting: { request: emptyRequest, response: returns<MeetingView>() },
  askMeeting: { request: askMeetingRequest, response: returns<MeetingAnswer>() },
  updateMeetingNotes: { request: emptyRequest, response: returns<MeetingView>() },
  exportMeeting: { request: emptyRequest, response: returns<MeetingExport>() },
  /** Asks to capture (the permission), and in the desktop app captures the screen. */
  captureScreen: { request: captureScreenRequest, response: returns<ScreenCapture>() },
  /** Asks to capture (the permission), then lists the screens and windows to pick from. */
  listScreenSources: { request: emptyRequest, response: returns<ScreenSources>() },
  askAboutScreen: { request: askAboutScreenRequest, response: returns<SendMessageResult>() },
  /** The compact always-on-top overlay for calls, on or off. */
  setCompact: { request: setCompactRequest, response: returns<CompactResult>() },
} satisfies { [N in CommandName]: CommandSpec };

export type Commands = typeof commands;
