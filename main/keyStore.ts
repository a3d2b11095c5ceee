/**
 * The API key, encrypted with Electron's `safeStorage` (the OS keychain) into `api-key.bin` in
 * userData. Where no keychain can encrypt it, the key is kept in memory for this run only and the
 * user is told why. The key itself never leaves this module except through `read()`, which only
 * the connection uses: `status()` tells whether one is set and its last four characters, and
 * nothing here logs it.
 */
import { join } from 'node:path';
import type { KeyStatus } from '../app/contract';
import type { Logger } from '../app/host/copilot';
import type { KeyStore } from '../app/settings/store';

/** Electron's `safeStorage`, as far as Parley uses it. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: `basic_text` means "encrypted" with a hard-coded password, i.e. not protected. */
  getSelectedStorageBackend?(): string;
}

export interface KeyFs {
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Buffer, options: { mode: number }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  unlink(path: string): Promise<void>;
}

export interface KeyStoreOptions {
  /** Electron's `app.getPath('userData')`. */
  dir: string;
  safeStorage: SafeStorageLike;
  fs: KeyFs;
  platform: NodeJS.Platform;
  log: Logger;
}

export const sessionOnlyNote =
  'The OS keychain is unavailable, so the key is kept only until Parley quits; set OPENAI_API_KEY to avoid entering it each time.';

const fileName = 'api-key.bin';

/** Whether safeStorage really encrypts here (on Linux without a keyring it falls back to plain obfuscation). */
export function keychainAvailable(safeStorage: SafeStorageLike, platform: NodeJS.Platform): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  if (platform !== 'linux') return true;
  const backend = safeStorage.getSelectedStorageBackend?.();
  return backend !== 'basic_text' && backend !== 'unknown';
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'unknown error';
}

/** Opens the store and reads (decrypts) a stored key once; safeStorage works only after `app` is ready. */
export async function openKeyStore(options: KeyStoreOptions): Promise<KeyStore> {
  const { dir, safeStorage, fs, platform, log } = options;
  const path = join(dir, fileName);
  const encrypted = keychainAvailable(safeStorage, platform);
  let key: string | null = null;
  // Why a stored key could not be used; cleared once the user sets or clears the key.
  let loadNote: string | null = null;

  let stored: Buffer | null = null;
  try {
    stored = await fs.readFile(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') loadNote = `The stored API key could not be read (${errorCode(error)}); enter it again.`;
  }
  if (stored !== null) {
    if (!encrypted) {
      loadNote = 'A stored API key exists, but the OS keychain that encrypted it is unavailable now; enter the key again or set OPENAI_API_KEY.';
    } else {
      try {
        const decrypted = safeStorage.decryptString(stored).trim();
        if (decrypted === '') throw new Error('empty');
        key = decrypted;
      } catch {
        loadNote = 'The stored API key could not be decrypted (the file is damaged or from another account); enter it again.';
      }
    }
  }
  log.info('API key store opened', { storage: encrypted ? 'keychain' : 'session', keyStored: key !== null, problem: loadNote !== null });

  const status = (): KeyStatus => ({
    set: key !== null,
    lastFour: key === null ? null : key.slice(-4),
    storage: encrypted ? 'keychain' : 'session',
    note: loadNote ?? (encrypted ? null : sessionOnlyNote),
  });

  return {
    status,
    read: () => key,
    async write(next) {
      const trimmed = next.trim();
      if (trimmed === '') throw new Error('the key is empty');
      if (encrypted) {
        await fs.mkdir(dir, { recursive: true });
        const temp = `${path}.${process.pid}.tmp`;
        try {
          await fs.writeFile(temp, safeStorage.encryptString(trimmed), { mode: 0o600 });
          await fs.rename(temp, path);
        } catch (error) {
          await fs.unlink(temp).catch(() => undefined);
          // Only the error code: a message could quote what was being written.
          throw new Error(`writing ${fileName} failed (${errorCode(error)})`, { cause: error });
        }
      }
      key = trimmed;
      loadNote = null;
      log.info('API key stored', { storage: status().storage });
      return status();
    },
    async clear() {
      try {
        await fs.unlink(path);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw new Error(`removing ${fileName} failed (${errorCode(error)})`, { cause: error });
      }
      key = null;
      loadNote = null;
      log.info('API key cleared');
      return status();
    },
  };
}
