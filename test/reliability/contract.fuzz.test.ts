/**
 * Contract payload fuzzing through the host's one entry point, `copilot.call(channel, payload)`:
 * every command in the exported channel list gets hostile and mutated payloads. Each call answers
 * with a CommandResult (never a throw or a rejection), nothing pollutes Object.prototype, and the
 * copilot still answers afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandChannels, commandNames } from '../../app/contract/channels';
import { createCopilot, type Copilot } from '../../app/host/copilot';
import { testDeps } from '../support/copilot';
import { seeded } from '../../app/testing';

let copilot: Copilot;
beforeAll(async () => {
  copilot = createCopilot(testDeps({}));
  await copilot.start();
  // Capturing the screen waits on the user's answer to its prompt, and nobody answers here: a
  // stored "deny" answers at once, so each payload still gets its result.
  const denied = await copilot.call(commandChannels.updateSettings, { patch: { toolPermissions: { screen_capture: 'deny' } } });
  expect(denied).toMatchObject({ ok: true });
});
afterAll(async () => {
  await copilot.close();
});


const deep = (depth: number): unknown => (depth === 0 ? {} : { a: deep(depth - 1) });
const hostile: readonly unknown[] = [
  undefined,
  null,
  0,
  -1,
  1e308,
  Number.NaN,
  true,
  '',
  'x'.repeat(200_000),
  '\u0000',
  '\ud800',
  [],
  [null],
  {},
  Object.create(null),
  JSON.parse('{"__proto__":{"polluted":true}}'),
  { constructor: { prototype: { polluted: true } } },
  deep(2000),
  { text: 42 },
  { text: '' },
  { text: '\u0000'.repeat(10) },
  { text: 'x'.repeat(1_000_000) },
  { muted: 'yes' },
  { voice: { toString: null } },
  { id: 1, decision: 'always' },
  { id: 'missing', decision: 'sometimes' },
  { key: 12 },
  { key: 'sk-' + 'a'.repeat(100_000) },
  { settings: null },
  { model: ['gpt'], voice: 7 },
  { temperature: Number.POSITIVE_INFINITY },
];

/** Field names the commands read, to build payloads that are nearly right. */
const fields = ['text', 'muted', 'voice', 'id', 'requestId', 'decision', 'key', 'model', 'turnMode', 'instructions', 'compaction', 'tools', 'toolPermissions', 'device', 'kind'];
function mutated(random: () => number): unknown {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const leaf = (): unknown => pick<unknown>([pick(hostile.slice(0, 14)), 'a'.repeat(Math.floor(random() * 64)), Math.floor(random() * 2 ** 31) - 2 ** 30, random() < 0.5, []]);
  const payload: Record<string, unknown> = {};
  const count = Math.floor(random() * 4);
  for (let index = 0; index < count; index += 1) payload[pick(fields)] = random() < 0.2 ? { [pick(fields)]: leaf() } : leaf();
  return random() < 0.1 ? [payload] : payload;
}

const perCommand = 120;

describe('contract payloads', () => {
  it.each(commandNames)('%s answers every hostile or mutated payload with a result', async (name) => {
    const random = seeded(name.length * 7919 + name.charCodeAt(0));
    const payloads = [...hostile, ...Array.from({ length: perCommand }, () => mutated(random))];
    const bad: Array<{ payload: string; outcome: string }> = [];
    for (const payload of payloads) {
      try {
        const result = await copilot.call(commandChannels[name], payload);
        const wellFormed = result.ok ? 'value' in result : typeof result.problem?.message === 'string' && typeof result.problem?.code === 'string';
        if (!wellFormed) bad.push({ payload: JSON.stringify(payload)?.slice(0, 120) ?? String(payload), outcome: JSON.stringify(result).slice(0, 200) });
      } catch (error) {
        bad.push({ payload: JSON.stringify(payload)?.slice(0, 120) ?? String(payload), outcome: `threw ${(error as Error).message}` });
      }
    }
    expect(bad).toEqual([]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(await copilot.call(commandChannels.getSnapshot, undefined)).toMatchObject({ ok: true });
  });

  it('an unknown channel is refused with a problem, not a throw', async () => {
    for (const channel of ['', 'copilot:', 'copilot:nope', '__proto__', 'constructor', 'copilot:get-snapshot\u0000']) {
      expect(await copilot.call(channel, {})).toMatchObject({ ok: false, problem: { message: expect.any(String) } });
    }
  });
});
