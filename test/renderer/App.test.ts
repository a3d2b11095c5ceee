import { render, screen, fireEvent, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { CommandResult, CopilotBridge, CopilotSnapshot, MeetingView, PushEvent, SendMessageResult, SettingsView } from '../../app/contract';
import { applyPatch, defaultSettings, settingsPatchSchema } from '../../app/settings/schema';
import { emptySummary } from '../../app/inspector/log';
import App from '../../renderer/components/App.svelte';
import { HistoryState } from '../../renderer/lib/state/History.svelte';
import { MeetingState } from '../../renderer/lib/state/Meeting.svelte';
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
    // A host where no meeting has been held; the meeting panel's own tests drive these.
    getMeeting: async () => ({ ok: true, value: { live: false, startedAt: null, notes: '', problems: [], lines: [] } }),
    startMeeting: async () => ({ ok: true, value: { live: true, startedAt: 0, notes: '', problems: [], lines: [] } }),
    stopMeeting: async () => ({ ok: true, value: { live: false, startedAt: 0, notes: '', problems: [], lines: [] } }),
    askMeeting: async () => ({ ok: true, value: { text: '' } }),
    updateMeetingNotes: async () => ({ ok: true, value: { live: false, startedAt: 0, notes: '', problems: [], lines: [] } }),
    exportMeeting: async () => ({ ok: true, value: { fileName: 'meeting.md', mimeType: 'text/markdown', content: '' } }),
    captureScreen: async () => ({ ok: true, value: { image: null } }),
    listScreenSources: async () => ({ ok: true, value: { sources: null } }),
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
  return render(App, { props: { conversation: new Conversation(bridge), settings: new SettingsState(bridge), history: new HistoryState(bridge), meeting: new MeetingState(bridge) } });
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
    // The desktop app stores a pasted key, so the way online is Settings, not the environment.
    await waitFor(() => expect(screen.getByRole('note').textContent).toContain('Paste an API key in Settings to go online.'));
    expect(screen.getByRole('note').textContent).not.toContain('OPENAI_API_KEY');
    // Not dressed as connected: the indicator carries the offline look (a hollow dot), not the green one.
    expect(screen.getByRole('status', { name: 'Connection' }).dataset.offline).toBe('true');
  });

  it('tells browser mode, where no key can be stored, to set OPENAI_API_KEY', async () => {
    const { bridge } = scriptedBridge();
    const unstorable = { ...settingsView, key: { set: false, lastFour: null, storage: 'unavailable' as const, note: 'This window cannot store an API key.' } };
    bridge.getSettings = async () => ({ ok: true, value: unstorable });
    renderApp(bridge);
    await waitFor(() => expect(screen.getByRole('note').textContent).toContain('Set OPENAI_API_KEY and restart to go online.'));
    expect(screen.getByRole('note').textContent).not.toContain('Settings');
  });

  it('suggests things to try on the empty screen, and a suggestion is sent as a message', async () => {
    const { bridge, sent } = scriptedBridge();
    renderApp(bridge);
    const suggestions = screen.getByRole('list', { name: 'Suggestions' });
    expect(within(suggestions).getAllByRole('button').length).toBeGreaterThanOrEqual(3);
    expect(await screen.findByText(/they work offline/)).toBeTruthy();
    await fireEvent.click(within(suggestions).getByRole('button', { name: /What time is it\?/ }));
    expect(sent).toEqual(['What time is it?']);
  });

  it('keeps the turn metrics in the inspector, not under the chat, and names the open panel', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    const lastTurn = { turnId: 'turn_1', fullResendBytes: 900, timeToFirstByteMs: 120, timeToFirstDeltaMs: 150, totalMs: 400, bytesSent: 300, bytesReceived: 2000, inputItemsSent: 1, chained: true, requests: 1, toolCalls: 0, inputTokens: 20, cachedTokens: 0, outputTokens: 30, costUsd: 0.001 };
    push({ type: 'turn.finished', turn: { id: 'a1', role: 'assistant', source: 'typed', text: 'Done.', status: 'completed', startedAt: 0 } });
    await screen.findByText('Done.');
    push({ type: 'inspector', summary: { ...emptySummary(), lastTurn } });
    expect(screen.queryByText(/first token/)).toBeNull();
    expect(screen.queryByRole('complementary')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Inspector' }));
    // The side panel is a landmark a screen reader can find by name.
    const panel = await screen.findByRole('complementary', { name: 'Inspector panel' });
    expect((await within(panel).findByLabelText('Last turn')).textContent).toContain('first token 150 ms');
  });

  it('offers a first-run step to paste a key: a refused key is explained and the step stays, a good one is saved', async () => {
    localStorage.clear();
    const { bridge, calls } = scriptedBridge();
    const refusal = { code: 'unauthorized' as const, message: 'api.openai.com does not accept this key: it is wrong or has been revoked. It was not saved.', hint: 'Copy the key again.' };
    let refuse = true;
    bridge.setApiKey = async () => (calls.push('set-key'), refuse ? { ok: false, problem: refusal } : { ok: true, value: { ...settingsView.key, set: true, lastFour: 'WXYZ' } });
    renderApp(bridge);
    const step = await screen.findByRole('region', { name: 'Connect your OpenAI account' });
    const box = within(step).getByLabelText('OpenAI API key') as HTMLInputElement;
    expect(box.type).toBe('password');
    await fireEvent.input(box, { target: { value: 'sk-wrong-0000' } });
    await fireEvent.click(within(step).getByRole('button', { name: 'Check and save' }));
    expect((await within(step).findByRole('alert')).textContent).toBe(`${refusal.message} ${refusal.hint}`);
    expect(box.value).toBe('sk-wrong-0000');
    refuse = false;
    await fireEvent.input(box, { target: { value: 'sk-right-WXYZ' } });
    await fireEvent.click(within(step).getByRole('button', { name: 'Check and save' }));
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Connect your OpenAI account' })).toBeNull());
    expect(calls.filter((call) => call === 'set-key')).toHaveLength(2);
    // The suggestions are still there to try.
    expect(screen.getByRole('list', { name: 'Suggestions' })).toBeTruthy();
  });

  it('lets a first run continue offline, and remembers it', async () => {
    localStorage.clear();
    const first = renderApp(scriptedBridge().bridge);
    await fireEvent.click(await screen.findByRole('button', { name: 'Continue offline' }));
    expect(screen.queryByRole('region', { name: 'Connect your OpenAI account' })).toBeNull();
    first.unmount();
    const { bridge } = scriptedBridge();
    let loaded = false;
    const getSettings = bridge.getSettings;
    bridge.getSettings = async () => {
      const view = await getSettings();
      loaded = true;
      return view;
    };
    renderApp(bridge);
    await waitFor(() => expect(loaded).toBe(true));
    await tick();
    expect(screen.getByRole('list', { name: 'Suggestions' })).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Connect your OpenAI account' })).toBeNull();
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

describe('meeting panel', () => {
  const view = (over: Partial<MeetingView> = {}): MeetingView => ({ live: false, startedAt: null, notes: '', problems: [], lines: [], ...over });

  /** A bridge whose meeting commands answer like a host holding one meeting, recording each call. */
  function meetingBridge() {
    const scripted = scriptedBridge();
    const { bridge, calls, push } = scripted;
    let current = view();
    bridge.startMeeting = async () => (calls.push('start-meeting'), (current = view({ live: true, startedAt: 1000 })), { ok: true, value: current });
    bridge.stopMeeting = async () => (calls.push('stop-meeting'), (current = { ...current, live: false }), { ok: true, value: current });
    bridge.askMeeting = async ({ question }) => (calls.push(`ask ${question}`), { ok: true, value: { text: 'At 00:03 they said: "Can you send the **report** by Friday?"' } });
    bridge.updateMeetingNotes = async () => (calls.push('update-notes'), { ok: true, value: { ...current, notes: '## Notes\n- They want the report.\n\n## Action items\n- Me: send the report' } });
    bridge.exportMeeting = async () => (calls.push('export-meeting'), { ok: true, value: { fileName: 'meeting.md', mimeType: 'text/markdown', content: '# Meeting' } });
    /** A line heard by the host: kept in its view, as the host keeps it, and pushed. */
    const hear = (id: string, speaker: 'me' | 'them', text: string, atMs: number, final = true): void => {
      const line = { id, speaker, text, final, atMs };
      current = { ...current, lines: [...current.lines.filter((kept) => kept.id !== id), line] };
      push({ type: 'meeting.line', line });
    };
    return { bridge, calls, push, hear };
  }

  it('opens from the keyboard, starts a meeting and shows each side\'s lines, timestamped, as they are heard', async () => {
    const { bridge, calls, hear } = meetingBridge();
    renderApp(bridge);
    await fireEvent.keyDown(window, { key: '$', code: 'Digit4', ctrlKey: true, shiftKey: true });
    const panel = await screen.findByRole('complementary', { name: 'Meeting panel' });
    await fireEvent.click(within(panel).getByRole('button', { name: 'Start meeting' }));
    await waitFor(() => expect(within(panel).getByRole('status', { name: 'Meeting state' }).textContent).toBe('Live'));
    expect(calls).toContain('start-meeting');
    hear('them-1', 'them', 'Can you send the', 3200, false);
    hear('me-1', 'me', 'Sure.', 6100);
    hear('them-1', 'them', 'Can you send the report by Friday?', 3200);
    const transcript = await within(panel).findByRole('list', { name: 'Transcript' });
    await waitFor(() => expect(within(transcript).getAllByRole('listitem').map((item) => item.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['00:03 Them Can you send the report by Friday?', '00:06 Me Sure.']));
    await fireEvent.click(within(panel).getByRole('button', { name: 'Stop meeting' }));
    await waitFor(() => expect(within(panel).getByRole('status', { name: 'Meeting state' }).textContent).toBe('Stopped'));
    expect(within(panel).getAllByRole('listitem')).toHaveLength(2);
  });

  it('starts and stops the meeting with Ctrl+Shift+L', async () => {
    const { bridge, calls } = meetingBridge();
    renderApp(bridge);
    await fireEvent.keyDown(window, { key: 'L', code: 'KeyL', ctrlKey: true, shiftKey: true });
    await waitFor(() => expect(calls).toContain('start-meeting'));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Meeting ●' })).toBeTruthy());
    await fireEvent.keyDown(window, { key: 'L', code: 'KeyL', ctrlKey: true, shiftKey: true });
    await waitFor(() => expect(calls).toContain('stop-meeting'));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Meeting' })).toBeTruthy());
  });

  it('says what is not working, and takes it away when it works again', async () => {
    const { bridge, push } = meetingBridge();
    renderApp(bridge);
    await fireEvent.click(screen.getByRole('button', { name: 'Meeting' }));
    const panel = await screen.findByRole('complementary', { name: 'Meeting panel' });
    const silent = { source: 'them' as const, message: 'No audio from the system for 30 s, so the other side of the call is not being heard.', hint: 'Check the output device.' };
    push({ type: 'meeting.status', status: { live: true, startedAt: 1000, notes: '', problems: [silent] } });
    const problems = await within(panel).findByRole('list', { name: 'Not working' });
    expect(problems.textContent).toContain('System audio: No audio from the system for 30 s');
    push({ type: 'meeting.status', status: { live: true, startedAt: 1000, notes: '', problems: [] } });
    await waitFor(() => expect(within(panel).queryByRole('list', { name: 'Not working' })).toBeNull());
  });

  it('shows why a meeting could not start', async () => {
    const { bridge } = meetingBridge();
    bridge.startMeeting = async () => ({ ok: false, problem: { code: 'connection_failed', message: 'Parley is not connected yet, so a meeting cannot start.', hint: 'Wait for the connection indicator.' } });
    renderApp(bridge);
    await fireEvent.click(screen.getByRole('button', { name: 'Meeting' }));
    const panel = await screen.findByRole('complementary', { name: 'Meeting panel' });
    await fireEvent.click(within(panel).getByRole('button', { name: 'Start meeting' }));
    expect((await within(panel).findByRole('alert')).textContent).toContain('Parley is not connected yet');
    expect(within(panel).getByRole('status', { name: 'Meeting state' }).textContent).toBe('Not started');
  });

  it('answers a typed question, brings the notes up to date on demand and exports Markdown', async () => {
    const { bridge, calls } = meetingBridge();
    const downloads: string[] = [];
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      downloads.push(this.download);
    };
    URL.createObjectURL ??= () => 'blob:meeting';
    URL.revokeObjectURL ??= () => undefined;
    try {
      renderApp(bridge);
      await fireEvent.click(screen.getByRole('button', { name: 'Meeting' }));
      const panel = await screen.findByRole('complementary', { name: 'Meeting panel' });
      expect((within(panel).getByRole('button', { name: 'Export as Markdown' }) as HTMLButtonElement).disabled).toBe(true);
      await fireEvent.click(within(panel).getByRole('button', { name: 'Start meeting' }));
      await waitFor(() => expect(within(panel).getByRole('status', { name: 'Meeting state' }).textContent).toBe('Live'));
      const box = within(panel).getByRole('textbox', { name: 'Ask about the meeting' });
      await fireEvent.input(box, { target: { value: 'what did they just ask?' } });
      await fireEvent.click(within(panel).getByRole('button', { name: 'Ask' }));
      const answer = await within(panel).findByRole('region', { name: 'Answer' });
      await waitFor(() => expect(answer.querySelector('strong')?.textContent).toBe('report'));
      expect(calls).toContain('ask what did they just ask?');
      expect((box as HTMLInputElement).value).toBe('');
      await fireEvent.click(within(panel).getByRole('button', { name: 'Update now' }));
      const notes = within(panel).getByRole('region', { name: 'Live notes' });
      await waitFor(() => expect(within(notes).getByRole('heading', { name: 'Action items' })).toBeTruthy());
      expect(notes.textContent).toContain('Me: send the report');
      await fireEvent.click(within(panel).getByRole('button', { name: 'Export as Markdown' }));
      await waitFor(() => expect(downloads).toEqual(['meeting.md']));
    } finally {
      HTMLAnchorElement.prototype.click = click;
    }
  });
});

describe('notices', () => {
  const lost = (attempt: number) => ({
    type: 'notice' as const,
    problem: { code: 'connection_failed' as const, message: `Connection lost (code 1006); retrying in ${attempt} s (attempt ${attempt}).`, hint: 'Your message is kept.', until: 'connected' as const },
  });
  const notices = () => within(screen.getByRole('list', { name: 'Notices' })).queryAllByRole('alert');

  it('a reconnect notice is replaced by the next attempt, and goes away once the connection is open again', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    await screen.findByRole('status', { name: 'Connection' });
    push({ type: 'connection', connection: { status: 'closed', mode: 'offline-emulator', endpoint: 'ws://x', reason: '' } });
    push(lost(1));
    push(lost(2));
    await waitFor(() => expect(notices().map((notice) => notice.textContent)).toEqual([expect.stringContaining('attempt 2')]));
    push({ type: 'connection', connection: { status: 'open', mode: 'offline-emulator', endpoint: 'ws://x' } });
    await waitFor(() => expect(screen.queryByRole('list', { name: 'Notices' })).toBeNull());
  });

  it('the same problem twice is one notice that says how many times; other notices stay when the connection opens', async () => {
    const { bridge, push } = scriptedBridge();
    renderApp(bridge);
    const saved = { type: 'notice' as const, problem: { code: 'internal' as const, message: 'History could not be saved.', hint: 'Check the disk.' } };
    push(saved);
    push(saved);
    push(saved);
    await waitFor(() => expect(notices()).toHaveLength(1));
    expect(notices()[0]?.textContent).toContain('History could not be saved.');
    expect(within(notices()[0] as HTMLElement).getByLabelText('3 times').textContent).toBe('×3');
    push({ type: 'connection', connection: { status: 'open', mode: 'offline-emulator', endpoint: 'ws://x' } });
    await tick();
    expect(notices()).toHaveLength(1);
    await fireEvent.click(within(notices()[0] as HTMLElement).getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(screen.queryByRole('list', { name: 'Notices' })).toBeNull());
  });
});

describe('picking a screen or window', () => {
  const shot = 'data:image/png;base64,iVBORw0KGgo=';
  function pickerBridge() {
    const scripted = scriptedBridge();
    const captured: Array<string | undefined> = [];
    scripted.bridge.listScreenSources = async () => ({
      ok: true,
      value: {
        sources: [
          { id: 'screen:1:0', name: 'Entire screen', kind: 'screen', thumbnail: shot },
          { id: 'window:7:0', name: 'Budget.xlsx', kind: 'window', thumbnail: shot },
          { id: 'window:8:0', name: 'Terminal', kind: 'window', thumbnail: '' },
        ],
      },
    });
    scripted.bridge.captureScreen = async (request) => (captured.push(request?.sourceId), { ok: true, value: { image: shot } });
    return { ...scripted, captured };
  }

  async function openPicker(bridge: CopilotBridge): Promise<HTMLElement> {
    renderApp(bridge);
    await fireEvent.click(screen.getByRole('button', { name: 'Ask about my screen' }));
    const list = await screen.findByRole('listbox', { name: 'Which screen or window?', hidden: true });
    await waitFor(() => expect(document.activeElement).toBe(list));
    return list;
  }

  const chosen = (list: HTMLElement) => within(list).getAllByRole('option', { hidden: true, selected: true }).map((option) => option.textContent?.trim());

  it('lists screens and windows by name; the arrow keys choose and Enter captures that one into the preview', async () => {
    const { bridge, captured } = pickerBridge();
    const list = await openPicker(bridge);
    expect(within(list).getAllByRole('option', { hidden: true }).map((option) => option.textContent?.trim())).toEqual(['Screen Entire screen', 'Window Budget.xlsx', 'No preview Window Terminal']);
    expect(chosen(list)).toEqual(['Screen Entire screen']);
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await fireEvent.keyDown(list, { key: 'ArrowUp' });
    expect(chosen(list)).toEqual(['Window Budget.xlsx']);
    expect(list.getAttribute('aria-activedescendant')).toBe(within(list).getByRole('option', { hidden: true, selected: true }).id);
    expect(captured).toEqual([]);
    await fireEvent.keyDown(list, { key: 'Enter' });
    await screen.findByRole('dialog', { name: 'Ask about this screenshot', hidden: true });
    expect(captured).toEqual(['window:7:0']);
    expect(screen.queryByRole('listbox', { hidden: true })).toBeNull();
  });

  it('Escape closes the picker and nothing is captured', async () => {
    const { bridge, captured } = pickerBridge();
    const list = await openPicker(bridge);
    const dialog = list.closest('dialog');
    expect(dialog).not.toBeNull();
    // What the browser fires on a modal dialog when Escape is pressed.
    await fireEvent(dialog as HTMLDialogElement, new Event('cancel', { cancelable: true }));
    await waitFor(() => expect(screen.queryByRole('listbox', { hidden: true })).toBeNull());
    expect(captured).toEqual([]);
    expect(screen.queryByRole('dialog', { name: 'Ask about this screenshot', hidden: true })).toBeNull();
  });
});
