import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandChannels, type ConversationSummary, type CurrentConversation, type MeetingView, type PushEvent, type SettingsView, type Turn } from '../../../app/contract';
import { createCopilot, type Copilot, type CopilotDeps } from '../../../app/host/copilot';
import { fastScheduler, RecordingSink, ScriptedMic } from '../../../app/testing';
import { nextEvent, testDeps } from '../../support/copilot';

let dir: string;
const running: Copilot[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-host-history-'));
});

afterEach(async () => {
  for (const copilot of running.splice(0)) await copilot.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startCopilot(overrides: Partial<CopilotDeps> = {}): Promise<Copilot> {
  const copilot = createCopilot({ ...testDeps({}), openHistory: () => new Database(join(dir, 'history.sqlite')), ...overrides });
  running.push(copilot);
  await copilot.start();
  return copilot;
}

async function stop(copilot: Copilot): Promise<void> {
  running.splice(running.indexOf(copilot), 1);
  await copilot.close();
}

const finished = (event: PushEvent): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.role === 'assistant';

async function send(copilot: Copilot, text: string): Promise<Turn> {
  const done = nextEvent(copilot.onEvent, finished);
  expect(await copilot.call(commandChannels.sendMessage, { text })).toMatchObject({ ok: true });
  return (await done).turn;
}

async function value<T>(result: Promise<unknown>): Promise<T> {
  const settled = (await result) as { ok: boolean; value?: T; problem?: unknown };
  if (!settled.ok) throw new Error(`command failed: ${JSON.stringify(settled.problem)}`);
  return settled.value as T;
}

describe('conversation history in the composition root', () => {
  it('saves each turn as it happens, and a conversation opened after a restart resumes with its context', async () => {
    const first = await startCopilot();
    // The window hears of each save, with the name the conversation got from its first message.
    const saved = nextEvent(first.onEvent, (event): event is Extract<PushEvent, { type: 'history' }> => event.type === 'history' && event.current.title !== null);
    expect((await send(first, 'hello there')).text).toContain('your first message');
    expect((await saved).current).toMatchObject({ title: 'hello there', private: false });
    expect((await send(first, 'tell me about otters')).text).toContain('message 2 of our conversation');
    // Saved while running, not at exit: a second reader sees both turns now.
    const reader = new Database(join(dir, 'history.sqlite'), { readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM turns').get()).toEqual({ n: 4 });
    reader.close();
    await stop(first);

    const second = await startCopilot();
    const [listed] = await value<ConversationSummary[]>(second.call(commandChannels.listConversations, undefined));
    expect(listed).toMatchObject({ title: 'hello there', turnCount: 4 });
    expect(await value<CurrentConversation>(second.call(commandChannels.openConversation, { id: listed?.id }))).toEqual({ id: listed?.id, title: 'hello there', private: false });
    expect(second.snapshot().turns.map((turn) => turn.text.slice(0, 20))).toHaveLength(4);

    const reply = await send(second, 'and beavers?');
    // The emulator counts the user messages it was sent: the agent got the saved ledger back.
    expect(reply.text).toContain('message 3 of our conversation');
    const rehydration = second.snapshot().events.find((event) => event.type === 'rehydration');
    // Two saved turns of three items each (message, reasoning, answer), and the new message.
    expect(rehydration).toMatchObject({ reason: 'resume', items: 7 });
    expect(second.snapshot().inspector.lastTurn).toMatchObject({ chained: false, inputItemsSent: 7 });
    // The next turn chains on the live socket again.
    await send(second, 'thanks');
    expect(second.snapshot().inspector.lastTurn).toMatchObject({ chained: true });
    const reopened = await value<ConversationSummary[]>(second.call(commandChannels.listConversations, undefined));
    expect(reopened).toHaveLength(1);
    expect(reopened[0]?.turnCount).toBe(8);
  });

  it('saves a regenerated or edited turn in place of the old one, so a resumed conversation has each message once', async () => {
    const first = await startCopilot();
    await send(first, 'apricots');
    await send(first, 'bananas');
    const regenerated = nextEvent(first.onEvent, finished);
    expect(await first.call(commandChannels.regenerateReply, undefined)).toMatchObject({ ok: true });
    expect((await regenerated).turn.text).toContain('message 2 of our conversation');
    const edited = nextEvent(first.onEvent, finished);
    expect(await first.call(commandChannels.editLastMessage, { text: 'cherries' })).toMatchObject({ ok: true });
    expect((await edited).turn.text).toContain('You said: "cherries". This is message 2');
    await stop(first);
    // The saved ledger holds what the agent holds: the old turns' items were overwritten, not kept.
    const reader = new Database(join(dir, 'history.sqlite'), { readonly: true });
    const items = reader.prepare<[], { item: string }>('SELECT item FROM ledger ORDER BY seq').all().map((row) => row.item);
    reader.close();
    expect(items.filter((item) => item.includes('"role":"user"')).map((item) => /apricots|bananas|cherries/.exec(item)?.[0])).toEqual(['apricots', 'cherries']);
    expect(items.join('\n')).not.toContain('bananas');

    const second = await startCopilot();
    const [saved] = await value<ConversationSummary[]>(second.call(commandChannels.listConversations, undefined));
    await value(second.call(commandChannels.openConversation, { id: saved?.id }));
    expect(second.snapshot().turns.filter((turn) => turn.role === 'user').map((turn) => turn.text)).toEqual(['apricots', 'cherries']);
    expect((await send(second, 'dates')).text).toContain('message 3 of our conversation');
  });

  it('never writes a private conversation, and the next new one is saved again', async () => {
    const copilot = await startCopilot();
    await value(copilot.call(commandChannels.newConversation, { private: true }));
    expect(await value<CurrentConversation>(copilot.call(commandChannels.currentConversation, undefined))).toMatchObject({ private: true });
    await send(copilot, 'my secret plan about zeppelins');
    expect(await value(copilot.call(commandChannels.listConversations, undefined))).toEqual([]);
    expect(await value(copilot.call(commandChannels.searchConversations, { query: 'zeppelins' }))).toEqual([]);
    const raw = new Database(join(dir, 'history.sqlite'), { readonly: true });
    expect(raw.prepare("SELECT count(*) AS n FROM turns WHERE text LIKE '%zeppelin%'").get()).toEqual({ n: 0 });
    raw.close();

    await value(copilot.call(commandChannels.newConversation, undefined));
    await send(copilot, 'a public question about kites');
    const hits = await value<Array<{ title: string }>>(copilot.call(commandChannels.searchConversations, { query: 'kites' }));
    expect(hits.map((hit) => hit.title)).toEqual(['a public question about kites']);
  });

  it('renames, exports as Markdown and JSON, and deletes; deleting the one on screen clears it', async () => {
    const copilot = await startCopilot();
    await send(copilot, 'hello');
    const current = await value<CurrentConversation>(copilot.call(commandChannels.currentConversation, undefined));
    expect(await value(copilot.call(commandChannels.renameConversation, { id: current.id, title: 'Greetings' }))).toMatchObject({ title: 'Greetings' });

    const markdown = await value<{ fileName: string; content: string }>(copilot.call(commandChannels.exportConversation, { id: current.id, format: 'markdown' }));
    expect(markdown.fileName).toBe('greetings.md');
    expect(markdown.content).toMatch(/^# Greetings\n/);
    expect(markdown.content).toContain('## You\n\nhello\n');
    expect(markdown.content).toMatch(/## Parley\n\nHello!/);
    const json = await value<{ content: string }>(copilot.call(commandChannels.exportConversation, { id: current.id, format: 'json' }));
    const parsed = JSON.parse(json.content) as { ledger: Array<{ type: string; role?: string }> };
    expect(parsed).toMatchObject({ format: 'parley-conversation', title: 'Greetings', turns: [{ role: 'user', text: 'hello' }, { role: 'assistant' }] });
    expect(parsed.ledger.map((item) => item.role ?? item.type)).toEqual(['user', 'reasoning', 'assistant']);

    const after = await value<CurrentConversation>(copilot.call(commandChannels.deleteConversation, { id: current.id }));
    expect(after.id).not.toBe(current.id);
    expect(copilot.snapshot().turns).toEqual([]);
    expect(await value(copilot.call(commandChannels.listConversations, undefined))).toEqual([]);
    expect(await copilot.call(commandChannels.openConversation, { id: current.id })).toMatchObject({ ok: false, problem: { message: 'That conversation is no longer saved.' } });
  });

  it('removes conversations older than the retention setting at start, and keeps them when set to keep for ever', async () => {
    const day = 86_400_000;
    let clock = 1 * day;
    const now = (): number => clock;
    const first = await startCopilot({ now });
    await send(first, 'an old thought');
    await stop(first);

    clock = 100 * day;
    const forever = await startCopilot({ now });
    expect(await value<unknown[]>(forever.call(commandChannels.listConversations, undefined))).toHaveLength(1);
    // Changing the setting applies it at once.
    await value<SettingsView>(forever.call(commandChannels.updateSettings, { patch: { historyRetentionDays: 90 } }));
    expect(await value(forever.call(commandChannels.listConversations, undefined))).toEqual([]);
    expect(await forever.call(commandChannels.updateSettings, { patch: { historyRetentionDays: 7 } })).toMatchObject({ ok: false, problem: { message: expect.stringContaining('30 days or 90 days') } });
  });

  it('keeps working, unsaved, when the history database cannot be opened, and says why', async () => {
    const notices: PushEvent[] = [];
    const copilot = createCopilot({
      ...testDeps({}),
      openHistory: () => {
        throw new Error('unable to open database file');
      },
    });
    running.push(copilot);
    copilot.onEvent((event) => event.type === 'notice' && notices.push(event));
    await copilot.start();
    expect(notices).toEqual([{ type: 'notice', problem: expect.objectContaining({ message: 'Conversation history could not be opened: unable to open database file.' }) }]);
    expect((await send(copilot, 'hello')).status).toBe('completed');
    expect(await copilot.call(commandChannels.listConversations, undefined)).toMatchObject({ ok: false, problem: { message: expect.stringContaining('could not be opened') } });
  });
});

describe('a meeting saved with its conversation', () => {
  /** A copilot with a meeting started in its conversation; `voice` is the same scripted audio for the next run. */
  async function meetingStarted() {
    const me = new ScriptedMic();
    const them = new ScriptedMic();
    const voice = { createMic: () => me, createSystemAudio: () => them, createSpeaker: () => new RecordingSink(), scheduler: fastScheduler(20) };
    const first = await startCopilot({ voice });
    const conversation = await value<CurrentConversation>(first.call(commandChannels.currentConversation, {}));
    await value(first.call(commandChannels.startMeeting, {}));
    const line = (speaker: 'me' | 'them') => nextEvent(first.onEvent, (event): event is Extract<PushEvent, { type: 'meeting.line' }> => event.type === 'meeting.line' && event.line.final && event.line.speaker === speaker);
    return { me, them, voice, first, conversation, line };
  }

  it('keeps the transcript and notes with the conversation, and shows them again when it is reopened after a restart', async () => {
    const { me, them, voice, first, conversation, line } = await meetingStarted();
    const theirs = line('them');
    them.speak(700);
    them.silence(600);
    await theirs;
    const mine = line('me');
    me.speak(400);
    me.silence(600);
    await mine;
    const held = await value<MeetingView>(first.call(commandChannels.stopMeeting, {}));
    expect(held.notes).toMatch(/## Action items/);
    await stop(first);

    const second = await startCopilot({ voice });
    const listed = await value<ConversationSummary[]>(second.call(commandChannels.listConversations, {}));
    expect(listed.map((entry) => entry.id)).toEqual([conversation.id]);
    expect(await value<MeetingView>(second.call(commandChannels.getMeeting, {}))).toMatchObject({ startedAt: null, lines: [] });
    const shown: PushEvent[] = [];
    second.onEvent((event) => void shown.push(event));
    await value(second.call(commandChannels.openConversation, { id: conversation.id }));
    const reopened = await value<MeetingView>(second.call(commandChannels.getMeeting, {}));
    expect(reopened).toMatchObject({ live: false, startedAt: Math.round(held.startedAt ?? Number.NaN), notes: held.notes });
    expect(reopened.lines.map((entry) => [entry.speaker, entry.text])).toEqual(held.lines.filter((entry) => entry.final).map((entry) => [entry.speaker, entry.text]));
    // The window hears of it: the status, then each line.
    expect(shown.filter((event) => event.type === 'meeting.line')).toHaveLength(2);
    const exported = await value<{ content: string }>(second.call(commandChannels.exportMeeting, {}));
    expect(exported.content).toMatch(/- \*\*\d\d:\d\d Them:\*\*[\s\S]*- \*\*\d\d:\d\d Me:\*\*/);
  });

  it('answers a question about a meeting reopened from history, from its saved transcript', async () => {
    const { them, voice, first, conversation, line } = await meetingStarted();
    const theirs = line('them');
    them.speak(1100);
    them.silence(600);
    const heard = (await theirs).line.text;
    await value(first.call(commandChannels.stopMeeting, {}));
    await stop(first);

    const second = await startCopilot({ voice });
    await value(second.call(commandChannels.openConversation, { id: conversation.id }));
    const reply = await send(second, 'what did they just ask?');
    expect(reply.text).toMatch(/^At \d\d:\d\d they said: "/);
    expect(reply.text).toContain(heard);
  });
});
