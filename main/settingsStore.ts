/**
 * Settings on disk: `settings.json` in Electron's userData folder, validated and migrated by
 * app/settings. A file that does not parse, or loses values to validation or migration, is backed
 * up beside it first and the user is told where; Parley never crashes on it and never writes a
 * half-written file (each save goes to a temporary file that is then renamed over the old one).
 */
import { join } from 'node:path';
import { defaultSettings, loadSettings, type LoadedSettings, type Settings } from '../app/settings/schema';
import type { SettingsStore } from '../app/settings/store';

export interface SettingsFs {
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string | Buffer): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  unlink(path: string): Promise<void>;
}

export interface SettingsFileOptions {
  /** Electron's `app.getPath('userData')`. */
  dir: string;
  fs: SettingsFs;
  /** Milliseconds since the epoch, for backup names. */
  now: () => number;
}

export interface SettingsFile extends SettingsStore {
  readonly path: string;
  /** The settings last loaded or saved (defaults before the first load). */
  current(): Settings;
  /**
   * Changes the settings on disk through the one serialised writer: `change` sees what the
   * writes before it left, so a settings save and a window-bounds save racing each other both land.
   */
  update(change: (current: Settings) => Settings): Promise<void>;
  /** Called after every successful save, e.g. to rebind the hotkey. */
  onSaved(listener: (settings: Settings) => void): () => void;
}

const fileName = 'settings.json';

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** `2025-01-31T09-15-00-000Z`: sortable, and legal in file names on every platform. */
export function backupStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

export function createSettingsFile(options: SettingsFileOptions): SettingsFile {
  const { dir, fs, now } = options;
  const path = join(dir, fileName);
  let current: Settings = defaultSettings;
  let writes: Promise<unknown> = Promise.resolve();
  let tempCounter = 0;
  const listeners = new Set<(settings: Settings) => void>();

  async function backup(kind: string, bytes: Buffer): Promise<string> {
    const backupPath = join(dir, `settings.${kind}-${backupStamp(now())}.json`);
    await fs.writeFile(backupPath, bytes);
    return backupPath;
  }

  async function writeAtomically(settings: Settings): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    tempCounter += 1;
    const temp = join(dir, `${fileName}.${process.pid}.${tempCounter}.tmp`);
    try {
      await fs.writeFile(temp, `${JSON.stringify(settings, null, 2)}\n`);
      await fs.rename(temp, path);
    } catch (error) {
      await fs.unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  async function load(): Promise<LoadedSettings> {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path);
    } catch (error) {
      current = defaultSettings;
      if (errorCode(error) === 'ENOENT') return { settings: current, problems: [], migratedFrom: null };
      return { settings: current, problems: [`The settings file ${path} could not be read (${errorCode(error)}); defaults are in use.`], migratedFrom: null };
    }

    let raw: unknown;
    try {
      // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the JSON.
      raw = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
    } catch {
      raw = undefined;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      current = defaultSettings;
      const what = raw === undefined ? 'was not valid JSON' : 'did not hold a settings object';
      try {
        const backupPath = await backup('corrupt', bytes);
        return { settings: current, problems: [`The settings file ${what}; it was saved as ${backupPath} and defaults are in use.`], migratedFrom: null };
      } catch (error) {
        return { settings: current, problems: [`The settings file ${what} and could not be backed up (${errorCode(error)}); defaults are in use.`], migratedFrom: null };
      }
    }

    const loaded = loadSettings(raw);
    current = loaded.settings;
    // Values that were dropped or migrated live on only in the backup: keep it, then write the
    // file in the current shape so the next start reads it cleanly.
    if (loaded.problems.length > 0 || loaded.migratedFrom !== null) {
      const kind = loaded.problems.length > 0 ? 'invalid' : `v${loaded.migratedFrom ?? 0}`;
      try {
        const backupPath = await backup(kind, bytes);
        if (loaded.problems.length > 0) loaded.problems.push(`The file as it was is saved as ${backupPath}.`);
        await save(loaded.settings);
      } catch (error) {
        loaded.problems.push(`The settings file could not be backed up or rewritten (${errorCode(error)}); it was left as it is.`);
      }
    }
    return loaded;
  }

  function update(change: (current: Settings) => Settings): Promise<void> {
    const write = writes.then(async () => {
      const next = change(current);
      await writeAtomically(next);
      current = next;
      for (const listener of listeners) listener(next);
    });
    writes = write.catch(() => undefined);
    return write;
  }

  function save(settings: Settings): Promise<void> {
    return update(() => settings);
  }

  return {
    path,
    load,
    save,
    update,
    current: () => current,
    onSaved(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The store the composition root gets: it shares the settings main already loaded (so the file is
 * read, and a broken one backed up, once) and keeps the window bounds main saved, since the
 * settings panel never edits them.
 */
export function copilotSettingsStore(file: SettingsFile, loaded: LoadedSettings): SettingsStore {
  return {
    load: () => Promise.resolve(loaded),
    save: (settings) => file.update((current) => ({ ...settings, window: current.window })),
  };
}
