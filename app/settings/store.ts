/**
 * Where settings and the API key live: implemented in main/ (a JSON file, Electron's safeStorage)
 * and handed to the composition root, which never sees how.
 */
import type { KeyStatus } from '../contract';
import type { LoadedSettings, Settings } from './schema';

export interface SettingsStore {
  load(): Promise<LoadedSettings>;
  save(settings: Settings): Promise<void>;
}

export interface KeyStore {
  /** Whether a key is stored and where; never the key. */
  status(): KeyStatus;
  /** The stored key, for the connection only; null when none is stored. */
  read(): string | null;
  write(key: string): Promise<KeyStatus>;
  clear(): Promise<KeyStatus>;
}
