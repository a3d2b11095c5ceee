/**
 * Meeting mode on the real audio loop (a private PulseAudio daemon; the shipped sox microphone and
 * system-audio source; the embedded emulator, as browser mode runs it):
 * - capture start: from the startMeeting command to its answer (both sources recording, both
 *   transcription sockets open) — measured;
 * - transcription lag per side: from the last word of an utterance played into "ear" (Them) or "mouth"
 *   (Me) to its final line — measured; it includes the voice detector's closing silence (a setting)
 *   and the emulator's transcription, which answers at once (its latency model adds only its round trip);
 * - CPU per minute of meeting: this process (Parley's host and the embedded emulator) and the two
 *   sox recorders, from their CPU counters over the meeting — measured;
 * - the notes lane beside a user turn, started together on one agent socket: each one's time to
 *   complete — measured, but the emulator's answers are paced by its latency model (modelled).
 * `npm run bench -- meeting [--utterances 4]`
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { commandChannels, type MeetingLine, type MeetingView, type PushEvent } from '../../app/contract';
import { createCopilot } from '../../app/host/copilot';
import { defaultLatency } from '../../app/emulator/latency';
import { nodeCopilotDeps } from '../../main/nodeDeps';
import { rate, requireAudioTools, soundExtent, startPulse } from '../support/pulse';
import { speech } from '../support/speech';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const round = (value: number, places = 1): number => Math.round(value * 10 ** places) / 10 ** places;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** CPU seconds (user + system) of the sox processes that are children of this one. */
function soxCpuSeconds(): number {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const pids = execFileSync('pgrep', ['-P', String(process.pid), 'sox'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  return pids.reduce((sum, pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return sum + (Number(fields[11]) + Number(fields[12])) / ticks;
  }, 0);
}

export async function meetingBench(argv: readonly string[], print: (line: object) => void): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { utterances: { type: 'string', default: '4' } } });
  const utterances = Number(values.utterances);
  if (!Number.isInteger(utterances) || utterances < 1) throw new Error(`--utterances must be a positive whole number, not "${values.utterances}".`);
  requireAudioTools();
  const pulse = await startPulse();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-meeting-bench-'));
  const copilot = createCopilot(nodeCopilotDeps({ ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' }, quiet, { dataDir }));
  try {
    await copilot.start();
    const finals: Array<{ line: MeetingLine; at: number }> = [];
    copilot.onEvent((event: PushEvent) => {
      if (event.type === 'meeting.line' && event.line.final) finals.push({ line: event.line, at: performance.now() });
    });
    const nextFinal = (speaker: 'me' | 'them', after: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const deadline = performance.now() + 30_000;
        const poll = (): void => {
          const found = finals.find((entry) => entry.line.speaker === speaker && entry.at > after);
          if (found !== undefined) resolve(found.at);
          else if (performance.now() > deadline) reject(new Error(`no final "${speaker}" line within 30 s`));
          else setTimeout(poll, 5);
        };
        poll();
      });

    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const started = await copilot.call(commandChannels.startMeeting, {});
    const captureStartMs = performance.now() - startedAt;
    if (!started.ok || (started.value as MeetingView).problems.length > 0) throw new Error(`the meeting did not start cleanly: ${JSON.stringify(started)}`);

    const theirs = await speech('Could you send me the quarterly report by Friday?');
    const mine = await speech('Yes, I will send it tomorrow.');
    const lag: Record<'me' | 'them', number[]> = { me: [], them: [] };
    // Speech ends before its clip does (espeak-ng leaves silence after the last word).
    const trailingMs = (clip: Int16Array): number => (clip.length / rate) * 1000 - (soundExtent(clip)?.endMs ?? 0);
    for (let index = 0; index < utterances; index += 1) {
      const them = await pulse.play(theirs, { sink: 'ear' });
      const themSpoke = them.endedAt - trailingMs(theirs);
      lag.them.push((await nextFinal('them', themSpoke)) - themSpoke);
      const me = await pulse.play(mine, { sink: 'mouth' });
      const meSpoke = me.endedAt - trailingMs(mine);
      lag.me.push((await nextFinal('me', meSpoke)) - meSpoke);
    }

    // The notes lane and a user turn, asked for at the same moment.
    const asked = performance.now();
    const [notesMs, turnMs] = await Promise.all([
      copilot.call(commandChannels.updateMeetingNotes, {}).then(() => performance.now() - asked),
      new Promise<number>((resolve) => {
        const stop = copilot.onEvent((event) => {
          if (event.type === 'turn.finished' && event.turn.role === 'assistant') {
            stop();
            resolve(performance.now() - asked);
          }
        });
        void copilot.call(commandChannels.sendMessage, { text: 'hello' });
      }),
    ]);

    const meetingMs = performance.now() - startedAt;
    const sox = soxCpuSeconds();
    const cpu = process.cpuUsage(cpuBefore);
    await copilot.call(commandChannels.stopMeeting, {});
    const perMinute = (seconds: number): number => round((seconds / (meetingMs / 60_000)) * 1000, 0);
    print({
      bench: 'meeting',
      measured: {
        captureStartMs: round(captureStartMs),
        transcriptionLagMs: {
          them: { median: round(median(lag.them)), all: lag.them.map((ms) => round(ms)) },
          me: { median: round(median(lag.me)), all: lag.me.map((ms) => round(ms)) },
          includes: 'the voice detector closing silence after speech (a setting) and the sox capture buffer',
        },
        cpuMsPerMinuteOfMeeting: { parleyAndEmulator: perMinute((cpu.user + cpu.system) / 1e6), soxRecorders: perMinute(sox), meetingSeconds: round(meetingMs / 1000) },
        sameRun: { notesLaneMs: round(notesMs), userTurnMs: round(turnMs), note: 'started together on the one agent socket, each on its own stream_id lane' },
      },
      modelled: { emulatorLatency: defaultLatency, note: 'the agent answers in notesLaneMs and userTurnMs are paced by this latency model (simulated), not by a real model' },
    });
  } finally {
    await copilot.close();
    await pulse.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
