/**
 * `POST /v1/audio/speech` with `response_format: "pcm"`: the text spoken by the emulator's voice
 * (espeak-ng when installed, a tone otherwise), streamed as raw PCM16 mono at 24 kHz in chunks,
 * after the latency model's round trip. Faults queued for `speech` (or any protocol) apply:
 * `rate_limit` answers 429, `stall` holds the first byte, `drop_socket` and `error_mid_stream`
 * cut the stream after `afterDeltas` chunks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultSpeech, type SpeechSynth } from './realtime/speech';
import { pause, perOutputTokenMs } from './latency';
import { readJson, sendError, type HttpContext } from './responses/http';

/** 100 ms of 24 kHz PCM16 per chunk written. */
const chunkSamples = 2400;
const maxInputChars = 4096;

export async function handleSpeech(request: IncomingMessage, response: ServerResponse, context: HttpContext, speech?: SpeechSynth): Promise<void> {
  const body = await readJson(request, context.maxBodyBytes);
  if (!body.ok) return sendError(response, body.status, body.error);
  const { input, voice, response_format: format, speed } = body.value;
  if (typeof body.value.model !== 'string' || body.value.model === '') {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'model'.", param: 'model' });
  }
  if (typeof input !== 'string' || input.trim() === '') {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'input'.", param: 'input' });
  }
  if (input.length > maxInputChars) {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'string_above_max_length', message: `'input' is longer than ${maxInputChars} characters.`, param: 'input' });
  }
  if (typeof voice !== 'string' || voice === '') {
    return sendError(response, 400, { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'voice'.", param: 'voice' });
  }
  // Left out, the service answers mp3 (the OpenAPI spec's `default: mp3` for CreateSpeechRequest),
  // which a PCM player sounds as noise; the emulator cannot encode mp3, so it refuses instead.
  if (format !== 'pcm') {
    const named = format === undefined ? "nothing, which the service takes as 'mp3'" : `'${String(format)}'`;
    return sendError(response, 400, { type: 'invalid_request_error', code: 'unsupported_value', message: `The emulator streams 'pcm' only; the request asked for ${named}.`, param: 'response_format' });
  }
  const fault = context.faults.take('speech');
  await pause(context.latency.rttMs + (fault?.kind === 'stall' ? (fault.ms ?? 30_000) : 0));
  if (fault?.kind === 'rate_limit') {
    response.writeHead(429, { 'Content-Type': 'application/json', 'retry-after': String(fault.retryAfterS) });
    response.end(JSON.stringify({ error: { type: 'requests', code: 'rate_limit_exceeded', message: `Rate limit reached for requests. Please try again in ${fault.retryAfterS}s.`, param: null } }));
    return;
  }
  const synth = speech ?? (await defaultSpeech());
  const pcm = await synth.synthesize(input, { voice, speed: typeof speed === 'number' ? Math.min(4, Math.max(0.25, speed)) : 1 });
  let open = true;
  response.on('close', () => (open = false));
  response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked', 'x-emulator-voice': synth.kind });
  response.flushHeaders();
  const cutAfter = fault?.kind === 'drop_socket' || fault?.kind === 'error_mid_stream' ? fault.afterDeltas : null;
  let sent = 0;
  for (let offset = 0; offset < pcm.length && open; offset += chunkSamples) {
    if (cutAfter !== null && sent >= cutAfter) {
      response.destroy();
      return;
    }
    const part = pcm.subarray(offset, offset + chunkSamples);
    // Written through before the next chunk, so a cut stream has really delivered what it counts.
    await new Promise<void>((resolve) => response.write(Buffer.from(part.buffer, part.byteOffset, part.byteLength), () => resolve()));
    sent += 1;
    await pause(perOutputTokenMs(context.latency));
  }
  response.end();
}
