/**
 * The two clients the playback benchmark drives through the same spoken replies: Parley's
 * `RealtimeSession` with its `PlayoutBuffer` (a speaker that discards the samples; the buffer's
 * timers fast-forwarded, see `fastForward`) and, as the peer, the `@openai/agents-realtime`
 * WebSocket transport with its audio events written to the same kind of speaker. A turn sends one
 * message; the emulator speaks it back, so a long message makes a long reply.
 */
import { OpenAIRealtimeWebSocket } from '@openai/agents-realtime';
import { WebSocket } from 'ws';
import { PlayoutBuffer, type Scheduler } from '../../app/audio/playout';
import type { MicSource, SpeakerSink } from '../../app/audio/ports';
import { RealtimeSession } from '../../app/voice/realtimeSession';
import { defaultVoiceSettings } from '../../app/voice/settings';
import type { BenchClient } from './clientProcess';

/** A speaker that counts what it is given and plays nothing. */
export class CountingSink implements SpeakerSink {
  readonly sampleRate = 24_000;
  readonly latencyMs = 0;
  samples = 0;
  open = async (): Promise<void> => undefined;
  write(pcm: Int16Array): void {
    this.samples += pcm.length;
  }
  flush = (): void => undefined;
  close = async (): Promise<void> => undefined;
}

const silentMic: MicSource = { sampleRate: 24_000, start: async () => undefined, stop: async () => undefined };

/**
 * The playout's timers without the waiting: each fires on the next turn of the event loop with its
 * clock moved to when it was due, so the jitter buffer does all its real work (every chunk written,
 * every timer run) while the process's idle time in between is left out, as the peer, which has
 * no buffer, leaves it out too.
 */
function fastForward(): Scheduler {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  let draining = false;
  const drain = (): void => {
    let due: { at: number; fire: () => void } | undefined;
    for (const timer of timers) if (due === undefined || timer.at < due.at) due = timer;
    if (due === undefined) {
      draining = false;
      return;
    }
    timers.splice(timers.indexOf(due), 1);
    now = Math.max(now, due.at);
    due.fire();
    setImmediate(drain);
  };
  return {
    now: () => now,
    after(ms, fire) {
      const timer = { at: now + ms, fire };
      timers.push(timer);
      if (!draining) {
        draining = true;
        setImmediate(drain);
      }
      return () => {
        const index = timers.indexOf(timer);
        if (index >= 0) timers.splice(index, 1);
      };
    },
  };
}

const message = (turn: number) => `Round ${turn}: ${Array.from({ length: 12 }, (_, index) => `word${index}`).join(' ')}`;

/** Parley: a turn is over once the server has finished the reply and the buffer has played all of it. Resolves with the samples played. */
export function parleyPlayer(baseUrl: string): BenchClient {
  const sink = new CountingSink();
  let responseDone = false;
  let finished: (() => void) | null = null;
  let session: RealtimeSession | null = null;
  const playout = new PlayoutBuffer({
    sink,
    scheduler: fastForward(),
    onEvent: (event) => {
      if (event.type !== 'playout.drained') return;
      session?.playbackDrained();
      if (responseDone) finished?.();
    },
  });
  session = new RealtimeSession({
    baseUrl,
    apiKey: 'sk-bench',
    settings: { ...defaultVoiceSettings, turnMode: 'push_to_talk' },
    createWebSocket: (url, options) => new WebSocket(url, options),
    mic: silentMic,
    playout,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onEvent: (event) => {
      if (event.type !== 'response' || event.phase !== 'done') return;
      responseDone = true;
      if (!playout.playing) finished?.();
    },
  });
  const live = session;
  return {
    name: 'parley-RealtimeSession',
    connect: () => live.connect(),
    turn: (turn) =>
      new Promise<number>((resolve) => {
        const before = sink.samples;
        responseDone = false;
        finished = () => resolve(sink.samples - before);
        live.sendText(message(turn));
      }),
    close: () => void live.close(),
  };
}

/** The peer: a turn is over at its `audio_done`. Resolves with the samples written. */
export function sdkPlayer(baseUrl: string): BenchClient {
  const sink = new CountingSink();
  const transport = new OpenAIRealtimeWebSocket({ url: `${baseUrl.replace(/^http/, 'ws')}/realtime?model=${defaultVoiceSettings.model}` });
  transport.on('audio', (event) => sink.write(new Int16Array(event.data)));
  return {
    name: 'openai-agents-realtime-OpenAIRealtimeWebSocket',
    // Parley's voice, so both are given the same replies to play.
    connect: () => transport.connect({ apiKey: 'sk-bench', model: defaultVoiceSettings.model, initialSessionConfig: { voice: defaultVoiceSettings.voice } }),
    turn: (turn) =>
      new Promise<number>((resolve) => {
        const before = sink.samples;
        transport.once('audio_done', () => resolve(sink.samples - before));
        transport.sendEvent({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: message(turn) }] } });
        transport.requestResponse();
      }),
    close: () => transport.close(),
  };
}
