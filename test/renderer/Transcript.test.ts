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
});
