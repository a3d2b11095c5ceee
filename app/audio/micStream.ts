/**
 * The microphone side of a voice socket, shared by the realtime and pipeline sessions: frames the
 * device's chunks, meters them, removes the speaker's echo (the canceller when there is one, the
 * echo gate only as the fallback), watches for the user starting to speak over playback, encodes
 * and hands each frame to `send`, and counts what a push-to-talk press captured.
 */
import type { Problem } from '../contract';
import type { EchoCanceller } from './echoCanceller';
import { fromPcm24k, type AudioEncoding } from './encoding';
import { Framer } from './framing';
import { levelDbfs, toBase64 } from './pcm';
import type { PlayoutBuffer } from './playout';
import type { MicSource, SpeechDetector } from './ports';

/** How much louder than the playback the user must be to talk over it through speakers. */
export const echoMarginDb = 6;
/**
 * How far above the residual echo the canceller's estimate allows (mic level minus its ERLE) a
 * frame must be for the local detector to hear it: the residual of Parley's own voice is
 * speech, so the detector alone would take it for the user.
 */
export const nearEndMarginDb = 10;

/**
 * Whether a cancelled frame (at `levelDbfs`, from a mic frame at `micLevelDbfs`) stands clear of
 * what the canceller says it leaves of the echo, so the local detector may hear it. A frame the
 * canceller knows to be echo it lost never does, however loud.
 */
export function clearOfResidual(levelDbfs: number, micLevelDbfs: number, canceller: Pick<EchoCanceller, 'erleDb' | 'outputIsEcho'>): boolean {
  return !canceller.outputIsEcho && levelDbfs >= micLevelDbfs - canceller.erleDb + nearEndMarginDb;
}

/** The user started speaking while Parley was audible, found on this machine before the server's VAD. */
export interface LocalSpeechStarted {
  type: 'localSpeechStarted';
  /** When the speech began (capture time, playout clock). */
  at: number;
  /** The item being heard and how much of it had been heard when the speech was found. */
  itemId: string | null;
  playedMs: number;
}

export interface MicStreamOptions {
  mic: MicSource;
  playout: PlayoutBuffer;
  frameMs: number;
  encoding: AudioEncoding;
  /**
   * Whether echo safety applies now (speakers, voice detection): while the assistant is audible,
   * a frame goes out only if it is clearly louder than what is playing; otherwise silence goes in
   * its place, so the assistant's own voice never triggers the server's VAD.
   */
  echoGate: () => boolean;
  /**
   * Removes the echo from each frame before anything else sees it, fed the far end through the
   * playout's tap. When present the gate is not used: the user can talk over Parley.
   */
  canceller?: EchoCanceller | null;
  /** Local speech detection on the echo-cancelled frames (only while something plays). */
  detector?: SpeechDetector | null;
  /** The detector heard the user start speaking over playback: the session barges in. */
  onLocalSpeech?: (event: LocalSpeechStarted) => void;
  /** One encoded frame, base64, for `input_audio_buffer.append`. */
  send: (audio: string) => void;
  onLevel: (dbfs: number) => void;
  /** The device failed to start or stopped; the stream is no longer running. */
  onProblem: (problem: Problem) => void;
}

export class MicStream {
  #options: MicStreamOptions;
  #framer: Framer;
  #encoding: AudioEncoding;
  #running = false;
  #muted = false;
  /** Milliseconds captured since `beginCapture`, or null when no press is held. */
  #capturedMs: number | null = null;
  readonly #clock = new CaptureClock();
  #unsubscribe: Array<() => void> = [];

  constructor(options: MicStreamOptions) {
    this.#options = options;
    this.#encoding = options.encoding;
    this.#framer = new Framer(options.mic.sampleRate, options.frameMs);
  }

  /** Whether echo is being cancelled (rather than gated or left alone). */
  get cancelling(): boolean {
    return (this.#options.canceller ?? null) !== null;
  }

  get running(): boolean {
    return this.#running;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get capturing(): boolean {
    return this.#capturedMs !== null;
  }

  /** Mute keeps the meter moving but sends no audio. */
  setMuted(muted: boolean): void {
    this.#muted = muted;
  }

  reconfigure(frameMs: number, encoding: AudioEncoding): void {
    this.#framer = new Framer(this.#options.mic.sampleRate, frameMs);
    this.#encoding = encoding;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#subscribe();
    try {
      await this.#options.mic.start(
        (chunk) => this.#onChunk(chunk),
        (problem) => {
          this.#running = false;
          this.#options.onProblem(problem);
        },
      );
    } catch (error) {
      this.#running = false;
      this.#capturedMs = null;
      this.#options.onProblem(
        (error as { problem?: Problem }).problem ?? { code: 'internal', message: `The microphone could not start: ${(error as Error).message}`, hint: 'Check the input device in settings.' },
      );
      throw error;
    }
    // Stopped while the device was still starting (a key released that fast): the device must not stay open.
    if (!this.#running) await this.#options.mic.stop();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    await this.#options.mic.stop();
  }

  #subscribe(): void {
    const { canceller, detector, playout } = this.#options;
    this.#clock.reset();
    this.#framer.reset();
    canceller?.reset();
    detector?.reset();
    if (canceller) {
      this.#unsubscribe.push(
        playout.onFarEnd((event) => {
          if (event.type === 'played') canceller.played(event.pcm, event.startsAt);
          else canceller.cut(event.at);
        }),
      );
    }
    if (detector) {
      this.#unsubscribe.push(
        detector.onSpeechStart((at) => {
          // Only speech over playback interrupts; the server's VAD decides turns.
          if (!this.#running || this.#muted || !playout.playing) return;
          const itemId = playout.currentItemId;
          this.#options.onLocalSpeech?.({ type: 'localSpeechStarted', at, itemId, playedMs: itemId === null ? 0 : playout.playedMs(itemId) });
        }),
      );
    }
  }

  /** A push-to-talk press: forget any partial frame and start counting. */
  beginCapture(): void {
    this.#framer.reset();
    this.#capturedMs = 0;
  }

  /** The release: what the press captured, in milliseconds (null when none was held). */
  endCapture(): number | null {
    const captured = this.#capturedMs;
    this.#capturedMs = null;
    return captured;
  }

  #onChunk(chunk: Int16Array): void {
    const { canceller, detector, playout } = this.#options;
    const carried = this.#framer.carriedMs;
    this.#clock.arrived(playout.now(), (chunk.length * 1000) / this.#options.mic.sampleRate);
    // The first frame out starts with what the framer carried from the last chunk.
    let capturedAt = this.#clock.startOfLatest(carried + (chunk.length * 1000) / this.#options.mic.sampleRate);
    for (const frame of this.#framer.push(chunk)) {
      const frameMs = (frame.pcm.length * 1000) / 24_000;
      const pcm = canceller ? canceller.process(frame.pcm, capturedAt) : frame.pcm;
      capturedAt += frameMs;
      const level = canceller ? levelDbfs(pcm) : frame.levelDbfs;
      this.#options.onLevel(level);
      const playing = !canceller && this.#options.echoGate() ? playout.audibleLevelDbfs() : null;
      const gated = playing !== null && level < playing + echoMarginDb;
      const heard = gated ? new Int16Array(pcm.length) : pcm;
      if (detector && playout.playing) {
        // The residual of Parley's own voice is speech too: only what stands clear of it counts.
        const nearEnd = !canceller || clearOfResidual(level, frame.levelDbfs, canceller);
        detector.push(nearEnd ? heard : new Int16Array(pcm.length), capturedAt - frameMs - (canceller?.latencyMs ?? 0));
      }
      if (this.#muted) continue;
      this.#options.send(toBase64(fromPcm24k(heard, this.#encoding)));
      if (this.#capturedMs !== null) this.#capturedMs += frameMs;
    }
  }
}

/**
 * When mic audio was captured, on the playout clock. A chunk's last sample was captured no later
 * than the chunk arrived, and arrivals are only ever late, so the earliest "arrival minus audio
 * received" is the best anchor; it creeps forward slowly so a device clock a little slower than
 * the system's is followed.
 */
class CaptureClock {
  /** Capture time of the first sample, or null before the first chunk. */
  #origin: number | null = null;
  #receivedMs = 0;
  #lastArrival = 0;

  reset(): void {
    this.#origin = null;
    this.#receivedMs = 0;
  }

  arrived(now: number, chunkMs: number): void {
    this.#receivedMs += chunkMs;
    const candidate = now - this.#receivedMs;
    // 0.1 % creep: tracks a slow device clock, far below the jitter it must ignore.
    const crept = this.#origin === null ? candidate : this.#origin + (now - this.#lastArrival) * 1e-3;
    this.#origin = Math.min(crept, candidate);
    this.#lastArrival = now;
  }

  /** Capture time of the sample `ms` before the end of what has arrived. */
  startOfLatest(ms: number): number {
    return (this.#origin ?? 0) + this.#receivedMs - ms;
  }
}
