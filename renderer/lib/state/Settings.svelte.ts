/**
 * The settings panel's state: the saved values, a draft being edited, per-field errors from the
 * last save, the API key's status and the audio devices. Only this class talks to the bridge.
 */
import type { CopilotBridge, DeviceList, KeyStatus, ModelInfo, ModelKind, Problem, Settings, SettingsPatch } from '../../../app/contract';

/** The values being edited; empty until the settings load. */
export type Draft = Partial<Settings>;
/** A field the panel may change (not the version or the window's place). */
export type SettingsField = keyof SettingsPatch;

export class SettingsState {
  #bridge: CopilotBridge;
  #saved = $state<Draft>({});
  #draft = $state<Draft>({});
  #key = $state<KeyStatus | null>(null);
  #devices = $state<DeviceList | null>(null);
  #fieldErrors = $state<Record<string, string>>({});
  #problem = $state<Problem | null>(null);
  #saving = $state(false);
  #savedAt = $state<number | null>(null);
  #loadProblems = $state<string[]>([]);
  #models = $state<ModelInfo[]>([]);

  constructor(bridge: CopilotBridge) {
    this.#bridge = bridge;
  }

  get draft(): Draft {
    return this.#draft;
  }
  get key(): KeyStatus | null {
    return this.#key;
  }
  get devices(): DeviceList | null {
    return this.#devices;
  }
  get fieldErrors(): Record<string, string> {
    return this.#fieldErrors;
  }
  get problem(): Problem | null {
    return this.#problem;
  }
  get saving(): boolean {
    return this.#saving;
  }
  get savedAt(): number | null {
    return this.#savedAt;
  }
  get loadProblems(): readonly string[] {
    return this.#loadProblems;
  }
  /** The model table from main, per kind, current first. */
  get models(): readonly ModelInfo[] {
    return this.#models;
  }
  modelsOf(kind: ModelKind): ModelInfo[] {
    return this.#models.filter((model) => model.kind === kind);
  }
  model(kind: ModelKind, id: unknown): ModelInfo | undefined {
    return this.#models.find((model) => model.kind === kind && model.id === id);
  }
  /**
   * What to say about a model name as it is typed (app/settings/models.ts `modelWarning` says the
   * same of saved settings): unknown names are allowed but named, legacy ones get their successor.
   */
  modelWarning(kind: ModelKind, id: unknown): string | null {
    if (typeof id !== 'string' || id.trim() === '' || this.#models.length === 0) return null;
    const model = this.model(kind, id.trim());
    if (model === undefined) return `${id.trim()} is not ${kindNames[kind]} model Parley knows; it will be sent as typed. Check the spelling.`;
    const instead = model.successor === null ? '' : ` Try ${model.successor}.`;
    if (model.status === 'retired') return `${model.id} is retired.${instead}`;
    if (model.status === 'legacy') return `${model.id} is legacy${model.shutdown === null ? '' : ` (shuts down ${model.shutdown})`}.${instead}`;
    return null;
  }
  get dirty(): boolean {
    return JSON.stringify(this.#draft) !== JSON.stringify(this.#saved);
  }

  async load(): Promise<void> {
    const result = await this.#bridge.getSettings();
    if (!result.ok) {
      this.#problem = result.problem;
      return;
    }
    this.#saved = structuredClone(result.value.settings);
    this.#draft = structuredClone(result.value.settings);
    this.#key = result.value.key;
    this.#loadProblems = result.value.problems;
    this.#models = result.value.models ?? [];
    const devices = await this.#bridge.listDevices();
    this.#devices = devices.ok ? devices.value : null;
  }

  set<K extends SettingsField>(field: K, value: Settings[K]): void {
    this.#draft[field] = value;
    delete this.#fieldErrors[field];
  }

  /** Saves what changed; field errors come back next to their fields and nothing is changed. */
  async save(): Promise<boolean> {
    const patch: SettingsPatch = {};
    for (const field of Object.keys(this.#draft) as Array<keyof Draft>) {
      if (field !== 'version' && field !== 'window') this.#addIfChanged(patch, field);
    }
    if (Object.keys(patch).length === 0) return true;
    this.#saving = true;
    try {
      const result = await this.#bridge.updateSettings({ patch });
      if (!result.ok) {
        this.#fieldErrors = fieldErrorsOf(result.problem.message);
        this.#problem = result.problem;
        return false;
      }
      this.#saved = structuredClone(result.value.settings);
      this.#draft = structuredClone(result.value.settings);
      if (result.value.models !== undefined) this.#models = result.value.models;
      this.#fieldErrors = {};
      this.#problem = null;
      this.#savedAt = Date.now();
      return true;
    } finally {
      this.#saving = false;
    }
  }

  #addIfChanged<K extends SettingsField>(patch: SettingsPatch, field: K): void {
    const value = this.#draft[field];
    if (value !== undefined && JSON.stringify(value) !== JSON.stringify(this.#saved[field])) patch[field] = $state.snapshot(value) as SettingsPatch[K];
  }

  revert(): void {
    this.#draft = structuredClone($state.snapshot(this.#saved));
    this.#fieldErrors = {};
    this.#problem = null;
  }

  /** Plays a short sample of a voice through the speaker. */
  async previewVoice(voice: string): Promise<void> {
    const result = await this.#bridge.previewVoice({ voice });
    if (!result.ok) this.#fieldErrors = { ...this.#fieldErrors, voice: result.problem.message };
  }

  async setKey(key: string): Promise<boolean> {
    const result = await this.#bridge.setApiKey({ key });
    if (!result.ok) {
      this.#fieldErrors = { ...this.#fieldErrors, apiKey: `${result.problem.message} ${result.problem.hint}`.trim() };
      return false;
    }
    this.#key = result.value;
    delete this.#fieldErrors.apiKey;
    return true;
  }

  async clearKey(): Promise<void> {
    const result = await this.#bridge.clearApiKey();
    if (result.ok) this.#key = result.value;
    else this.#fieldErrors = { ...this.#fieldErrors, apiKey: `${result.problem.message} ${result.problem.hint}`.trim() };
  }
}

const kindNames: Record<ModelKind, string> = { realtime: 'a voice', transcription: 'a transcription', speech: 'a speech', agent: 'an agent' };

/** "Not saved: voice: Invalid option; vad.threshold: Too big" → { voice: …, vad: … }. */
export function fieldErrorsOf(message: string): Record<string, string> {
  const errors: Record<string, string> = {};
  const body = message.replace(/^Not saved:\s*/, '');
  for (const part of body.split('; ')) {
    const match = /^([\w.]+): (.*)$/.exec(part);
    if (match === null) continue;
    const field = (match[1] ?? '').split('.')[0] ?? '';
    errors[field] = errors[field] === undefined ? (match[2] ?? '') : `${errors[field]}; ${match[2]}`;
  }
  return errors;
}
