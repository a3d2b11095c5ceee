/**
 * ITU-T G.711 companding, 8-bit samples at 8 kHz: μ-law (`audio/pcmu`) and A-law (`audio/pcma`).
 * Encoders follow the reference algorithm (segment search over the biased magnitude); decoders
 * are 256-entry tables built from the reference expansion.
 */

/** G.711 is defined at 8 kHz; the Realtime API's `audio/pcmu` and `audio/pcma` carry no rate of their own. */
export const g711Rate = 8_000;

const muLawBias = 0x84;
const muLawClip = 32_635;

/** One linear PCM16 sample to a μ-law byte (0 → 0xFF). */
export function muLawFromLinear(sample: number): number {
  let magnitude = Math.max(-32768, Math.min(32767, Math.trunc(sample)));
  const sign = magnitude < 0 ? 0x80 : 0;
  if (magnitude < 0) magnitude = -magnitude;
  magnitude = Math.min(magnitude, muLawClip) + muLawBias;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function expandMuLaw(byte: number): number {
  const value = ~byte & 0xff;
  const exponent = (value >> 4) & 0x07;
  const magnitude = ((((value & 0x0f) << 3) + muLawBias) << exponent) - muLawBias;
  return value & 0x80 ? -magnitude : magnitude;
}

/** One linear PCM16 sample to an A-law byte (0 → 0xD5). */
export function aLawFromLinear(sample: number): number {
  let value = Math.max(-32768, Math.min(32767, Math.trunc(sample))) >> 3;
  let mask: number;
  if (value >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    value = -value - 1;
  }
  let segment = 0;
  while (segment < 8 && value >= 0x20 << segment) segment += 1;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function expandALaw(byte: number): number {
  const value = byte ^ 0x55;
  const segment = (value & 0x70) >> 4;
  let magnitude = (value & 0x0f) << 4;
  if (segment === 0) magnitude += 8;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return value & 0x80 ? magnitude : -magnitude;
}

const muLawTable = Int16Array.from({ length: 256 }, (_, byte) => expandMuLaw(byte));
const aLawTable = Int16Array.from({ length: 256 }, (_, byte) => expandALaw(byte));

export function linearFromMuLaw(byte: number): number {
  return muLawTable[byte & 0xff] ?? 0;
}

export function linearFromALaw(byte: number): number {
  return aLawTable[byte & 0xff] ?? 0;
}

export function encodeMuLaw(samples: Int16Array): Uint8Array {
  return Uint8Array.from(samples, muLawFromLinear);
}

export function decodeMuLaw(bytes: Uint8Array): Int16Array {
  return Int16Array.from(bytes, (byte) => muLawTable[byte] ?? 0);
}

export function encodeALaw(samples: Int16Array): Uint8Array {
  return Uint8Array.from(samples, aLawFromLinear);
}

export function decodeALaw(bytes: Uint8Array): Int16Array {
  return Int16Array.from(bytes, (byte) => aLawTable[byte] ?? 0);
}
