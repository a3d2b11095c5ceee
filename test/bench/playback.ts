/**
 * Measured audio CPU, no PulseAudio needed. Playback: client CPU (`process.cpuUsage`) per second of
 * audio received, from sending a message until its audio is played out, for Parley's
 * `RealtimeSession` with its `PlayoutBuffer` (a speaker that discards the samples; the buffer's
 * timers fast-forwarded, see `fastForward`) beside the peer, the `@openai/agents-realtime` WebSocket transport (its audio events
 * written to the same kind of speaker), turn about, against the emulator in a child process.
 * Microphone: the echo gate's per-frame query (`audibleLevelDbfs`, asked once per 40 ms mic
 * frame) after 1, 30 and 120 minutes of replies on a virtual clock; the peer has no echo gate.
 */
import { OpenAIRealtimeWebSocket } from '@openai/agents-realtime';
import { WebSocket } from 'ws';
import { PlayoutBuffer, type Scheduler } from '../../app/audio/playout';
import type { MicSource, SpeakerSink } from '../../app/audio/ports';
import { RealtimeSession } from '../../app/voice/realtimeSession';
import { defaultVoiceSettings } from '../../app/voice/settings';
import { startEmulatorProcess } from './emulatorProcess';

const cpuUs = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** A speaker that counts what it is given and plays nothing. */
class CountingSink implements SpeakerSink {
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

/** The emulator speaks what it says back, so a long message makes a long spoken reply. */
const message = (round: number) => `Round ${round}: ${Array.from({ length: 12 }, (_, index) => `word${index}`).join(' ')}`;

interface Player {
  name: string;
  connect(): Promise<void>;
  /** Sends one message and resolves once its audio has been played (Parley) or received (peer). */
  reply(round: number): Promise<void>;
  sink: CountingSink;
  close(): Promise<void>;
}

function parleyPlayer(baseUrl: string): Player {
  const sink = new CountingSink();
  // A reply is over once the server has finished it and the buffer has played all of it.
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
    sink,
    connect: () => live.connect(),
    reply: (round) =>
      new Promise<void>((resolve) => {
        responseDone = false;
        finished = resolve;
        live.sendText(message(round));
      }),
    close: () => live.close(),
  };
}

function sdkPlayer(baseUrl: string): Player {
  const sink = new CountingSink();
  const transport = new OpenAIRealtimeWebSocket({ url: `${baseUrl.replace(/^http/, 'ws')}/realtime?model=${defaultVoiceSettings.model}` });
  transport.on('audio', (event) => sink.write(new Int16Array(event.data)));
  return {
    name: 'openai-agents-realtime-OpenAIRealtimeWebSocket',
    sink,
    connect: () => transport.connect({ apiKey: 'sk-bench', model: defaultVoiceSettings.model }),
    reply: (round) =>
      new Promise<void>((resolve) => {
        transport.once('audio_done', () => resolve());
        transport.sendEvent({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: message(round) }] } });
        transport.requestResponse();
      }),
    close: async () => transport.close(),
  };
}

async function playback(rounds: number, print: (line: object) => void): Promise<void> {
  const emulators = [await startEmulatorProcess({ latency: { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 } }), await startEmulatorProcess({ latency: { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 } })];
  const players = [parleyPlayer((emulators[0] as { baseUrl: string }).baseUrl), sdkPlayer((emulators[1] as { baseUrl: string }).baseUrl)];
  const totals = players.map(() => ({ cpuUs: 0, samples: 0 }));
  try {
    for (const player of players) await player.connect();
    // One unmeasured reply each, so both are compiled before anything counts.
    for (const player of players) await player.reply(0);
    for (let round = 1; round <= rounds; round += 1) {
      for (let offset = 0; offset < players.length; offset += 1) {
        const index = (round + offset) % players.length;
        const player = players[index] as Player;
        const samplesBefore = player.sink.samples;
        const started = cpuUs();
        await player.reply(round);
        const total = totals[index] as { cpuUs: number; samples: number };
        total.cpuUs += cpuUs() - started;
        total.samples += player.sink.samples - samplesBefore;
      }
    }
  } finally {
    for (const player of players) await player.close();
    for (const emulator of emulators) await emulator.close();
  }
  const perSecond = totals.map((total) => total.cpuUs / (total.samples / 24_000));
  players.forEach((player, index) => {
    const total = totals[index] as { cpuUs: number; samples: number };
    print({ bench: 'voice', kind: 'measured', figure: 'playback', client: player.name, rounds, audio_s: round(total.samples / 24_000, 2), cpu_ms: round(total.cpuUs / 1000), cpu_us_per_audio_second: Math.round(perSecond[index] as number) });
  });
  print({ bench: 'voice', kind: 'measured', compare: 'playback CPU per second of audio, parley / openai-agents-realtime', ratio: round((perSecond[0] as number) / (perSecond[1] as number), 2) });
}

/** Virtual time for the echo gate figure: minutes of replies pass in milliseconds. */
function virtualPlayout(): { playout: PlayoutBuffer; advance: (ms: number) => void } {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const scheduler: Scheduler = {
    now: () => now,
    after(ms, fire) {
      const timer = { at: now + ms, fire };
      timers.push(timer);
      return () => void timers.splice(timers.indexOf(timer), 1);
    },
  };
  const advance = (ms: number): void => {
    const until = now + ms;
    for (;;) {
      let due: { at: number; fire: () => void } | undefined;
      for (const timer of timers) if (timer.at <= until && (due === undefined || timer.at < due.at)) due = timer;
      if (due === undefined) break;
      timers.splice(timers.indexOf(due), 1);
      now = Math.max(now, due.at);
      due.fire();
    }
    now = until;
  };
  return { playout: new PlayoutBuffer({ sink: new CountingSink(), scheduler }), advance };
}

function micFrames(print: (line: object) => void): void {
  const { playout, advance } = virtualPlayout();
  const reply = new Int16Array(5 * 24_000).fill(4000);
  const figures: Array<{ minutes: number; us: number }> = [];
  let elapsedMinutes = 0;
  let replies = 0;
  for (const minutes of [1, 30, 120]) {
    // Replies of five seconds with five seconds' pause, the mic asking once per 40 ms frame.
    while (elapsedMinutes < minutes) {
      playout.enqueue(`item_${(replies += 1)}`, reply);
      for (let frame = 0; frame < 250; frame += 1) {
        playout.audibleLevelDbfs();
        advance(40);
      }
      elapsedMinutes += 10 / 60;
    }
    playout.enqueue(`item_${(replies += 1)}`, reply);
    advance(1000);
    const frames = 20_000;
    const started = cpuUs();
    for (let frame = 0; frame < frames; frame += 1) playout.audibleLevelDbfs();
    figures.push({ minutes, us: (cpuUs() - started) / frames });
    advance(5000);
  }
  const first = figures[0] as { us: number };
  const last = figures.at(-1) as { us: number };
  print({
    bench: 'voice',
    kind: 'measured',
    figure: 'microphone echo-gate query per 40 ms frame (PlayoutBuffer.audibleLevelDbfs), CPU',
    peer: 'none: the openai-agents-realtime transport has no echo gate',
    us_per_frame: Object.fromEntries(figures.map((entry) => [`after_${entry.minutes}_min`, round(entry.us, 3)])),
    after_120_over_after_1: round(last.us / first.us, 2),
    retained: playout.retained,
  });
}

export async function audioCpuBench(rounds: number, print: (line: object) => void): Promise<void> {
  await playback(rounds, print);
  micFrames(print);
}
