/** The `session.update` a voice session sends for its settings: formats, turn detection and the reasoning options. */
import { describe, expect, it } from 'vitest';
import { defaultVoiceSettings, sessionConfig, type VoiceSettings } from '../../../app/voice/settings';

const settings = (overrides: Partial<VoiceSettings>): VoiceSettings => ({ ...defaultVoiceSettings, ...overrides });

describe('sessionConfig', () => {
  it('asks for spoken replies in 24 kHz PCM, with input transcripts, and no turn detection for push-to-talk', () => {
    const tool = { type: 'function' as const, name: 'get_time', description: 'The time', parameters: { type: 'object', properties: {} } };
    expect(sessionConfig(settings({ tools: [tool] }))).toEqual({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: defaultVoiceSettings.instructions,
      output_modalities: ['audio'],
      audio: {
        input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: { model: 'gpt-4o-mini-transcribe' }, turn_detection: null },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' },
      },
      tools: [tool],
    });
  });

  it('uses G.711 µ-law or A-law both ways when chosen', () => {
    expect(sessionConfig(settings({ encoding: 'pcmu' })).audio).toMatchObject({ input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } });
    expect(sessionConfig(settings({ encoding: 'pcma' })).audio).toMatchObject({ input: { format: { type: 'audio/pcma' } }, output: { format: { type: 'audio/pcma' } } });
  });

  it('turns input transcripts off', () => {
    expect(sessionConfig(settings({ transcriptionModel: null })).audio?.input?.transcription).toBeNull();
  });

  it('lets the server detect turns, answer them and interrupt itself, with the thresholds or eagerness chosen', () => {
    const vad = { threshold: 0.7, prefixPaddingMs: 200, silenceDurationMs: 650 };
    expect(sessionConfig(settings({ turnMode: 'server_vad', vad })).audio?.input?.turn_detection).toEqual({
      type: 'server_vad',
      threshold: 0.7,
      prefix_padding_ms: 200,
      silence_duration_ms: 650,
      create_response: true,
      interrupt_response: true,
    });
    expect(sessionConfig(settings({ turnMode: 'semantic_vad', eagerness: 'low' })).audio?.input?.turn_detection).toEqual({
      type: 'semantic_vad',
      eagerness: 'low',
      create_response: true,
      interrupt_response: true,
    });
  });

  it('sends the reasoning effort and parallel tool calls only for a model that takes them', () => {
    const reasoning = sessionConfig(settings({ reasoningEffort: 'low', parallelToolCalls: false }));
    expect(reasoning.reasoning).toEqual({ effort: 'low' });
    expect(reasoning.parallel_tool_calls).toBe(false);
    const plain = sessionConfig(settings({}));
    expect(plain).not.toHaveProperty('reasoning');
    expect(plain).not.toHaveProperty('parallel_tool_calls');
  });
});
