/**
 * One response, streamed as the real service streams it (PROTOCOL.md §1 "Real sequences"), over
 * whatever carries it: a WebSocket lane, an SSE body, or a JSON body collected at the end.
 */
import type { Response, ResponseCreateEvent, ResponseInputItem, ResponseOutputItem } from '../../protocol/responses';
import { chunks, deltas, estimateTokens, think } from '../brain';
import type { QueuedFault } from '../faults';
import { newId } from '../ids';
import { pause, perOutputTokenMs, timeToFirstEventMs, type LatencyModel } from '../latency';
import { brainTools, contextTokens, encodeCompaction, toBrainMessages } from './items';
import { isReasoningModel, reasoningItem } from './reasoning';

/** What the emulator bills for a reasoning item's hidden thinking. */
const reasoningTokens = 16;

/** `output_text` is the SDK's client-side convenience, never on the wire. */
export type WireResponse = Omit<Response, 'output_text'> & { store: boolean; completed_at: number | null };

export interface EventSink {
  /** Sends one event; the sink adds `sequence_number` bookkeeping and any `stream_id`. */
  emit(event: Record<string, unknown>): void;
  /** Sends text as-is: for faults that break the protocol on purpose. */
  raw(text: string): void;
  /** Ends the transport abruptly, with a WebSocket close code where there is one. */
  drop(closeCode?: number): void;
  readonly open: boolean;
}

export interface Steering {
  /** Input a `response.steer` asked to add; the engine stops the current response when set. */
  pending: ResponseInputItem[] | null;
}

export interface EngineRequest {
  create: Omit<ResponseCreateEvent, 'type'>;
  /** Everything the model sees: cached context plus this request's input. */
  context: readonly ResponseInputItem[];
  previousId: string | null;
  /** Input tokens the server had cached (the chained part); the rest pays the latency model. */
  cachedTokens: number;
  overHttp: boolean;
  latency: LatencyModel;
  fault: QueuedFault | undefined;
  steering?: Steering;
}

export type EngineResult =
  | { status: 'completed' | 'incomplete'; response: WireResponse; remembered: ResponseInputItem[] }
  | { status: 'failed'; response: WireResponse }
  | { status: 'dropped' };

export const defaultStallMs = 10 * 60 * 1000;

export async function streamResponse(request: EngineRequest, sink: EventSink): Promise<EngineResult> {
  const { create, context, fault, latency } = request;
  // The model reads the instructions and tool definitions too: they count as input, and a chained
  // request finds them cached along with the conversation (what a warmup prepares).
  const inputTokens = contextTokens(context) + promptTokens(create);
  await pause(timeToFirstEventMs(latency, Math.max(0, inputTokens - request.cachedTokens), request.overHttp));
  if (!sink.open) return { status: 'dropped' };

  if (fault?.kind === 'malformed_frame') sink.raw('{"type":"response.created", this is not JSON');
  if (fault?.kind === 'oversized_frame') sink.raw(JSON.stringify({ type: 'response.output_text.delta', delta: 'x'.repeat(fault.bytes) }));

  const response = baseResponse(create, request.previousId);
  sink.emit({ type: 'response.created', response: { ...response } });

  if (create.generate === false) {
    // Warmup: a chainable id, no output (PROTOCOL.md §1 "Warmup").
    const completed = { ...response, status: 'completed' as const, completed_at: now(), usage: usage(inputTokens, request.cachedTokens, 0) };
    sink.emit({ type: 'response.completed', response: completed });
    return { status: 'completed', response: completed, remembered: [...context] };
  }
  sink.emit({ type: 'response.in_progress', response: { ...response } });

  if (fault?.kind === 'stall') {
    await pauseWhileOpen(sink, fault.ms ?? defaultStallMs);
    if (!sink.open) return { status: 'dropped' };
  }

  const turn = think(toBrainMessages(context), brainTools(create.tools));
  const perToken = perOutputTokenMs(latency);
  const failAfter = fault?.kind === 'error_mid_stream' ? fault.afterDeltas : null;
  const dropAfter = fault?.kind === 'drop_socket' ? fault.afterDeltas : null;
  let sent = 0;
  /** Runs before each delta: applies faults and steering; returns why streaming must stop. */
  const beforeDelta = async (): Promise<'fail' | 'drop' | 'steer' | null> => {
    if (dropAfter !== null && sent === dropAfter) return 'drop';
    if (failAfter !== null && sent === failAfter) return 'fail';
    if (request.steering?.pending) return 'steer';
    return null;
  };
  const afterDelta = async (): Promise<void> => {
    sent += 1;
    await pause(perToken);
  };

  const output: ResponseOutputItem[] = [];
  let stop: 'fail' | 'drop' | 'steer' | null = null;
  let outputTokens = 0;

  if (isReasoningModel(create.model ?? '')) {
    // Reasoning models think first: one reasoning item before the answer or the call.
    const item = reasoningItem(create.include);
    sink.emit({ type: 'response.output_item.added', output_index: 0, item });
    sink.emit({ type: 'response.output_item.done', output_index: 0, item });
    output.push(item as unknown as ResponseOutputItem);
    outputTokens += reasoningTokens;
  }
  const index = output.length;

  if (turn.kind === 'tool_call') {
    const itemId = newId('fc');
    const callId = newId('call');
    const item = { id: itemId, type: 'function_call', status: 'in_progress', arguments: '', call_id: callId, name: turn.name };
    sink.emit({ type: 'response.output_item.added', output_index: index, item });
    for (const piece of chunks(turn.arguments)) {
      stop = await beforeDelta();
      if (stop !== null || !sink.open) break;
      sink.emit({ type: 'response.function_call_arguments.delta', item_id: itemId, output_index: index, delta: piece, obfuscation: obfuscation(piece) });
      await afterDelta();
    }
    if (stop === null && sink.open) {
      sink.emit({ type: 'response.function_call_arguments.done', item_id: itemId, output_index: index, arguments: turn.arguments });
      const done = { ...item, status: 'completed', arguments: turn.arguments } as ResponseOutputItem;
      sink.emit({ type: 'response.output_item.done', output_index: index, item: done });
      output.push(done);
      outputTokens += estimateTokens(turn.arguments);
    }
  } else {
    const itemId = newId('msg');
    sink.emit({ type: 'response.output_item.added', output_index: index, item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
    const emptyPart = { type: 'output_text', annotations: [], logprobs: [], text: '' };
    sink.emit({ type: 'response.content_part.added', content_index: 0, item_id: itemId, output_index: index, part: emptyPart });
    let text = '';
    for (const delta of deltas(turn.text)) {
      stop = await beforeDelta();
      if (stop !== null || !sink.open) break;
      sink.emit({ type: 'response.output_text.delta', content_index: 0, delta, item_id: itemId, logprobs: [], obfuscation: obfuscation(delta), output_index: index });
      text += delta;
      await afterDelta();
    }
    if ((stop === null || stop === 'steer') && sink.open) {
      const part = { ...emptyPart, text };
      sink.emit({ type: 'response.output_text.done', content_index: 0, item_id: itemId, logprobs: [], output_index: index, text });
      sink.emit({ type: 'response.content_part.done', content_index: 0, item_id: itemId, output_index: index, part });
      const message = { id: itemId, type: 'message', status: stop === 'steer' ? 'incomplete' : 'completed', content: [part], role: 'assistant' } as ResponseOutputItem;
      sink.emit({ type: 'response.output_item.done', output_index: index, item: message });
      output.push(message);
      outputTokens += estimateTokens(text);
    }
  }

  if (!sink.open) return { status: 'dropped' };
  if (stop === 'drop') {
    sink.drop(fault?.kind === 'drop_socket' ? fault.closeCode : undefined);
    return { status: 'dropped' };
  }
  if (stop === 'fail') {
    const error = { code: 'server_error', message: 'The emulator was told to fail this response.' };
    sink.emit({ type: 'error', error: { type: 'server_error', code: error.code, message: error.message, param: null } });
    const failed = { ...response, status: 'failed', error, usage: null } as unknown as WireResponse;
    sink.emit({ type: 'response.failed', response: failed });
    return { status: 'failed', response: failed };
  }

  // Server-side compaction (`context_management`): after the answer, one `compaction` item
  // stands for the whole window (fixture openai-compaction: output_index 1, after the message).
  const threshold = compactThreshold(create);
  if (stop === null && threshold !== null && inputTokens + outputTokens > threshold) {
    const item = { id: newId('cmp'), type: 'compaction', encrypted_content: encodeCompaction(toBrainMessages([...context, ...(output as ResponseInputItem[])])) };
    sink.emit({ type: 'response.output_item.added', output_index: output.length, item });
    sink.emit({ type: 'response.output_item.done', output_index: output.length, item });
    output.push(item as unknown as ResponseOutputItem);
  }

  const usageFigures = usage(inputTokens, request.cachedTokens, outputTokens, isReasoningModel(create.model ?? '') ? reasoningTokens : 0);
  // A compaction item stands for everything before it, so the cache keeps only it: a chained
  // continuation must not see the compacted history twice.
  const compaction = output.find((item) => (item as { type: string }).type === 'compaction');
  const remembered = compaction === undefined ? [...context, ...(output as ResponseInputItem[])] : [compaction as unknown as ResponseInputItem];
  if (stop === 'steer') {
    const incomplete = { ...response, status: 'incomplete' as const, incomplete_details: { reason: 'steered' }, output, usage: usageFigures } as unknown as WireResponse;
    sink.emit({ type: 'response.incomplete', response: incomplete });
    return { status: 'incomplete', response: incomplete, remembered };
  }
  const completed = { ...response, status: 'completed' as const, completed_at: now(), output, usage: usageFigures };
  sink.emit({ type: 'response.completed', response: completed });
  return { status: 'completed', response: completed, remembered };
}

export function promptTokens(create: Pick<EngineRequest['create'], 'instructions' | 'tools'>): number {
  const instructions = typeof create.instructions === 'string' ? estimateTokens(create.instructions) : 0;
  return instructions + (create.tools && create.tools.length > 0 ? estimateTokens(JSON.stringify(create.tools)) : 0);
}

function compactThreshold(create: EngineRequest['create']): number | null {
  const entry = create.context_management?.find((candidate) => candidate.type === 'compaction');
  return entry === undefined ? null : (entry.compact_threshold ?? 0);
}

async function pauseWhileOpen(sink: EventSink, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (sink.open && Date.now() < until) await pause(Math.min(50, until - Date.now()));
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Real deltas carry random padding so lengths do not leak; its value does not matter. */
function obfuscation(delta: string): string {
  return 'x'.repeat(16 - (delta.length % 16));
}

export function baseResponse(create: EngineRequest['create'], previousId: string | null): WireResponse {
  return {
    id: newId('resp'),
    object: 'response',
    created_at: now(),
    status: 'in_progress',
    background: false,
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: create.instructions ?? null,
    max_output_tokens: create.max_output_tokens ?? null,
    max_tool_calls: create.max_tool_calls ?? null,
    model: create.model ?? '',
    output: [],
    parallel_tool_calls: create.parallel_tool_calls ?? true,
    previous_response_id: previousId,
    prompt_cache_key: create.prompt_cache_key ?? null,
    prompt_cache_retention: create.prompt_cache_retention ?? null,
    reasoning: isReasoningModel(create.model ?? '') ? { effort: create.reasoning?.effort ?? 'medium', summary: create.reasoning?.summary ?? null } : { effort: null, summary: null },
    safety_identifier: create.safety_identifier ?? null,
    service_tier: create.service_tier ?? 'default',
    store: create.store ?? true,
    temperature: create.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: create.tool_choice ?? 'auto',
    tools: create.tools ?? [],
    top_logprobs: create.top_logprobs ?? 0,
    top_p: create.top_p ?? 1,
    truncation: create.truncation ?? 'disabled',
    usage: null,
    user: create.user ?? null,
    metadata: create.metadata ?? {},
  } as unknown as WireResponse;
}

export function usage(inputTokens: number, cachedTokens: number, outputTokens: number, reasoningTokens = 0): NonNullable<Response['usage']> {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: Math.min(cachedTokens, inputTokens), cache_write_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: inputTokens + outputTokens,
  };
}
