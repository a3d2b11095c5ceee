/**
 * A listen-only voice session: one audio source into a Realtime transcription session
 * (`?intent=transcription`) with the server's VAD always on, reporting what it hears as
 * `transcript.user` events, partial then final. The meeting mode runs two of them, one for the
 * microphone and one for the system's audio; nothing here ever replies or plays.
 */
import { transcriptionSocketUrl, type RealtimeEvent } from '../protocol/realtime';
import type { InvalidFrame, SessionBody } from './realtimeConnection';
import { VoiceSessionBase, type VoiceSessionIo } from './sessionBase';

export interface TranscriberSettings {
  transcriptionModel: string;
  /** ISO-639-1 hint for the transcription model; null lets it detect. */
  language: string | null;
  vad: { threshold: number; prefixPaddingMs: number; silenceDurationMs: number };
  /** Speakers: the source also hears Parley, so frames not louder than its playback are dropped. */
  echo: 'speakers' | 'headphones';
  frameMs: number;
}

/** The `session.update` body of a transcription session; turns end by the server's VAD unless `vad` is null (push-to-talk). */
export function transcriptionSession(settings: Pick<TranscriberSettings, 'transcriptionModel' | 'language'>, vad: TranscriberSettings['vad'] | null): SessionBody {
  const { transcriptionModel, language } = settings;
  return {
    type: 'transcription',
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: { model: transcriptionModel, ...(language === null ? {} : { language }) },
        turn_detection: vad === null ? null : { type: 'server_vad', threshold: vad.threshold, prefix_padding_ms: vad.prefixPaddingMs, silence_duration_ms: vad.silenceDurationMs },
      },
    },
  } as SessionBody;
}

export interface TranscriberOptions extends VoiceSessionIo {
  settings: TranscriberSettings;
}

export class Transcriber extends VoiceSessionBase {
  readonly #options: TranscriberOptions;

  constructor(options: TranscriberOptions) {
    super(options, {
      label: 'transcription',
      updatePrefix: 'parley_meeting_update',
      recoveryHint: 'Check your connection; the meeting transcript resumes when it is back.',
      frameMs: options.settings.frameMs,
      encoding: 'pcm16',
    });
    this.#options = options;
  }

  /** Nothing plays, so there is nothing to talk over. */
  bargeIn(): void {}

  protected socketUrl(): string {
    return transcriptionSocketUrl(this.#options.baseUrl);
  }

  protected sessionConfig(): SessionBody {
    return transcriptionSession(this.#options.settings, this.#options.settings.vad);
  }

  protected pushToTalk(): boolean {
    return false;
  }

  protected echo(): TranscriberSettings['echo'] {
    return this.#options.settings.echo;
  }

  /** Words still being transcribed when the socket dropped are lost; the meeting says so. */
  protected onLost(): void {}

  protected replay(): number {
    return 0;
  }

  protected onInvalidFrame(frame: InvalidFrame): void {
    if (frame.type === 'conversation.item.input_audio_transcription.completed') {
      this.emit({ type: 'problem', problem: { code: 'malformed_frame', message: 'A line of the meeting could not be read back from the transcription server.', hint: 'It is missing from the transcript.' } });
    }
  }

  protected onServerEvent(event: RealtimeEvent): void {
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.emit({ type: 'vad', speaking: true });
        return;
      case 'input_audio_buffer.speech_stopped':
        this.emit({ type: 'vad', speaking: false });
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.emit({ type: 'transcript.user', itemId: event.item_id, text: event.transcript, final: true });
        return;
      case 'conversation.item.input_audio_transcription.failed':
        this.emit({ type: 'problem', problem: { code: 'server_error', message: `A line of the meeting could not be transcribed: ${event.error.message ?? 'unknown error'}.`, hint: 'It is missing from the transcript.' } });
        return;
      case 'error':
        if (event.error.code === 'input_audio_buffer_commit_empty') return;
        this.emit({ type: 'problem', problem: { code: event.error.code === 'invalid_api_key' ? 'unauthorized' : 'server_error', message: `The transcription server reported: ${event.error.message}`, hint: 'Try again.' } });
        return;
      default:
        return;
    }
  }
}
