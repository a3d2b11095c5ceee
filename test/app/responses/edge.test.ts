/**
 * ResponsesSession at the edge of the wire: a server that sends broken frames, one that goes
 * silent, a host callback that throws. Real sockets on loopback against a scripted `ws` server, so
 * every frame crosses the same socket, parser and router a real reply does.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userMessage } from '../../../app/protocol/responses';
import type { TurnOutcome } from '../../../app/responses/session';
import { testSession } from '../../support/sessions';
import { frameServer, type Frame, type FrameServer } from '../../support/scriptedResponses';

/** The frames a scripted server sends for one `response.create`: objects go out as JSON, strings as they are. */
type Script = Array<Frame | string>;

let running: FrameServer | null = null;
afterEach(async () => {
  vi.useRealTimers();
  await running?.close();
  running = null;
});

/** A Responses WebSocket endpoint that answers each `response.create` with `reply(create, connection)`. */
async function scriptedServer(reply: (create: Frame, connection: number) => Script, options: { autoPong?: (connection: number) => boolean } = {}): Promise<FrameServer> {
  running = await frameServer((create, { connection }) => reply(create, connection), options);
  return running;
}

// Valid frames in the shape of the real recordings (PROTOCOL.md §3), on lane `lane` when it is named.
const onLane = (lane: string | undefined, frame: Frame): Frame => (lane === undefined ? frame : { ...frame, stream_id: lane });
const message = (text: string): Frame => ({
  type: 'message',
  id: 'msg_1',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
});
const functionCall: Frame = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'calculator', arguments: '{"expression":"2+2"}', status: 'completed' };
const usage: Frame = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 14 };
const response = (id: string, status: string, rest: Frame = {}): Frame => ({ id, object: 'response', created_at: 1, status, model: 'gpt-5-mini', output: [], usage: null, error: null, ...rest });

const frames = {
  created: (id: string, lane?: string) => onLane(lane, { type: 'response.created', sequence_number: 0, response: response(id, 'in_progress') }),
  delta: (text: string, lane?: string) =>
    onLane(lane, { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: text, logprobs: [], obfuscation: 'ab' }),
  completed: (id: string, lane?: string, output: Frame[] = [message('Hello')]) =>
    onLane(lane, { type: 'response.completed', sequence_number: 3, response: response(id, 'completed', { output, usage }) }),
  incomplete: (id: string, lane?: string) =>
    onLane(lane, { type: 'response.incomplete', sequence_number: 3, response: response(id, 'incomplete', { output: [message('Hel')], usage, incomplete_details: { reason: 'max_output_tokens' } }) }),
  failed: (id: string, lane?: string) =>
    onLane(lane, { type: 'response.failed', sequence_number: 3, response: response(id, 'failed', { error: { code: 'server_error', message: 'The model broke.' } }) }),
  requestError: (lane?: string) =>
    onLane(lane, { type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Bad input.', param: 'input' } }),
  streamError: (lane?: string) => onLane(lane, { type: 'error', code: 'server_error', message: 'Stream broke.', param: null, sequence_number: 2 }),
  nestedStreamError: (lane?: string) => onLane(lane, { type: 'error', sequence_number: 2, error: { type: 'server_error', code: 'server_error', message: 'Stream broke.', param: null } }),
};

const validReply = (id: string, lane?: string): Script => [frames.created(id, lane), frames.delta('Hel', lane), frames.delta('lo', lane), frames.completed(id, lane)];

// Fuzzing ---------------------------------------------------------------------------------------

interface Mutation {
  label: string;
  frame: Frame | string;
  /** The mutation touched how the frame is routed (`type`, `stream_id`), so the session may rightly ignore it. */
  rerouted: boolean;
  /** The path dropped, when the mutation was a drop. */
  dropped: string | null;
}

const huge = 'x'.repeat(256 * 1024);
const replacements: Array<[string, unknown]> = [
  ['null', null],
  ['a number', 42],
  ['a string', 'fuzz'],
  ['an empty string', ''],
  ['a boolean', true],
  ['an array', []],
  ['an object', {}],
  ['a huge string', huge],
];
const unknownTypes = ['response.something_new', 'response.output_text.delta.v2', 'RESPONSE.COMPLETED', 'response.completed ', 'error.', 'x'.repeat(10_000)];

/** Every path in a JSON value: object keys and array indexes, depth first. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((item, index) => [[...prefix, index], ...pathsOf(item, [...prefix, index])]);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
  return [];
}

function withPath(value: unknown, path: Array<string | number>, change: { drop: true } | { to: unknown }): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if ('to' in change) parent[last] = change.to;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

/** Drop each field, swap each for every other kind of value, and give the event unknown types. */
function mutationsOf(frame: Frame): Mutation[] {
  const mutations: Mutation[] = [];
  for (const path of pathsOf(frame)) {
    const name = path.join('.');
    const rerouted = path.length === 1 && (path[0] === 'type' || path[0] === 'stream_id');
    mutations.push({ label: `drop ${name}`, frame: withPath(frame, path, { drop: true }) as Frame, rerouted, dropped: name });
    for (const [kind, value] of replacements) mutations.push({ label: `${name} as ${kind}`, frame: withPath(frame, path, { to: value }) as Frame, rerouted, dropped: null });
  }
  for (const type of unknownTypes) mutations.push({ label: `type ${JSON.stringify(type.slice(0, 40))}`, frame: { ...frame, type }, rerouted: true, dropped: null });
  mutations.push({ label: 'not JSON', frame: JSON.stringify(frame).slice(0, -1), rerouted: true, dropped: null });
  mutations.push({ label: 'a JSON array', frame: JSON.stringify([frame]), rerouted: true, dropped: null });
  return mutations;
}

/** One request's script with its `kind` frame replaced by the mutation; the rest keeps the turn able to finish. */
interface FuzzKind {
  kind: string;
  frame: (id: string, lane: string) => Frame;
  script: (mutated: Frame | string, id: string, lane: string, rerouted: boolean) => Script;
  /** Fields the session reads: dropping one of these from a terminal event must fail the turn as malformed. */
  required: string[];
}

const fuzzKinds: FuzzKind[] = [
  { kind: 'response.created', frame: (id, lane) => frames.created(id, lane), script: (m, id, lane) => [m, frames.delta('Hel', lane), frames.completed(id, lane)], required: [] },
  { kind: 'response.output_text.delta', frame: (_id, lane) => frames.delta('Hel', lane), script: (m, id, lane) => [frames.created(id, lane), m, frames.completed(id, lane)], required: [] },
  {
    kind: 'response.completed',
    frame: (id, lane) => frames.completed(id, lane),
    script: (m, id, lane, rerouted) => [frames.created(id, lane), frames.delta('Hel', lane), m, ...(rerouted ? [frames.completed(id, lane)] : [])],
    required: ['response', 'response.id', 'response.output', 'response.output.0.type', 'response.output.0.content', 'response.output.0.content.0.type', 'response.output.0.content.0.text', 'response.usage.input_tokens', 'response.usage.output_tokens'],
  },
  {
    kind: 'response.completed with a function call',
    frame: (id, lane) => frames.completed(id, lane, [functionCall]),
    script: (m, id, lane, rerouted) => [frames.created(id, lane), m, ...(rerouted ? [frames.completed(id, lane)] : [])],
    required: ['response.output.0.call_id', 'response.output.0.name', 'response.output.0.arguments'],
  },
  {
    kind: 'response.incomplete',
    frame: (id, lane) => frames.incomplete(id, lane),
    script: (m, id, lane, rerouted) => [frames.created(id, lane), m, ...(rerouted ? [frames.incomplete(id, lane)] : [])],
    required: ['response', 'response.id', 'response.output'],
  },
  {
    kind: 'response.failed',
    frame: (id, lane) => frames.failed(id, lane),
    script: (m, id, lane, rerouted) => [frames.created(id, lane), m, ...(rerouted ? [frames.failed(id, lane)] : [])],
    required: ['response', 'response.error.message', 'response.error.code'],
  },
  {
    kind: 'error (request)',
    frame: (_id, lane) => frames.requestError(lane),
    script: (m, _id, lane, rerouted) => [m, ...(rerouted ? [frames.requestError(lane)] : [])],
    required: ['error.message'],
  },
  { kind: 'error (in stream)', frame: (_id, lane) => frames.streamError(lane), script: (m, id, lane) => [frames.created(id, lane), m, frames.failed(id, lane)], required: [] },
  { kind: 'error (in stream, nested)', frame: (_id, lane) => frames.nestedStreamError(lane), script: (m, id, lane) => [frames.created(id, lane), m, frames.failed(id, lane)], required: [] },
];

const firstTurn = (outcome: TurnOutcome) => (outcome.status === 'failed' ? { status: outcome.status, code: outcome.problem.code, message: outcome.problem.message, hint: outcome.problem.hint } : { status: outcome.status });

describe('a server that sends broken frames', () => {
  it('fuzz: every turn ends, completed or failed with a Problem, and nothing throws', async ({ annotate }) => {
    const scripts = new Map<string, Script>();
    const server = await scriptedServer((create) => {
      const lane = create.stream_id as string;
      const script = scripts.get(lane);
      scripts.delete(lane);
      // The tool loop's follow-up request (and anything unscripted) gets a plain valid answer.
      return script ?? validReply(`resp_followup_${lane}`, lane);
    });
    const { session, events } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });

    const outcomes = new Map<string, number>();
    const droppedRequired: Array<{ label: string; outcome: ReturnType<typeof firstTurn> }> = [];
    let fuzzed = 0;
    for (const { kind, frame, script, required } of fuzzKinds) {
      const template = frame('resp_template', 'lane-template');
      for (const mutation of mutationsOf(template)) {
        fuzzed += 1;
        const lane = `fuzz-${fuzzed}`;
        const id = `resp_${fuzzed}`;
        // Re-derive the mutation on this request's own lane and id.
        const mutated =
          typeof mutation.frame === 'string'
            ? mutation.frame.replaceAll('lane-template', lane).replaceAll('resp_template', id)
            : (JSON.parse(JSON.stringify(mutation.frame).replaceAll('lane-template', lane).replaceAll('resp_template', id)) as Frame);
        scripts.set(lane, script(mutated, id, lane, mutation.rerouted));
        const outcome = firstTurn(await session.runTurn([userMessage(`${kind}: ${mutation.label}`)], {}, lane));
        const key = `${outcome.status}${'code' in outcome ? ` ${outcome.code}` : ''}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        expect(['completed', 'incomplete', 'failed'], `${kind}: ${mutation.label}`).toContain(outcome.status);
        if (outcome.status === 'failed') expect(outcome, `${kind}: ${mutation.label}`).toMatchObject({ code: expect.any(String), message: expect.any(String), hint: expect.any(String) });
        if (mutation.dropped !== null && required.includes(mutation.dropped)) droppedRequired.push({ label: `${kind}: ${mutation.label}`, outcome });
      }
    }
    await annotate(`fuzzed ${fuzzed} frames: ${JSON.stringify(Object.fromEntries(outcomes))}`);

    // The generator is deterministic: a change in this count means the event shapes or mutations changed.
    expect(fuzzed).toBe(1377);
    // A terminal event missing a field the session reads fails its turn, naming the event; it never hangs or crashes.
    expect(droppedRequired.length).toBeGreaterThan(15);
    for (const { label, outcome } of droppedRequired) expect(outcome, label).toMatchObject({ status: 'failed', code: 'malformed_frame', message: expect.stringContaining('could not read') });
    expect(outcomes.get('failed malformed_frame')).toBeGreaterThan(100);
    expect(events.filter((event) => event.type === 'frame.rejected').length).toBeGreaterThan(100);
    // One socket all along: no frame made a handler throw (the socket would have dropped it).
    expect(events.filter((event) => event.type === 'socket' && event.state.status === 'open')).toHaveLength(1);
    expect(server.connections).toHaveLength(1);
    session.close();
  }, 180_000);

  it('fails a turn whose response.completed has no response, instead of leaving it waiting, and the next turn works', async () => {
    let first = true;
    const server = await scriptedServer(() => {
      if (!first) return validReply('resp_2');
      first = false;
      return [frames.created('resp_1'), frames.delta('Hel'), { type: 'response.completed' }];
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const broken = await session.runTurn([userMessage('hello')]);
    expect(broken).toMatchObject({
      status: 'failed',
      problem: { code: 'malformed_frame', message: expect.stringContaining('"response.completed" event with response: expected object'), hint: expect.stringContaining('Send your message again') },
    });
    expect(of('frame.rejected')).toEqual([]);
    const next = await session.runTurn([userMessage('again')]);
    expect(next).toMatchObject({ status: 'completed', text: 'Hello' });
    session.close();
  });

  it('fails waiting requests on a malformed lane-less request error, and reports a malformed delta without failing', async () => {
    const server = await scriptedServer((create) =>
      create.stream_id === 'b'
        ? [{ type: 'error', status: 'four hundred' }]
        : [frames.created('resp_a', 'a'), { ...frames.delta('x', 'a'), delta: 7 }, frames.delta('Hi', 'a'), frames.completed('resp_a', 'a', [message('Hi')])],
    );
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const deltas: string[] = [];
    const a = await session.runTurn([userMessage('a')], { onTextDelta: (delta) => deltas.push(delta) }, 'a');
    expect(a).toMatchObject({ status: 'completed', text: 'Hi' });
    expect(deltas).toEqual(['Hi']);
    expect(of('frame.rejected')).toMatchObject([{ problem: { code: 'malformed_frame', message: expect.stringContaining('delta: expected string, received number') } }]);
    const b = await session.runTurn([userMessage('b')], {}, 'b');
    expect(b).toMatchObject({ status: 'failed', problem: { code: 'malformed_frame', message: expect.stringContaining('"error" event') } });
    session.close();
  });
});

describe('routing a broken frame', () => {
  it("does not end a named lane's reply with a broken lane-less terminal frame: that frame is the default lane's", async () => {
    // Readable JSON with no stream_id names the default lane; only a frame whose lane cannot be read may be anyone's.
    const server = await scriptedServer((create) => {
      const lane = create.stream_id as string | undefined;
      return [frames.created('resp_b', lane), { type: 'response.completed', sequence_number: 2, response: 'gone' }, frames.delta('Hel', lane), frames.delta('lo', lane), frames.completed('resp_b', lane)];
    });
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const b = await session.runTurn([userMessage('b')], {}, 'b');
    expect(b).toMatchObject({ status: 'completed', text: 'Hello' });
    expect(of('frame.rejected')).toMatchObject([{ problem: { code: 'malformed_frame', message: expect.stringContaining('"response.completed"') } }]);
    session.close();
  });
});

describe('routing a well-formed frame', () => {
  it('gives a lane-less request error to the named lane waiting when no default request is in flight', async () => {
    // The error names no stream_id: it is connection-scoped, so the one request waiting gets it.
    const server = await scriptedServer(() => [{ type: 'error', status: 400, error: { type: 'invalid_request_error', code: 'invalid_value', message: 'The lane b request was refused.' } }]);
    // A short deadline, so a request the error never reached fails as stalled instead of hanging.
    const { session } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined, stallTimeoutMs: 2000 });
    const b = await session.runTurn([userMessage('b')], {}, 'b');
    expect(b).toMatchObject({ status: 'failed', problem: { code: 'server_error', message: expect.stringContaining('The lane b request was refused.') } });
    session.close();
  });
});

describe('a server that goes silent', () => {
  it('is dropped within ping interval + timeout (15 s + 10 s) and the turn is answered on a new connection', async () => {
    // Only timeouts are faked: sockets, immediates and microtasks stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // The first connection takes the request and then says nothing, not even a pong.
    let requested: () => void = () => undefined;
    const firstRequest = new Promise<void>((resolve) => (requested = resolve));
    const server = await scriptedServer(
      (create, connection) => {
        requested();
        return connection === 1 ? [] : validReply('resp_2', create.stream_id as string | undefined);
      },
      { autoPong: (connection) => connection !== 1 },
    );
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const turn = session.runTurn([userMessage('hello')]);
    // Not vi.waitFor: with fake timers it advances the clock itself.
    await firstRequest;

    await vi.advanceTimersByTimeAsync(24_999);
    expect(of('socket').map((event) => event.state.status)).toEqual(['connecting', 'open']);
    await vi.advanceTimersByTimeAsync(1);
    const outcome = await turn;

    expect(outcome).toMatchObject({ status: 'completed', text: 'Hello' });
    const closedState = of('socket').find((event) => event.state.status === 'closed')?.state;
    expect(closedState).toMatchObject({ code: 1006, problem: { message: expect.stringContaining('no reply to a ping within 10 s') } });
    expect(of('reconnect')).toMatchObject([{ attempt: 1, code: 1006 }]);
    expect(server.connections).toHaveLength(2);
    session.close();
  });
});

describe('a host callback that throws', () => {
  it('is contained: the turn fails with a Problem, the process keeps running, and the next turn works', async () => {
    const server = await scriptedServer(() => validReply('resp_1'));
    const { session, of } = testSession(server.baseUrl, { warmup: 'off' }, { sleep: async () => undefined });
    const outcome = await session.runTurn([userMessage('hello')], {
      onTextDelta: () => {
        throw new Error('the window was closed');
      },
    });
    expect(outcome).toMatchObject({ status: 'failed', problem: { code: 'internal', message: expect.stringContaining('the window was closed') } });
    expect(of('socket').filter((event) => event.state.status === 'closed')).toMatchObject([{ state: { code: 1006, problem: { code: 'internal' } } }, { state: { code: 1006 } }]);
    const next = await session.runTurn([userMessage('again')]);
    expect(next).toMatchObject({ status: 'completed', text: 'Hello' });
    session.close();
  });
});
