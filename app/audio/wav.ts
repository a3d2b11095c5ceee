/** Reads RIFF/WAVE PCM16 (what `espeak-ng --stdout` and `sox` write), including streamed headers. */
import { pcm16FromBytes } from './pcm';

export interface Wav {
  sampleRate: number;
  channels: number;
  /** Mono PCM16: multi-channel audio is averaged down. */
  samples: Int16Array;
}

export function parseWav(bytes: Uint8Array): Wav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number): string => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('Not a RIFF/WAVE file.');
  let offset = 12;
  let format: { channels: number; sampleRate: number; bits: number; code: number } | null = null;
  while (offset + 8 <= bytes.byteLength) {
    const id = tag(offset);
    // Writers that stream (espeak-ng --stdout) cannot know the size and write 0x7ffff000 or more.
    const size = Math.min(view.getUint32(offset + 4, true), bytes.byteLength - offset - 8);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = { code: view.getUint16(body, true), channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (format === null) throw new Error('WAVE data before its fmt chunk.');
      if (format.code !== 1 || format.bits !== 16) throw new Error(`Only PCM16 WAVE is supported (format ${format.code}, ${format.bits} bits).`);
      const frameBytes = 2 * format.channels;
      const usable = size - (size % frameBytes);
      const interleaved = pcm16FromBytes(bytes.subarray(body, body + usable));
      return { sampleRate: format.sampleRate, channels: format.channels, samples: downmix(interleaved, format.channels) };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAVE file has no data chunk.');
}

function downmix(interleaved: Int16Array, channels: number): Int16Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Int16Array(frames);
  for (let frame = 0; frame < frames; frame += 1) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel += 1) sum += interleaved[frame * channels + channel] ?? 0;
    mono[frame] = Math.round(sum / channels);
  }
  return mono;
}
