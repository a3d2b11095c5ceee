import { render, screen, fireEvent, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { CommandResult, CopilotBridge, CopilotSnapshot, PushEvent, SendMessageResult, SettingsView } from '../../app/contract';
import { applyPatch, defaultSettings, settingsPatchSchema } from '../../app/settings/schema';
import { emptySummary } from '../../app/inspector/log';
import App from '../../renderer/components/App.svelte';
import { HistoryState } from '../../renderer/lib/state/History.svelte';
import { Conversation } from '../../renderer/lib/state/Conversation.svelte';
import { SettingsState } from '../../renderer/lib/state/Settings.svelte';

const settingsView: SettingsView = {
  settings: { ...defaultSettings },
  key: { set: false, lastFour: null, storage: 'keychain', note: null },
  problems: [],
};

/** A bridge the test drives: it records calls and lets the test push events as main would. */
function scriptedBridge(snapshot: Partial<CopilotSnapshot> = {}) {
  const listeners = new Set<(event: PushEvent) => void>();
  const sent: string[] = [];
  const calls: string[] = [];
  let answer: CommandResult<SendMessageResult> = { ok: true, value: { userTurnId: 'u1', assistantTurnId: 'a1' } };
  const bridge: CopilotBridge = {
    sendMessage: async ({ text }) => {
      sent.push(text);
      return answer;
    },
    getSnapshot: async () => ({
      ok: true,
      value: {
        connection: { status: 'open', mode: 'offline-emulator', endpoint: 'ws://127.0.0.1:1/v1/responses' },
        startedAt: 0,
        events: [],
        turns: [],
        tools: [],
        permissions: [],
        agentBusy: false,
        toolCatalog: [{ name: 'search_notes', description: 'Searches notes.', risk: 'private', source: 'builtin' }],
        voice: { state: 'off', turnMode: 'push_to_talk', muted: false, problem: null },
        inspector: emptySummary(),
        ...snapshot,
      },
    }),
    newConversation: async () => ({ ok: true, value: null }),
    startVoice: async () => ({ ok: true, value: null }),
    stopVoice: async () => ({ ok: true, value: null }),
    pressToTalk: async () => (calls.push('press'), { ok: true, value: null }),
    releaseToTalk: async () => (calls.push('release'), { ok: true, value: null }),
    stopSpeaking: async () => (calls.push('stop-speaking'), { ok: true, value: null }),
    previewVoice: async ({ voice }) => (calls.push(`preview ${voice}`), { ok: true, value: null }),
    setMuted: async ({ muted }) => (calls.push(muted ? 'mute' : 'unmute'), { ok: true, value: null }),
    getSettings: async () => ({ ok: true, value: settingsView }),
    updateSettings: async ({ patch }) => (calls.push(`update ${JSON.stringify(patch)}`), { ok: true, value: { ...settingsView, settings: applyPatch(settingsView.settings, settingsPatchSchema.parse(patch)) } }),
    setApiKey: async () => (calls.push('set-key'), { ok: true, value: { ...settingsView.key, set: true, lastFour: 'WXYZ' } }),
    clearApiKey: async () => (calls.push('clear-key'), { ok: true, value: settingsView.key }),
    answerPermission: async ({ requestId, decision }) => (calls.push(`permission ${requestId} ${decision}`), { ok: true, value: null }),
    cancelAgent: async () => (calls.push('cancel'), { ok: true, value: null }),
    currentConversation: async () => ({ ok: true, value: { id: 'c0', title: null, private: false } }),
    listConversations: async () => ({ ok: true, value: [] }),
    searchConversations: async () => ({ ok: true, value: [] }),
    openConversation: async ({ id }) => (calls.push(`open ${id}`), { ok: true, value: { id, title: null, private: false } }),
    renameConversation: async ({ id, title }) => (calls.push(`rename ${id} ${title}`), { ok: true, value: { id, title, createdAt: 0, updatedAt: 0, turnCount: 0 } }),
    deleteConversation: async ({ id }) => (calls.push(`delete ${id}`), { ok: true, value: { id: 'c1', title: null, private: false } }),
    exportConversation: async () => ({ ok: true, value: { fileName: 'c.md', mimeType: 'text/markdown', content: '' } }),
    regenerateReply: async () => (calls.push('regenerate'), { ok: true, value: { userTurnId: 'u1', assistantTurnId: 'a1' } }),
    editLastMessage: async ({ text }) => (calls.push(`edit ${text}`), { ok: true, value: { userTurnId: 'u1', assistantTurnId: 'a1' } }),
    openLink: async ({ url }) => (calls.push(`open ${url}`), { ok: true, value: { openedBy: 'system' } }),
    // The window has no meeting panel yet: these answer as a host with no meeting would.
    getMeeting: async () => ({ ok: true, value: { live: false, startedAt: null, notes: '', problems: [], lines: [] } }),
    startMeeting: async () => ({ ok: true, value: { live: true, startedAt: 0, notes: '', problems: [], lines: [] } }),
    stopMeeting: async () => ({ ok: true, value: { live: false, startedAt: 0, notes: '', problems: [], lines: [] } }),
    askMeeting: async () => ({ ok: true, value: { text: '' } }),
    updateMeetingNotes: async () => ({ ok: true, value: { live: false, startedAt: 0, notes: '', problems: [], lines: [] } }),
    exportMeeting: async () => ({ ok: true, value: { fileName: 'meeting.md', mimeType: 'text/markdown', content: '' } }),
    captureScreen: async () => ({ ok: true, value: { image: null } }),
    askAboutScreen: async () => ({ ok: true, value: { userTurnId: 'u1', assistantTurnId: 'a1' } }),
    setCompact: async () => ({ ok: true, value: { alwaysOnTop: false } }),
    listDevices: async () => ({ ok: true, value: { inputs: [{ id: 'mouth.monitor', label: 'Built-in microphone', isDefault: true }], outputs: [{ id: 'ear', label: 'Speakers', isDefault: true }] } }),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    bridge,
    sent,
    calls,
    push: (event: PushEvent) => listeners.forEach((listener) => listener(event)),
    refuseNextSend: (message: string) => {
      answer = { ok: false, problem: { code: 'connection_failed', message, hint: 'Try again.' } };
    },
  };
}

function renderApp(bridge: CopilotBridge) {
  return render(App, { props: { conversation: new Conversation(bridge), settings: new SettingsState(bridge), history: new HistoryState(bridge) } });
}

describe('voice controls', () => {
  it('does not say "Release to send" while voice is in error, even with the button held', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    const talk = screen.getByRole('button', { name: 'Hold to talk' });
    await fireEvent.pointerDown(talk, { pointerId: 1 });
    push({ type: 'voice', voice: { state: 'error', turnMode: 'push_to_talk', muted: false, problem: { code: 'internal', message: 'No microphone was found.', hint: 'Connect one.' } } });
    await waitFor(() => expect(talk.textContent?.trim()).toBe('Hold to talk'));
    expect(talk.getAttribute('aria-pressed')).toBe('false');
  });

  it('talks while the button is held and sends on release', async () => {
    const { bridge, calls, push } = scriptedBridge();
    renderApp(bridge);
    const talk = screen.getByRole('button', { name: 'Hold to talk' });
    await fireEvent.pointerDown(talk, { pointerId: 1 });
    expect(calls).toEqual(['press']);
    expect(talk.getAttribute('aria-pressed')).toBe('true');
    expect(talk.textContent?.trim()).toBe('Release to send');
    await fireEvent.pointerUp(talk, { pointerId: 1 });
    expect(calls).toEqual(['press', 'release']);
    push({ type: 'voice', voice: { state: 'speaking', turnMode: 'push_to_talk', muted: false, problem: null } });
    const stop = await screen.findByRole('button', { name: 'Stop speaking' });
    await waitFor(() => expect((stop as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(stop);
    expect(calls.at(-1)).toBe('stop-speaking');
    expect(screen.getByRole('status', { name: 'Voice' }).textContent).toContain('Speaking');
  });

  it('pipeline mode: hold to talk when its turns end on release, not with voice detection', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    push({ type: 'voice', voice: { state: 'idle', turnMode: 'pipeline', pipelineListen: 'push_to_talk', muted: false, problem: null } });
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Hold to talk' })).toBeTruthy());
    push({ type: 'voice', voice: { state: 'listening', turnMode: 'pipeline', pipelineListen: 'server_vad', muted: false, problem: null } });
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Hold to talk' })).toBeNull());
  });

  it('holds to talk with Space when the button has focus', async () => {
    const { bridge, calls } = scriptedBridge();
    renderApp(bridge);
    const talk = screen.getByRole('button', { name: 'Hold to talk' });
    talk.focus();
    await fireEvent.keyDown(talk, { key: ' ' });
    await fireEvent.keyDown(talk, { key: ' ', repeat: true });
    await fireEvent.keyUp(talk, { key: ' ' });
    expect(calls).toEqual(['press', 'release']);
  });

  it('shows the microphone level and mutes', async () => {
    const { bridge, calls, push } = scriptedBridge();
    renderApp(bridge);
    push({ type: 'voice', voice: { state: 'idle', turnMode: 'push_to_talk', muted: false, problem: null } });
    push({ type: 'voice.level', dbfs: -20 });
    const meter = screen.getByRole('meter', { name: 'Microphone level' }) as HTMLMeterElement;
    await waitFor(() => expect(meter.value).toBe(-20));
    await fireEvent.click(screen.getByRole('button', { name: 'Mute' }));
    expect(calls).toEqual(['mute']);
  });

  it('marks where a spoken reply was cut, with the unheard part struck', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    push({
      type: 'turn.finished',
      turn: { id: 'v1', role: 'assistant', source: 'voice', text: 'The weather today is sunny and warm', heardText: 'The weather today', status: 'incomplete', startedAt: 0 },
    });
    const unheard = await screen.findByTitle('Not heard: you interrupted');
    expect(unheard.tagName).toBe('DEL');
    expect(unheard.textContent?.trim()).toBe('is sunny and warm');
    expect(screen.getByRole('note', { name: 'Interrupted here' })).toBeTruthy();
  });
});

describe('App', () => {
  it('offers a message box, a Send button that waits for text, and an empty transcript', async () => {
    const { bridge } = scriptedBridge();
    renderApp(bridge);
    expect(screen.getByRole('region', { name: 'Transcript' })).toBeTruthy();
    const send = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    await fireEvent.input(screen.getByRole('textbox', { name: 'Message' }), { target: { value: 'hello' } });
    expect(send.disabled).toBe(false);
  });

  it('says clearly that it is offline on the emulator', async () => {
    const { bridge } = scriptedBridge();
    renderApp(bridge);
    expect(await screen.findByText('Offline (emulator)')).toBeTruthy();
    expect(screen.getByRole('note').textContent).toContain('OPENAI_API_KEY');
    // Not dressed as connected: the indicator carries the offline look (a hollow dot), not the green one.
    expect(screen.getByRole('status', { name: 'Connection' }).dataset.offline).toBe('true');
  });

  it('sends the typed message and shows the reply as it streams', async () => {
    const { bridge, sent, push } = scriptedBridge();
    renderApp(bridge);
    const box = screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement;
    await fireEvent.input(box, { target: { value: 'hello' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(sent).toEqual(['hello']);
    await waitFor(() => expect(box.value).toBe(''));

    push({ type: 'turn.started', turn: { id: 'u1', role: 'user', source: 'typed', text: 'hello', status: 'completed', startedAt: 0 } });
    push({ type: 'turn.started', turn: { id: 'a1', role: 'assistant', source: 'typed', text: '', status: 'streaming', startedAt: 0 } });
    push({ type: 'turn.delta', turnId: 'a1', delta: 'Hel' });
    push({ type: 'turn.delta', turnId: 'a1', delta: 'lo there' });
    const transcript = screen.getByRole('region', { name: 'Transcript' });
    await waitFor(() => expect(within(transcript).getByText('Hello there')).toBeTruthy());
    expect(transcript.getAttribute('aria-busy')).toBe('true');

    push({ type: 'turn.finished', turn: { id: 'a1', role: 'assistant', source: 'typed', text: 'Hello there!', status: 'completed', startedAt: 0 } });
    await waitFor(() => expect(within(transcript).getByText('Hello there!')).toBeTruthy());
    expect(transcript.getAttribute('aria-busy')).toBe('false');
  });

  it('sends on Enter but not on Shift+Enter', async () => {
    const { bridge, sent } = scriptedBridge();
    renderApp(bridge);
    const box = screen.getByRole('textbox', { name: 'Message' });
    await fireEvent.input(box, { target: { value: 'first' } });
    await fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    expect(sent).toEqual([]);
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(sent).toEqual(['first']);
  });

  it('shows why a message was refused and puts the text back', async () => {
    const { bridge, refuseNextSend } = scriptedBridge();
    refuseNextSend('Nothing is accepting connections at 127.0.0.1:9 (connection refused).');
    renderApp(bridge);
    const box = screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement;
    await fireEvent.input(box, { target: { value: 'keep me' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('connection refused');
    await waitFor(() => expect(box.value).toBe('keep me'));
  });

  it('marks a failed reply with the problem and its remedy', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    push({
      type: 'turn.finished',
      turn: {
        id: 'a9',
        role: 'assistant',
        source: 'typed',
        text: 'Partial',
        status: 'failed',
        startedAt: 0,
        problem: { code: 'unauthorized', message: 'api.openai.com rejected the API key (HTTP 401).', hint: 'Check OPENAI_API_KEY.' },
      },
    });
    const note = await screen.findByText(/rejected the API key/, { selector: '.problem' });
    expect(note.textContent).toContain('Check OPENAI_API_KEY.');
    // Screen readers hear the failure and its reason, not just "Parley:".
    const live = document.querySelector('[aria-live="polite"]');
    expect(live?.textContent).toBe('Parley could not reply: api.openai.com rejected the API key (HTTP 401). Check OPENAI_API_KEY.');
  });

  it('shows a connection problem in the indicator', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    push({
      type: 'connection',
      connection: { status: 'error', mode: 'online', endpoint: 'wss://x/v1/responses', problem: { code: 'unauthorized', message: 'Bad key.', hint: 'Check OPENAI_API_KEY.' } },
    });
    const status = await screen.findByRole('status', { name: 'Connection' });
    await waitFor(() => expect(status.textContent).toContain('Connection problem'));
    expect(status.getAttribute('title')).toBe('Bad key.');
    // The problem is spelled out on screen, not only in a tooltip.
    expect((await screen.findByRole('alert')).textContent).toContain('Bad key.');
  });
});
