/**
 * One Realtime response, streamed with the real nesting (PROTOCOL.md §2 "Voice turn", §4 item 5):
 * `response.created` → `output_item.added` → `conversation.item.added` → `content_part.added` →
 * deltas → the matching `*.done` events, innermost first → exactly one `response.done`, also when
 * cancelled, interrupted or failed (items then end `incomplete`).
 */
import type { ModelRefusal } from '../models';
import type { RealtimeAudioFormats, RealtimeResponse, RealtimeResponseStatus } from 'openai/resources/realtime/realtime';
import { bytesPerMs, fromPcm24k } from '../../audio/encoding';
import { msToSamples, realtimePcmRate, toBase64 } from '../../audio/pcm';
import { chunks, deltas, estimateTokens, think, type BrainMessage, type BrainTool } from '../brain';
import type { QueuedFault } from '../faults';
import { newId } from '../ids';
import { perOutputTokenMs, timeToFirstEventMs, type LatencyModel } from '../latency';
import { encodingOf, voiceName, type Modalities, type Voice } from './config';
import { audioMs, toWire, type Content, type Conversation, type Item } from './conversation';
import { toneSpeech, type SpeechSynth } from './speech';
import { serverNull, type ServerEvent } from './wire';

export type StopReason = 'client_cancelled' | 'turn_detected' | 'closed';

/** A response in flight: its id, whether it writes to the default conversation, and how to stop it. */
export class ResponseRun {
  #stop: StopReason | null = null;
  #wake: (() => void) | null = null;

  constructor(
    readonly id: string,
    readonly inConversation: boolean,
  ) {}

  get stopped(): StopReason | null {
    return this.#stop;
  }

  cancel(reason: StopReason): void {
    this.#stop ??= reason;
    this.#wake?.();
  }

  /** Waits `ms` (a yield to I/O when 0), returning early once cancelled: pacing never delays a cancel. */
  wait(ms: number): Promise<void> {
    if (this.#stop !== null) return Promise.resolve();
    return new Promise((resolve) => {
      let stopTimer = (): void => undefined;
      const done = (): void => {
        stopTimer();
        this.#wake = null;
        resolve();
      };
      if (ms > 0) {
        const timer = setTimeout(done, ms);
        stopTimer = () => clearTimeout(timer);
      } else {
        const immediate = setImmediate(done);
        stopTimer = () => clearImmediate(immediate);
      }
      this.#wake = done;
    });
  }
}

export interface ResponsePlan {
  modalities: Modalities;
  format: RealtimeAudioFormats;
  voice: Voice;
  speed: number;
  maxOutputTokens: number | 'inf';
  metadata: Record<string, string> | null;
  context: BrainMessage[];
  tools: BrainTool[];
  usage: { textTokens: number; audioTokens: number; cachedTokens: number };
  fault: QueuedFault | undefined;
  latency: LatencyModel;
  speech: Promise<SpeechSynth>;
  /** Set when the session's model is not one the service serves: every response then fails. */
  unserved: ModelRefusal | null;
}

export interface ResponseHost {
  emit(event: ServerEvent): void;
  /** Sends text as-is: for faults that break the protocol on purpose. */
  raw(text: string): void;
  /** Ends the socket abruptly (fault `drop_socket`). */
  drop(closeCode?: number): void;
  readonly open: boolean;
  /** The default conversation, or null for an out-of-band response (`conversation: 'none'`). */
  conversation: Conversation | null;
  onAudioSent(): void;
}

export interface ResponseOutcome {
  status: NonNullable<RealtimeResponse['status']>;
  outputTokens: number;
  audioMs: number;
}

/** About 20 audio tokens per second of speech out, 10 per second in: the emulator's usage estimate. */
export const outputAudioTokens = (ms: number): number => Math.ceil(ms / 50);
export const inputAudioTokens = (ms: number): number => Math.ceil(ms / 100);

const audioChunkMs = 100;
export const defaultStallMs = 10 * 60 * 1000;

type Halt = 'drop' | 'fail' | StopReason;

export async function streamResponse(run: ResponseRun, plan: ResponsePlan, host: ResponseHost): Promise<ResponseOutcome | null> {
  const { fault } = plan;
  const conversationId = host.conversation?.id ?? serverNull;
  const response: RealtimeResponse = {
    object: 'realtime.response',
    id: run.id,
    status: 'in_progress',
    status_details: serverNull,
    output: [],
    conversation_id: conversationId,
    output_modalities: plan.modalities,
    max_output_tokens: plan.maxOutputTokens,
    audio: { output: { format: plan.format, voice: voiceName(plan.voice) } },
    usage: serverNull,
    metadata: plan.metadata,
  };
  if (fault?.kind === 'malformed_frame') host.raw('{"type":"response.created", this is not JSON');
  if (fault?.kind === 'oversized_frame') host.raw(JSON.stringify({ type: 'response.output_audio.delta', delta: 'A'.repeat(fault.bytes) }));
  host.emit({ type: 'response.created', response: { ...response } });
  if (plan.unserved !== null) {
    // The service accepts the session and fails each response (openai-realtime-console#561).
    const usage = { total_tokens: 0, input_tokens: 0, output_tokens: 0, input_token_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0, cached_tokens: 0 }, output_token_details: { text_tokens: 0, audio_tokens: 0 } };
    host.emit({ type: 'response.done', response: { ...response, status: 'failed', status_details: { type: 'failed', error: plan.unserved }, usage } });
    return { status: 'failed', outputTokens: 0, audioMs: 0 };
  }

  const inputTokens = plan.usage.textTokens + plan.usage.audioTokens;
  await run.wait(timeToFirstEventMs(plan.latency, Math.max(0, inputTokens - plan.usage.cachedTokens), false));

  const perToken = perOutputTokenMs(plan.latency);
  let deltasSent = 0;
  const flow: { halt: Halt | null } = { halt: null };
  /** Checked before every delta: faults fire after N deltas; a cancel or a closed socket stops the stream. */
  const gate = (): boolean => {
    if (!host.open) flow.halt = 'closed';
    else if (run.stopped !== null) flow.halt = run.stopped;
    else if (fault?.kind === 'drop_socket' && deltasSent >= fault.afterDeltas) flow.halt = 'drop';
    else if (fault?.kind === 'error_mid_stream' && deltasSent >= fault.afterDeltas) flow.halt = 'fail';
    return flow.halt === null;
  };
  const sent = (): void => {
    deltasSent += 1;
  };

  const output: Item[] = [];
  let outputTextTokens = 0;
  let spokenMs = 0;
  let incomplete = false;
  const responseId = run.id;

  const turn = run.stopped === null && host.open ? think(plan.context, plan.tools) : null;
  if (turn === null) flow.halt = host.open ? run.stopped : 'closed';
  if (turn !== null) {
    const item: Item =
      turn.kind === 'tool_call'
        ? { type: 'function_call', id: newId('item'), call_id: newId('call'), name: turn.name, arguments: '', status: 'in_progress' }
        : { type: 'message', id: newId('item'), role: 'assistant', status: 'in_progress', content: [] };
    output.push(item);
    host.emit({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item: toWire(item) });
    const previousItemId = host.conversation?.insert(item) ?? null;
    if (host.conversation !== null) host.emit({ type: 'conversation.item.added', previous_item_id: previousItemId, item: toWire(item) });
    const where = { response_id: responseId, item_id: item.id, output_index: 0 };

    if (item.type === 'function_call' && turn.kind === 'tool_call') {
      if (fault?.kind === 'stall') await run.wait(fault.ms ?? defaultStallMs);
      for (const piece of chunks(turn.arguments)) {
        if (!gate()) break;
        host.emit({ type: 'response.function_call_arguments.delta', ...where, call_id: item.call_id, delta: piece });
        item.arguments += piece;
        sent();
        await run.wait(perToken);
      }
      outputTextTokens = estimateTokens(item.arguments);
      if (flow.halt !== 'drop' && flow.halt !== 'closed') {
        host.emit({ type: 'response.function_call_arguments.done', ...where, call_id: item.call_id, name: item.name, arguments: item.arguments });
      }
    } else if (item.type === 'message' && turn.kind === 'text') {
      const limited = limitTokens(turn.text, plan.maxOutputTokens);
      incomplete = limited !== turn.text;
      const audio = plan.modalities[0] === 'audio';
      const part: Content = audio ? { type: 'output_audio', audio: null, transcript: '' } : { type: 'output_text', text: '' };
      item.content.push(part);
      host.emit({ type: 'response.content_part.added', ...where, content_index: 0, part: audio ? { type: 'audio', transcript: '' } : { type: 'text', text: '' } });
      if (fault?.kind === 'stall') await run.wait(fault.ms ?? defaultStallMs);

      if (part.type === 'output_text') {
        for (const delta of deltas(limited)) {
          if (!gate()) break;
          host.emit({ type: 'response.output_text.delta', ...where, content_index: 0, delta });
          part.text += delta;
          sent();
          await run.wait(perToken);
        }
        outputTextTokens = estimateTokens(part.text);
        if (flow.halt !== 'drop' && flow.halt !== 'closed') {
          host.emit({ type: 'response.output_text.done', ...where, content_index: 0, text: part.text });
          host.emit({ type: 'response.content_part.done', ...where, content_index: 0, part: { type: 'text', text: part.text } });
        }
      } else if (part.type === 'output_audio') {
        const encoding = encodingOf(plan.format);
        const speech = await synthesize(plan, limited);
        part.audio = { samples: speech, sentSamples: 0, encoding };
        const bytes = fromPcm24k(speech, encoding);
        const chunkSamples = msToSamples(audioChunkMs, realtimePcmRate);
        const chunkBytes = audioChunkMs * bytesPerMs(encoding);
        const words = deltas(limited);
        const starts = wordStarts(words);
        let nextWord = 0;
        streaming: for (let chunk = 0; chunk * chunkSamples < speech.length; chunk += 1) {
          const heard = Math.min(1, ((chunk + 1) * chunkSamples) / speech.length);
          // Transcript runs slightly ahead of the audio, as on the real service.
          while (nextWord < words.length && (starts[nextWord] ?? 1) < heard) {
            if (!gate()) break streaming;
            const word = words[nextWord] ?? '';
            host.emit({ type: 'response.output_audio_transcript.delta', ...where, content_index: 0, delta: word });
            part.transcript += word;
            nextWord += 1;
            sent();
          }
          if (!gate()) break;
          host.emit({ type: 'response.output_audio.delta', ...where, content_index: 0, delta: toBase64(bytes.subarray(chunk * chunkBytes, (chunk + 1) * chunkBytes)) });
          // A truncate that arrived mid-stream replaced the audio: the heard part stays as it is.
          if (part.audio.samples === speech) part.audio.sentSamples = Math.min(speech.length, (chunk + 1) * chunkSamples);
          host.onAudioSent();
          sent();
          await run.wait(perToken * outputAudioTokens(audioChunkMs));
        }
        for (; flow.halt === null && nextWord < words.length && gate(); nextWord += 1) {
          host.emit({ type: 'response.output_audio_transcript.delta', ...where, content_index: 0, delta: words[nextWord] ?? '' });
          part.transcript += words[nextWord] ?? '';
          sent();
        }
        spokenMs = audioMs(part.audio);
        outputTextTokens = estimateTokens(part.transcript);
        if (flow.halt !== 'drop' && flow.halt !== 'closed') {
          host.emit({ type: 'response.output_audio.done', ...where, content_index: 0 });
          host.emit({ type: 'response.output_audio_transcript.done', ...where, content_index: 0, transcript: part.transcript });
          host.emit({ type: 'response.content_part.done', ...where, content_index: 0, part: { type: 'audio', transcript: part.transcript } });
        }
      }
    }
    if (flow.halt === 'drop') {
      host.drop(fault?.kind === 'drop_socket' ? fault.closeCode : undefined);
      return null;
    }
    if (flow.halt === 'closed') return null;
    item.status = flow.halt === null && !incomplete ? 'completed' : 'incomplete';
    host.emit({ type: 'response.output_item.done', response_id: responseId, output_index: 0, item: toWire(item) });
    if (host.conversation !== null) host.emit({ type: 'conversation.item.done', previous_item_id: previousItemId, item: toWire(item) });
  }
  if (flow.halt === 'closed' || !host.open) return null;

  const failure = { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request. (Emulator fault: error_mid_stream.)' };
  if (flow.halt === 'fail') host.emit({ type: 'error', error: { type: failure.type, code: failure.code, message: failure.message, param: null, event_id: null } });
  const status: ResponseOutcome['status'] = flow.halt === 'fail' ? 'failed' : flow.halt !== null ? 'cancelled' : incomplete ? 'incomplete' : 'completed';
  const details: RealtimeResponseStatus | undefined =
    status === 'failed'
      ? { type: 'failed', error: failure }
      : status === 'cancelled'
        ? { type: 'cancelled', reason: flow.halt === 'turn_detected' ? 'turn_detected' : 'client_cancelled' }
        : status === 'incomplete'
          ? { type: 'incomplete', reason: 'max_output_tokens' }
          : serverNull;
  const audioTokens = outputAudioTokens(spokenMs);
  const outputTokens = outputTextTokens + audioTokens;
  host.emit({
    type: 'response.done',
    response: {
      ...response,
      status,
      status_details: details,
      output: output.map((item) => toWire(item)),
      usage: {
        total_tokens: inputTokens + outputTokens,
        input_tokens: inputTokens,
        output_tokens: outputTokens,
        input_token_details: {
          text_tokens: plan.usage.textTokens,
          audio_tokens: plan.usage.audioTokens,
          image_tokens: 0,
          cached_tokens: plan.usage.cachedTokens,
          cached_tokens_details: { text_tokens: Math.min(plan.usage.cachedTokens, plan.usage.textTokens), audio_tokens: Math.max(0, plan.usage.cachedTokens - plan.usage.textTokens), image_tokens: 0 },
        },
        output_token_details: { text_tokens: outputTextTokens, audio_tokens: audioTokens },
      },
    },
  });
  if (status !== 'failed') {
    host.emit({
      type: 'rate_limits.updated',
      rate_limits: [
        { name: 'requests', limit: 5000, remaining: 4999, reset_seconds: 0.012 },
        { name: 'tokens', limit: 40000, remaining: Math.max(0, 40000 - inputTokens - outputTokens), reset_seconds: 0.06 },
      ],
    });
  }
  return { status, outputTokens, audioMs: spokenMs };
}

async function synthesize(plan: ResponsePlan, text: string): Promise<Int16Array> {
  const options = { voice: voiceName(plan.voice), speed: plan.speed };
  try {
    return await (await plan.speech).synthesize(text, options);
  } catch {
    // espeak-ng vanished or failed mid-session: the tone still carries the turn.
    return toneSpeech.synthesize(text, options);
  }
}

/** Cuts text at `max_output_tokens`, whole words only. */
function limitTokens(text: string, max: number | 'inf'): string {
  if (max === 'inf' || estimateTokens(text) <= max) return text;
  let kept = '';
  for (const word of deltas(text)) {
    if (estimateTokens(kept + word) > max) break;
    kept += word;
  }
  return kept;
}

/** Where each word begins, as a fraction of the whole text (speech time is taken as proportional). */
function wordStarts(words: readonly string[]): number[] {
  const total = words.reduce((sum, word) => sum + word.length, 0) || 1;
  let offset = 0;
  return words.map((word) => {
    const start = offset / total;
    offset += word.length;
    return start;
  });
}

/** The part of a transcript heard by `audio_end_ms`: words whose middle falls in the played share. */
export function heardTranscript(transcript: string, playedFraction: number): string {
  const words = transcript.match(/\s*\S+/g) ?? [];
  const total = transcript.length || 1;
  let offset = 0;
  let heard = '';
  for (const word of words) {
    const middle = (offset + word.length / 2) / total;
    offset += word.length;
    if (middle > playedFraction) break;
    heard += word;
  }
  return heard;
}

