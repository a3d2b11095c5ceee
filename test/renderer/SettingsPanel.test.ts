import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { CopilotBridge, Settings, SettingsPatch, SettingsView } from '../../app/contract';
import { modelCatalog } from '../../app/settings/models';
import { applyPatch, defaultSettings, settingsPatchSchema } from '../../app/settings/schema';
import SettingsPanel from '../../renderer/components/SettingsPanel.svelte';
import { SettingsState } from '../../renderer/lib/state/Settings.svelte';

const unused = async () => ({ ok: true as const, value: null });
const notHere = async () => ({ ok: false as const, problem: { code: 'internal' as const, message: 'not used by the settings panel', hint: '' } });

/** A bridge serving the given settings and the real model table; it records each update. */
function settingsBridge(settings: Partial<Settings> = {}) {
  const updates: SettingsPatch[] = [];
  const view: SettingsView = {
    settings: { ...defaultSettings, ...settings },
    key: { set: false, lastFour: null, storage: 'keychain', note: null },
    problems: [],
    models: modelCatalog(new Date('2026-12-01T12:00:00Z')),
  };
  const bridge: CopilotBridge = {
    sendMessage: async () => ({ ok: true, value: { userTurnId: 'u', assistantTurnId: 'a' } }),
    getSnapshot: async () => ({ ok: false, problem: { code: 'internal', message: 'not used', hint: '' } }),
    newConversation: unused,
    startVoice: unused,
    stopVoice: unused,
    pressToTalk: unused,
    releaseToTalk: unused,
    stopSpeaking: unused,
    setMuted: unused,
    previewVoice: unused,
    getSettings: async () => ({ ok: true, value: view }),
    updateSettings: async ({ patch }) => {
      updates.push(patch);
      return { ok: true, value: { ...view, settings: applyPatch(view.settings, settingsPatchSchema.parse(patch)) } };
    },
    setApiKey: async () => ({ ok: true, value: view.key }),
    clearApiKey: async () => ({ ok: true, value: view.key }),
    listDevices: async () => ({ ok: true, value: { inputs: [], outputs: [] } }),
    answerPermission: unused,
    cancelAgent: unused,
    currentConversation: notHere,
    listConversations: notHere,
    searchConversations: notHere,
    openConversation: notHere,
    renameConversation: notHere,
    deleteConversation: notHere,
    exportConversation: notHere,
    regenerateReply: notHere,
    editLastMessage: notHere,
    openLink: notHere,
    getMeeting: notHere,
    startMeeting: notHere,
    stopMeeting: notHere,
    askMeeting: notHere,
    updateMeetingNotes: notHere,
    exportMeeting: notHere,
    captureScreen: notHere,
    askAboutScreen: notHere,
    setCompact: notHere,
    onEvent: () => () => undefined,
  };
  return { bridge, updates };
}

async function renderPanel(settings: Partial<Settings> = {}) {
  const { bridge, updates } = settingsBridge(settings);
  render(SettingsPanel, { props: { settings: new SettingsState(bridge), toolNames: [] } });
  const voiceModel = await screen.findByRole('combobox', { name: 'Voice model' });
  // The panel renders before the settings arrive; the table's options mean they have.
  await waitFor(() => expect(voiceModel.querySelectorAll('optgroup').length).toBeGreaterThan(0));
  return { updates, voiceModel };
}

function groupsOf(select: HTMLElement): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const group of select.querySelectorAll('optgroup')) {
    groups[group.label] = [...group.querySelectorAll('option')].map((option) => option.value);
  }
  return groups;
}

describe('settings: models', () => {
  it('lists the current voice models first, the default on top, legacy ones apart', async () => {
    const { voiceModel } = await renderPanel();
    const groups = groupsOf(voiceModel);
    expect(Object.keys(groups)).toEqual(['Current', 'Legacy']);
    expect(groups.Current).toEqual(['gpt-realtime-2.1-mini', 'gpt-realtime-2.1', 'gpt-realtime-2', 'gpt-realtime-1.5', 'gpt-audio-1.5']);
    expect(groups.Legacy).toContain('gpt-realtime');
    expect(within(voiceModel).getByRole('option', { name: /gpt-realtime-2\.1-mini.*default/ })).toBeTruthy();
    expect(groupsOf(screen.getByRole('combobox', { name: 'Agent model' })).Current?.slice(0, 3)).toEqual(['gpt-5.4-mini', 'gpt-5.4', 'gpt-5.5']);
  });

  it('shows reasoning effort and parallel tool calls only for a voice model that takes them', async () => {
    const { voiceModel } = await renderPanel();
    expect(within(screen.getByRole('combobox', { name: 'Voice reasoning effort' })).getAllByRole('option').map((option) => option.getAttribute('value'))).toEqual(['auto', 'minimal', 'low', 'medium', 'high', 'xhigh']);
    expect(screen.getByRole('checkbox', { name: /call several tools at once/ })).toBeTruthy();

    await fireEvent.change(voiceModel, { target: { value: 'gpt-realtime-1.5' } });
    await waitFor(() => expect(screen.queryByRole('combobox', { name: 'Voice reasoning effort' })).toBeNull());
    expect(screen.queryByRole('checkbox', { name: /call several tools at once/ })).toBeNull();

    await fireEvent.change(voiceModel, { target: { value: 'gpt-realtime-2' } });
    expect(await screen.findByRole('combobox', { name: 'Voice reasoning effort' })).toBeTruthy();
  });

  it('shows the agent reasoning effort with the efforts its model takes, and none for a model that does not reason', async () => {
    await renderPanel({ agentModel: 'gpt-5' });
    const efforts = within(screen.getByRole('combobox', { name: 'Agent reasoning effort' })).getAllByRole('option').map((option) => option.getAttribute('value'));
    expect(efforts).toEqual(['auto', 'minimal', 'low', 'medium', 'high']);
    await fireEvent.change(screen.getByRole('combobox', { name: 'Agent model' }), { target: { value: 'gpt-4.1' } });
    await waitFor(() => expect(screen.queryByRole('combobox', { name: 'Agent reasoning effort' })).toBeNull());
  });

  it('takes a custom model name with a warning, and saves it', async () => {
    const { voiceModel, updates } = await renderPanel();
    await fireEvent.change(voiceModel, { target: { value: '__custom__' } });
    await fireEvent.input(screen.getByRole('textbox', { name: 'Voice model name' }), { target: { value: 'my-voice-finetune' } });
    expect(screen.getByRole('status').textContent).toBe('my-voice-finetune is not a voice model Parley knows; it will be sent as typed. Check the spelling.');
    await fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(updates).toEqual([{ realtimeModel: 'my-voice-finetune' }]));
  });

  it('names the successor of a legacy model that is still chosen', async () => {
    await renderPanel({ agentModel: 'gpt-5-mini' });
    expect(screen.getAllByRole('status').map((status) => status.textContent)).toContain('gpt-5-mini is legacy (shuts down 2026-12-11). Try gpt-5.4-mini.');
  });
});
