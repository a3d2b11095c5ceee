/**
 * The agent socket's small rules, each with the figure or field a request would carry: token
 * estimates and when to compact, which reasoning items a resend keeps, which models reason,
 * the `reasoning` parameter, default settings, and the once-per-call_id tool bookkeeping.
 */
import { describe, expect, it } from 'vitest';
import type { ResponseInputItem } from '../../../app/protocol/responses';
import { estimateTokens, Ledger } from '../../../app/responses/ledger';
import { isReasoningModel, reasoningInclude } from '../../../app/responses/reasoning';
import { defaultSessionSettings, reasoningParams, type SessionSettings } from '../../../app/responses/settings';
import { rememberedCalls, ToolCalls } from '../../../app/responses/tools';

const text = (chars: number): ResponseInputItem => ({ role: 'user', content: 'x'.repeat(chars) }) as ResponseInputItem;
const reasoning = (encrypted: string | undefined): ResponseInputItem =>
  ({ type: 'reasoning', id: 'rs_1', summary: [], ...(encrypted === undefined ? {} : { encrypted_content: encrypted }) }) as ResponseInputItem;

describe('token estimate', () => {
  it('is a quarter of the JSON length, rounded up, and at least 1', () => {
    expect(estimateTokens('')).toBe(1);
    expect(estimateTokens('x'.repeat(10))).toBe(3);
    expect(estimateTokens('x'.repeat(398))).toBe(100);
  });
});

describe('Ledger', () => {
  it('compacts past the threshold, then only once the window has grown enough again', () => {
    const ledger = new Ledger();
    ledger.append([text(4000)]);
    const tokens = ledger.windowTokens();
    expect(tokens).toBe(estimateTokens(text(4000)));
    expect(ledger.shouldCompact(tokens)).toBe(false);
    expect(ledger.shouldCompact(tokens - 1)).toBe(true);
    // A server compaction folds the window: it restarts at the compaction item.
    const fold = ledger.append([{ type: 'compaction', id: 'cmp_1', encrypted_content: 'e'.repeat(396) } as ResponseInputItem]);
    expect(fold).toEqual({ tokensBefore: tokens, tokensAfter: ledger.windowTokens() });
    expect(ledger.resendWindow({ reasoning: true, store: false })).toHaveLength(1);
    const base = ledger.windowTokens();
    // Above a low threshold, but grown by less than half the folded base: not yet.
    ledger.append([text(4 * Math.floor(base / 2) - 40)]);
    expect(ledger.shouldCompact(10)).toBe(false);
    ledger.append([text(400)]);
    expect(ledger.shouldCompact(10)).toBe(true);
  });

  it('replaces the window with a compacted one and counts from there', () => {
    const ledger = new Ledger();
    ledger.append([text(800), text(800)]);
    const before = ledger.windowTokens();
    const fold = ledger.replaceWindow([text(40)]);
    expect(fold).toEqual({ tokensBefore: before, tokensAfter: estimateTokens(text(40)) });
    expect(ledger.resendWindow({ reasoning: false, store: false })).toEqual([text(40)]);
    ledger.clear();
    expect(ledger.windowTokens()).toBe(0);
    expect(ledger.resendWindow({ reasoning: true, store: true })).toEqual([]);
  });

  it('resends reasoning only to a reasoning model, with encrypted content or from a stored response', () => {
    const ledger = new Ledger();
    ledger.append([reasoning('secret'), reasoning(''), reasoning(undefined), text(4)]);
    ledger.append([reasoning(undefined)], { stored: true });
    expect(ledger.resendWindow({ reasoning: false, store: true })).toEqual([text(4)]);
    expect(ledger.resendWindow({ reasoning: true, store: false })).toEqual([reasoning('secret'), text(4)]);
    expect(ledger.resendWindow({ reasoning: true, store: true })).toEqual([reasoning('secret'), text(4), reasoning(undefined)]);
    const rules = { reasoning: true, store: false };
    expect(ledger.resendBytes(rules)).toBe(Buffer.byteLength(JSON.stringify(ledger.resendWindow(rules))));
  });

  it('takes back a turn: everything from its mark on, with its tokens', () => {
    const ledger = new Ledger();
    ledger.append([text(40), text(80)]);
    const tokensBefore = ledger.windowTokens();
    const mark = ledger.length;
    ledger.append([text(120)]);
    ledger.append([text(160), text(200)]);
    expect(ledger.dropFrom(mark)).toBe(true);
    expect(ledger.window()).toEqual([text(40), text(80)]);
    expect(ledger.windowTokens()).toBe(tokensBefore);
    // The numbers taken back are used again, and a saved copy is told to rewrite its window.
    expect(ledger.length).toBe(mark);
    expect(ledger.rewinds).toBe(1);
    const rules = { reasoning: false, store: false };
    expect(ledger.resendBytes(rules)).toBe(Buffer.byteLength(JSON.stringify(ledger.resendWindow(rules))));
    // Taking back what is not there is no harm: a turn the server refused recorded nothing.
    expect(ledger.dropFrom(ledger.length)).toBe(true);
    expect(ledger.window()).toHaveLength(2);
  });

  it('will not take back a turn that a compaction since folded into its summary', () => {
    const server = new Ledger();
    server.append([text(40)]);
    const mark = server.length;
    server.append([text(80), { type: 'compaction', id: 'cmp_1', encrypted_content: 'e' } as ResponseInputItem, text(4)]);
    expect(server.dropFrom(mark)).toBe(false);
    expect(server.window()).toHaveLength(2);

    const endpoint = new Ledger();
    endpoint.append([text(40)]);
    const before = endpoint.length;
    endpoint.replaceWindow([text(8)]);
    endpoint.append([text(80)]);
    expect(endpoint.dropFrom(before)).toBe(false);
    // A turn begun after the compaction can still be taken back.
    const after = endpoint.length;
    endpoint.append([text(12)]);
    expect(endpoint.dropFrom(after)).toBe(true);
    expect(endpoint.window()).toEqual([text(8), text(80)]);
  });
});

describe('reasoning models', () => {
  it('are the gpt-5 family but its chat snapshots, the o-series and codex, from the start of the name', () => {
    expect(['gpt-5', 'gpt-5.4-mini', 'o3', 'o4-mini', 'codex-mini-latest'].filter(isReasoningModel)).toHaveLength(5);
    expect(['gpt-5-chat-latest', 'gpt-5.1-chat-latest', 'gpt-4.1', 'my-gpt-5', 'ox', 'oa3'].filter(isReasoningModel)).toEqual([]);
    expect(reasoningInclude('gpt-5', false)).toEqual(['reasoning.encrypted_content']);
    expect(reasoningInclude('gpt-5', true)).toBeNull();
    expect(reasoningInclude('gpt-4.1', false)).toBeNull();
  });
});

describe('session settings', () => {
  const settings = (reasoningEffort: SessionSettings['reasoningEffort']): SessionSettings => ({ ...defaultSessionSettings, model: 'gpt-5', instructions: '', reasoningEffort });

  it('sends reasoning.effort only when one is chosen', () => {
    expect(reasoningParams(settings('high'))).toEqual({ reasoning: { effort: 'high' } });
    expect(reasoningParams(settings(null))).toEqual({});
    expect(reasoningParams(settings(undefined))).toEqual({});
  });

  it('defaults to no tools, nothing stored, warmup when worth it, server compaction at 100k, rollover at 55 minutes, 64 steps', () => {
    expect(defaultSessionSettings).toEqual({
      tools: [],
      store: false,
      warmup: 'auto',
      compaction: { mode: 'server', thresholdTokens: 100_000 },
      rolloverAfterMs: 3_300_000,
      maxToolSteps: 64,
      reasoningEffort: null,
    });
  });
});

describe('ToolCalls', () => {
  const call = (callId: string, args: string) => ({ type: 'function_call' as const, call_id: callId, name: 'calc', arguments: args });

  it('runs each call id once, counting distinct calls, and takes empty or blank arguments as {}', async () => {
    const seen: unknown[] = [];
    const calls = new ToolCalls();
    const runner = async (toolCall: { arguments: unknown }) => (seen.push(toolCall.arguments), 'ok');
    await calls.run(call('a', ''), runner);
    await calls.run(call('a', ''), runner);
    await calls.run(call('b', '  '), runner);
    expect(seen).toEqual([{}, {}]);
    expect(calls.count).toBe(2);
  });

  it('remembers only the newest call ids through a day of tool calls, and still runs a recent one once', async () => {
    const calls = new ToolCalls();
    let runs = 0;
    const runner = async () => String((runs += 1));
    const total = rememberedCalls * 3 + 5;
    for (let index = 0; index < total; index += 1) await calls.run(call(`call_${index}`, '{}'), runner);
    expect(calls.remembered).toBe(rememberedCalls);
    expect(calls.count).toBe(total);
    // A retried response repeats its (recent) calls: they do not run again.
    expect(await calls.run(call(`call_${total - 1}`, '{}'), runner)).toEqual({ ok: true, output: String(total) });
    expect(runs).toBe(total);
  });

  it('reports a throw that is not an Error as its text', async () => {
    const outcome = await new ToolCalls().run(call('a', '{}'), async () => Promise.reject('plain words'));
    expect(outcome).toEqual({ ok: false, output: JSON.stringify({ error: 'plain words' }) });
    expect(await new ToolCalls().run(call('b', '{}'), async () => Promise.reject(undefined))).toEqual({ ok: false, output: JSON.stringify({ error: 'undefined' }) });
  });
});
