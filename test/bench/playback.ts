/**
 * Measured audio CPU, no PulseAudio needed.
 *
 * Playback: client CPU (`process.cpuUsage`) per second of audio received, from sending a message
 * until its audio is played out, for Parley's `RealtimeSession` with its `PlayoutBuffer` beside the
 * peer, the `@openai/agents-realtime` WebSocket transport (playbackClients.ts). Each client runs
 * in a child process of its own on an emulator in another (clientProcess.ts), so one client's
 * garbage is never collected on the other's time; both are warmed with replies of their own
 * before anything counts, then reply turn about. `instructions` runs both under valgrind's
 * callgrind instead and counts the instructions per second of audio, a figure the machine's load
 * does not move.
 *
 * Microphone: the echo gate's per-frame query (`audibleLevelDbfs`, asked once per 40 ms mic
 * frame) after 1, 30 and 120 minutes of replies on a virtual clock; the peer has no echo gate.
 */
import type { LatencyModel } from '../../app/emulator/latency';
import { PlayoutBuffer } from '../../app/audio/playout';
import { ManualClock } from '../../app/testing';
import { startClientProcess, type ClientKind, type ClientProcess } from './clientProcess';
import { startEmulatorProcess, type EmulatorProcess } from './emulatorProcess';
import { CountingSink } from './playbackClients';
import { median, round } from './stats';

const cpuUs = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

const kinds: readonly ClientKind[] = ['parley-RealtimeSession', 'openai-agents-realtime-OpenAIRealtimeWebSocket'];
const zeroLatency: Partial<LatencyModel> = { rttMs: 0, uncachedInputTokenMs: 0, outputTokensPerSecond: 0, httpSetupMs: 0 };

interface Player {
  client: ClientProcess;
  emulator: EmulatorProcess;
  /** Per reply: what it cost (CPU µs, or instructions) and the samples it played. */
  replies: Array<{ cost: number; samples: number }>;
}

async function players(warmupReplies: number, callgrind: boolean): Promise<Player[]> {
  const started: Player[] = [];
  for (const kind of kinds) {
    const emulator = await startEmulatorProcess({ latency: zeroLatency });
    const client = startClientProcess({ kind, baseUrl: emulator.baseUrl, warmupTurns: warmupReplies }, { callgrind });
    started.push({ client, emulator, replies: [] });
    await client.warm();
    await client.connect();
  }
  return started;
}

async function closeAll(started: readonly Player[]): Promise<void> {
  for (const player of started) {
    await player.client.close();
    await player.emulator.close();
  }
}

/** Reply `round` on each player, in an order that rotates so neither always goes first. */
async function turnAbout(started: readonly Player[], round: number, measure: (player: Player) => Promise<{ cost: number; samples: number }>): Promise<void> {
  for (let offset = 0; offset < started.length; offset += 1) {
    const player = started[(round + offset) % started.length] as Player;
    player.replies.push(await measure(player));
  }
}

const perAudioSecond = (replies: Player['replies']): number => replies.reduce((total, reply) => total + reply.cost, 0) / (replies.reduce((total, reply) => total + reply.samples, 0) / 24_000);

async function playback(rounds: number, warmupReplies: number, print: (line: object) => void): Promise<void> {
  const started = await players(warmupReplies, false);
  try {
    for (let round = 1; round <= rounds; round += 1) {
      await turnAbout(started, round, async (player) => {
        const { cpuUs: cost, count: samples } = await player.client.turn(round);
        return { cost, samples };
      });
    }
  } finally {
    await closeAll(started);
  }
  const figures = started.map((player) => ({
    total: perAudioSecond(player.replies),
    // A collection or a neighbour's burst moves the total; the median reply rarely.
    median: median(player.replies.map((reply) => reply.cost / (reply.samples / 24_000))),
  }));
  started.forEach((player, index) => {
    const audioS = player.replies.reduce((total, reply) => total + reply.samples, 0) / 24_000;
    const cpuMs = player.replies.reduce((total, reply) => total + reply.cost, 0) / 1000;
    const figure = figures[index] as { total: number; median: number };
    print({ bench: 'voice', kind: 'measured', figure: 'playback', client: player.client.name, rounds, warmup_replies: warmupReplies, audio_s: round(audioS, 2), cpu_ms: round(cpuMs), cpu_us_per_audio_second: Math.round(figure.total), cpu_us_per_audio_second_median_reply: Math.round(figure.median) });
  });
  const [parley, peer] = figures as [{ total: number; median: number }, { total: number; median: number }];
  print({ bench: 'voice', kind: 'measured', compare: 'playback CPU per second of audio, parley / openai-agents-realtime', ratio: round(parley.total / peer.total, 2), ratio_median_reply: round(parley.median / peer.median, 2) });
}

/** The same replies under callgrind: instructions per second of audio, each client's process, all its threads. */
async function playbackInstructions(rounds: number, warmupReplies: number, print: (line: object) => void): Promise<void> {
  const started = await players(warmupReplies, true);
  try {
    for (const player of started) await player.client.instructions?.zero();
    for (let round = 1; round <= rounds; round += 1) {
      await turnAbout(started, round, async (player) => {
        const { count: samples } = await player.client.turn(round);
        // The dump counts since the last one: this reply alone, the idle wait for the server included.
        const cost = (await player.client.instructions?.dump()) ?? Number.NaN;
        return { cost, samples };
      });
    }
  } finally {
    await closeAll(started);
  }
  const perSecond = started.map((player) => perAudioSecond(player.replies));
  print({
    bench: 'voice',
    kind: 'measured',
    metric: "playback instructions per second of audio (valgrind callgrind Ir, the client's process, all threads, node --predictable)",
    rounds,
    warmup_replies: warmupReplies,
    ...Object.fromEntries(started.map((player, index) => [player.client.name, Math.round(perSecond[index] as number)])),
    ratio: round((perSecond[0] as number) / (perSecond[1] as number), 2),
  });
}

function micFrames(print: (line: object) => void): void {
  // Virtual time: minutes of replies pass in milliseconds.
  const clock = new ManualClock();
  const playout = new PlayoutBuffer({ sink: new CountingSink(), scheduler: clock });
  const advance = (ms: number): void => clock.advanceSync(ms);
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

export async function audioCpuBench(options: { rounds: number; warmupReplies: number; instructions: boolean }, print: (line: object) => void): Promise<void> {
  await playback(options.rounds, options.warmupReplies, print);
  if (options.instructions) await playbackInstructions(options.rounds, options.warmupReplies, print);
  micFrames(print);
}
