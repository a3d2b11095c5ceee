/**
 * Why a socket stopped being used, as the inspector shows it: the agent session's events go
 * through the host's translator into the inspector log, against the emulator on loopback. Only a
 * real rollover (the socket reaching its age limit) counts as one or says "rolled over".
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState, InspectorEvent } from '../../../app/contract';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { agentEventTranslator } from '../../../app/host/events';
import { InspectorLog } from '../../../app/inspector/log';
import { userMessage } from '../../../app/protocol/responses';
import type { SessionSettings } from '../../../app/responses/settings';
import type { ResponsesSessionOptions } from '../../../app/responses/session';
import { defaultSettings } from '../../../app/settings/schema';
import { ManualClock } from '../../../app/testing';
import { recordingLogger } from '../../support/copilot';
import { testSession } from '../../support/sessions';

let emulator: Emulator | null = null;
afterEach(async () => {
  await emulator?.close();
  emulator = null;
});

const minutes = (count: number) => count * 60_000;

/** A session whose every event lands in an inspector log, the way the host wires it. */
async function inspected(settings: Partial<SessionSettings>, options: Partial<Omit<ResponsesSessionOptions, 'settings' | 'baseUrl'>> = {}) {
  emulator = await startEmulator({ latency: noLatency });
  const inspector = new InspectorLog();
  let connection: ConnectionState = { status: 'starting' };
  const translate = agentEventTranslator({
    session: () => run.session,
    endpoint: () => ({ mode: 'offline-emulator', endpoint: emulator?.baseUrl ?? '' }),
    connection: () => connection,
    setConnection: (next) => (connection = next),
    settings: () => defaultSettings,
    inspector,
    emit: () => undefined,
    notice: () => undefined,
    log: recordingLogger(),
    now: () => 0,
  });
  const run = testSession(emulator.baseUrl, settings, { ...options, onEvent: (event) => translate(event) });
  const closes = () => inspector.events.filter((event): event is Extract<InspectorEvent, { type: 'socket.closed' }> => event.type === 'socket.closed').map((event) => event.reason);
  return { ...run, inspector, closes, emulator };
}

describe('retired sockets in the inspector', () => {
  it('a socket past its rollover age is replaced, counted as a rollover, and closed as "rolled over"', async () => {
    const clock = new ManualClock();
    // Parley's clock only: the emulator's own 60-minute limit stays far off, so nothing but the rollover replaces the socket.
    const { session, inspector, closes } = await inspected({ rolloverAfterMs: minutes(55) }, { now: clock.now });
    await session.runTurn([userMessage('one')]);
    expect(inspector.summary.rollovers).toBe(0);
    await clock.advance(minutes(56));
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.text).toContain('message 2 of our conversation');
    expect(inspector.summary.rollovers).toBe(1);
    await expect.poll(closes).toEqual(['rolled over']);
    expect(inspector.summary.reconnects).toBe(0);
    session.close();
  });

  it('a dropped socket is a reconnect: no rollover counted, nothing says "rolled over"', async () => {
    const { session, inspector, closes, emulator: server } = await inspected({ warmup: 'off' }, { sleep: async () => undefined });
    await session.runTurn([userMessage('one')]);
    server.inject({ kind: 'drop_socket', closeCode: 1011, afterDeltas: 1 });
    const turn = await session.runTurn([userMessage('two')]);
    expect(turn.text).toContain('message 2 of our conversation');
    expect(inspector.summary).toMatchObject({ reconnects: 1, rehydrations: 1, rollovers: 0 });
    expect(closes()).toHaveLength(1);
    expect(closes()).not.toContain('rolled over');
    session.close();
  });

  it('a cancelled reply retires its socket as "reply cancelled", not as a rollover', async () => {
    const { session, inspector, closes, emulator: server } = await inspected({ warmup: 'off' }, { stallTimeoutMs: minutes(10) });
    await session.runTurn([userMessage('one')]);
    server.inject({ kind: 'stall' });
    const controller = new AbortController();
    const stuck = session.runTurn([userMessage('two')], { signal: controller.signal });
    await expect.poll(() => session.lanesInFlight).toBe(1);
    controller.abort();
    await stuck;
    await expect.poll(closes).toEqual(['reply cancelled']);
    expect(inspector.summary.rollovers).toBe(0);
    session.close();
  });

  it('a stalled reply retires its socket as "reply stalled"', async () => {
    const { session, inspector, closes, emulator: server } = await inspected({ warmup: 'off' }, { stallTimeoutMs: 300 });
    server.inject({ kind: 'stall' });
    const turn = await session.runTurn([userMessage('one')]);
    expect(turn.status).toBe('completed');
    await expect.poll(closes).toEqual(['reply stalled']);
    expect(inspector.summary.rollovers).toBe(0);
    session.close();
  });
});
