/**
 * The settings panel's state: the saved values, a draft being edited, per-field errors from the
 * last save, the API key's status and the audio devices. Only this class talks to the bridge.
 */
import type { CopilotBridge, DeviceList, KeyStatus, ModelInfo, ModelKind, Problem, Settings, SettingsPatch, SettingsView } from '../../../app/contract';

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
    if (model === undefined) return `Parley doesn't know the ${kindNames[kind]} model ${id.trim()}; it will be sent as typed and the service may refuse it. Check the spelling.`;
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
    // Loaded again (the panel and the first-run step each ask): fields edited meanwhile stay as edited.
    this.#receive(result.value);
    this.#loadProblems = result.value.problems;
    this.#models = result.value.models ?? [];
    const devices = await this.#bridge.listDevices();
    this.#devices = devices.ok ? devices.value : null;
  }

  /**
   * Follows settings changed elsewhere (an "Always allow" in a permission prompt): the saved
   * values move, and so does every field of the draft the user has not edited. Returns the unsubscribe.
   */
  follow(): () => void {
    return this.#bridge.onEvent((event) => {
      if (event.type === 'settings') this.#receive(event.view);
    });
  }

  #receive(view: SettingsView): void {
    const next = structuredClone(view.settings);
    for (const field of Object.keys(next) as Array<keyof Settings>) {
      if (JSON.stringify(this.#draft[field]) === JSON.stringify(this.#saved[field])) this.#draft = { ...this.#draft, [field]: structuredClone(next[field]) };
    }
    this.#saved = next;
    this.#key = view.key;
  }

  /** The tools the user chose "Always allow" for, as saved. */
  get alwaysAllowed(): string[] {
    return Object.entries(this.#saved.toolPermissions ?? {})
      .filter(([, choice]) => choice === 'allow')
      .map(([name]) => name)
      .sort();
  }

  /** Takes back an "Always allow" at once (saved, not drafted): the tool's next call asks again. */
  async revoke(tool: string): Promise<boolean> {
    const { [tool]: _revoked, ...rest } = this.#saved.toolPermissions ?? {};
    const result = await this.#bridge.updateSettings({ patch: { toolPermissions: rest } });
    if (!result.ok) {
      this.#fieldErrors = { ...this.#fieldErrors, toolPermissions: result.problem.fields?.toolPermissions ?? result.problem.message };
      return false;
    }
    this.#receive(result.value);
    const { [tool]: _drafted, ...draftRest } = this.#draft.toolPermissions ?? {};
    this.#draft = { ...this.#draft, toolPermissions: draftRest };
    return true;
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
        this.#fieldErrors = result.problem.fields ?? {};
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

const kindNames: Record<ModelKind, string> = { realtime: 'voice', transcription: 'transcription', speech: 'speech', agent: 'agent' };
