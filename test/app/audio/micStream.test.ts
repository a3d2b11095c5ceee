/**
 * The mic side with echo cancellation and local speech detection: what reaches the socket, and
 * when the user talking over playback makes the session barge in.
 */
import { describe, expect, it } from 'vitest';
import type { EchoCanceller } from '../../../app/audio/echoCanceller';
import { MicStream, type LocalSpeechStarted } from '../../../app/audio/micStream';
import { levelDbfs } from '../../../app/audio/pcm';
import { PlayoutBuffer } from '../../../app/audio/playout';
import type { SpeechDetector } from '../../../app/audio/ports';
import type { Problem } from '../../../app/contract';
import { ManualClock, ManualDetector, RecordingSink, ScriptedMic, SilencingCanceller, tone } from '../../../app/testing';

function rig(options: { canceller?: EchoCanceller; detector?: SpeechDetector; gate?: boolean; mic?: ScriptedMic } = {}) {
  const clock = new ManualClock();
  const sink = new RecordingSink();
  const playout = new PlayoutBuffer({ sink, scheduler: clock });
  const mic = options.mic ?? new ScriptedMic();
  const sent: Int16Array[] = [];
  const local: LocalSpeechStarted[] = [];
  const stream = new MicStream({
    mic,
    playout,
    frameMs: 40,
    encoding: 'pcm16',
    echoGate: () => options.gate ?? true,
    canceller: options.canceller ?? null,
    detector: options.detector ?? null,
    onLocalSpeech: (event) => local.push(event),
    send: (audio) => {
      const bytes = Buffer.from(audio, 'base64');
      sent.push(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
    },
    onLevel: () => undefined,
    onProblem: () => undefined,
  });
  return { clock, playout, mic, stream, sent, local };
}

const loudest = (frames: Int16Array[]) => Math.max(...frames.map((frame) => levelDbfs(frame)));

describe('MicStream with echo cancellation', () => {
  it('the far end reaches the canceller as the playout schedules it, and a stop cuts it', async () => {
    const canceller = new SilencingCanceller();
    const { playout, stream } = rig({ canceller });
    await stream.start();
    playout.enqueue('item', tone(400, 300, 8000));
    expect(canceller.farEnd.length).toBeGreaterThan(0);
    expect(canceller.farEnd.reduce((sum, write) => sum + write.samples, 0)).toBeGreaterThan(0);
    playout.stop();
    expect(canceller.cuts).toHaveLength(1);
  });

  it('with a canceller, the user speaking quietly over playback is sent, not gated to silence', async () => {
    const canceller = new SilencingCanceller();
    canceller.passNext = true;
    const cancelled = rig({ canceller });
    const gated = rig();
    for (const { stream, playout, mic } of [cancelled, gated]) {
      await stream.start();
      playout.enqueue('item', tone(2000, 300, 16_000));
      // Quieter than the playback: the gate would silence it.
      mic.speak(200);
    }
    expect(loudest(gated.sent)).toBe(-Infinity);
    expect(loudest(cancelled.sent)).toBeGreaterThan(-30);
  });

  it('local speech over playback is reported with what had been heard; speech with nothing playing is not', async () => {
    const detector = new ManualDetector();
    const { clock, playout, mic, stream, local } = rig({ canceller: new SilencingCanceller(), detector });
    await stream.start();
    detector.speak(0);
    expect(local).toEqual([]);
    playout.enqueue('item', tone(3000, 300, 8000));
    await clock.advance(1000);
    mic.speak(100);
    expect(detector.frames).toBeGreaterThan(0);
    detector.speak(clock.now());
    expect(local).toHaveLength(1);
    expect(local[0]?.itemId).toBe('item');
    expect(local[0]?.playedMs).toBeGreaterThan(0);
  });

  it('muted, the user talking over playback does not interrupt it', async () => {
    const detector = new ManualDetector();
    const { clock, playout, stream, local } = rig({ detector });
    await stream.start();
    stream.setMuted(true);
    playout.enqueue('item', tone(3000, 300, 8000));
    await clock.advance(500);
    detector.speak(clock.now());
    expect(local).toEqual([]);
  });
});

describe('MicStream stopped while its device starts', () => {
  it('closes the device once it has started, and sends nothing from it', async () => {
    let started = (): void => undefined;
    const device = new (class extends ScriptedMic {
      override async start(onChunk: (pcm: Int16Array) => void, onError?: (problem: Problem) => void): Promise<void> {
        await new Promise<void>((resolve) => (started = resolve));
        return super.start(onChunk, onError);
      }
    })();
    const { stream, sent } = rig({ mic: device });
    const starting = stream.start();
    await stream.stop();
    started();
    await starting;
    expect(device.running).toBe(false);
    device.speak(200);
    expect(sent).toEqual([]);
  });
});
