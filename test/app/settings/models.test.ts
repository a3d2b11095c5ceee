import { describe, expect, it } from 'vitest';
import { agentSettingsOf, voiceSettingsOf } from '../../../app/host/copilot';
import { sessionConfig, defaultVoiceSettings } from '../../../app/voice/settings';
import { reasoningParams } from '../../../app/responses/settings';
import { defaultModels, modelCatalog, modelProblem, modelWarning, realtimeModelOptions } from '../../../app/settings/models';
import { defaultSettings } from '../../../app/settings/schema';

const today = new Date('2026-12-01T12:00:00Z');
const catalog = modelCatalog(today);
const byId = (kind: string, id: string) => catalog.find((model) => model.kind === kind && model.id === id);

describe('the model table', () => {
  it('lists each kind current first, with its default at the top', () => {
    for (const kind of ['realtime', 'transcription', 'agent'] as const) {
      const models = catalog.filter((model) => model.kind === kind);
      expect(models[0]).toMatchObject({ id: defaultModels[kind], status: 'current', isDefault: true });
      const firstOld = models.findIndex((model) => model.status !== 'current');
      expect(models.slice(firstOld).every((model) => model.status !== 'current')).toBe(true);
    }
    expect(catalog.filter((model) => model.kind === 'realtime').map((model) => model.id).slice(0, 3)).toEqual(['gpt-realtime-2.1-mini', 'gpt-realtime-2.1', 'gpt-realtime-2']);
  });

  it('names each model once per kind and points every old one at a model it knows', () => {
    const keys = catalog.map((model) => `${model.kind}/${model.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    const missing = catalog.filter((model) => model.successor !== null && !catalog.some((other) => other.id === model.successor));
    expect(missing).toEqual([]);
    const orphans = catalog.filter((model) => model.status !== 'current' && model.successor === null);
    expect(orphans).toEqual([]);
  });

  it('turns legacy into retired once the shutdown date has passed', () => {
    expect(byId('agent', 'gpt-5-mini')).toMatchObject({ status: 'legacy', shutdown: '2026-12-11', successor: 'gpt-5.4-mini' });
    expect(modelCatalog(new Date('2026-12-11T00:00:00Z')).find((model) => model.id === 'gpt-5-mini')?.status).toBe('retired');
    expect(byId('realtime', 'gpt-4o-realtime-preview')?.status).toBe('retired');
  });

  it('shows a dated snapshot as its model with the date, retiring with it and pointing at the same successor', () => {
    const model = byId('agent', 'gpt-4o');
    expect(byId('agent', 'gpt-4o-2024-08-06')).toEqual({ ...model, id: 'gpt-4o-2024-08-06', label: 'GPT-4o (2024-08-06)' });
    expect(byId('agent', 'o1-2024-12-17')).toMatchObject({ label: 'o1 (2024-12-17)', status: 'retired', shutdown: '2026-10-23', successor: 'gpt-5.5', reasoningEfforts: ['low', 'medium', 'high'] });
  });

  it('knows which voice models reason and take parallel tool calls', () => {
    expect(byId('realtime', 'gpt-realtime-2')).toMatchObject({ reasoningEfforts: ['minimal', 'low', 'medium', 'high', 'xhigh'], parallelToolCalls: true });
    expect(byId('realtime', 'gpt-realtime-1.5')).toMatchObject({ reasoningEfforts: [], parallelToolCalls: false });
    expect(byId('realtime', 'gpt-realtime')).toMatchObject({ reasoningEfforts: [], parallelToolCalls: false });
  });

  it('warns about unknown and legacy names without refusing them', () => {
    expect(modelWarning('realtime', 'gpt-realtime-2', today)).toBeNull();
    expect(modelWarning('realtime', 'my-fine-tune', today)).toMatch(/Parley doesn't know the voice model my-fine-tune; it will be sent as typed/);
    expect(modelWarning('realtime', 'gpt-realtime', today)).toBe('gpt-realtime is legacy (shuts down 2027-01-20). Try gpt-realtime-2.1.');
    expect(modelWarning('realtime', 'gpt-4o-realtime-preview', today)).toBe('gpt-4o-realtime-preview is retired. Try gpt-realtime-2.1.');
  });
});

describe('modelProblem', () => {
  it('names the missing model and the one to try instead', () => {
    const problem = modelProblem('model_not_found', 'The model `gpt-4o-realtime-preview` does not exist or you do not have access to it.', 'gpt-4o-realtime-preview', 'realtime', today);
    expect(problem).toEqual({
      code: 'model_unavailable',
      message: 'The model gpt-4o-realtime-preview is not available to your key (retired or not enabled). Try gpt-realtime-2.1.',
      hint: expect.stringContaining('choose it as the voice model in Settings'),
    });
    expect(problem?.hint).toContain('does not exist');
  });

  it('follows a successor that is itself legacy to a current one, and falls back to the default', () => {
    expect(modelProblem('model_not_found', 'nope', 'gpt-5-mini', 'agent', new Date('2027-01-01'))?.message).toMatch(/gpt-5-mini .* Try gpt-5\.4-mini\.$/);
    expect(modelProblem('model_not_found', 'nope', 'my-model', 'agent', today)?.message).toMatch(/my-model .* Try gpt-5\.4-mini\.$/);
    expect(modelProblem('model_not_found', 'nope', 'gpt-5.4-mini', 'agent', today)?.message).toBe('The model gpt-5.4-mini is not available to your key (retired or not enabled).');
  });

  it('sends a retired speech model to the voice model that replaces it', () => {
    const problem = modelProblem('model_not_found', 'gone', 'tts-1', 'speech', new Date('2027-02-01'));
    expect(problem?.message).toMatch(/Try gpt-realtime-2\.1-mini\.$/);
    expect(problem?.hint).toContain('speech-to-speech turn mode');
  });

  it('leaves errors that are not about the model to the caller', () => {
    expect(modelProblem('rate_limit_exceeded', 'Slow down.', 'gpt-5.4-mini', 'agent', today)).toBeNull();
    expect(modelProblem(null, 'The model gpt-x does not exist.', 'gpt-x', 'agent', today)?.code).toBe('model_unavailable');
  });
});

describe('model options on the wire', () => {
  it('sends reasoning and parallel_tool_calls to a reasoning voice model', () => {
    const config = sessionConfig({ ...defaultVoiceSettings, ...voiceSettingsOf({ ...defaultSettings, realtimeModel: 'gpt-realtime-2', realtimeReasoningEffort: 'medium', realtimeParallelToolCalls: false }) });
    expect(config).toMatchObject({ model: 'gpt-realtime-2', reasoning: { effort: 'medium' }, parallel_tool_calls: false });
  });

  it('leaves both out for a model that takes neither, and for a custom name', () => {
    for (const realtimeModel of ['gpt-realtime', 'gpt-realtime-1.5', 'someone-elses-model']) {
      const config = sessionConfig({ ...defaultVoiceSettings, ...voiceSettingsOf({ ...defaultSettings, realtimeModel }) });
      expect(config).not.toHaveProperty('reasoning');
      expect(config).not.toHaveProperty('parallel_tool_calls');
    }
  });

  it('sends no effort when the user leaves it to the model', () => {
    expect(realtimeModelOptions('gpt-realtime-2.1', 'auto', true)).toEqual({ reasoningEffort: null, parallelToolCalls: true });
    expect(sessionConfig({ ...defaultVoiceSettings, ...voiceSettingsOf(defaultSettings) })).toMatchObject({ model: 'gpt-realtime-2.1-mini', reasoning: { effort: 'low' }, parallel_tool_calls: true });
  });

  it('gives the agent reasoning.effort only when its model takes that effort', () => {
    expect(reasoningParams(agentSettingsOf({ ...defaultSettings, agentModel: 'gpt-5.4', agentReasoningEffort: 'high' }))).toEqual({ reasoning: { effort: 'high' } });
    expect(reasoningParams(agentSettingsOf({ ...defaultSettings, agentModel: 'gpt-4.1', agentReasoningEffort: 'high' }))).toEqual({});
    expect(reasoningParams(agentSettingsOf({ ...defaultSettings, agentModel: 'gpt-5', agentReasoningEffort: 'none' }))).toEqual({});
    expect(reasoningParams(agentSettingsOf(defaultSettings))).toEqual({});
  });
});
