import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { InspectorEvent } from '../../app/contract';
import { InspectorLog } from '../../app/inspector/log';
import InspectorPanel from '../../renderer/components/InspectorPanel.svelte';

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
    expect(chart.getAttribute('aria-label')).toBe('Latency of the last 2 turns; last total 1800 ms');
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
