/**
 * Conformance that nobody here wrote: every frame the app sends and every frame the emulator
 * sends across one realistic run (run.ts) is validated against OpenAI's own OpenAPI spec
 * (test/fixtures/openapi, vendored from openai/openai-openapi). A violation fails unless
 * deviations.ts lists it with evidence that the real service does the same; recorded and
 * spec-example evidence is re-checked here, and a listed deviation the run no longer shows fails
 * too, so the list cannot go stale.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeClientEvent as SdkRealtimeClientEvent } from 'openai/resources/realtime/realtime';
import type { ResponsesClientEvent as SdkResponsesClientEvent } from 'openai/resources/responses/responses';
import type { RealtimeClientEvent } from '../../app/protocol/realtime';
import type { ResponseCreateEvent } from '../../app/protocol/responses';
import { recordedDir } from '../support/fixtures';
import { deviationKey, deviations } from './deviations';
import type { RecordedFrame } from '../../app/testing';
import { recordRun } from './run';
import { loadEventSchemas, type EventSchemas, type Union } from './spec';

// The app's send sites are typed with these (app/voice/realtimeSession.ts `#send`, app/responses/session.ts
// `create`); they must stay the SDK's client event types, so a frame the SDK would not type fails tsc.
const typedAsSdk: [(event: ResponseCreateEvent) => SdkResponsesClientEvent, (event: RealtimeClientEvent) => SdkRealtimeClientEvent] = [(event) => event, (event) => event];

const unionOf = ({ protocol, direction }: RecordedFrame): Union =>
  `${protocol === 'responses' ? 'Responses' : 'Realtime'}${direction === 'client' ? 'Client' : 'Server'}Event`;

let spec: EventSchemas;
let run: Awaited<ReturnType<typeof recordRun>>;
/** Every violation in the run, by deviation key, with one example frame each. */
const found = new Map<string, { count: number; frame: Record<string, unknown>; detail: string }>();

beforeAll(async () => {
  spec = loadEventSchemas();
  run = await recordRun();
  for (const recorded of run.frames) {
    const union = unionOf(recorded);
    for (const violation of spec.check(union, recorded.frame)) {
      const key = deviationKey(union, String(recorded.frame.type), violation.key);
      const entry = found.get(key) ?? { count: 0, frame: recorded.frame, detail: violation.detail };
      entry.count += 1;
      found.set(key, entry);
    }
  }
}, 60_000);

describe('the frames of a realistic run against the OpenAI spec', () => {
  it('ran every step to its expected end, over both protocols, in both directions', () => {
    expect(typedAsSdk).toHaveLength(2);
    expect(run.outcomes).toEqual({
      hello: 'completed',
      'tool call': 'completed',
      compaction: 'completed',
      'after evict_cache': 'completed',
      'after drop_socket': 'completed',
      'after rate_limit': 'completed',
      error_mid_stream: 'failed',
      'lane left': 'completed',
      'lane right': 'completed',
      stored: 'completed',
      'stored chained': 'completed',
      'voice turn': 'completed',
      'voice delegation': 'completed',
      'pipeline turn': 'completed',
    });
    expect(run.unparsable).toEqual([]);
    const seen = (union: Union, type: string): boolean => run.frames.some((frame) => unionOf(frame) === union && frame.frame.type === type);
    // The run reached the shapes it is meant to check.
    for (const type of ['response.created', 'response.completed', 'response.failed', 'error', 'response.function_call_arguments.done', 'response.output_item.done']) expect(seen('ResponsesServerEvent', type), type).toBe(true);
    for (const type of ['session.created', 'session.updated', 'response.done', 'response.output_audio.delta', 'response.function_call_arguments.done', 'conversation.item.input_audio_transcription.completed']) expect(seen('RealtimeServerEvent', type), type).toBe(true);
    for (const type of ['session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'conversation.item.create', 'response.create']) expect(seen('RealtimeClientEvent', type), type).toBe(true);
    const items = new Set(run.frames.filter((frame) => frame.frame.type === 'response.output_item.done').map((frame) => (frame.frame.item as { type: string }).type));
    // A reasoning model's reasoning items, with their encrypted content (store:false asks for it), are checked too.
    expect([...items].sort()).toEqual(expect.arrayContaining(['compaction', 'function_call', 'message', 'reasoning']));
    const reasoning = run.frames.filter((frame) => frame.frame.type === 'response.output_item.done' && (frame.frame.item as { type: string }).type === 'reasoning');
    expect(reasoning.some((frame) => typeof (frame.frame.item as { encrypted_content?: unknown }).encrypted_content === 'string')).toBe(true);
    const by = (union: Union) => run.frames.filter((frame) => unionOf(frame) === union).length;
    process.stdout.write(
      `conformance: ${run.frames.length} frames checked (Responses ${by('ResponsesClientEvent')} client / ${by('ResponsesServerEvent')} server; Realtime ${by('RealtimeClientEvent')} client / ${by('RealtimeServerEvent')} server); ${found.size} listed deviations seen\n`,
    );
    const creates = run.frames.filter((frame) => unionOf(frame) === 'ResponsesClientEvent');
    expect(creates.some((frame) => frame.frame.generate === false && frame.frame.model === 'gpt-5-mini' && frame.frame.store === false)).toBe(true);
    expect(creates.some((frame) => typeof frame.frame.stream_id === 'string')).toBe(true);
  });

  it('has no deviation from the spec that is not listed with evidence', () => {
    const listed = new Set(deviations.map((deviation) => deviationKey(deviation.union, deviation.type, deviation.violation)));
    const unlisted = [...found].filter(([key]) => !listed.has(key)).map(([key, { count, frame, detail }]) => `${key} (×${count}; ${detail}) e.g. ${JSON.stringify(frame).slice(0, 400)}`);
    expect(unlisted).toEqual([]);
  });

  it('lists only deviations the run still shows', () => {
    const stale = deviations.map((deviation) => deviationKey(deviation.union, deviation.type, deviation.violation)).filter((key) => !found.has(key));
    expect(stale).toEqual([]);
  });

  it('backs each recorded or spec-example piece of evidence with the same violation', () => {
    const unsupported = deviations.flatMap((deviation) => {
      const { evidence } = deviation;
      const frames =
        evidence.kind === 'recording'
          ? readFileSync(join(recordedDir, evidence.file), 'utf8')
              .split('\n')
              .filter((line) => line.trim() !== '')
              .map((line) => JSON.parse(line) as Record<string, unknown>)
          : evidence.kind === 'spec-example'
            ? [spec.example(evidence.schema)]
            : [];
      const shows = frames.some((frame) => frame.type === deviation.type && spec.check(deviation.union, frame).some((violation) => violation.key === deviation.violation));
      return evidence.kind === 'log' || shows ? [] : [`${deviation.type} ${deviation.violation}: not shown by ${JSON.stringify(evidence)}`];
    });
    expect(unsupported).toEqual([]);
  });

  it('validates against the whole spec: every event type of the four unions has a schema', () => {
    expect(spec.source).toMatchObject({ repository: 'https://github.com/openai/openai-openapi', path: 'openapi.json' });
    expect(Object.fromEntries(Object.entries(spec.members).map(([union, members]) => [union, members.size]))).toEqual({
      ResponsesClientEvent: 1,
      ResponsesServerEvent: 58,
      RealtimeClientEvent: 11,
      RealtimeServerEvent: 46,
    });
    // The validators do reject: a frame with a broken field is a violation.
    expect(spec.check('RealtimeServerEvent', { type: 'response.output_audio.delta', event_id: 'e', response_id: 'r', item_id: 'i', output_index: '0', content_index: 0, delta: '' })).toEqual([
      expect.objectContaining({ key: '/output_index type: must be integer' }),
    ]);
    expect(spec.check('ResponsesClientEvent', { type: 'response.cancel' })).toHaveLength(1);
  });
});
