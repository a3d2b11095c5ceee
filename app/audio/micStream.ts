/**
 * The microphone side of a voice socket, shared by the realtime and pipeline sessions: frames the
 * device's chunks, meters them, gates the speaker's echo, encodes and hands each frame to `send`,
 * and counts what a push-to-talk press captured.
 */
import type { Problem } from '../contract';
import { fromPcm24k, type AudioEncoding } from './encoding';
import { Framer } from './framing';
import { toBase64 } from './pcm';
import type { PlayoutBuffer } from './playout';
import type { MicSource } from './ports';

/** How much louder than the playback the user must be to talk over it through speakers. */
export const echoMarginDb = 6;

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

  constructor(options: MicStreamOptions) {
    this.#options = options;
    this.#encoding = options.encoding;
    this.#framer = new Framer(options.mic.sampleRate, options.frameMs);
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
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#options.mic.stop();
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
    for (const frame of this.#framer.push(chunk)) {
      this.#options.onLevel(frame.levelDbfs);
      if (this.#muted) continue;
      const playing = this.#options.echoGate() ? this.#options.playout.audibleLevelDbfs() : null;
      const gated = playing !== null && frame.levelDbfs < playing + echoMarginDb;
      this.#options.send(toBase64(fromPcm24k(gated ? new Int16Array(frame.pcm.length) : frame.pcm, this.#encoding)));
      if (this.#capturedMs !== null) this.#capturedMs += (frame.pcm.length * 1000) / 24_000;
    }
  }
}
