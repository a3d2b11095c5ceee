/**
 * Where the frames of the conformance run differ from the vendored OpenAPI spec, and why that is
 * right: each entry names the evidence that the real service sends the same. Evidence of kind
 * `recording` or `spec-example` is re-checked by the test (the recording, or the spec's own
 * example event, must show the same violation); `log` evidence is cited, not checked.
 */
import type { Union } from './spec';

export type Evidence =
  /** A real stream vendored in test/fixtures/recorded/responses-http-stream (SOURCES.md there). */
  | { kind: 'recording'; file: string }
  /** The spec's own example event (`x-oaiMeta.example`, captured from the service) breaks its schema the same way. */
  | { kind: 'spec-example'; schema: string }
  /** A real frame quoted elsewhere; not machine-checked. */
  | { kind: 'log'; where: string; quote: string };

export interface Deviation {
  union: Union;
  type: string;
  /** The violation as `spec.ts` reports it: `instancePath keyword: message`. */
  violation: string;
  why: string;
  evidence: Evidence;
}

const reasoningLoop = 'openai-reasoning-encrypted-content.1.chunks.txt';

export const deviations: Deviation[] = [
  // Responses: the Response object in lifecycle events.
  ...(['response.created', 'response.in_progress', 'response.completed', 'response.failed'] as const).map(
    (type): Deviation => ({
      union: 'ResponsesServerEvent',
      type,
      violation: '/response/user type: must be string',
      why: 'The real Response carries `user: null` when no user was sent; the spec types it string-only.',
      evidence: { kind: 'recording', file: type === 'response.failed' ? 'openai-error.1.chunks.txt' : reasoningLoop },
    }),
  ),
  ...(['response.created', 'response.in_progress', 'response.failed'] as const).map(
    (type): Deviation => ({
      union: 'ResponsesServerEvent',
      type,
      violation: '/response/usage type: must be object',
      why: 'Usage is `null` until a response completes (and on failure); the spec types it object-only.',
      evidence: { kind: 'recording', file: type === 'response.failed' ? 'openai-error.1.chunks.txt' : reasoningLoop },
    }),
  ),
  {
    union: 'ResponsesServerEvent',
    type: 'response.function_call_arguments.done',
    violation: "/ required 'name': must have required property 'name'",
    why: 'The real event has item_id, output_index, arguments and no `name`; the spec requires it.',
    evidence: { kind: 'recording', file: reasoningLoop },
  },

  // Realtime: the session object; the spec's own session.created/updated examples carry these nulls.
  ...(['session.created', 'session.updated'] as const).flatMap((type): Deviation[] => {
    const schema = type === 'session.created' ? 'RealtimeServerEventSessionCreated' : 'RealtimeServerEventSessionUpdated';
    return [
      { union: 'RealtimeServerEvent', type, violation: '/session/audio/input/noise_reduction type: must be object', why: 'Unset noise reduction is `null`.', evidence: { kind: 'spec-example', schema } },
      { union: 'RealtimeServerEvent', type, violation: '/session/include type: must be array', why: 'Unset `include` is `null`.', evidence: { kind: 'spec-example', schema } },
    ];
  }),
  {
    union: 'RealtimeServerEvent',
    type: 'session.created',
    violation: '/session/audio/input/transcription type: must be object',
    why: 'A conversation session starts with input transcription off: `transcription: null`.',
    evidence: { kind: 'spec-example', schema: 'RealtimeServerEventSessionCreated' },
  },
  // Realtime: the response object.
  {
    union: 'RealtimeServerEvent',
    type: 'response.created',
    violation: '/response/status_details type: must be object',
    why: 'An in-progress response has `status_details: null`.',
    evidence: { kind: 'spec-example', schema: 'RealtimeServerEventResponseCreated' },
  },
  {
    union: 'RealtimeServerEvent',
    type: 'response.created',
    violation: '/response/usage type: must be object',
    why: 'Usage is `null` until `response.done`.',
    evidence: { kind: 'spec-example', schema: 'RealtimeServerEventResponseCreated' },
  },
  {
    union: 'RealtimeServerEvent',
    type: 'response.done',
    violation: '/response/status_details type: must be object',
    why: 'A completed response has `status_details: null` (details only for cancelled/incomplete/failed).',
    evidence: { kind: 'spec-example', schema: 'RealtimeServerEventResponseDone' },
  },
  // Realtime: the committed user audio item.
  ...(['conversation.item.added', 'conversation.item.done'] as const).map(
    (type): Deviation => ({
      union: 'RealtimeServerEvent',
      type,
      violation: '/item/content/*/transcript type: must be string',
      why: 'A committed user audio item carries `{type:"input_audio", transcript:null}` until (and unless) input transcription fills it in.',
      evidence: {
        kind: 'log',
        where: 'A GA gpt-realtime session logged verbatim in a public SIP bridge (found by code search; no stable URL), event event_Ct1OZj9NwCjOpHFOCVWVn',
        quote: '{"type":"conversation.item.added",…,"item":{"id":"item_Ct1OXLqYLre7VW2Bz9Eoy","type":"message","status":"completed","role":"user","content":[{"type":"input_audio","transcript":null}]}}',
      },
    }),
  ),
];

export const deviationKey = (union: Union, type: string, violation: string): string => `${union} ${type} ${violation}`;
