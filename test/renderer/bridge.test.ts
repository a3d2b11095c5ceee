import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandChannels, commandNames } from '../../app/contract/channels';
import { socketBridge } from '../../renderer/lib/bridge';
import { sampleRequests } from '../../app/testing/commands';

const requests = sampleRequests;

/** Browser mode's end of the bridge socket: answers every call with the channel it came on. */
class FakeBridgeSocket extends EventTarget {
  static opened: FakeBridgeSocket[] = [];
  readonly sent: Array<{ id: number; channel: string; payload?: unknown }> = [];
  constructor(readonly url: string) {
    super();
    FakeBridgeSocket.opened.push(this);
    queueMicrotask(() => this.dispatchEvent(new Event('open')));
  }
  send(data: string): void {
    const frame = JSON.parse(data) as { id: number; channel: string; payload?: unknown };
    this.sent.push(frame);
    const result = { ok: true, value: frame.channel };
    queueMicrotask(() => this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify({ type: 'result', id: frame.id, result }) })));
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeBridgeSocket.opened = [];
});

describe("browser mode's socket bridge", () => {
  it('has one function per command in the table, each sending its own channel and request', async () => {
    vi.stubGlobal('WebSocket', FakeBridgeSocket);
    const bridge = socketBridge({ protocol: 'http:', host: '127.0.0.1:5000', search: '?token=abc' }) as unknown as Record<string, (request?: unknown) => Promise<unknown>>;
    expect(Object.keys(bridge).sort()).toEqual([...commandNames, 'onEvent'].sort());
    const [socket] = FakeBridgeSocket.opened;
    expect(socket?.url).toBe('ws://127.0.0.1:5000/bridge?token=abc');

    const answers: unknown[] = [];
    for (const name of commandNames) {
      const request = requests[name];
      answers.push(await (request === undefined ? bridge[name]?.() : bridge[name]?.(request)));
    }
    expect(answers).toEqual(commandNames.map((name) => ({ ok: true, value: commandChannels[name] })));
    expect(socket?.sent.map(({ channel, payload }) => ({ channel, payload }))).toEqual(commandNames.map((name) => ({ channel: commandChannels[name], payload: requests[name] })));
    // A command without a request sends none (JSON drops the undefined payload).
    expect(socket?.sent.filter((frame) => 'payload' in frame).map((frame) => frame.channel)).toEqual(
      commandNames.filter((name) => requests[name] !== undefined).map((name) => commandChannels[name]),
    );
  });
});
