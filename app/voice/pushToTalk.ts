/**
 * Push-to-talk, the same in both voice modes: a press clears the server's input buffer and
 * captures; a release commits what was captured, or drops it when it is too short for the server
 * to take; and switching turn modes starts or stops the microphone.
 */
import type { MicStream } from '../audio/micStream';
import type { RealtimeClientEvent } from '../protocol/realtime';
import type { VoiceSessionEvent, VoiceState } from './session';

/** Releases shorter than this are dropped: the server refuses to commit under 100 ms. */
export const minimumTurnMs = 100;

export interface PushToTalkOptions {
  mic: MicStream;
  /** Whether the session's turn mode is push-to-talk right now. */
  enabled: () => boolean;
  send: (event: RealtimeClientEvent) => void;
  emit: (event: VoiceSessionEvent) => void;
  setState: (state: VoiceState) => void;
}

export class PushToTalk {
  readonly #options: PushToTalkOptions;

  constructor(options: PushToTalkOptions) {
    this.#options = options;
  }

  /** Starts capturing a turn (after the session has barged in on anything playing). */
  async press(): Promise<void> {
    const { mic, enabled, send, setState } = this.#options;
    if (!enabled()) return;
    send({ type: 'input_audio_buffer.clear' });
    mic.beginCapture();
    await mic.start();
    setState('listening');
  }

  /**
   * Ends the capture: commits the turn and returns how long it was, or returns null when there
   * was no capture or it was too short to send (then the user is told why).
   */
  async release(): Promise<number | null> {
    const { mic, enabled, send, emit, setState } = this.#options;
    if (!enabled() || !mic.capturing) return null;
    await mic.stop();
    const audioMs = mic.endCapture() ?? 0;
    if (audioMs < minimumTurnMs) {
      send({ type: 'input_audio_buffer.clear' });
      emit({ type: 'ptt.dropped', audioMs, hint: `Hold the key while you speak: ${Math.round(audioMs)} ms is too short to send.` });
      setState('idle');
      return null;
    }
    send({ type: 'input_audio_buffer.commit' });
    emit({ type: 'commit', itemId: null, audioMs });
    return audioMs;
  }

  /** After a settings change: voice detection listens all the time, push-to-talk only while held. */
  async followTurnMode(): Promise<void> {
    const { mic, enabled } = this.#options;
    if (enabled() && mic.running && !mic.capturing) await mic.stop();
    if (!enabled() && !mic.running) await mic.start();
  }
}
