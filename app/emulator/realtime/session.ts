/**
 * One emulated Realtime WebSocket session (PROTOCOL.md §2, checked against §4 items 1–9):
 * `session.created` first, `session.update` as a validated partial merge, the input audio buffer
 * with energy VAD (`server_vad`, `semantic_vad`, or manual turns), the default conversation, one
 * response at a time in it (out-of-band ones beside it), cancel and barge-in, truncation, input
 * transcription placeholders, faults, and the 60-minute limit on the injected clock.
 */
import { modelRefusal } from '../models';
import type { RawData, WebSocket } from 'ws';
import { toPcm24k } from '../../audio/encoding';
import { fromBase64, realtimePcmRate, samplesToMs, msToSamples } from '../../audio/pcm';
import { estimateTokens } from '../brain';
import type { EmulatorClock } from '../clock';
import type { FaultQueue } from '../faults';
import { newId } from '../ids';
import type { LatencyModel } from '../latency';
import {
  brainToolsOf,
  defaultRealtimeConfig,
  defaultTranscriptionConfig,
  encodingOf,
  updateRealtimeConfig,
  updateTranscriptionConfig,
  type RealtimeConfig,
  type SessionConfig,
  wireSession,
} from './config';
import { audioMs, Conversation, readItem, toBrain, toWire, type Item } from './conversation';
import { InputAudioBuffer } from './inputBuffer';
import { readResponseParams, type ResponseParams } from './requests';
import { heardTranscript, inputAudioTokens, ResponseRun, streamResponse, type ResponseHost, type ResponsePlan } from './response';
import { defaultSpeech, type SpeechSynth } from './speech';
import { InvalidRequest, invalidValue, isObject, number, onlyKeys, required, string, type Json } from './validate';
import { EnergyVad, vadSettings, type VadEvent } from './vad';
import { errorBody, serverError, type ServerEvent } from './wire';

export interface RealtimeSessionOptions {
  ws: WebSocket;
  /** From the `?model=` query parameter (default `gpt-realtime`). */
  model: string;
  /** `?intent=transcription` opens a transcription session; otherwise a conversation. */
  intent: 'conversation' | 'transcription';
  clock: EmulatorClock;
  latency: LatencyModel;
  faults: FaultQueue;
  /** What the next utterances committed on any session say, oldest first (`Emulator.hear`); taken as they are committed. */
  hearing?: string[];
  /** Session age limit (60 minutes by default); then `session_expired` and close 1001. */
  sessionLimitMs: number;
  onClose?: () => void;
  /** The voice; by default espeak-ng when installed, else the synthetic tone. */
  speech?: SpeechSynth;
}

const clientEventTypes = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'output_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
] as const;
type ClientEventType = (typeof clientEventTypes)[number];

/** The largest append the real service accepts (RT InputAudioBufferAppendEvent: "up to a maximum of 15 MiB"). */
const maxAppendBytes = 15 * 1024 * 1024;
const minCommitMs = 100;

type Lifecycle = { status: 'open'; cancelExpiry: () => void } | { status: 'closed' };
/** Speech VAD has heard begin and not yet end: the user item it will become. */
type Speech = { itemId: string; audioStartMs: number } | null;

export class RealtimeSession {
  #options: RealtimeSessionOptions;
  #ws: WebSocket;
  #config: SessionConfig;
  #conversation = new Conversation();
  #buffer = new InputAudioBuffer();
  #vad = new EnergyVad();
  /** A PCM16 append can end mid-sample; its odd byte waits for the next one. */
  #oddByte: number | null = null;
  #speech: Speech = null;
  #responses = new Map<string, ResponseRun>();
  #defaultResponse: ResponseRun | null = null;
  #voiceLocked = false;
  /** Input tokens of the last default-conversation response: what the next one finds cached. */
  #cachedTokens = 0;
  /** `server_vad.idle_timeout_ms`: input position (ms) at which silence triggers a turn. */
  #idleDeadlineMs: number | null = null;
  #speechSynth: Promise<SpeechSynth>;
  /** A VAD turn that ended while an interrupted answer was still closing. */
  #afterDefaultResponse: (() => void) | null = null;
  #lifecycle: Lifecycle;

  constructor(options: RealtimeSessionOptions) {
    this.#options = options;
    this.#ws = options.ws;
    this.#speechSynth = options.speech === undefined ? defaultSpeech() : Promise.resolve(options.speech);
    const expiresAt = Math.floor((options.clock.now() + options.sessionLimitMs) / 1000);
    this.#config =
      options.intent === 'transcription' ? defaultTranscriptionConfig(newId('sess'), expiresAt) : defaultRealtimeConfig(newId('sess'), options.model, expiresAt);
    this.#lifecycle = { status: 'open', cancelExpiry: options.clock.setTimer(options.sessionLimitMs, () => this.expire()) };

    this.#ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
    this.#ws.on('close', () => this.#closed());
    // A protocol error on the socket (e.g. an oversized frame) is followed by 'close'; it must not crash the server.
    this.#ws.on('error', () => undefined);

    this.#emit({ type: 'session.created', session: wireSession(this.#config) });
    if (this.#config.type === 'realtime') this.#emit({ type: 'conversation.created', conversation: { id: this.#conversation.id, object: 'realtime.conversation' } });
  }

  /** Fault `expire_connection`, and the session age limit: `session_expired`, then close 1001 (PROTOCOL.md §2 "Errors"). */
  expire(): void {
    if (this.#lifecycle.status !== 'open') return;
    const minutes = Math.round((this.#options.sessionLimitMs / 60_000) * 100) / 100;
    const message = `Your session hit the maximum duration of ${minutes} minutes.`;
    this.#error(new InvalidRequest('session_expired', null, message), null);
    this.#ws.close(1001, message);
  }

  /** Fault `evict_cache` has no Realtime meaning; present so the server can treat sessions alike. */
  evictCache(): void {}

  get #open(): boolean {
    return this.#lifecycle.status === 'open' && this.#ws.readyState === this.#ws.OPEN;
  }

  #closed(): void {
    if (this.#lifecycle.status === 'open') this.#lifecycle.cancelExpiry();
    this.#lifecycle = { status: 'closed' };
    for (const run of this.#responses.values()) run.cancel('closed');
    this.#options.onClose?.();
  }

  #emit(event: ServerEvent): void {
    if (!this.#open) return;
    const { type, ...rest } = event;
    this.#ws.send(JSON.stringify({ type, event_id: newId('event'), ...rest }));
  }

  #error(error: InvalidRequest, clientEventId: string | null): void {
    this.#emit({ type: 'error', error: errorBody(error, clientEventId) });
  }

  #receive(data: RawData, isBinary: boolean): void {
    let clientEventId: string | null = null;
    try {
      if (isBinary) throw new InvalidRequest('invalid_value', null, 'Binary frames are not supported; send each client event as a JSON text frame.');
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        throw new InvalidRequest('invalid_json', null, "We could not parse the JSON body of your event. Send each client event as one JSON object, e.g. {\"type\": \"response.create\"}.");
      }
      if (!isObject(message)) throw new InvalidRequest('invalid_type', null, 'Each client event must be a JSON object with a "type".');
      if (message.event_id !== undefined) clientEventId = string(message.event_id, 'event_id');
      const type = string(required(message, 'type', 'type'), 'type');
      if (!(clientEventTypes as readonly string[]).includes(type)) throw invalidValue('type', type, clientEventTypes);
      this.#dispatch(type as ClientEventType, message);
    } catch (error) {
      this.#error(error instanceof InvalidRequest ? error : serverError(`The emulator failed to handle that event: ${(error as Error).message}`), clientEventId);
    }
  }

  #dispatch(type: ClientEventType, message: Json): void {
    const allow = (...keys: string[]): void => onlyKeys(message, null, ['type', 'event_id', ...keys]);
    const eventId = typeof message.event_id === 'string' ? message.event_id : null;
    const transcriptionOnly = this.#config.type === 'transcription';
    switch (type) {
      case 'session.update':
        allow('session');
        return this.#updateSession(required(message, 'session', 'session'));
      case 'input_audio_buffer.append':
        allow('audio');
        return this.#append(required(message, 'audio', 'audio'));
      case 'input_audio_buffer.commit':
        allow();
        return this.#commitManually();
      case 'input_audio_buffer.clear':
        allow();
        this.#buffer.clear();
        this.#vad.reset();
        this.#speech = null;
        return this.#emit({ type: 'input_audio_buffer.cleared' });
      case 'output_audio_buffer.clear':
        throw new InvalidRequest('invalid_value', 'type', "'output_audio_buffer.clear' is only supported on WebRTC and SIP connections; on a WebSocket, send 'response.cancel' and truncate the item.");
      case 'conversation.item.retrieve': {
        allow('item_id');
        const item = this.#item(required(message, 'item_id', 'item_id'));
        return this.#emit({ type: 'conversation.item.retrieved', item: toWire(item, true) });
      }
      case 'conversation.item.delete': {
        allow('item_id');
        const item = this.#item(required(message, 'item_id', 'item_id'));
        this.#conversation.remove(item.id);
        return this.#emit({ type: 'conversation.item.deleted', item_id: item.id });
      }
      default:
        if (transcriptionOnly) {
          throw new InvalidRequest('invalid_value', 'type', `'${type}' is not supported in a transcription session (opened with ?intent=transcription).`);
        }
    }
    switch (type) {
      case 'conversation.item.create':
        allow('item', 'previous_item_id');
        return this.#createItem(message);
      case 'conversation.item.truncate':
        allow('item_id', 'content_index', 'audio_end_ms');
        return this.#truncate(message);
      case 'response.create': {
        allow('response');
        const params = readResponseParams(message.response, encodingOf(this.#config.audio.input.format));
        if (params.conversation === 'auto' && this.#defaultResponse !== null) {
          throw new InvalidRequest(
            'conversation_already_has_active_response',
            null,
            `Conversation already has an active response in progress: ${this.#defaultResponse.id}. Wait until the response is finished before creating a new one.`,
          );
        }
        return this.#startResponse(params, eventId);
      }
      case 'response.cancel': {
        allow('response_id');
        const id = message.response_id === undefined ? null : string(message.response_id, 'response_id');
        const run = id === null ? this.#defaultResponse : (this.#responses.get(id) ?? null);
        if (run === null || run.stopped !== null) throw new InvalidRequest('response_cancel_not_active', null, 'Cancellation failed: no active response found.');
        return run.cancel('client_cancelled');
      }
    }
  }

  #updateSession(raw: unknown): void {
    const before = this.#config.audio.input.turn_detection;
    this.#config =
      this.#config.type === 'realtime' ? updateRealtimeConfig(this.#config, raw, { voiceLocked: this.#voiceLocked }) : updateTranscriptionConfig(this.#config, raw);
    const after = this.#config.audio.input.turn_detection;
    if (after === null || before?.type !== after.type) {
      this.#vad.reset();
      this.#speech = null;
    }
    if (after?.type !== 'server_vad' || after.idle_timeout_ms === null) this.#idleDeadlineMs = null;
    this.#emit({ type: 'session.updated', session: wireSession(this.#config) });
  }

  // ── input audio ────────────────────────────────────────────────────────────

  #append(value: unknown): void {
    const text = string(value, 'audio');
    if (text.length > Math.ceil(maxAppendBytes / 3) * 4) {
      throw new InvalidRequest('string_above_max_length', 'audio', `Invalid 'audio': string too long. Expected at most ${maxAppendBytes} bytes of audio per append.`);
    }
    let bytes: Uint8Array | null = fromBase64(text);
    if (bytes === null) throw new InvalidRequest('invalid_value', 'audio', "Invalid 'audio': expected base64-encoded audio bytes.");
    const encoding = encodingOf(this.#config.audio.input.format);
    if (encoding === 'pcm16') {
      if (this.#oddByte !== null) bytes = Buffer.concat([Buffer.of(this.#oddByte), bytes]);
      this.#oddByte = bytes.length % 2 === 1 ? (bytes[bytes.length - 1] ?? 0) : null;
    }
    const samples = toPcm24k(bytes, encoding);
    if (samples.length === 0) return;
    this.#buffer.append(samples);
    const detection = this.#config.audio.input.turn_detection;
    const settings = detection === null ? null : vadSettings(detection);
    for (const event of this.#vad.push(samples, settings)) this.#onVad(event);
    if (settings !== null && this.#speech === null) {
      this.#checkIdle();
      // Between turns only the prefix padding can still be needed; keep a second of slack.
      if (this.#buffer.durationMs > settings.prefixPaddingMs + 5000) this.#buffer.dropBefore(this.#buffer.endMs - settings.prefixPaddingMs - 1000);
    }
  }

  #onVad(event: VadEvent): void {
    const detection = this.#config.audio.input.turn_detection;
    if (detection === null) return;
    if (event.type === 'speech_started') {
      this.#speech = { itemId: newId('item'), audioStartMs: event.audioStartMs };
      this.#idleDeadlineMs = null;
      this.#emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: event.audioStartMs, item_id: this.#speech.itemId });
      // Barge-in: the new turn cancels the answer being spoken (PROTOCOL.md §2 "Cancel", reason turn_detected).
      if (detection.interrupt_response && this.#defaultResponse !== null) this.#defaultResponse.cancel('turn_detected');
      return;
    }
    const speech = this.#speech;
    if (speech === null) return;
    this.#speech = null;
    this.#emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: event.audioEndMs, item_id: speech.itemId });
    this.#commit(speech.itemId, this.#buffer.take(speech.audioStartMs, event.audioEndMs));
    if (this.#config.type !== 'realtime' || !detection.create_response) return;
    const auto: ResponseParams = { conversation: 'auto', input: null, metadata: null };
    if (this.#defaultResponse === null) this.#startResponse(auto, null);
    // An interrupted answer is still winding down: the new turn's answer follows its response.done.
    else if (this.#defaultResponse.stopped !== null) this.#afterDefaultResponse = () => this.#startResponse(auto, null);
    // Otherwise (interrupt_response off) the answer keeps the floor and no new one starts (the SDK: "may fail to create a response").
  }

  /** `server_vad.idle_timeout_ms`, measured on the input stream: a client streams its microphone in real time. */
  #checkIdle(): void {
    const detection = this.#config.audio.input.turn_detection;
    if (this.#idleDeadlineMs === null || detection?.type !== 'server_vad' || detection.idle_timeout_ms === null || this.#defaultResponse !== null) return;
    const positionMs = this.#vad.positionMs;
    if (positionMs < this.#idleDeadlineMs) return;
    const itemId = newId('item');
    this.#emit({ type: 'input_audio_buffer.timeout_triggered', audio_start_ms: this.#idleDeadlineMs - detection.idle_timeout_ms, audio_end_ms: positionMs, item_id: itemId });
    this.#idleDeadlineMs = null;
    this.#commit(itemId, this.#buffer.takeAll());
    this.#startResponse({ conversation: 'auto', input: null, metadata: null }, null);
  }

  #commitManually(): void {
    const heldMs = this.#buffer.durationMs;
    if (heldMs < minCommitMs) {
      throw new InvalidRequest(
        'input_audio_buffer_commit_empty',
        null,
        `Error committing input audio buffer: buffer too small. Expected at least ${minCommitMs}ms of audio, but buffer only has ${heldMs.toFixed(2)}ms of audio.`,
      );
    }
    const itemId = this.#speech?.itemId ?? newId('item');
    this.#speech = null;
    this.#vad.reset();
    this.#commit(itemId, this.#buffer.takeAll());
  }

  /** The buffer becomes a user item: committed → item.added → item.done (PROTOCOL.md §2 "Voice turn"). */
  #commit(itemId: string, samples: Int16Array): void {
    const encoding = encodingOf(this.#config.audio.input.format);
    const said = this.#options.hearing?.shift();
    const item: Item = {
      type: 'message',
      id: itemId,
      role: 'user',
      status: 'completed',
      content: [{ type: 'input_audio', audio: { samples, sentSamples: samples.length, encoding }, transcript: null, ...(said === undefined ? {} : { said }) }],
    };
    const previousItemId = this.#conversation.insert(item);
    this.#emit({ type: 'input_audio_buffer.committed', previous_item_id: previousItemId, item_id: itemId });
    this.#emit({ type: 'conversation.item.added', previous_item_id: previousItemId, item: toWire(item) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previousItemId, item: toWire(item) });
    if (this.#config.audio.input.transcription !== null) this.#transcribe(item, samples);
  }

  /**
   * The emulator cannot transcribe, and says so: the "transcript" is the speech's length in
   * brackets, e.g. "[2.1 s of speech]", rather than a failure, so a UI still shows the turn; or
   * what a test said the speech says.
   */
  #transcribe(item: Item, samples: Int16Array): void {
    const seconds = samplesToMs(samples.length, realtimePcmRate) / 1000;
    const part = item.type === 'message' ? item.content[0] : undefined;
    const transcript = part?.type === 'input_audio' && part.said !== undefined ? part.said : `[${seconds.toFixed(1)} s of speech]`;
    if (part?.type === 'input_audio') part.transcript = transcript;
    this.#emit({ type: 'conversation.item.input_audio_transcription.delta', item_id: item.id, content_index: 0, delta: transcript });
    this.#emit({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: item.id,
      content_index: 0,
      transcript,
      usage: { type: 'duration', seconds: Math.round(seconds * 10) / 10 },
    });
  }

  // ── conversation items ─────────────────────────────────────────────────────

  #item(value: unknown): Item {
    const id = string(value, 'item_id');
    const item = this.#conversation.find(id);
    if (item === undefined) throw new InvalidRequest('invalid_value', 'item_id', `Item with item_id '${id}' not found.`);
    return item;
  }

  #createItem(message: Json): void {
    const item = readItem(required(message, 'item', 'item'), 'item', encodingOf(this.#config.audio.input.format));
    if (item.type === 'function_call_output' && !this.#conversation.hasCall(item.call_id)) {
      throw new InvalidRequest('invalid_value', 'item.call_id', `No function call with call_id '${item.call_id}' found in the conversation.`);
    }
    const after = message.previous_item_id === undefined || message.previous_item_id === null ? undefined : string(message.previous_item_id, 'previous_item_id');
    const previousItemId = this.#conversation.insert(item, after);
    this.#emit({ type: 'conversation.item.added', previous_item_id: previousItemId, item: toWire(item) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previousItemId, item: toWire(item) });
  }

  /** PROTOCOL.md §2 "Truncate": assistant audio only; past the generated audio is an error; the unheard transcript goes. */
  #truncate(message: Json): void {
    const item = this.#item(required(message, 'item_id', 'item_id'));
    const contentIndex = number(required(message, 'content_index', 'content_index'), 'content_index', { integer: true, min: 0 });
    const audioEndMs = number(required(message, 'audio_end_ms', 'audio_end_ms'), 'audio_end_ms', { integer: true, min: 0 });
    const part = item.type === 'message' && item.role === 'assistant' ? item.content[contentIndex] : undefined;
    if (part?.type !== 'output_audio' || part.audio === null) {
      throw new InvalidRequest('unsupported_content_type', 'item_id', 'Only model output audio messages can be truncated.');
    }
    const generatedMs = audioMs(part.audio);
    if (audioEndMs > generatedMs) {
      throw new InvalidRequest('invalid_value', 'audio_end_ms', `Audio content of ${Math.floor(generatedMs)}ms is already shorter than ${audioEndMs}ms.`);
    }
    const keep = msToSamples(audioEndMs, realtimePcmRate);
    part.transcript = heardTranscript(part.transcript, generatedMs === 0 ? 0 : audioEndMs / generatedMs);
    part.audio = { ...part.audio, samples: part.audio.samples.slice(0, keep), sentSamples: keep };
    this.#emit({ type: 'conversation.item.truncated', item_id: item.id, content_index: contentIndex, audio_end_ms: audioEndMs });
  }

  // ── responses ──────────────────────────────────────────────────────────────

  #startResponse(params: ResponseParams, clientEventId: string | null): void {
    const config = this.#config as RealtimeConfig;
    const context = params.input === null ? [...this.#conversation.items] : params.input.map((entry) => ('reference' in entry ? this.#item(entry.reference) : entry));
    const fault = this.#options.faults.take('realtime');
    if (fault?.kind === 'rate_limit') {
      const error = new InvalidRequest('rate_limit_exceeded', null, `Rate limit reached for requests. Please try again in ${fault.retryAfterS}s.`, 'requests');
      return this.#error(error, clientEventId);
    }
    const inConversation = params.conversation === 'auto';
    const run = new ResponseRun(newId('resp'), inConversation);
    this.#responses.set(run.id, run);
    if (inConversation) this.#defaultResponse = run;

    const instructions = params.instructions ?? config.instructions;
    const textTokens = estimateTokens(instructions) + context.reduce((sum, item) => sum + itemTextTokens(item), 0);
    const audioTokens = context.reduce((sum, item) => sum + itemAudioTokens(item), 0);
    const plan: ResponsePlan = {
      modalities: params.modalities ?? config.output_modalities,
      format: params.format ?? config.audio.output.format,
      voice: params.voice ?? config.audio.output.voice,
      speed: config.audio.output.speed,
      maxOutputTokens: params.maxOutputTokens ?? config.max_output_tokens,
      metadata: params.metadata,
      context: toBrain(context),
      tools: brainToolsOf(params.tools ?? config.tools, params.toolChoice ?? config.tool_choice),
      usage: { textTokens, audioTokens, cachedTokens: inConversation ? Math.min(this.#cachedTokens, textTokens + audioTokens) : 0 },
      fault,
      latency: this.#options.latency,
      speech: this.#speechSynth,
      unserved: modelRefusal(config.model),
    };
    const isOpen = (): boolean => this.#open;
    const host: ResponseHost = {
      emit: (event) => this.#emit(event),
      raw: (text) => {
        if (this.#open) this.#ws.send(text);
      },
      drop: (closeCode) => {
        if (closeCode === undefined || !isSendableCloseCode(closeCode)) this.#ws.terminate();
        else this.#ws.close(closeCode, 'emulator fault: drop_socket');
      },
      get open() {
        return isOpen();
      },
      conversation: inConversation ? this.#conversation : null,
      onAudioSent: () => {
        this.#voiceLocked = true;
      },
    };
    void streamResponse(run, plan, host)
      .then((outcome) => {
        if (outcome === null || !inConversation) return;
        this.#cachedTokens = plan.usage.textTokens + plan.usage.audioTokens + outcome.outputTokens;
        const detection = this.#config.audio.input.turn_detection;
        if (detection?.type === 'server_vad' && detection.idle_timeout_ms !== null) this.#idleDeadlineMs = this.#vad.positionMs + outcome.audioMs + detection.idle_timeout_ms;
      })
      .catch((error: unknown) => this.#error(serverError(`The emulator failed while streaming a response: ${(error as Error).message}`), null))
      .finally(() => {
        this.#responses.delete(run.id);
        if (this.#defaultResponse !== run) return;
        this.#defaultResponse = null;
        const next = this.#afterDefaultResponse;
        this.#afterDefaultResponse = null;
        if (next !== null && this.#lifecycle.status === 'open') next();
      });
  }
}

function itemTextTokens(item: Item): number {
  if (item.type === 'function_call') return estimateTokens(item.name + item.arguments);
  if (item.type === 'function_call_output') return estimateTokens(item.output);
  return item.content.reduce((sum, part) => sum + (part.type === 'input_text' || part.type === 'output_text' ? estimateTokens(part.text) : 0), 0);
}

function itemAudioTokens(item: Item): number {
  if (item.type !== 'message') return 0;
  return item.content.reduce((sum, part) => sum + (part.type === 'input_audio' || part.type === 'output_audio' ? inputAudioTokens(audioMs(part.audio)) : 0), 0);
}

/** Codes a close frame may carry; 1005, 1006 and 1015 only describe closes that had none. */
function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
}

