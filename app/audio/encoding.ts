/**
 * The three audio encodings the Realtime API speaks and conversions between them and PCM16 at
 * 24 kHz: `pcm16` (24 kHz little-endian), `pcmu` (G.711 μ-law, 8 kHz) and `pcma` (G.711 A-law, 8 kHz).
 */
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw, g711Rate } from './g711';
import { pcm16FromBytes, pcm16ToBytes, realtimePcmRate, resample } from './pcm';

export type AudioEncoding = 'pcm16' | 'pcmu' | 'pcma';

export function sampleRateOf(encoding: AudioEncoding): number {
  return encoding === 'pcm16' ? realtimePcmRate : g711Rate;
}

export function bytesPerSampleOf(encoding: AudioEncoding): number {
  return encoding === 'pcm16' ? 2 : 1;
}

/** 48 for PCM16 at 24 kHz, 8 for G.711. */
export function bytesPerMs(encoding: AudioEncoding): number {
  return (sampleRateOf(encoding) * bytesPerSampleOf(encoding)) / 1000;
}

export function bytesToMs(bytes: number, encoding: AudioEncoding): number {
  return bytes / bytesPerMs(encoding);
}

export function msToBytes(ms: number, encoding: AudioEncoding): number {
  const samples = Math.floor((ms * sampleRateOf(encoding)) / 1000);
  return samples * bytesPerSampleOf(encoding);
}

/** PCM16 at 24 kHz from bytes in `encoding` (G.711 is expanded and upsampled 3×). */
export function toPcm24k(bytes: Uint8Array, encoding: AudioEncoding): Int16Array {
  switch (encoding) {
    case 'pcm16':
      return pcm16FromBytes(bytes);
    case 'pcmu':
      return resample(decodeMuLaw(bytes), g711Rate, realtimePcmRate);
    case 'pcma':
      return resample(decodeALaw(bytes), g711Rate, realtimePcmRate);
  }
}

/** Bytes in `encoding` from PCM16 at 24 kHz (G.711 is low-passed, downsampled 3× and companded). */
export function fromPcm24k(samples: Int16Array, encoding: AudioEncoding): Uint8Array {
  switch (encoding) {
    case 'pcm16':
      return pcm16ToBytes(samples);
    case 'pcmu':
      return encodeMuLaw(resample(samples, realtimePcmRate, g711Rate));
    case 'pcma':
      return encodeALaw(resample(samples, realtimePcmRate, g711Rate));
  }
}
