/** What a voice session is configured with, and the `session.update` it becomes. */
import type { AudioEncoding } from '../audio/encoding';
import type { RealtimeFunctionTool, RealtimeSessionCreateRequest } from '../protocol/realtime';

type RealtimeReasoningEffort = NonNullable<NonNullable<RealtimeSessionCreateRequest['reasoning']>['effort']>;

export type TurnMode = 'push_to_talk' | 'server_vad' | 'semantic_vad';

export interface VoiceSettings {
  model: string;
  instructions: string;
  voice: string;
  encoding: AudioEncoding;
  turnMode: TurnMode;
  vad: { threshold: number; prefixPaddingMs: number; silenceDurationMs: number };
  eagerness: 'low' | 'medium' | 'high' | 'auto';
  /** Transcribe what the user says (null: no input transcripts). */
  transcriptionModel: string | null;
  tools: RealtimeFunctionTool[];
  /**
   * `speakers` (the echo-safe default) keeps the assistant's own voice through the speakers from
   * interrupting it, with the canceller or the gate (`echoCanceller`); `headphones` keeps full
   * duplex with neither.
   */
  echo: 'speakers' | 'headphones';
  /**
   * With speakers: `builtin` cancels the echo (the user can talk over the assistant, and the local
   * speech detector stops playback at once); `gate` silences the mic while the assistant is
   * louder. The gate also stands in when the canceller cannot run. `system` records and plays
   * through the sound server's own canceller (PulseAudio's or PipeWire's `module-echo-cancel`), so
   * the mic arrives clean; Parley's canceller stands in where there is none.
   */
  echoCanceller: 'builtin' | 'gate' | 'system';
  /** Mic frame size sent per `input_audio_buffer.append`, 20–100 ms. */
  frameMs: number;
  /**
   * `reasoning.effort` and `parallel_tool_calls`, which only reasoning Realtime models take
   * (openai realtime.ts RealtimeSessionCreateRequest, `parallel_tool_calls` and `reasoning`); null
   * leaves them out. The host resolves them from the model table (app/settings/models.ts).
   */
  reasoningEffort: RealtimeReasoningEffort | null;
  parallelToolCalls: boolean | null;
}

export const defaultVoiceSettings: VoiceSettings = {
  model: 'gpt-realtime',
  instructions: 'You are Parley, a concise voice co-pilot. Answer in one or two short sentences.',
  voice: 'marin',
  encoding: 'pcm16',
  turnMode: 'push_to_talk',
  vad: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 },
  eagerness: 'auto',
  transcriptionModel: 'gpt-4o-mini-transcribe',
  tools: [],
  echo: 'speakers',
  echoCanceller: 'builtin',
  frameMs: 40,
  reasoningEffort: null,
  parallelToolCalls: null,
};

function format(encoding: AudioEncoding): { type: 'audio/pcm'; rate: 24000 } | { type: 'audio/pcmu' } | { type: 'audio/pcma' } {
  return encoding === 'pcm16' ? { type: 'audio/pcm', rate: 24000 } : { type: encoding === 'pcmu' ? 'audio/pcmu' : 'audio/pcma' };
}

export function turnDetection(settings: VoiceSettings): NonNullable<NonNullable<RealtimeSessionCreateRequest['audio']>['input']>['turn_detection'] {
  switch (settings.turnMode) {
    case 'push_to_talk':
      return null;
    case 'semantic_vad':
      return { type: 'semantic_vad', eagerness: settings.eagerness, create_response: true, interrupt_response: true };
    case 'server_vad': {
      return {
        type: 'server_vad',
        threshold: settings.vad.threshold,
        prefix_padding_ms: settings.vad.prefixPaddingMs,
        silence_duration_ms: settings.vad.silenceDurationMs,
        create_response: true,
        interrupt_response: true,
      };
    }
  }
}

export function sessionConfig(settings: VoiceSettings): RealtimeSessionCreateRequest {
  return {
    type: 'realtime',
    model: settings.model,
    instructions: settings.instructions,
    output_modalities: ['audio'],
    audio: {
      input: {
        format: format(settings.encoding),
        transcription: settings.transcriptionModel === null ? null : { model: settings.transcriptionModel },
        turn_detection: turnDetection(settings),
      } as NonNullable<RealtimeSessionCreateRequest['audio']>['input'],
      output: { format: format(settings.encoding), voice: settings.voice },
    },
    tools: settings.tools,
    ...(settings.reasoningEffort === null ? {} : { reasoning: { effort: settings.reasoningEffort } }),
    ...(settings.parallelToolCalls === null ? {} : { parallel_tool_calls: settings.parallelToolCalls }),
  };
}
