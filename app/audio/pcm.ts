/**
 * PCM16 mono little-endian helpers: the format both Realtime ends speak by default (24 kHz).
 * Pure functions, no I/O; views instead of copies wherever the bytes allow it.
 */

/** The Realtime API's PCM rate; `audio/pcm` accepts no other (PROTOCOL.md §2 "Session object"). */
export const realtimePcmRate = 24_000;

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Samples of little-endian PCM16 bytes. A view over the same memory when the bytes are 2-aligned
 * (and the host is little-endian, as every platform Parley ships on is); a copy otherwise.
 * A trailing odd byte is ignored: callers that stream carry it over themselves.
 */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const count = bytes.byteLength >> 1;
  if (hostIsLittleEndian && bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(count);
  for (let index = 0; index < count; index += 1) samples[index] = view.getInt16(index * 2, true);
  return samples;
}

/** Little-endian bytes of samples: a view over the same memory on a little-endian host. */
export function pcm16ToBytes(samples: Int16Array): Buffer {
  if (hostIsLittleEndian) return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, index) => bytes.writeInt16LE(sample, index * 2));
  return bytes;
}

export function concatPcm16(parts: readonly Int16Array[]): Int16Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Int16Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/**
 * Resamples mono PCM16. Linear interpolation, preceded when downsampling by a windowed-sinc
 * low-pass at the new Nyquist frequency so 24 kHz speech does not alias into 8 kHz telephony.
 * The output has exactly `round(length * toRate / fromRate)` samples, so durations survive.
 * Stateless: resampling a stream chunk by chunk leaves tiny seams at chunk edges.
 */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (!(fromRate > 0 && toRate > 0)) throw new RangeError(`Sample rates must be positive, got ${fromRate} → ${toRate}.`);
  if (fromRate === toRate) return samples;
  const source = toRate < fromRate ? lowPass(samples, (0.5 * toRate * 0.9) / fromRate) : samples;
  const length = Math.round((samples.length * toRate) / fromRate);
  const output = new Int16Array(length);
  const step = fromRate / toRate;
  const last = source.length - 1;
  for (let index = 0; index < length; index += 1) {
    const position = index * step;
    const left = Math.min(Math.floor(position), last);
    const right = Math.min(left + 1, last);
    const fraction = position - left;
    const value = (source[left] ?? 0) * (1 - fraction) + (source[right] ?? 0) * fraction;
    output[index] = clamp16(value);
  }
  return output;
}

const lowPassTaps = 31;

/** FIR low-pass, Hann-windowed sinc; `cutoff` is a fraction of the sample rate (0..0.5). */
function lowPass(samples: Int16Array, cutoff: number): Float64Array {
  const half = (lowPassTaps - 1) / 2;
  const kernel = new Float64Array(lowPassTaps);
  let sum = 0;
  for (let tap = 0; tap < lowPassTaps; tap += 1) {
    const offset = tap - half;
    const sinc = offset === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * offset) / (Math.PI * offset);
    const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * tap) / (lowPassTaps - 1));
    kernel[tap] = sinc * window;
    sum += sinc * window;
  }
  for (let tap = 0; tap < lowPassTaps; tap += 1) kernel[tap] = (kernel[tap] ?? 0) / sum;
  const filtered = new Float64Array(samples.length);
  for (let index = 0; index < samples.length; index += 1) {
    let acc = 0;
    for (let tap = 0; tap < lowPassTaps; tap += 1) {
      const source = index + tap - half;
      if (source >= 0 && source < samples.length) acc += (samples[source] ?? 0) * (kernel[tap] ?? 0);
    }
    filtered[index] = acc;
  }
  return filtered;
}

export function clamp16(value: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(value)));
}

/** Root-mean-square level of `samples[start, end)` as a fraction of full scale (0..~1). */
export function rms(samples: Int16Array, start = 0, end = samples.length): number {
  const count = end - start;
  if (count <= 0) return 0;
  // Squares of the raw samples, scaled once at the end: this runs over every sample played.
  let sum = 0;
  const stop = Math.min(end, samples.length);
  for (let index = start; index < stop; index += 1) {
    const value = samples[index] as number;
    sum += value * value;
  }
  return Math.sqrt(sum / count) / 32768;
}

/** A level in dBFS (0 = full-scale square wave; a full-scale sine is about -3); silence is -Infinity. */
export function toDbfs(level: number): number {
  return level > 0 ? 20 * Math.log10(level) : -Infinity;
}

export function levelDbfs(samples: Int16Array, start = 0, end = samples.length): number {
  return toDbfs(rms(samples, start, end));
}

export function samplesToMs(samples: number, rate: number): number {
  return (samples * 1000) / rate;
}

export function msToSamples(ms: number, rate: number): number {
  return Math.round((ms * rate) / 1000);
}

/** Standard base64 of bytes (what `input_audio_buffer.append` and audio deltas carry). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Bytes of strict standard base64, or null when the text is not base64. Node's decoder forgives
 * too much (it skips unknown characters, stops at a stray `=` and takes the URL-safe alphabet), so
 * the text is checked around it instead of by a pattern, which cost most of playback's CPU: a
 * length that is a multiple of four, neither `-` nor `_`, and exactly the bytes that length and its
 * padding promise (anything skipped or cut short decodes to fewer).
 */
export function fromBase64(text: string): Buffer | null {
  if (text.length % 4 !== 0 || text.includes('-') || text.includes('_')) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (text.length / 4) * 3 - padding ? bytes : null;
}
