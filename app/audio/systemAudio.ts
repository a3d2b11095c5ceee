/**
 * The system's audio (what the other side of a call says) as a second source behind `MicSource`,
 * and the two things that make it usable: Parley's own voice kept out of it, and a clear word
 * when it has been silent so long that capture has probably failed.
 */
import type { Problem } from '../contract';
import { levelDbfs, samplesToMs } from './pcm';
import type { MicSource } from './ports';

/** What `excludeWhilePlaying` needs of the PlayoutBuffer. */
export interface PlaybackState {
  readonly playing: boolean;
}

/**
 * The system's output includes Parley's own voice. While Parley speaks, the source's chunks are
 * replaced with silence of the same length, so its words are never transcribed as "Them" and the
 * timing of what follows is kept.
 */
export function excludeWhilePlaying(source: MicSource, playback: PlaybackState): MicSource {
  return {
    sampleRate: source.sampleRate,
    ...(source.silenceHint === undefined ? {} : { silenceHint: source.silenceHint }),
    start: (onChunk, onError) => source.start((pcm) => onChunk(playback.playing ? new Int16Array(pcm.length) : pcm), onError),
    stop: () => source.stop(),
  };
}

export interface SilenceWatchOptions {
  /** How long the system may be silent before the user is told (default 30 s). */
  afterMs?: number;
  /** Below this level a chunk counts as silence (default −60 dBFS: a quiet room still registers above it). */
  thresholdDbfs?: number;
  onSilent: (problem: Problem) => void;
  /** Sound again after `onSilent`. */
  onSound?: () => void;
}

/**
 * Counts silent audio (by samples, so it needs no clock) and says once when it reaches the limit;
 * sound resets it. A source that delivers nothing at all is the source's own failure to report.
 */
export function watchSilence(source: MicSource, options: SilenceWatchOptions): MicSource {
  const afterMs = options.afterMs ?? 30_000;
  const threshold = options.thresholdDbfs ?? -60;
  let silentMs = 0;
  let told = false;
  return {
    sampleRate: source.sampleRate,
    start: (onChunk, onError) => {
      silentMs = 0;
      told = false;
      return source.start((pcm) => {
        if (levelDbfs(pcm) < threshold) {
          silentMs += samplesToMs(pcm.length, source.sampleRate);
          if (!told && silentMs >= afterMs) {
            told = true;
            options.onSilent({
              code: 'connection_failed',
              message: `No audio from the system for ${Math.round(afterMs / 1000)} s, so the other side of the call is not being heard.`,
              hint: source.silenceHint ?? 'Check that the call plays through the output device chosen under Settings → Meeting, and that its volume is up.',
            });
          }
        } else {
          silentMs = 0;
          if (told) {
            told = false;
            options.onSound?.();
          }
        }
        onChunk(pcm);
      }, onError);
    },
    stop: () => source.stop(),
  };
}
