import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { InspectorEvent } from '../../app/contract';
import { InspectorLog } from '../../app/inspector/log';
import InspectorPanel from '../../renderer/components/InspectorPanel.svelte';

const turnMetrics = { fullResendBytes: 900, timeToFirstDeltaMs: 150, bytesSent: 300, bytesReceived: 2000, inputItemsSent: 1, chained: true, requests: 1, toolCalls: 0, inputTokens: 20, cachedTokens: 0, outputTokens: 30, costUsd: 0.001 };

function renderWith(events: InspectorEvent[], startedAt = 0) {
  const log = new InspectorLog();
  for (const event of events) log.record(event);
  return render(InspectorPanel, { props: { summary: log.summary, events: log.events, connection: { status: 'starting' }, startedAt, offline: true } });
}

describe('the inspector', () => {
  it('tells an agent reconnect from a voice one, and a voice recovery from an agent rehydration', () => {
    const log = new InspectorLog();
    const events: InspectorEvent[] = [
      { socket: 'agent', type: 'reconnect', at: 1000, attempt: 1, delayMs: 500, code: 1006 },
      { socket: 'agent', type: 'rehydration', at: 1600, reason: 'reconnect', items: 4 },
      { socket: 'voice', type: 'reconnect', at: 2000, attempt: 1, delayMs: 500, code: 1006 },
      { socket: 'voice', type: 'recovery', at: 2600, items: 3 },
      { socket: 'transcription', type: 'reconnect', at: 3000, attempt: 2, delayMs: 1000, code: 1011 },
    ];
    for (const event of events) log.record(event);
    render(InspectorPanel, { props: { summary: log.summary, events: log.events, connection: { status: 'starting' }, startedAt: 0, offline: true } });

    const rows = within(screen.getByRole('list', { name: 'Event log' }))
      .getAllByRole('listitem')
      .map((row) => row.querySelector('.type')?.textContent);
    expect(rows).toEqual(['transcription reconnect', 'voice recovery', 'voice reconnect', 'agent rehydration', 'agent reconnect']);

    const counters = within(screen.getByLabelText('Counters'));
    expect(counters.getByText('Agent reconnects').nextElementSibling?.textContent).toBe('1');
    expect(counters.getByText('Voice reconnects').nextElementSibling?.textContent).toBe('2');
    expect(counters.getByText('Rehydrations').nextElementSibling?.textContent).toBe('1');
    expect(counters.getByText('Voice recoveries').nextElementSibling?.textContent).toBe('1');

    const options = [...screen.getByRole('combobox', { name: 'Filter events' }).querySelectorAll('option')].map((option) => option.value);
    expect(options).toEqual(['all', 'agent reconnect', 'agent rehydration', 'voice reconnect', 'voice recovery', 'transcription reconnect']);
  });
});

describe('the latency chart', () => {
  it('shows a voice turn beside an agent turn, and keeps the agent figures the agent’s', () => {
    const log = new InspectorLog();
    const agentTurn = { turnId: 'turn_1', fullResendBytes: 900, timeToFirstByteMs: 120, timeToFirstDeltaMs: 150, totalMs: 400, bytesSent: 300, bytesReceived: 2000, inputItemsSent: 1, chained: true, requests: 1, toolCalls: 0, inputTokens: 20, cachedTokens: 0, outputTokens: 30, costUsd: 0.001 };
    const voiceTurn = { ...agentTurn, turnId: 'resp_voice', fullResendBytes: 0, timeToFirstByteMs: 350, timeToFirstDeltaMs: 300, totalMs: 1800, bytesSent: 0, bytesReceived: 0, inputItemsSent: 0, chained: false, costUsd: 0.02 };
    log.record({ socket: 'agent', type: 'turn.finished', at: 1000, status: 'completed', metrics: agentTurn });
    log.record({ socket: 'voice', type: 'turn.finished', at: 3000, status: 'completed', metrics: voiceTurn });
    render(InspectorPanel, { props: { summary: log.summary, events: log.events, connection: { status: 'starting' }, startedAt: 0, offline: true } });

    const chart = screen.getByRole('img', { name: /Latency of the last/ });
    expect(chart.getAttribute('aria-label')).toBe('Latency of the last 2 turns, scale 0 to 2 s; last total 1800 ms');
    const bars = [...chart.querySelectorAll('rect[data-socket]')].map((bar) => [bar.getAttribute('data-socket'), bar.querySelector('title')?.textContent]);
    expect(bars).toEqual([
      ['agent', 'total 400 ms, first byte 120 ms'],
      ['voice', 'voice turn: total 1800 ms, first audio 350 ms'],
    ]);
    // The voice turn's cost is metered on its own: the agent's text cost and bytes are the agent turn's.
    const cost = within(screen.getByLabelText('Cost'));
    expect(cost.getByText('Agent (text)').nextElementSibling?.textContent).toBe('$0.0010');
    expect(within(screen.getByLabelText('Bytes')).getByText('300 B')).toBeTruthy();
  });
});

describe('the latency chart scale', () => {
  /** Nine turns near 400 ms and one of 12 s, each with its first byte at a quarter of its total. */
  const turns = [380, 420, 400, 390, 410, 12_000, 405, 395, 415, 400].map(
    (totalMs, index): InspectorEvent => ({ socket: 'agent', type: 'turn.finished', at: 1000 + index, status: 'completed', metrics: { ...turnMetrics, turnId: `t${index}`, totalMs, timeToFirstByteMs: totalMs / 4 } }),
  );

  it('has a labelled time axis in ms, and one slow turn does not flatten the rest: its bar is cut off and says its value', () => {
    renderWith(turns);
    const chart = screen.getByRole('img', { name: /Latency of the last 10 turns/ });
    const ticks = [...chart.querySelectorAll('.axis span')].map((tick) => tick.textContent);
    expect(ticks).toEqual(['200 ms', '400 ms', '600 ms', '800 ms', '0']);
    expect(chart.getAttribute('aria-label')).toContain('1 above the scale, cut off');
    // The ordinary bars stand about half the height, instead of a thirtieth of it under a 12 s top.
    const heights = [...chart.querySelectorAll('rect.total')].map((bar) => Number(bar.getAttribute('height')));
    expect(heights[0]).toBeGreaterThan(40);
    expect(heights[5]).toBe(100);
    expect([...chart.querySelectorAll('.clipped')].map((label) => [label.getAttribute('data-turn'), label.textContent])).toEqual([['t5', '12 s']]);
    expect(chart.querySelectorAll('rect.cut')).toHaveLength(1);
    // The first-byte part is drawn at its share of the bar, not flattened to nothing.
    const firstBytes = [...chart.querySelectorAll('rect.ttfb')].map((bar) => Number(bar.getAttribute('height')));
    expect(firstBytes[0]).toBeGreaterThan(10);
    expect(screen.getByText(/goes past 800 ms; its total is written above it/)).toBeTruthy();
  });

  it('scales to the tallest bar when no turn stands out', () => {
    renderWith(turns.filter((_, index) => index !== 5));
    const chart = screen.getByRole('img', { name: /Latency of the last 9 turns/ });
    expect([...chart.querySelectorAll('.axis span')].map((tick) => tick.textContent)).toEqual(['200 ms', '400 ms', '600 ms', '0']);
    expect(chart.querySelectorAll('.clipped')).toHaveLength(0);
  });
});

describe('the timeline', () => {
  const at = new Date(2026, 11, 2, 14, 3, 12).getTime();
  const compactions = Array.from({ length: 12 }, (_, index): InspectorEvent => ({ socket: 'agent', type: 'compaction', at: at + index * 2000, mode: 'server', tokensBefore: 9000, tokensAfter: 2000 }));

  it('twelve compactions close together are one focusable mark that says ×12, and opening it lists each with its clock time', async () => {
    // The timeline spans from the session's start to now, so now is pinned just after the last
    // compaction: on the wall clock, a day later, the whole session would shrink into one mark.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at + 30_000);
    onTestFinished(() => {
      vi.useRealTimers();
    });
    renderWith([{ socket: 'agent', type: 'warmup', at: at - 30 * 60_000, durationMs: 80, items: 3 }, ...compactions], at - 31 * 60_000);
    const timeline = screen.getByRole('group', { name: /Session timeline: 13 events in 2 marks/ });
    const marks = within(timeline).getAllByRole('button');
    expect(marks.map((mark) => mark.textContent?.trim())).toEqual(['', '×12']);
    const group = marks[1] as HTMLButtonElement;
    expect(group.getAttribute('aria-label')).toMatch(/^12 × compaction, 14:03:12 \(.+\) to 14:03:34 \(.+\)$/);
    expect(group.getAttribute('title')?.split('\n')).toHaveLength(12);
    group.focus();
    expect(document.activeElement).toBe(group);
    await fireEvent.click(group);
    const list = screen.getByRole('list', { name: 'Events in this mark' });
    const times = within(list).getAllByRole('listitem').map((row) => row.querySelector('.when')?.textContent?.slice(0, 8));
    expect(times).toEqual(['14:03:12', '14:03:14', '14:03:16', '14:03:18', '14:03:20', '14:03:22', '14:03:24', '14:03:26', '14:03:28', '14:03:30', '14:03:32', '14:03:34']);
    expect(group.getAttribute('aria-expanded')).toBe('true');
  });

  it('the event log shows the clock time with how long ago it was', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at + 2 * 60_000 + 5000);
    try {
      renderWith(compactions.slice(0, 1));
      expect(within(screen.getByRole('list', { name: 'Event log' })).getByText(/^14:03:12/).textContent).toBe('14:03:12 (2 min ago)');
    } finally {
      vi.useRealTimers();
    }
  });
});
