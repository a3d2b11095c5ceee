/**
 * The Realtime socket layer on its own, over real loopback sockets: against the emulator for
 * opening, closes and recovery, and against a tiny server this test scripts for what the emulator
 * never does (a frame of a known type with a wrong field, a server that stays quiet). The host is
 * a recorder: what the session above would be told is what these tests check.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { noLatency } from '../../../app/emulator/latency';
import { startEmulator, type Emulator } from '../../../app/emulator/server';
import { realtimeSocketUrl, type RealtimeEvent } from '../../../app/protocol/realtime';
import { SocketError } from '../../../app/transport/socket';
import { eventLog, frameRecorder, ManualClock } from '../../../app/testing';
import { RealtimeConnection, type InvalidFrame } from '../../../app/voice/realtimeConnection';
import type { VoiceSessionEvent, VoiceState } from '../../../app/voice/session';
import { defaultVoiceSettings, sessionConfig } from '../../../app/voice/settings';
import { UnansweredRequestError } from '../../../app/voice/waiters';

/** Everything the connection tells its host, in order, as one log to wait on. */
type HostRecord =
  | VoiceSessionEvent
  | { type: 'host.state'; state: VoiceState }
  | { type: 'host.event'; event: RealtimeEvent }
  | { type: 'host.invalid'; frame: InvalidFrame }
  | { type: 'host.lost'; code: number }
  | { type: 'host.recovered' };

const hint = 'Check your connection; Parley keeps trying when you talk.';
let cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface ConnectionOptions {
  url: string;
  answerDeadlineMs?: number;
  clock?: ManualClock;
}

function connection({ url, answerDeadlineMs = 5000, clock }: ConnectionOptions) {
  const log = eventLog<HostRecord>();
  const wire = frameRecorder();
  const created = new RealtimeConnection({
    label: 'voice',
    url: () => url,
    apiKey: 'sk-test',
    createWebSocket: wire.createWebSocket,
    // Far from zero, so a gap computed the wrong way round is far from the real one.
    now: () => 1_000_000 + performance.now(),
    // Backoff waits are reported, not waited: attempts follow one another at once.
    sleep: () => Promise.resolve(),
    random: () => 0.5,
    ...(clock === undefined ? {} : { setTimer: clock.after }),
    answerDeadlineMs,
    updatePrefix: 'parley_voice_update',
    recoveryHint: hint,
    host: {
      sessionConfig: () => sessionConfig(defaultVoiceSettings),
      onEvent: (event) => log.push({ type: 'host.event', event }),
      onInvalid: (frame) => log.push({ type: 'host.invalid', frame }),
      onLost: (state) => log.push({ type: 'host.lost', code: state.code }),
      onRecovered: () => {
        log.push({ type: 'host.recovered' });
        return 2;
      },
      emit: log.push,
      setState: (state) => log.push({ type: 'host.state', state }),
      idleState: () => 'listening',
    },
  });
  cleanup.push(() => created.close());
  return { connection: created, ...log, wire };
}

async function emulator(): Promise<Emulator> {
  const started = await startEmulator({ latency: noLatency });
  cleanup.push(() => started.close());
  return started;
}

const voiceUrl = (server: Emulator) => realtimeSocketUrl(server.baseUrl, defaultVoiceSettings.model);

/** An open connection that the user closes as soon as a recovery starts its first attempt. */
async function closedOnFirstReconnect() {
  const server = await emulator();
  const c = connection({ url: voiceUrl(server) });
  await c.connection.open();
  void c.until('reconnect').then(() => c.connection.close());
  return { server, c };
}

/** States the host was put in, in order. */
const states = (log: { of: (type: 'host.state') => Array<{ state: VoiceState }> }) => log.of('host.state').map((entry) => entry.state);

describe('RealtimeConnection', () => {
  it('opens, configures the session and tells the host about its socket', async () => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    await c.connection.open();
    expect(c.connection.lifecycle.status).toBe('open');
    expect(c.wire.sent('session.update')).toHaveLength(1);
    expect(c.of('socket').map((event) => event.state.status)).toContain('open');
  });

  it('reports a frame it cannot read in plain words, skips it, and keeps working', async () => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    await c.connection.open();
    server.inject({ kind: 'malformed_frame' }, 'realtime');
    c.connection.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    const { problem } = await c.until('problem');
    expect(problem.code).toBe('malformed_frame');
    expect(problem.message).toMatch(/^The voice server sent a frame Parley could not read: .+\.$/);
    expect(problem.hint).toBe('It was skipped.');
    // The reply still arrives on the same socket.
    await c.until('host.event', (entry) => entry.event.type === 'response.done');
    expect(c.of('host.state')).toEqual([]);
    expect(c.connection.lifecycle.status).toBe('open');
  });

  // 3000 is how the service refuses a key; any other close outside the recoverable set is final
  // too, and a normal close (1000) has nothing to explain.
  it.each([
    [3000, 'error', ['The connection closed unexpectedly (code 3000: emulator dropping connections).']],
    [4000, 'offline', ['The connection closed unexpectedly (code 4000: emulator dropping connections).']],
    [1000, 'offline', []],
  ] as const)('after a close with %i, which no retry can fix, it is %s and says why, without trying again', async (code, state, problems) => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    await c.connection.open();
    server.dropConnections(code);
    await c.until('host.state');
    expect(states(c)).toEqual([state]);
    expect(c.of('host.lost').map((entry) => entry.code)).toEqual([code]);
    expect(c.of('problem').map((event) => event.problem.message)).toEqual(problems);
    expect(c.of('reconnect')).toEqual([]);
    expect(c.connection.lifecycle.status).toBe('closed');
  });

  it('recovers from a server restart: reconnects, has the host replay, and is listening again', async () => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    await c.connection.open();
    const before = c.connection.lifecycle;
    server.dropConnections(1001);
    const recovered = await c.until('recovered');
    expect(c.of('reconnect')).toEqual([{ type: 'reconnect', attempt: 1, delayMs: 0, code: 1001 }]);
    expect(recovered.itemsReplayed).toBe(2);
    expect(recovered.gapMs).toBeGreaterThanOrEqual(0);
    expect(recovered.gapMs).toBeLessThan(5000);
    expect(states(c)).toEqual(['connecting', 'listening']);
    expect(c.events.map((entry) => entry.type).filter((type) => type.startsWith('host.') && type !== 'host.state')).toEqual(['host.lost', 'host.recovered']);
    // A new socket, and it carries the next settings change to an answer.
    const after = c.connection.lifecycle;
    expect(after.status).toBe('open');
    expect(after.status === 'open' && before.status === 'open' && after.socket !== before.socket).toBe(true);
    await c.connection.update(sessionConfig(defaultVoiceSettings));
    expect(c.wire.sockets).toHaveLength(2);
    expect(c.wire.sent('session.update')).toHaveLength(3);
  });

  it('gives up after five attempts when the server stays away, and says so', async () => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    await c.connection.open();
    await server.close();
    await c.until('host.state', (entry) => entry.state === 'error');
    expect(c.of('reconnect').map((event) => event.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(c.of('reconnect').map((event) => event.delayMs)).toEqual([0, 438, 875, 1750, 3500]);
    expect(states(c)).toEqual(['connecting', 'error']);
    expect(c.of('recovered')).toEqual([]);
    const [problem] = c.of('problem').map((event) => event.problem);
    expect(problem?.message).toMatch(/^Nothing is accepting connections at 127\.0\.0\.1:\d+ \(connection refused\)\.$/);
    expect(c.connection.lifecycle.status).toBe('idle');
  });

  it('stops trying when it is closed during recovery', async () => {
    const { server, c } = await closedOnFirstReconnect();
    await server.close();
    await c.until('host.state', (entry) => entry.state === 'error');
    expect(c.of('reconnect')).toHaveLength(1);
    expect(c.connection.lifecycle.status).toBe('closed');
  });

  it('before it opens, sends nothing and settles updates at once', async () => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    c.connection.send({ type: 'response.create' });
    await expect(c.connection.update(sessionConfig(defaultVoiceSettings))).resolves.toBeUndefined();
    expect(c.wire.sockets).toEqual([]);
    expect(c.connection.lifecycle.status).toBe('idle');
  });

  it('closed while a recovery reconnects, it does not come back', async () => {
    const { server, c } = await closedOnFirstReconnect();
    server.dropConnections(1001);
    await c.until('socket', (event) => event.state.status === 'closed' && c.wire.sockets.length === 2);
    expect(c.of('recovered')).toEqual([]);
    expect(states(c)).toEqual(['connecting']);
    expect(c.connection.lifecycle.status).toBe('closed');
  });

  it('after close, sends nothing, settles updates at once and starts no recovery', async () => {
    const server = await emulator();
    const c = connection({ url: voiceUrl(server) });
    await c.connection.open();
    c.connection.close();
    await c.until('socket', (event) => event.state.status === 'closed');
    c.connection.send({ type: 'response.create' });
    await expect(c.connection.update(sessionConfig(defaultVoiceSettings))).resolves.toBeUndefined();
    expect(c.wire.sent('response.create')).toEqual([]);
    expect(c.wire.sent('session.update')).toHaveLength(1);
    expect(c.of('host.lost')).toEqual([]);
    expect(c.of('reconnect')).toEqual([]);
    expect(c.of('host.state')).toEqual([]);
  });
});

/**
 * A Realtime server on loopback that says `session.created` (unless `quiet`) and hands every
 * client message to `onMessage`.
 */
async function scriptedServer(options: { quiet?: boolean; onMessage?: (ws: WebSocket, message: Record<string, unknown>) => void }) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const closes: number[] = [];
  server.on('connection', (ws: WebSocket) => {
    ws.on('close', (code) => closes.push(code));
    if (options.quiet !== true) ws.send(JSON.stringify({ type: 'session.created', event_id: 'event_1', session: { type: 'realtime', object: 'realtime.session', id: 'sess_1' } }));
    ws.on('message', (data) => options.onMessage?.(ws, JSON.parse(data.toString()) as Record<string, unknown>));
  });
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  cleanup.push(() => server.clients.forEach((client) => client.terminate()));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime`, closes };
}

const updated = (ws: WebSocket, message: Record<string, unknown>) => ws.send(JSON.stringify({ type: 'session.updated', event_id: `event_${String(message.event_id)}`, session: message.session }));

describe('RealtimeConnection against a scripted server', () => {
  it('fails a settings change pending when the server closes normally, naming the close', async () => {
    const server = await scriptedServer({ onMessage: (ws, message) => (message.event_id === 'parley_voice_update_1' ? updated(ws, message) : ws.close(1000)) });
    const c = connection({ url: server.url });
    await c.connection.open();
    const failure = await c.connection.update(sessionConfig(defaultVoiceSettings)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SocketError);
    // Not retried, so the hint does not promise a reconnect.
    expect((failure as SocketError).problem).toEqual({ code: 'connection_failed', message: 'The voice connection closed (code 1000).', hint: 'Voice is off now and does not reconnect by itself.' });
  });

  it('skips a known event with a wrong field, says which, and still hears the next one', async () => {
    const server = await scriptedServer({
      onMessage: (ws, message) => {
        if (message.type === 'session.update') return updated(ws, message);
        ws.send(JSON.stringify({ type: 'response.done', event_id: 'event_bad', response: 42 }));
        ws.send(JSON.stringify({ type: 'response.done', event_id: 'event_good', response: { id: 'resp_1', object: 'realtime.response', status: 'completed' } }));
      },
    });
    const c = connection({ url: server.url });
    await c.connection.open();
    c.connection.send({ type: 'response.create' });
    const good = await c.until('host.event', (entry) => entry.event.type === 'response.done');
    expect(good.event.type === 'response.done' && good.event.response.id).toBe('resp_1');
    const rejected = c.of('frame.rejected').map((event) => event.problem);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.code).toBe('malformed_frame');
    expect(rejected[0]?.message).toMatch(/^The voice server sent a response\.done event Parley could not use \(.+\)\.$/);
    expect(rejected[0]?.hint).toBe('It was skipped.');
    expect(c.of('host.invalid').map((entry) => entry.frame.type)).toEqual(['response.done']);
    expect(c.connection.lifecycle.status).toBe('open');
  });

  it('fails a settings change that is pending when the socket drops, instead of leaving it waiting', async () => {
    let updates = 0;
    const server = await scriptedServer({
      onMessage: (ws, message) => {
        updates += 1;
        // The first update (from open) is answered; the second is met by a close.
        if (updates === 1) updated(ws, message);
        else ws.close(4000, 'gone');
      },
    });
    const c = connection({ url: server.url });
    await c.connection.open();
    const pending = c.connection.update(sessionConfig(defaultVoiceSettings));
    await expect(pending).rejects.toThrow('The connection closed unexpectedly (code 4000: gone).');
  });

  it('drops a fresh socket whose server never says the session was created, with a sentence', async () => {
    const server = await scriptedServer({ quiet: true });
    const clock = new ManualClock();
    const c = connection({ url: server.url, answerDeadlineMs: 3000, clock });
    const opened = c.connection.open();
    const outcome = opened.then(
      () => null,
      (error: unknown) => error,
    );
    await c.until('socket', (event) => event.state.status === 'open');
    await clock.advance(3000);
    const error = await outcome;
    expect(error).toBeInstanceOf(UnansweredRequestError);
    expect((error as UnansweredRequestError).problem).toEqual({ code: 'connection_failed', message: 'The voice server did not answer the new connection within 3 s.', hint });
    await c.until('socket', (event) => event.state.status === 'closed');
    // Dropped by Parley, and not taken for a lost connection to recover.
    expect(c.of('host.lost')).toEqual([]);
    expect(c.of('reconnect')).toEqual([]);
    expect(c.connection.lifecycle.status).toBe('idle');
  });
});
