/**
 * Realtime mode against pipeline mode, one spoken push-to-talk turn at a time through the real
 * PulseAudio loop, with the emulator's latency model (simulated, labelled so). Per turn: speech end
 * (the key released) → final transcript → first reply token → first reply audio at the
 * PlayoutBuffer, and the total from speech end to first audio.
 * `npm run bench -- voice --mode pipeline,realtime [--runs 3] [--latency default|none]`.
 */
import { defaultLatency, noLatency, type LatencyModel } from '../../app/emulator/latency';
import type { Pulse } from '../support/pulse';
import { speech } from '../support/speech';
import { pipelineLoop, voiceLoop } from '../support/loop';

export type VoiceMode = 'realtime' | 'pipeline';

interface Stages {
  speechEndToTranscriptMs: number | null;
  transcriptToFirstTokenMs: number | null;
  firstTokenToFirstAudioMs: number | null;
  totalMs: number | null;
}

const question = 'What should I pack for a weekend of hiking in the mountains?';

async function realtimeTurn(pulse: Pulse, latency: LatencyModel): Promise<Stages> {
  const loop = await voiceLoop({ turnMode: 'push_to_talk' }, { emulator: { latency } });
  try {
    await loop.session.connect();
    await loop.session.press();
    await pulse.play(await speech(question));
    const transcript = loop.next('transcript.user', (event) => event.final);
    const firstToken = loop.next('transcript.assistant');
    const firstAudio = loop.next('state', (event) => event.state === 'speaking');
    const done = loop.next('state', (event) => event.state === 'idle', 30_000);
    await loop.session.release();
    const speechEndAt = performance.now();
    const [transcriptAt, tokenAt, audioAt] = [(await transcript).at, (await firstToken).at, (await firstAudio).at];
    await done;
    return stages(speechEndAt, transcriptAt, tokenAt, audioAt);
  } finally {
    await loop.close();
  }
}

async function pipelineTurn(pulse: Pulse, latency: LatencyModel): Promise<Stages> {
  const loop = await pipelineLoop({ listen: 'push_to_talk' }, { emulator: { latency } });
  try {
    await loop.session.connect();
    await loop.session.press();
    await pulse.play(await speech(question));
    const timing = loop.next('timing');
    const done = loop.next('state', (event) => event.state === 'idle', 30_000);
    await loop.session.release();
    const { timing: measured } = await timing;
    await done;
    const { speechEndToTranscriptMs, transcriptToFirstTokenMs, firstTokenToFirstAudioMs, totalMs } = measured;
    return { speechEndToTranscriptMs, transcriptToFirstTokenMs, firstTokenToFirstAudioMs, totalMs };
  } finally {
    await loop.close();
  }
}

function stages(speechEndAt: number, transcriptAt: number, tokenAt: number, audioAt: number): Stages {
  const round = (value: number) => Math.round(value);
  return { speechEndToTranscriptMs: round(transcriptAt - speechEndAt), transcriptToFirstTokenMs: round(tokenAt - transcriptAt), firstTokenToFirstAudioMs: round(audioAt - tokenAt), totalMs: round(audioAt - speechEndAt) };
}

function median(values: Array<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  return known.length === 0 ? null : (known[Math.floor(known.length / 2)] ?? null);
}

export async function compareVoiceModes(pulse: Pulse, modes: readonly VoiceMode[], runs: number, latencyName: string, print: (line: object) => void): Promise<void> {
  const latency = latencyName === 'none' ? noLatency : defaultLatency;
  const results = new Map<VoiceMode, Stages[]>(modes.map((mode) => [mode, []]));
  for (let run = 0; run < runs; run += 1) {
    for (const mode of modes) {
      const result = mode === 'pipeline' ? await pipelineTurn(pulse, latency) : await realtimeTurn(pulse, latency);
      results.get(mode)?.push(result);
      print({ bench: 'voice-modes', mode, run: run + 1, ...result });
    }
  }
  const summary = (list: Stages[]) => ({
    speech_end_to_transcript_ms: median(list.map((entry) => entry.speechEndToTranscriptMs)),
    transcript_to_first_token_ms: median(list.map((entry) => entry.transcriptToFirstTokenMs)),
    first_token_to_first_audio_ms: median(list.map((entry) => entry.firstTokenToFirstAudioMs)),
    total_ms: median(list.map((entry) => entry.totalMs)),
  });
  print({
    summary: 'voice-modes',
    note: 'medians through a real PulseAudio loop against the emulator on loopback; latency model simulated; realtime stages are when the client saw each event (the speech-to-speech model may send audio before its transcript)',
    latency,
    runs,
    ...Object.fromEntries(modes.map((mode) => [mode, summary(results.get(mode) ?? [])])),
  });
}
