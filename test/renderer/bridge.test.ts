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

  describe('a socket refused before it opened', () => {
    /** Browser mode refusing the upgrade: the page sees only a close, never the status. */
    class RefusedSocket extends EventTarget {
      constructor(readonly url: string) {
        super();
        queueMicrotask(() => this.dispatchEvent(new CloseEvent('close', { code: 1006 })));
      }
      send(): void {
        throw new Error('never opened');
      }
    }

    async function refusedWith(answer: () => Promise<Response>): Promise<{ connection: unknown; result: unknown; asked: string[] }> {
      const asked: string[] = [];
      vi.stubGlobal('WebSocket', RefusedSocket);
      vi.stubGlobal('fetch', (url: string) => (asked.push(url), answer()));
      const bridge = socketBridge({ protocol: 'http:', host: '127.0.0.1:5000', search: '?token=old' });
      const connection = new Promise((resolve) => bridge.onEvent((event) => event.type === 'connection' && resolve(event.connection)));
      const result = await bridge.getSnapshot();
      return { connection: await connection, result, asked };
    }

    it("explains a link from an earlier run when the server says the token is not its own", async () => {
      const { connection, result, asked } = await refusedWith(async () => new Response(null, { status: 401 }));
      expect(asked).toEqual(['http://127.0.0.1:5000/bridge?token=old']);
      const problem = { code: 'unauthorized', message: "This page's link is from an earlier run of browser mode.", hint: expect.stringContaining('new address printed in the terminal') };
      expect(connection).toMatchObject({ status: 'error', problem });
      expect(result).toMatchObject({ ok: false, problem });
    });

    it('says the server stopped when nothing answers', async () => {
      const { connection } = await refusedWith(() => Promise.reject(new TypeError('Failed to fetch')));
      expect(connection).toMatchObject({ status: 'error', problem: { message: expect.stringContaining('server stopped') } });
    });
  });
});
