/** The microphone of a voice session: a MicStream whose frames, level and failures go to the session. */
import type { AudioEncoding } from '../audio/encoding';
import type { EchoCanceller } from '../audio/echoCanceller';
import { MicStream, type LocalSpeechStarted } from '../audio/micStream';
import type { PlayoutBuffer } from '../audio/playout';
import type { MicSource, SpeechDetector } from '../audio/ports';
import type { VoiceSessionEvent, VoiceState } from './session';

export interface VoiceMicOptions {
  mic: MicSource;
  playout: PlayoutBuffer;
  frameMs: number;
  encoding: AudioEncoding;
  /** Echo safety with speakers while voice detection listens (headphones: full duplex). */
  echoGate: () => boolean;
  /** One encoded frame for `input_audio_buffer.append`. */
  append: (audio: string) => void;
  emit: (event: VoiceSessionEvent) => void;
  setState: (state: VoiceState) => void;
  canceller?: EchoCanceller | null;
  detector?: SpeechDetector | null;
  onLocalSpeech?: (event: LocalSpeechStarted) => void;
}

export function voiceMic(options: VoiceMicOptions): MicStream {
  const { emit, setState } = options;
  return new MicStream({
    mic: options.mic,
    playout: options.playout,
    frameMs: options.frameMs,
    encoding: options.encoding,
    echoGate: options.echoGate,
    canceller: options.canceller ?? null,
    detector: options.detector ?? null,
    ...(options.onLocalSpeech === undefined ? {} : { onLocalSpeech: options.onLocalSpeech }),
    send: options.append,
    onLevel: (dbfs) => emit({ type: 'mic.level', dbfs }),
    onProblem: (problem) => {
      emit({ type: 'problem', problem });
      setState('error');
    },
  });
}
