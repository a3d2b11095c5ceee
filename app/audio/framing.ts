/**
 * Mic chunks of any size at the device rate → fixed frames at 24 kHz (20–100 ms, default 40),
 * with the level of each frame for the meter.
 */
import { levelDbfs, resample } from './pcm';

export const minFrameMs = 20;
export const maxFrameMs = 100;
export const defaultFrameMs = 40;

export interface Frame {
  pcm: Int16Array;
  /** Level in dBFS, -Infinity for digital silence. */
  levelDbfs: number;
}

export class Framer {
  readonly #fromRate: number;
  readonly #toRate: number;
  readonly #frameSamples: number;
  #carry = new Int16Array(0);

  constructor(fromRate: number, frameMs = defaultFrameMs, toRate = 24_000) {
    if (!(frameMs >= minFrameMs && frameMs <= maxFrameMs)) throw new RangeError(`Frames must be ${minFrameMs}–${maxFrameMs} ms, not ${frameMs}.`);
    this.#fromRate = fromRate;
    this.#toRate = toRate;
    this.#frameSamples = Math.round((frameMs * toRate) / 1000);
  }

  /** Returns the whole frames this chunk completes; the remainder waits for the next chunk. */
  push(chunk: Int16Array): Frame[] {
    const converted = this.#fromRate === this.#toRate ? chunk : resample(chunk, this.#fromRate, this.#toRate);
    const joined = this.#carry.length === 0 ? converted : concat(this.#carry, converted);
    const frames: Frame[] = [];
    let offset = 0;
    while (joined.length - offset >= this.#frameSamples) {
      const pcm = joined.slice(offset, offset + this.#frameSamples);
      frames.push({ pcm, levelDbfs: levelDbfs(pcm) });
      offset += this.#frameSamples;
    }
    this.#carry = joined.slice(offset);
    return frames;
  }

  /** Milliseconds waiting for a full frame. */
  get carriedMs(): number {
    return (this.#carry.length * 1000) / this.#toRate;
  }

  reset(): void {
    this.#carry = new Int16Array(0);
  }
}

function concat(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
