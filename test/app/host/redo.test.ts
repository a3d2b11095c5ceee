/**
 * Redoing the last exchange against the emulator on loopback: Regenerate, Edit and Retry take
 * the old turn out of the agent's ledger, so the model sees each message once (the emulator
 * counts the user messages it was sent, and its recorded requests show what went out), and a
 * rate-limited turn says so while it waits. Also: which links a reply may open.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commandChannels, type PushEvent, type Turn } from '../../../app/contract';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { createCopilot, type Copilot } from '../../../app/host/copilot';
import { nextEvent, testDeps } from '../../support/copilot';

let copilot: Copilot | null = null;
let server: Emulator | null = null;
afterEach(async () => {
  await copilot?.close();
  await server?.close();
  copilot = server = null;
});

const finished = (event: PushEvent): event is Extract<PushEvent, { type: 'turn.finished' }> => event.type === 'turn.finished' && event.turn.role === 'assistant';

async function online(): Promise<Copilot> {
  server = await startEmulator({ latency: noLatency });
  copilot = createCopilot(testDeps({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseUrl }));
  await copilot.start();
  return copilot;
}

/** Runs a command that starts an agent turn and waits for its reply to finish. */
async function answered(channel: string, payload: unknown): Promise<Turn> {
  if (copilot === null) throw new Error('no copilot');
  const done = nextEvent(copilot.onEvent, finished);
  const result = await copilot.call(channel, payload);
  expect(result).toMatchObject({ ok: true });
  return (await done).turn;
}

/** The user messages the emulator received in its latest request, in order. */
function userTextsSent(): string[] {
  const input = server?.requests.at(-1)?.input;
  if (!Array.isArray(input)) return [];
  return input.flatMap((item) => {
    if (item.type !== 'message' || item.role !== 'user') return [];
    const content = (item as { content: string | Array<{ type: string; text?: string }> }).content;
    return typeof content === 'string' ? [content] : content.map((part) => part.text ?? '');
  });
}

describe('Regenerate, Edit and Retry', () => {
  it('Regenerate answers the last message again, and the model sees it once', async () => {
    await online();
    await answered(commandChannels.sendMessage, { text: 'apricots' });
    const first = await answered(commandChannels.sendMessage, { text: 'bananas' });
    expect(first.text).toContain('message 2 of our conversation');

    const again = await answered(commandChannels.regenerateReply, undefined);
    expect(again.id).toBe(first.id);
    expect(again.text).toContain('message 2 of our conversation');
    expect(userTextsSent()).toEqual(['apricots', 'bananas']);
    expect(copilot?.snapshot().turns.map((turn) => turn.text.slice(0, 20))).toEqual(['apricots', 'You said: "apricots"', 'bananas', 'You said: "bananas".']);
  });

  it('Edit replaces the last message and its reply; the next turn builds on the edited one only', async () => {
    await online();
    await answered(commandChannels.sendMessage, { text: 'apricots' });
    await answered(commandChannels.sendMessage, { text: 'bananas' });
    const edited = await answered(commandChannels.editLastMessage, { text: 'cherries' });
    expect(edited.text).toContain('You said: "cherries". This is message 2');
    // The server's chain still ended in "bananas", so the edit went with the whole window, without it.
    expect(userTextsSent()).toEqual(['apricots', 'cherries']);
    const next = await answered(commandChannels.sendMessage, { text: 'dates' });
    expect(next.text).toContain('message 3 of our conversation');
    expect(copilot?.snapshot().turns.filter((turn) => turn.role === 'user').map((turn) => turn.text)).toEqual(['apricots', 'cherries', 'dates']);
  });

  it('a rate-limited turn says it is waiting; when it fails, Retry sends the same text and the model sees it once', async () => {
    await online();
    // One more 429 than the session waits out.
    for (let attempt = 0; attempt < 4; attempt += 1) server?.inject({ kind: 'rate_limit', retryAfterS: 0.01 }, 'responses');
    const waits: Turn[] = [];
    copilot?.onEvent((event) => event.type === 'turn.started' && event.turn.waiting !== undefined && waits.push(event.turn));
    const failed = await answered(commandChannels.sendMessage, { text: 'apricots' });
    expect(failed).toMatchObject({ status: 'failed', problem: { hint: expect.stringContaining('rate limited') } });
    expect(waits).toHaveLength(3);
    expect(waits[0]?.waiting).toEqual({ reason: 'rate_limited', retryAfterMs: 10 });
    // The reply that finally failed carries no stale "waiting".
    expect(failed.waiting).toBeUndefined();

    const retried = await answered(commandChannels.regenerateReply, undefined);
    expect(retried).toMatchObject({ id: failed.id, status: 'completed' });
    expect(retried.text).toContain('your first message');
    expect(retried.problem).toBeUndefined();
    expect(userTextsSent()).toEqual(['apricots']);
  });

  it('refuses to redo anything but the newest exchange, or while a reply is coming, in words', async () => {
    await online();
    expect(await copilot?.call(commandChannels.regenerateReply, undefined)).toMatchObject({
      ok: false,
      problem: { message: 'Only the latest typed message can be answered again or edited.' },
    });
    await answered(commandChannels.sendMessage, { text: 'apricots' });
    server?.inject({ kind: 'stall', ms: 5000 }, 'responses');
    await copilot?.call(commandChannels.sendMessage, { text: 'bananas' });
    expect(await copilot?.call(commandChannels.editLastMessage, { text: 'cherries' })).toMatchObject({
      ok: false,
      problem: { code: 'busy', hint: expect.stringContaining('Stop it first') },
    });
    expect(copilot?.snapshot().turns.map((turn) => turn.text)).toContain('bananas');
  });
});

describe('openLink', () => {
  it('hands web links to the shell, and refuses every other scheme in our words', async () => {
    const opened: string[] = [];
    copilot = createCopilot({ ...testDeps({}), openExternal: async (url) => void opened.push(url) });
    expect(await copilot.call(commandChannels.openLink, { url: 'https://example.org/docs?q=1' })).toEqual({ ok: true, value: { openedBy: 'system' } });
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'parley://settings', '/relative', 'not a url']) {
      expect(await copilot.call(commandChannels.openLink, { url })).toEqual({
        ok: false,
        problem: { code: 'invalid_payload', message: 'Parley opens only web links (http:// or https://).', hint: expect.any(String) },
      });
    }
    expect(opened).toEqual(['https://example.org/docs?q=1']);
  });

  it('leaves a checked link to the page where there is no shell (browser mode)', async () => {
    copilot = createCopilot(testDeps({}));
    expect(await copilot.call(commandChannels.openLink, { url: 'http://example.org/' })).toEqual({ ok: true, value: { openedBy: 'page' } });
  });
});
