/**
 * The input audio buffer as PCM16 at 24 kHz, addressed by absolute position (milliseconds of
 * input since the session began), so VAD events can cut exactly the span they name.
 */
import { concatPcm16, msToSamples, realtimePcmRate, samplesToMs } from '../../audio/pcm';

export class InputAudioBuffer {
  #chunks: Int16Array[] = [];
  #length = 0;
  /** Absolute index of the first sample held. */
  #start = 0;

  append(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.#chunks.push(samples);
    this.#length += samples.length;
  }

  get durationMs(): number {
    return samplesToMs(this.#length, realtimePcmRate);
  }

  get endMs(): number {
    return samplesToMs(this.#start + this.#length, realtimePcmRate);
  }

  /** Removes and returns the audio in [fromMs, toMs); anything held before `fromMs` is dropped. */
  take(fromMs: number, toMs: number): Int16Array {
    const all = concatPcm16(this.#chunks);
    const from = Math.min(Math.max(0, msToSamples(fromMs, realtimePcmRate) - this.#start), all.length);
    const to = Math.min(Math.max(from, msToSamples(toMs, realtimePcmRate) - this.#start), all.length);
    const taken = all.slice(from, to);
    const rest = all.subarray(to);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#start += to;
    this.#length = rest.length;
    return taken;
  }

  takeAll(): Int16Array {
    return this.take(samplesToMs(this.#start, realtimePcmRate), this.endMs);
  }

  clear(): void {
    this.take(this.endMs, this.endMs);
  }

  /** Forgets audio before `ms` (between turns VAD keeps only what prefix padding may still need). */
  dropBefore(ms: number): void {
    const cut = msToSamples(ms, realtimePcmRate) - this.#start;
    if (cut <= 0) return;
    const all = concatPcm16(this.#chunks);
    const rest = all.subarray(Math.min(cut, all.length));
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#start += all.length - rest.length;
    this.#length = rest.length;
  }
}
