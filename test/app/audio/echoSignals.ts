/**
 * Deterministic signals for the echo canceller's tests and benchmark: speech-like far-end audio
 * (coloured noise in syllables) and a room (a delay, an attenuation and a decaying tail of
 * reflections), all from a seeded generator so every run hears the same thing.
 */
import { seeded } from '../../../app/testing';

export { seeded };

/** Speech-like PCM16 at 24 kHz: low-passed noise and a voiced buzz, in 150–350 ms syllables with short gaps. */
export function speechLike(ms: number, options: { seed?: number; levelDbfs?: number; pitchHz?: number } = {}): Int16Array {
  const rate = 24_000;
  const random = seeded(options.seed ?? 1);
  const out = new Int16Array(Math.round((ms * rate) / 1000));
  const amplitude = 10 ** ((options.levelDbfs ?? -12) / 20) * 32767 * 1.6;
  let low = 0;
  let band = 0;
  let phase = 0;
  let index = 0;
  while (index < out.length) {
    const syllable = Math.round(((150 + random() * 200) * rate) / 1000);
    const gap = Math.round(((30 + random() * 90) * rate) / 1000);
    const pitch = (options.pitchHz ?? 140) * (0.8 + random() * 0.4);
    for (let offset = 0; offset < syllable && index < out.length; offset += 1, index += 1) {
      const envelope = Math.sin((Math.PI * offset) / syllable);
      low += 0.25 * (random() * 2 - 1 - low);
      band += 0.5 * (low - band);
      phase += (2 * Math.PI * pitch) / rate;
      const buzz = 0.5 * Math.sin(phase) + 0.25 * Math.sin(2 * phase) + 0.12 * Math.sin(3 * phase);
      out[index] = Math.max(-32768, Math.min(32767, Math.round(amplitude * envelope * (0.6 * buzz + 1.4 * band))));
    }
    index += gap;
  }
  return out;
}

export interface Room {
  delayMs: number;
  /** Level of the direct echo against the far end (negative). */
  gainDb: number;
  /** Reflections decaying by 60 dB over this long. */
  reverbMs?: number;
  seed?: number;
}

/** The room's impulse response at 24 kHz. */
export function roomResponse(room: Room): Float64Array {
  const rate = 24_000;
  const random = seeded(room.seed ?? 7);
  const delay = Math.round((room.delayMs * rate) / 1000);
  const reverb = Math.round(((room.reverbMs ?? 120) * rate) / 1000);
  const response = new Float64Array(delay + reverb + 1);
  const gain = 10 ** (room.gainDb / 20);
  response[delay] = gain;
  // Reflections 0.5–3 ms apart, decaying by 60 dB over the reverb time.
  for (let offset = Math.round(rate / 1000); offset <= reverb; offset += Math.round(((0.5 + random() * 2.5) * rate) / 1000)) {
    const decay = 10 ** ((-3 * offset) / reverb);
    response[delay + offset] = gain * 0.3 * decay * (random() * 2 - 1);
  }
  return response;
}

/** `signal` through `response` (linear convolution, same length as the signal). */
export function convolve(signal: Int16Array, response: Float64Array): Float64Array {
  const out = new Float64Array(signal.length);
  const taps: number[] = [];
  for (let tap = 0; tap < response.length; tap += 1) if (response[tap] !== 0) taps.push(tap);
  for (const tap of taps) {
    const weight = response[tap]!;
    for (let index = tap; index < signal.length; index += 1) out[index] = out[index]! + weight * signal[index - tap]!;
  }
  return out;
}

export function toPcm(samples: Float64Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let index = 0; index < samples.length; index += 1) out[index] = Math.max(-32768, Math.min(32767, Math.round(samples[index]!)));
  return out;
}

export function mix(...parts: Array<Int16Array | Float64Array>): Int16Array {
  const length = Math.max(...parts.map((part) => part.length));
  const sum = new Float64Array(length);
  for (const part of parts) for (let index = 0; index < part.length; index += 1) sum[index] = sum[index]! + part[index]!;
  return toPcm(sum);
}

export function energy(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let sum = 0;
  for (let index = from; index < to; index += 1) sum += (samples[index] ?? 0) ** 2;
  return sum;
}
