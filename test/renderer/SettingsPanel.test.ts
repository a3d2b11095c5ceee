import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { CopilotBridge, DeviceList, PushEvent, Settings, SettingsPatch } from '../../app/contract';
import { SettingsService } from '../../app/host/settingsService';
import { defaultSettings } from '../../app/settings/schema';
import SettingsPanel from '../../renderer/components/SettingsPanel.svelte';
import { SettingsState } from '../../renderer/lib/state/Settings.svelte';

const unused = async () => ({ ok: true as const, value: null });
const notHere = async () => ({ ok: false as const, problem: { code: 'internal' as const, message: 'not used by the settings panel', hint: '' } });

/**
 * A bridge over the real settings service (its schema, its messages), holding the given settings
 * and the real model table; it records each update and folders exist only under /home/me.
 */
function settingsBridge(settings: Partial<Settings> = {}, devices: DeviceList = { inputs: [], outputs: [] }) {
  const updates: SettingsPatch[] = [];
  const listeners = new Set<(event: PushEvent) => void>();
  const service = new SettingsService({
    store: { load: async () => ({ settings: { ...defaultSettings, ...settings }, problems: [], migratedFrom: null }), save: async () => undefined },
    keyStore: { status: () => view.key, read: () => null, write: async () => view.key, clear: async () => view.key },
    now: () => Date.parse('2026-12-01T12:00:00Z'),
    emit: (event) => listeners.forEach((listener) => listener(event)),
    // The copilot's apply takes the new settings as current (and reconfigures the sessions).
    apply: async (next) => void service.replace(next),
    folderExists: async (path) => path.startsWith('/home/me/'),
  });
  const view = { key: { set: false, lastFour: null, storage: 'keychain' as const, note: null } };
  const loaded = service.load();
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
    getSettings: async () => (await loaded, { ok: true, value: service.view() }),
    updateSettings: async ({ patch }) => {
      updates.push(patch);
      return service.update(patch);
    },
    setApiKey: async () => ({ ok: true, value: view.key }),
    clearApiKey: async () => ({ ok: true, value: view.key }),
    listDevices: async () => ({ ok: true, value: devices }),
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
    listScreenSources: notHere,
    askAboutScreen: notHere,
    setCompact: notHere,
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { bridge, updates, service };
}

async function renderPanel(settings: Partial<Settings> = {}, toolNames: string[] = [], devices?: DeviceList) {
  const { bridge, updates, service } = settingsBridge(settings, devices);
  render(SettingsPanel, { props: { settings: new SettingsState(bridge), toolNames } });
  const voiceModel = await screen.findByRole('combobox', { name: 'Voice model' });
  // The panel renders before the settings arrive; the table's options mean they have.
  await waitFor(() => expect(voiceModel.querySelectorAll('optgroup').length).toBeGreaterThan(0));
  return { updates, voiceModel, service };
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
    expect(screen.getByRole('status').textContent).toBe("Parley doesn't know the voice model my-voice-finetune; it will be sent as typed and the service may refuse it. Check the spelling.");
    await fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(updates).toEqual([{ realtimeModel: 'my-voice-finetune' }]));
  });

  it('names the successor of a legacy model that is still chosen', async () => {
    await renderPanel({ agentModel: 'gpt-5-mini' });
    expect(screen.getAllByRole('status').map((status) => status.textContent)).toContain('gpt-5-mini is legacy (shuts down 2026-12-11). Try gpt-5.4-mini.');
  });
});

/** The text of the element a control's aria-describedby names, as a screen reader reads it with the control. */
function descriptionOf(control: HTMLElement): string {
  const ids = control.getAttribute('aria-describedby')?.split(' ') ?? [];
  return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
}

describe('settings: validation', () => {
  it('shows every refused field next to itself, in our words, and focuses the first', async () => {
    const { updates } = await renderPanel();
    const hotkey = screen.getByRole('button', { name: /Hold-to-talk hotkey/ });
    await fireEvent.click(hotkey);
    await fireEvent.keyDown(hotkey, { key: 'a', code: 'KeyA' });
    const rollover = screen.getByRole('spinbutton', { name: 'Roll the socket over after (minutes)' });
    await fireEvent.input(rollover, { target: { value: '90' } });
    const folder = screen.getByRole('textbox', { name: 'Add a folder' });
    await fireEvent.input(folder, { target: { value: 'projects' } });
    await fireEvent.keyDown(folder, { key: 'Enter' });

    expect(screen.getByRole('button', { name: 'Save settings' }).closest('form')?.noValidate).toBe(true);
    await fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(document.activeElement).toBe(hotkey));
    expect(updates).toHaveLength(1);
    expect(descriptionOf(hotkey)).toBe('The hotkey needs Ctrl/Cmd, Alt or Shift with its key: “A” alone would fire every time you press A in any program.');
    expect(descriptionOf(rollover)).toBe('The rollover time (minutes) can be at most 59.');
    expect(rollover.getAttribute('aria-invalid')).toBe('true');
    expect(descriptionOf(folder)).toBe('“projects” is not a full path; give the whole folder, like /home/you/projects or C:\\Users\\you\\projects.');
    expect(screen.getByRole('alert').textContent).toBe('Not saved: 3 fields need a change, marked above.');
    expect(document.body.textContent).not.toMatch(/Too (small|big)|expected/);
  });

  it('names a folder that does not exist, checked by the main side', async () => {
    await renderPanel();
    const folder = screen.getByRole('textbox', { name: 'Add a folder' });
    await fireEvent.input(folder, { target: { value: '/srv/nowhere' } });
    await fireEvent.keyDown(folder, { key: 'Enter' });
    await fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(document.activeElement).toBe(folder));
    expect(descriptionOf(folder)).toBe('The folder “/srv/nowhere” does not exist (or is not a folder).');
  });
});

describe('settings: tool permissions', () => {
  it('lists the always-allowed tools, and Revoke saves at once so the tool asks again', async () => {
    const { updates, service } = await renderPanel({ toolPermissions: { save_note: 'allow', fetch_page: 'deny' } }, ['save_note', 'fetch_page']);
    const list = await screen.findByRole('list', { name: 'Always allowed' });
    expect(within(list).getAllByRole('listitem').map((item) => item.querySelector('code')?.textContent)).toEqual(['save_note']);
    await fireEvent.click(within(list).getByRole('button', { name: 'Revoke always allow for save_note' }));
    await waitFor(() => expect(screen.queryByRole('list', { name: 'Always allowed' })).toBeNull());
    expect(updates).toEqual([{ toolPermissions: { fetch_page: 'deny' } }]);
    expect(service.settings.toolPermissions).toEqual({ fetch_page: 'deny' });
    expect((screen.getByRole('combobox', { name: 'Permission for save_note' }) as HTMLSelectElement).value).toBe('ask');
    expect(screen.getByRole('button', { name: 'Save settings' }).hasAttribute('disabled')).toBe(true);
  });

  it('shows an "Always allow" given in a prompt while the panel is open', async () => {
    const { service } = await renderPanel({}, ['save_note']);
    expect(screen.queryByRole('list', { name: 'Always allowed' })).toBeNull();
    await service.update({ toolPermissions: { save_note: 'allow' } });
    const list = await screen.findByRole('list', { name: 'Always allowed' });
    expect(within(list).getByRole('button', { name: 'Revoke always allow for save_note' })).toBeTruthy();
  });
});

describe('settings: meeting audio', () => {
  const speakers = { id: 'pulse:alsa_output.pci', label: 'Built-in Speakers', isDefault: true };
  const headset = { id: 'pulse:bluez_sink.headset', label: 'Headset', isDefault: false };

  it('lists the outputs whose sound a meeting can hear, and saves the one chosen', async () => {
    const { updates } = await renderPanel({}, [], { inputs: [], outputs: [], system: { available: true, devices: [{ ...speakers, label: 'What Built-in Speakers plays' }, { ...headset, label: 'What Headset plays' }] } });
    const select = await screen.findByRole('combobox', { name: 'Meeting audio' });
    await waitFor(() => expect((select as HTMLSelectElement).disabled).toBe(false));
    expect(within(select).getAllByRole('option').map((option) => option.textContent)).toEqual(['What the default output plays', 'What Built-in Speakers plays (default)', 'What Headset plays']);
    await fireEvent.change(select, { target: { value: headset.id } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(updates).toEqual([{ meetingAudioDevice: headset.id }]));
  });

  it('says why where the system\'s audio cannot be heard', async () => {
    await renderPanel({}, [], { inputs: [], outputs: [], system: { available: false, reason: "Not available on this platform: hearing the system's audio is not built for macOS yet." } });
    const select = await screen.findByRole('combobox', { name: 'Meeting audio' });
    await waitFor(() => expect(select.getAttribute('aria-describedby')).toBe('meeting-audio-note'));
    expect((select as HTMLSelectElement).disabled).toBe(true);
    expect(document.getElementById('meeting-audio-note')?.textContent).toBe("Not available on this platform: hearing the system's audio is not built for macOS yet.");
  });
});
