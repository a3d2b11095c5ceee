/**
 * Voice latencies through the real PulseAudio loop, on the emulator (no network latency):
 * mic chunk to `input_audio_buffer.append`, first audio delta to the speaker, barge-in to silence
 * at the ear, and how far the truncation point is from what the ear really heard.
 * `npm run bench -- voice [--runs 3] [--cpu-only] [--rounds 40] [--warmup-replies 10]
 * [--instructions]`; prints JSON lines. First, without PulseAudio, the measured CPU figures beside
 * the openai-agents-realtime transport's (playback.ts: `--rounds` replies each after
 * `--warmup-replies` unmeasured ones, `--instructions` adds callgrind's counts); `--cpu-only`
 * stops there. With `--mode pipeline,realtime` it compares the two voice modes stage by stage
 * instead (voiceModes.ts).
 */
import { parseArgs } from 'node:util';
import { envelope, startPulse, type Pulse } from '../support/pulse';
import { speech } from '../support/speech';
import { earCut, voiceLoop } from '../support/loop';
import { audioCpuBench } from './playback';
import { compareVoiceModes, type VoiceMode } from './voiceModes';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const round = (value: number) => Math.round(value * 100) / 100;

/** Mic chunks to appends: the time from the chunk that completed a frame to that frame going out. */
async function micToSend(pulse: Pulse): Promise<number[]> {
  let lastChunkAt = 0;
  const delays: number[] = [];
  const loop = await voiceLoop(
    { turnMode: 'push_to_talk' },
    {
      onMicChunk: () => (lastChunkAt = performance.now()),
      onSocket: (ws) => {
        const send = ws.send.bind(ws);
        ws.send = ((data: string, ...rest: unknown[]) => {
          if (typeof data === 'string' && data.startsWith('{"type":"input_audio_buffer.append"')) delays.push(performance.now() - lastChunkAt);
          return (send as (...args: unknown[]) => void)(data, ...rest);
        }) as typeof ws.send;
      },
    },
  );
  try {
    await loop.session.connect();
    await loop.session.press();
    await pulse.play(await speech('Counting the time each chunk of my voice takes to leave this machine'));
    await loop.session.release();
  } finally {
    await loop.close();
  }
  return delays;
}

async function playbackAndBargeIn(pulse: Pulse): Promise<{ firstDeltaToSpeakerMs: number; bargeInToSilenceMs: number; truncateErrorMs: number }> {
  let firstDeltaAt: number | null = null;
  const loop = await voiceLoop(
    { turnMode: 'server_vad', echo: 'headphones', vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 } },
    {
      onSocket: (ws) =>
        ws.on('message', (data) => {
          if (firstDeltaAt === null && data.toString().startsWith('{"type":"response.output_audio.delta"')) firstDeltaAt = performance.now();
        }),
    },
  );
  try {
    await loop.session.connect();
    const ear = pulse.record('ear.monitor');
    await ear.started();
    loop.session.sendText('Please tell me a long story about the sea and the ships that sail on it');
    await loop.next('state', (event) => event.state === 'speaking');
    const firstWriteAt = loop.sink.writes[0]?.at ?? Number.NaN;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const heard = loop.next('vad', (event) => event.speaking);
    const barged = loop.next('barge_in');
    const interruption = pulse.play(await speech('Stop, stop'));
    // The barge-in is decided the moment the server reports speech: playback stops right there.
    const decidedAt = (await heard).at;
    const cut = await barged;
    await interruption;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const recorded = await ear.stop();
    const written = loop.sink.samples;
    const { truncateErrorMs } = earCut(written, recorded, cut.audioEndMs);
    // Silence at the ear: the end of the last loud 10 ms window heard after the decision (the
    // decision itself if the cut fell in a pause between words), on the recording's clock.
    const windows = envelope(recorded);
    let silentAt = decidedAt;
    for (let window = 0; window < windows.length; window += 1) {
      const endsAt = ear.timeOf((window + 1) * 240);
      if ((windows[window] ?? 0) >= 0.01 && endsAt >= decidedAt && endsAt <= decidedAt + 1000) silentAt = Math.max(silentAt, endsAt);
    }
    return { firstDeltaToSpeakerMs: firstWriteAt - (firstDeltaAt ?? Number.NaN), bargeInToSilenceMs: silentAt - decidedAt, truncateErrorMs };
  } finally {
    await loop.close();
  }
}

export async function voiceBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '3' },
      mode: { type: 'string' },
      latency: { type: 'string', default: 'default' },
      'cpu-only': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '40' },
      'warmup-replies': { type: 'string', default: '10' },
      instructions: { type: 'boolean', default: false },
    },
    strict: false,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number.');
  const rounds = Number(values.rounds);
  const warmupReplies = Number(values['warmup-replies']);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive whole number.');
  if (!Number.isInteger(warmupReplies) || warmupReplies < 0) throw new Error('--warmup-replies must be a whole number, zero or more.');
  const modes = typeof values.mode === 'string' ? values.mode.split(',').map((mode) => mode.trim()) : null;
  if (modes !== null && (modes.length === 0 || modes.some((mode) => mode !== 'realtime' && mode !== 'pipeline'))) throw new Error('--mode takes realtime, pipeline or both, comma-separated.');
  if (values.latency !== 'default' && values.latency !== 'none') throw new Error('--latency is "default" (the emulator\'s model) or "none".');
  if (modes === null) {
    await audioCpuBench({ rounds, warmupReplies, instructions: values.instructions === true }, print);
    if (values['cpu-only'] === true) return;
  }
  const pulse = await startPulse();
  if (modes !== null) {
    try {
      await compareVoiceModes(pulse, modes as VoiceMode[], runs, String(values.latency), print);
    } finally {
      await pulse.close();
    }
    return;
  }
  try {
    const delays = await micToSend(pulse);
    const results: Array<Awaited<ReturnType<typeof playbackAndBargeIn>>> = [];
    for (let run = 0; run < runs; run += 1) {
      const result = await playbackAndBargeIn(pulse);
      print({ bench: 'voice', run: run + 1, ...Object.fromEntries(Object.entries(result).map(([key, value]) => [key, round(value)])) });
      results.push(result);
    }
    const median = (key: keyof (typeof results)[number]) => round(percentile(results.map((result) => result[key]), 50));
    print({
      summary: 'voice',
      note: 'through a real PulseAudio loop (mouth → sox mic, speaker → ear), emulator on loopback with no simulated latency',
      frame_ms: 40,
      mic_frames: delays.length,
      mic_chunk_to_send_ms_p50: round(percentile(delays, 50)),
      mic_chunk_to_send_ms_p99: round(percentile(delays, 99)),
      first_audio_delta_to_speaker_ms: median('firstDeltaToSpeakerMs'),
      barge_in_to_silence_ms: median('bargeInToSilenceMs'),
      truncate_error_ms: median('truncateErrorMs'),
      runs,
    });
  } finally {
    await pulse.close();
  }
}
