/** The shipped test doubles do what tests rely on, and the socket recorder never keeps a key. */
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { eventLog, frameRecorder, ManualClock } from '../../../app/testing';

let server: WebSocketServer | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

describe('frameRecorder', () => {
  it('records frames both ways per socket, and that a key was sent, never the key', async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (ws) => ws.on('message', (data) => String(data).startsWith('{') && ws.send(JSON.stringify({ type: 'response.created' }))));
    await new Promise((resolve) => server?.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const recorder = frameRecorder();
    const ws = recorder.createWebSocket(`ws://127.0.0.1:${port}/v1/responses`, { headers: { Authorization: 'Bearer sk-secret-1234' } });
    await new Promise((resolve) => ws.once('open', resolve));
    const reply = new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ type: 'response.create' }));
    ws.send('not json');
    await reply;
    ws.close();
    expect(recorder.sockets).toEqual([{ socket: 1, path: '/v1/responses', protocol: 'responses', apiKeyProvided: true }]);
    expect(recorder.sent('response.create')).toEqual([{ type: 'response.create' }]);
    expect(recorder.received('response.created')).toEqual([{ type: 'response.created' }]);
    expect(recorder.unparsable).toEqual([{ socket: 1, direction: 'client', text: 'not json' }]);
    expect(JSON.stringify(recorder)).not.toContain('sk-secret');
    const anonymous = recorder.createWebSocket(`ws://127.0.0.1:${port}/v1/realtime?model=x`, {});
    await new Promise((resolve) => anonymous.once('open', resolve));
    anonymous.close();
    expect(recorder.sockets[1]).toEqual({ socket: 2, path: '/v1/realtime?model=x', protocol: 'realtime', apiKeyProvided: false });
  });
});

describe('ManualClock', () => {
  it('fires timers in time order only when advanced, and resolves sleeps', async () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.after(20, () => fired.push('b'));
    clock.after(10, () => fired.push('a'));
    const cancel = clock.after(15, () => fired.push('cancelled'));
    cancel();
    let slept = false;
    void clock.sleep(30).then(() => (slept = true));
    await clock.advance(19);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(119);
    await clock.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(slept).toBe(true);
    expect(clock.pending).toBe(0);
  });
});

describe('eventLog', () => {
  it('waits for a matching event, seen already (until) or still to come (next)', async () => {
    const log = eventLog<{ type: 'a'; n: number } | { type: 'b'; n: number }>();
    log.push({ type: 'a', n: 1 });
    expect(await log.until('a')).toEqual({ type: 'a', n: 1 });
    const next = log.next('a', (event) => event.n > 1);
    log.push({ type: 'b', n: 2 });
    log.push({ type: 'a', n: 3 });
    expect(await next).toEqual({ type: 'a', n: 3 });
    expect(log.of('a').map((event) => event.n)).toEqual([1, 3]);
  });
});
