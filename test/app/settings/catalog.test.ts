/**
 * The model table as the user meets it, with exact expectations: the order the settings panel
 * lists, the words next to an old name, the problem shown when the server refuses a model, and
 * the reasoning fields each model is sent.
 */
import { describe, expect, it } from 'vitest';
import { agentReasoningEffort, modelCatalog, modelKinds, modelProblem, modelWarning, realtimeModelOptions } from '../../../app/settings/models';

const today = new Date('2026-12-01T12:00:00Z');

describe('modelCatalog', () => {
  it('lists the kinds in order, each current first with the default at the top, then legacy, then retired', () => {
    const catalog = modelCatalog(today);
    expect([...new Set(catalog.map((model) => model.kind))]).toEqual(['realtime', 'transcription', 'speech', 'agent']);
    expect(modelKinds).toEqual(['realtime', 'transcription', 'speech', 'agent']);
    const voice = catalog.filter((model) => model.kind === 'realtime');
    expect(voice.slice(0, 6).map((model) => model.id)).toEqual(['gpt-realtime-2.1-mini', 'gpt-realtime-2.1', 'gpt-realtime-2', 'gpt-realtime-1.5', 'gpt-audio-1.5', 'gpt-realtime']);
    const ranks = voice.map((model) => ({ current: 0, legacy: 1, retired: 2 })[model.status]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(voice.at(-1)?.status).toBe('retired');
    expect(catalog.filter((model) => model.isDefault).map((model) => model.id)).toEqual(['gpt-realtime-2.1-mini', 'gpt-transcribe', 'gpt-4o-mini-tts', 'gpt-5.4-mini']);
  });

  it('describes each model fully', () => {
    const catalog = modelCatalog(today);
    const find = (id: string) => catalog.find((model) => model.id === id);
    expect(find('gpt-realtime')).toMatchObject({ kind: 'realtime', status: 'legacy', shutdown: '2027-01-20', successor: 'gpt-realtime-2.1', isDefault: false, reasoningEfforts: [], parallelToolCalls: false, note: null });
    expect(find('gpt-realtime-2.1-mini')).toMatchObject({ status: 'current', shutdown: null, successor: null, isDefault: true, reasoningEfforts: ['minimal', 'low', 'medium', 'high', 'xhigh'], parallelToolCalls: true, note: null });
    expect(find('gpt-4o-realtime-preview')?.note).toMatch(/Realtime beta preview/);
    expect(typeof find('gpt-5.4')?.label).toBe('string');
    expect(find('gpt-5.4')?.label.length).toBeGreaterThan(0);
  });

  it('moves a legacy model to retired on its shutdown day, not the day before', () => {
    const status = (date: string) => modelCatalog(new Date(date)).find((model) => model.id === 'gpt-realtime')?.status;
    expect(status('2027-01-19T23:59:59Z')).toBe('legacy');
    expect(status('2027-01-20T00:00:00Z')).toBe('retired');
    const voice = modelCatalog(new Date('2027-01-20T00:00:00Z')).filter((model) => model.kind === 'realtime');
    expect(voice.findIndex((model) => model.id === 'gpt-realtime')).toBeGreaterThan(voice.findIndex((model) => model.id === 'gpt-realtime-mini-2025-10-06'));
  });
});

describe('modelWarning', () => {
  it('says legacy with its shutdown date and successor, retired, unknown by kind, or nothing', () => {
    expect(modelWarning('realtime', 'gpt-realtime', today)).toBe('gpt-realtime is legacy (shuts down 2027-01-20). Try gpt-realtime-2.1.');
    expect(modelWarning('realtime', 'gpt-realtime-mini-2025-10-06', today)).toBe('gpt-realtime-mini-2025-10-06 is legacy. Try gpt-realtime-2.1-mini.');
    expect(modelWarning('agent', 'gpt-5.1-mini', today)).toBe('gpt-5.1-mini is retired. Try gpt-5.4-mini.');
    expect(modelWarning('agent', 'gpt-5.4', today)).toBeNull();
    expect(modelWarning('transcription', 'my-asr', today)).toBe("Parley doesn't know the transcription model my-asr; it will be sent as typed and the service may refuse it. Check the spelling.");
    expect(modelWarning('speech', 'my-tts', today)).toBe("Parley doesn't know the speech model my-tts; it will be sent as typed and the service may refuse it. Check the spelling.");
    expect(modelWarning('realtime', 'my-voice', today)).toBe("Parley doesn't know the voice model my-voice; it will be sent as typed and the service may refuse it. Check the spelling.");
  });
});

describe('modelProblem', () => {
  it('names the model and its current successor, and where to choose it', () => {
    expect(modelProblem('model_not_found', 'nope', 'gpt-5-mini', 'agent', today)).toEqual({
      code: 'model_unavailable',
      message: 'The model gpt-5-mini is not available to your key (retired or not enabled). Try gpt-5.4-mini.',
      hint: 'To switch, choose it as the agent model in Settings. The server said: nope',
    });
    expect(modelProblem(null, 'The model whisper-1 does not exist', 'whisper-1', 'transcription', today)?.hint).toBe(
      'To switch, choose it as the transcription model in Settings. The server said: The model whisper-1 does not exist',
    );
  });

  it('sends a speech model to the voice model that replaces it, with the turn mode to pick', () => {
    expect(modelProblem('model_not_found', 'gone', 'tts-1', 'speech', today)?.hint).toBe('To switch, choose it as the voice model and a speech-to-speech turn mode in Settings. The server said: gone');
  });

  it('suggests the default for an unknown model, and nothing when the default itself is refused', () => {
    expect(modelProblem('model_not_found', 'x', 'my-asr', 'transcription', today)?.message).toBe('The model my-asr is not available to your key (retired or not enabled). Try gpt-transcribe.');
    expect(modelProblem('model_not_found', 'x', 'gpt-5.4-mini', 'agent', today)).toEqual({
      code: 'model_unavailable',
      message: 'The model gpt-5.4-mini is not available to your key (retired or not enabled).',
      hint: 'Pick another agent model in Settings. The server said: x',
    });
  });

  it('reads a bare invalid_request_error as about the model only when the model is retired', () => {
    expect(modelProblem('invalid_request_error', 'Bad request', 'gpt-5.1-mini', 'agent', today)?.code).toBe('model_unavailable');
    expect(modelProblem('invalid_request_error', 'Bad request', 'gpt-5.4', 'agent', today)).toBeNull();
    expect(modelProblem('server_error', 'Bad request', 'gpt-5.1-mini', 'agent', today)).toBeNull();
    expect(modelProblem('rate_limit_exceeded', 'Slow down', 'gpt-5.4', 'agent', today)).toBeNull();
  });
});

describe('reasoning fields', () => {
  it('sends a voice model only the effort and parallel calls it takes', () => {
    expect(realtimeModelOptions('gpt-realtime-2.1', 'high', false)).toEqual({ reasoningEffort: 'high', parallelToolCalls: false });
    expect(realtimeModelOptions('gpt-realtime-2.1', 'auto', true)).toEqual({ reasoningEffort: null, parallelToolCalls: true });
    expect(realtimeModelOptions('gpt-realtime-1.5', 'high', true)).toEqual({ reasoningEffort: null, parallelToolCalls: null });
    expect(realtimeModelOptions('my-voice', 'low', true)).toEqual({ reasoningEffort: null, parallelToolCalls: null });
  });

  it('sends the agent an effort only when its model takes that one', () => {
    expect(agentReasoningEffort('gpt-5.5-pro', 'high')).toBe('high');
    expect(agentReasoningEffort('gpt-5.5-pro', 'low')).toBeNull();
    expect(agentReasoningEffort('gpt-5.4', 'auto')).toBeNull();
    expect(agentReasoningEffort('my-model', 'high')).toBeNull();
  });
});
