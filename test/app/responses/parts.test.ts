import { describe, expect, it } from 'vitest';
import { costUsd, priceOf } from '../../../app/responses/cost';
import { Ledger } from '../../../app/responses/ledger';
import { ToolCalls } from '../../../app/responses/tools';
import { userMessage } from '../../../app/protocol/responses';

describe('costUsd', () => {
  it('prices uncached input, cached input and output separately, and dated snapshots by family', () => {
    // gpt-5-mini: $0.25 in, $0.025 cached, $2 out per 1M tokens.
    expect(costUsd('gpt-5-mini', { input: 1_000_000, cached: 400_000, output: 100_000 })).toBeCloseTo(0.15 + 0.01 + 0.2, 10);
    expect(priceOf('gpt-5-mini-2025-08-07')).toEqual(priceOf('gpt-5-mini'));
    expect(costUsd('some-unpriced-model', { input: 10, cached: 0, output: 10 })).toBeNull();
  });
});

describe('Ledger', () => {
  it('keeps every item with a token estimate and restarts the window at a compaction item', () => {
    const ledger = new Ledger();
    ledger.append([userMessage('one'), userMessage('two')]);
    expect(ledger.window()).toHaveLength(2);
    expect(ledger.windowTokens()).toBeGreaterThan(0);
    ledger.append([{ type: 'compaction', encrypted_content: 'blob' } as never, userMessage('three')]);
    expect(ledger.length).toBe(4);
    expect(ledger.window().map((item) => (item as { type?: string }).type)).toEqual(['compaction', 'message']);
    ledger.replaceWindow([userMessage('summary')]);
    expect(ledger.window()).toEqual([userMessage('summary')]);
    expect(ledger.length).toBe(5);
  });
});

describe('Ledger folding', () => {
  const long = (n: number) => userMessage(`${n} `.padEnd(396, 'x'));

  it('drops what a compaction stands for, and keeps counting what was recorded', () => {
    const ledger = new Ledger();
    ledger.append([long(1), long(2)]);
    const fold = ledger.append([{ type: 'compaction', id: 'cmp_1', encrypted_content: 'blob' } as never]);
    expect(fold).toEqual({ tokensBefore: expect.any(Number), tokensAfter: ledger.windowTokens() });
    expect(fold?.tokensBefore).toBeGreaterThan(200);
    expect(ledger.entries).toHaveLength(1);
    expect(ledger.length).toBe(3);
  });

  it('compacts again only once the window has really grown since the last compaction', () => {
    const ledger = new Ledger();
    ledger.append([long(1), long(2), long(3), long(4)]);
    expect(ledger.shouldCompact(300)).toBe(true);
    // /responses/compact keeps every user message: the window stays above the threshold.
    ledger.replaceWindow([long(1), long(2), long(3), long(4), { type: 'compaction', id: 'cmp_1', encrypted_content: 'blob' } as never]);
    expect(ledger.windowTokens()).toBeGreaterThan(300);
    expect(ledger.shouldCompact(300)).toBe(false);
    ledger.append([long(5)]);
    expect(ledger.shouldCompact(300)).toBe(false);
    ledger.append([long(6), long(7)]);
    expect(ledger.shouldCompact(300)).toBe(true);
  });
});

describe('Ledger.resendBytes', () => {
  it('is the size of the window a full resend would carry, multi-byte text included', () => {
    const ledger = new Ledger();
    const rules = { store: false, reasoning: true };
    expect(ledger.resendBytes(rules)).toBe(Buffer.byteLength(JSON.stringify(ledger.resendWindow(rules))));
    ledger.append([userMessage('grüße, 東京 🚀'), { type: 'reasoning', id: 'rs_1', summary: [] } as never, userMessage('two')]);
    for (const each of [rules, { store: true, reasoning: false }]) {
      expect(ledger.resendBytes(each)).toBe(Buffer.byteLength(JSON.stringify(ledger.resendWindow(each))));
    }
  });
});

describe('Ledger.resendBytes, asked on every chained request', () => {
  it('answers from running totals, without reading the items again, under every rule', () => {
    let reads = 0;
    const counted = <T extends object>(item: T): T =>
      new Proxy(item, {
        get: (target, key, receiver) => {
          reads += 1;
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    const ledger = new Ledger();
    const items = Array.from({ length: 300 }, (_, index) =>
      counted(index % 3 === 0 ? userMessage(`message ${index}`) : ({ type: 'reasoning', id: `rs_${index}`, summary: [], ...(index % 3 === 1 ? { encrypted_content: 'blob' } : {}) } as never)),
    );
    ledger.append(items.slice(0, 150));
    ledger.append(items.slice(150), { stored: true });
    const everyRule = [true, false].flatMap((store) => [true, false].map((reasoning) => ({ store, reasoning })));
    reads = 0;
    const sizes = everyRule.map((rules) => ledger.resendBytes(rules));
    expect(reads).toBe(0);
    // And each is still exactly the size of what that resend would carry.
    expect(sizes).toEqual(everyRule.map((rules) => Buffer.byteLength(JSON.stringify(ledger.resendWindow(rules)))));
  });
});

describe('Ledger.resendWindow', () => {
  const reasoning = (id: string, encrypted?: string) => ({ type: 'reasoning', id, summary: [], ...(encrypted === undefined ? {} : { encrypted_content: encrypted }) }) as never;
  const idsOf = (items: unknown[]) => items.map((item) => (item as { id?: string }).id ?? 'message');

  it('sends reasoning back only in a form the server can accept', () => {
    const ledger = new Ledger();
    ledger.append([userMessage('one')]);
    ledger.append([reasoning('rs_unstored'), reasoning('rs_encrypted', 'blob')], { stored: false });
    ledger.append([reasoning('rs_stored')], { stored: true });
    expect(idsOf(ledger.resendWindow({ store: false, reasoning: true }))).toEqual(['message', 'rs_encrypted']);
    expect(idsOf(ledger.resendWindow({ store: true, reasoning: true }))).toEqual(['message', 'rs_encrypted', 'rs_stored']);
    expect(idsOf(ledger.resendWindow({ store: true, reasoning: false }))).toEqual(['message']);
    // The ledger itself forgets nothing.
    expect(ledger.window()).toHaveLength(4);
  });
});

describe('ToolCalls', () => {
  const call = (callId: string, args: string) => ({ type: 'function_call' as const, id: `fc_${callId}`, call_id: callId, name: 'echo', arguments: args, status: 'completed' as const });

  it('runs each call_id once, however often it is seen', async () => {
    const calls = new ToolCalls();
    let runs = 0;
    const runner = async () => String(++runs);
    expect(await calls.run(call('a', '{}'), runner)).toEqual({ ok: true, output: '1' });
    expect(await calls.run(call('a', '{}'), runner)).toEqual({ ok: true, output: '1' });
    expect(await calls.run(call('b', '{}'), runner)).toEqual({ ok: true, output: '2' });
    expect(runs).toBe(2);
  });

  it('turns bad arguments, a failing tool and a missing runner into tool errors for the model', async () => {
    const calls = new ToolCalls();
    const bad = await calls.run(call('x', '{"a":'), async () => 'never');
    expect(bad.ok).toBe(false);
    expect(JSON.parse(bad.output).error).toMatch(/not valid JSON/);
    const failing = await calls.run(call('y', '{}'), async () => {
      throw new Error('echo failed: disk full');
    });
    expect(JSON.parse(failing.output).error).toBe('echo failed: disk full');
    expect(JSON.parse((await calls.run(call('z', '{}'), undefined)).output).error).toMatch(/No tool named "echo"/);
  });
});
