/**
 * Energy-based voice activity detection over 10 ms windows of PCM16 at 24 kHz.
 *
 * `threshold` (0..1, as in `server_vad`) maps linearly onto a level in dBFS:
 * `-60 + 50 × threshold`, so 0 → -60 dBFS (breathing counts), 0.5 → -35 dBFS (the default: normal
 * speech at a desk microphone, -30 to -15 dBFS, passes; a quiet room, below -50, does not) and
 * 1 → -10 dBFS (only shouting). A window whose RMS level reaches the threshold is speech.
 * The real server uses a model; only the parameters' meaning is shared.
 */
import { levelDbfs, realtimePcmRate } from '../../audio/pcm';
import type { SemanticVad, TurnDetection } from './config';

export const vadWindowMs = 10;
const windowSamples = (realtimePcmRate * vadWindowMs) / 1000;

export function thresholdToDbfs(threshold: number): number {
  return -60 + 50 * threshold;
}

/**
 * How long `semantic_vad` waits in silence before ending the turn. The real one scores whether
 * the utterance sounds finished and waits at most 8 s / 4 s / 2 s (low / medium / high); this one
 * cannot judge meaning, so it waits a fixed time well inside those bounds. `auto` is `medium`.
 */
export const semanticSilenceMs: Record<SemanticVad['eagerness'], number> = { low: 1500, medium: 800, auto: 800, high: 400 };
const semanticThreshold = 0.5;
const semanticPrefixPaddingMs = 300;

export interface VadSettings {
  thresholdDbfs: number;
  prefixPaddingMs: number;
  silenceMs: number;
}

export function vadSettings(detection: NonNullable<TurnDetection>): VadSettings {
  if (detection.type === 'semantic_vad') {
    return { thresholdDbfs: thresholdToDbfs(semanticThreshold), prefixPaddingMs: semanticPrefixPaddingMs, silenceMs: semanticSilenceMs[detection.eagerness] };
  }
  return { thresholdDbfs: thresholdToDbfs(detection.threshold), prefixPaddingMs: detection.prefix_padding_ms, silenceMs: detection.silence_duration_ms };
}

export type VadEvent = { type: 'speech_started'; audioStartMs: number } | { type: 'speech_stopped'; audioEndMs: number };

type VadState = { speaking: false } | { speaking: true; silentMs: number };

/** Positions are milliseconds of input audio since the session began, as the real events report them. */
export class EnergyVad {
  #carry = new Int16Array(0);
  #positionMs = 0;
  /** Speech cannot be padded back past the last commit or clear. */
  #floorMs = 0;
  #state: VadState = { speaking: false };

  get positionMs(): number {
    return this.#positionMs;
  }

  get speaking(): boolean {
    return this.#state.speaking;
  }

  /** Feeds audio; returns the events it caused, in order. With `settings` null only the position advances. */
  push(samples: Int16Array, settings: VadSettings | null): VadEvent[] {
    const events: VadEvent[] = [];
    const pending = this.#carry.length === 0 ? samples : joined(this.#carry, samples);
    let offset = 0;
    for (; offset + windowSamples <= pending.length; offset += windowSamples) {
      const windowStartMs = this.#positionMs;
      this.#positionMs += vadWindowMs;
      if (settings === null) continue;
      const loud = levelDbfs(pending, offset, offset + windowSamples) >= settings.thresholdDbfs;
      if (!this.#state.speaking) {
        if (loud) {
          this.#state = { speaking: true, silentMs: 0 };
          events.push({ type: 'speech_started', audioStartMs: Math.max(this.#floorMs, windowStartMs - settings.prefixPaddingMs) });
        }
      } else if (loud) {
        this.#state.silentMs = 0;
      } else {
        this.#state.silentMs += vadWindowMs;
        if (this.#state.silentMs >= settings.silenceMs) {
          this.#state = { speaking: false };
          this.#floorMs = this.#positionMs;
          events.push({ type: 'speech_stopped', audioEndMs: this.#positionMs });
        }
      }
    }
    this.#carry = pending.slice(offset);
    return events;
  }

  /** After a manual commit or clear: any speech in progress is forgotten. */
  reset(): void {
    this.#state = { speaking: false };
    this.#floorMs = this.#positionMs;
  }
}

function joined(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
