/**
 * The settings and the API key as the host holds them: loaded once, changed by the settings
 * panel's commands (checked against the schema, saved, then applied through `apply`), and
 * watched by the tools that depend on them.
 */
import type { CommandResult, KeyStatus, Problem, PushEvent, SettingsView } from '../contract';
import { applyPatch, defaultSettings, settingsPatchSchema, type Settings } from '../settings/schema';
import { modelCatalog } from '../settings/models';
import { settingsErrorMap, settingsFieldErrors } from '../settings/messages';
import type { KeyStore, SettingsStore } from '../settings/store';

/** Where no secure storage exists (tests, browser mode): keys come from the environment only. */
const unavailableKeyStore: KeyStore = {
  status: () => ({ set: false, lastFour: null, storage: 'unavailable', note: 'This window cannot store an API key; it uses OPENAI_API_KEY from the environment.' }),
  read: () => null,
  write: async () => unavailableKeyStore.status(),
  clear: async () => unavailableKeyStore.status(),
};

export interface SettingsServiceOptions {
  store?: SettingsStore;
  keyStore?: KeyStore;
  now: () => number;
  emit: (event: PushEvent) => void;
  /** Applies new settings (and key) to the sessions; `settings` is already the new value. */
  apply: (next: { settings: Settings; apiKey?: string | null }) => Promise<void>;
  /**
   * Whether a workspace folder exists and is a folder (the shell's file system); without it
   * folders are checked only for being full paths.
   */
  folderExists?: (path: string) => Promise<boolean>;
  /** Asks the service whether it accepts a key (null: it does); a refused key is never stored. */
  checkKey?: (key: string, settings: Settings) => Promise<Problem | null>;
}

export class SettingsService {
  #options: SettingsServiceOptions;
  #settings: Settings = defaultSettings;
  #problems: string[] = [];
  #storedKey: string | null = null;
  #loaded = false;
  #keyStore: KeyStore;
  #listeners = new Set<(next: Settings) => void>();
  #updates: Promise<unknown> = Promise.resolve();

  constructor(options: SettingsServiceOptions) {
    this.#options = options;
    this.#keyStore = options.keyStore ?? unavailableKeyStore;
  }

  get settings(): Settings {
    return this.#settings;
  }

  get storedKey(): string | null {
    return this.#storedKey;
  }

  /** Reads the saved settings and key the first time; later calls keep what is held. Returns the load problems. */
  async load(): Promise<string[]> {
    if (this.#loaded) return [];
    this.#loaded = true;
    if (this.#options.store !== undefined) {
      const result = await this.#options.store.load();
      this.#settings = result.settings;
      this.#problems = result.problems;
    }
    this.#storedKey = this.#keyStore.read();
    return this.#problems;
  }

  /** Takes new settings (and key) as current and tells the listeners. */
  replace(next: { settings: Settings; apiKey?: string | null }): { previous: Settings; previousKey: string | null } {
    const previous = this.#settings;
    const previousKey = this.#storedKey;
    this.#settings = next.settings;
    for (const listener of this.#listeners) listener(this.#settings);
    if (next.apiKey !== undefined) this.#storedKey = next.apiKey;
    return { previous, previousKey };
  }

  onChange(listener: (next: Settings) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  view(): SettingsView {
    return { settings: { ...this.#settings }, key: this.#keyStore.status(), problems: this.#problems, models: modelCatalog(new Date(this.#options.now())) };
  }

  /**
   * Applies a patch after every update before it has landed, so two quick changes from the panel
   * each start from the other's result and neither is lost.
   */
  update(patch: Record<string, unknown>): Promise<CommandResult<SettingsView>> {
    const result = this.#updates.then(() => this.#update(patch));
    this.#updates = result.catch(() => undefined);
    return result;
  }

  async #update(patch: Record<string, unknown>): Promise<CommandResult<SettingsView>> {
    const parsed = settingsPatchSchema.safeParse(patch, { error: settingsErrorMap });
    const fields = parsed.success ? await this.#missingFolders(parsed.data.workspaceFolders) : settingsFieldErrors(parsed.error.issues);
    if (!parsed.success || Object.keys(fields).length > 0) {
      const count = Object.keys(fields).length;
      return {
        ok: false,
        problem: {
          code: 'invalid_payload',
          message: `Not saved: ${Object.values(fields).join(' ')}`,
          hint: `Correct ${count === 1 ? 'the field' : `the ${count} fields`} marked and save again; nothing was changed.`,
          fields,
        },
      };
    }
    const next = applyPatch(this.#settings, parsed.data);
    try {
      await this.#options.store?.save(next);
    } catch (error) {
      return { ok: false, problem: { code: 'internal', message: `Settings could not be saved: ${(error as Error).message}`, hint: 'Check that the settings folder is writable; nothing was changed.' } };
    }
    this.#problems = [];
    await this.#options.apply({ settings: next });
    const view = this.view();
    this.#options.emit({ type: 'settings', view });
    return { ok: true, value: view };
  }

  /** Newly added folders that are not there, named; folders already saved are not asked about again. */
  async #missingFolders(folders: readonly string[] | undefined): Promise<Record<string, string>> {
    const check = this.#options.folderExists;
    if (folders === undefined || check === undefined) return {};
    const added = folders.filter((folder) => !this.#settings.workspaceFolders.includes(folder));
    const found = await Promise.all(added.map(async (folder) => ({ folder, there: await check(folder).catch(() => false) })));
    const missing = found.filter((entry) => !entry.there).map((entry) => `“${entry.folder}”`);
    if (missing.length === 0) return {};
    return { workspaceFolders: missing.length === 1 ? `The folder ${missing[0]} does not exist (or is not a folder).` : `The folders ${missing.join(', ')} do not exist (or are not folders).` };
  }

  async setKey(key: string): Promise<CommandResult<KeyStatus>> {
    const unstorable = this.#keyStore.status();
    if (unstorable.storage === 'unavailable') return { ok: false, problem: { code: 'internal', message: unstorable.note ?? 'Keys cannot be stored here.', hint: 'Set OPENAI_API_KEY in the environment instead.' } };
    const refused = (await this.#options.checkKey?.(key.trim(), this.#settings)) ?? null;
    if (refused !== null) return { ok: false, problem: refused };
    return this.#changeKey(() => this.#keyStore.write(key), key);
  }

  clearKey(): Promise<CommandResult<KeyStatus>> {
    return this.#changeKey(() => this.#keyStore.clear(), null);
  }

  async #changeKey(action: () => Promise<KeyStatus>, key: string | null): Promise<CommandResult<KeyStatus>> {
    let status: KeyStatus;
    try {
      status = await action();
    } catch (error) {
      return { ok: false, problem: { code: 'internal', message: `The key could not be stored: ${(error as Error).message}`, hint: 'Set OPENAI_API_KEY in the environment instead.' } };
    }
    if (status.storage === 'unavailable') return { ok: false, problem: { code: 'internal', message: status.note ?? 'Keys cannot be stored here.', hint: 'Set OPENAI_API_KEY in the environment instead.' } };
    await this.#options.apply({ settings: this.#settings, apiKey: key });
    this.#options.emit({ type: 'settings', view: this.view() });
    return { ok: true, value: status };
  }
}
