import { render, screen, fireEvent, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { ToolActivity, Turn } from '../../app/contract';
import Transcript from '../../renderer/components/Transcript.svelte';

const turn = (index: number, role: Turn['role'] = index % 2 === 0 ? 'user' : 'assistant'): Turn => ({
  id: `t${index}`,
  role,
  source: 'typed',
  text: `turn number ${index}`,
  status: 'completed',
  startedAt: index * 1000,
});

describe('Transcript', () => {
  it('renders only the newest turns of a long conversation, with the rest a click away', async () => {
    const turns = Array.from({ length: 450 }, (_, index) => turn(index));
    render(Transcript, { props: { turns, streaming: false } });
    expect(screen.getAllByRole('listitem')).toHaveLength(200);
    expect(screen.queryByText('turn number 0')).toBeNull();
    expect(screen.getByText('turn number 449')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: /Show 200 earlier turns \(250 hidden\)/ }));
    expect(screen.getAllByRole('listitem')).toHaveLength(400);
  });

  it('shows the tools a reply used inline, expandable', () => {
    const tool: ToolActivity = {
      callId: 'c1',
      name: 'search_notes',
      source: 'builtin',
      risk: 'private',
      caller: 'agent',
      arguments: { query: 'TODO' },
      status: 'succeeded',
      startedAt: 1500,
      durationMs: 12,
      resultPreview: '2 notes',
      error: null,
    };
    render(Transcript, { props: { turns: [turn(0), turn(1), turn(2)], streaming: false, tools: [tool] } });
    const summary = screen.getByText(/Used/);
    expect(summary.closest('li')?.textContent).toContain('turn number 1');
    expect(summary.textContent).toContain('search_notes');
    expect(summary.closest('details')?.textContent).toContain('{"query":"TODO"}');
  });

  it('copies a turn and announces finished replies once, politely', async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(Transcript, { props: { turns: [turn(0), turn(1)], streaming: false } });
    await fireEvent.click(screen.getByRole('button', { name: "Copy Parley's reply" }));
    expect(writeText).toHaveBeenCalledWith('turn number 1');
    await waitFor(() => expect(screen.getByRole('button', { name: "Copy Parley's reply" }).textContent).toBe('Copied'));
    const live = document.querySelector('[aria-live="polite"]');
    expect(live?.textContent).toBe('Parley: turn number 1');
  });

  it('renders a reply as Markdown: a list, a link opened through the app, a code block whose Copy copies the code', async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const onOpenLink = vi.fn();
    const reply = { ...turn(1), text: 'See [the docs](https://example.org/docs):\n\n- one\n- two\n\n```js\nconst a = 1;\n```' };
    render(Transcript, { props: { turns: [turn(0), reply], streaming: false, onOpenLink } });
    expect(screen.getAllByRole('listitem').map((item) => item.textContent)).toEqual(expect.arrayContaining(['one', 'two']));
    const link = screen.getByRole('link', { name: 'the docs' });
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(onOpenLink).toHaveBeenCalledWith('https://example.org/docs');
    await fireEvent.click(screen.getByRole('button', { name: 'Copy code' }));
    expect(writeText).toHaveBeenCalledWith('const a = 1;');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Copy code' }).textContent).toBe('Copied'));
  });

  it('shows raw HTML in a reply as text and keeps no script, handler or non-web link', () => {
    const onOpenLink = vi.fn();
    const reply = { ...turn(1), text: '<script>window.pwned = 1</script>\n\n<img src=x onerror="window.pwned = 2">\n\n[run](javascript:alert(1)) [disk](file:///etc/passwd) [call](tel:123) [inside](/settings)' };
    render(Transcript, { props: { turns: [turn(0), reply], streaming: false, onOpenLink } });
    const bubble = document.querySelector('li[data-role="assistant"] .bubble');
    expect(bubble?.textContent).toContain('<script>window.pwned = 1</script>');
    expect(bubble?.querySelector('script, img, [onerror]')).toBeNull();
    expect(bubble?.querySelectorAll('a[href]')).toHaveLength(0);
    screen.getByText('run').click();
    expect(onOpenLink).not.toHaveBeenCalled();
  });

  it('offers Edit on your last message and Retry on its failed reply, and says when the service makes it wait', async () => {
    const onRegenerate = vi.fn();
    const onEdit = vi.fn(async () => true);
    const failed: Turn = { ...turn(3), status: 'failed', text: '', problem: { code: 'server_error', message: 'The server could not answer.', hint: 'Try again.' } };
    const { rerender } = render(Transcript, { props: { turns: [turn(0), turn(1), turn(2), failed], streaming: false, onRegenerate, onEdit } });
    // Only the newest exchange can be redone.
    expect(screen.getAllByRole('button', { name: 'Edit' })).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(onRegenerate).toHaveBeenCalledOnce();

    await fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    const box = screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Edit your message' });
    expect(box.value).toBe('turn number 2');
    expect(document.activeElement).toBe(box);
    await fireEvent.input(box, { target: { value: 'turn number 2, edited' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onEdit).toHaveBeenCalledWith('turn number 2, edited');
    await waitFor(() => expect(screen.queryByRole('textbox', { name: 'Edit your message' })).toBeNull());

    const waiting: Turn = { ...turn(3), status: 'streaming', text: '', waiting: { reason: 'rate_limited', retryAfterMs: 2000 } };
    await rerender({ turns: [turn(0), turn(1), turn(2), waiting], streaming: true });
    expect(screen.getByRole('status').textContent).toBe('The service is rate-limiting requests; Parley will try again in 2 s.');
  });

  it('points a failed reply\'s hint at its Retry button, and leaves an older failure\'s hint alone', () => {
    const problem = { code: 'connection_failed' as const, message: 'The connection closed before the reply finished.', hint: 'Send your message again; the connection reopens on its own.' };
    const older: Turn = { ...turn(1), status: 'failed', text: '', problem };
    const last: Turn = { ...turn(3), status: 'failed', text: '', problem };
    render(Transcript, { props: { turns: [turn(0), older, turn(2), last], streaming: false } });
    const [olderNote, lastNote] = screen.getAllByRole('note').filter((note) => note.classList.contains('problem'));
    expect(lastNote?.textContent).toBe('The connection closed before the reply finished. Press Retry; the connection reopens on its own.');
    expect(lastNote?.closest('li')?.querySelector('button.retry')?.textContent).toBe('Retry');
    // The older failure has no Retry beside it, so its advice stays as the app wrote it.
    expect(olderNote?.textContent).toContain('Send your message again');
    expect(document.querySelector('[aria-live="polite"]')?.textContent).toBe('Parley could not reply: The connection closed before the reply finished. Press Retry; the connection reopens on its own.');
  });

  it('counts turns that arrive while scrolled up (voice, another window) on the pill, and follows again when you send', async () => {
    const turns = [turn(0), turn(1), turn(2), turn(3)];
    const { rerender } = render(Transcript, { props: { turns, streaming: false } });
    // jsdom lays nothing out: give the transcript a tall content and a short view it can scroll in.
    const viewport = screen.getByRole('region', { name: 'Transcript' });
    let top = 0;
    Object.defineProperty(viewport, 'scrollHeight', { configurable: true, get: () => 5000 });
    Object.defineProperty(viewport, 'clientHeight', { configurable: true, get: () => 400 });
    Object.defineProperty(viewport, 'scrollTop', { configurable: true, get: () => top, set: (value: number) => (top = value) });
    const scrollTo = async (to: number): Promise<void> => {
      top = to;
      await fireEvent.scroll(viewport);
    };
    const pill = (): string | null => screen.queryByRole('button', { name: /Jump to latest/ })?.textContent?.trim() ?? null;
    await scrollTo(4600);
    expect(pill()).toBeNull();
    await scrollTo(1000);
    expect(pill()).toBe('Jump to latest');

    const voice = (index: number): Turn => ({ ...turn(index), source: 'voice' });
    const withVoice = [...turns, voice(4), voice(5)];
    await rerender({ turns: withVoice });
    expect(pill()).toBe('Jump to latest · 2 new');
    // A typed exchange from another window is new here too, and does not pull the reader down.
    const fromElsewhere = [...withVoice, turn(6), turn(7)];
    await rerender({ turns: fromElsewhere });
    expect(pill()).toBe('Jump to latest · 4 new');
    expect(top).toBe(1000);
    // A reply streaming into (or regenerated in) the same turn is not another new turn.
    await rerender({ turns: [...fromElsewhere.slice(0, -1), { ...turn(7), text: 'turn number 7, regenerated' }] });
    expect(pill()).toBe('Jump to latest · 4 new');

    // Sending from this window brings the end, and your message, into view.
    await rerender({ sending: true });
    await waitFor(() => expect(pill()).toBeNull());
    expect(top).toBe(5000);
  });
});
