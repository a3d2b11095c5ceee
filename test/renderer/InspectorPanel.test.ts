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
