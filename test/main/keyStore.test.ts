import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../app/host/copilot';
import { keychainAvailable, openKeyStore, sessionOnlyNote } from '../../main/keyStore';
import { consoleLogger } from '../../main/log';
import { resetFakeElectron, safeStorage } from '../support/fakeElectron';

const key = 'sk-proj-Abcdefghijklmnopqrstuvwxyz0123456789WXYZ';
let dir: string;
let lines: string[];
let log: Logger;
beforeEach(() => {
  resetFakeElectron();
  dir = mkdtempSync(join(tmpdir(), 'parley-key-'));
  lines = [];
  // The real logger, writing into an array: what it would print is what is checked.
  log = consoleLogger('keys', (line) => lines.push(line));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (platform: NodeJS.Platform = 'linux') => openKeyStore({ dir, safeStorage, fs, platform, log });
const keyFile = () => join(dir, 'api-key.bin');

/** Everything a renderer or a log could ever see must be free of the key (and of most of it). */
function expectNoKey(value: unknown): void {
  const text = JSON.stringify(value);
  expect(text).not.toContain(key);
  expect(text).not.toContain(key.slice(0, -4));
  expect(text).not.toContain(key.slice(4, 20));
}

describe('the API key store on safeStorage', () => {
  it('encrypts the key to api-key.bin and reads it back in the next run', async () => {
    const store = await open();
    expect(store.status()).toEqual({ set: false, lastFour: null, storage: 'keychain', note: null });
    const status = await store.write(`  ${key}\n`);
    expect(status).toEqual({ set: true, lastFour: 'WXYZ', storage: 'keychain', note: null });
    expect(store.read()).toBe(key);

    const bytes = readFileSync(keyFile());
    expect(bytes.toString('utf8')).not.toContain(key);
    expect(safeStorage.decryptString(bytes)).toBe(key);
    if (process.platform !== 'win32') expect(statSync(keyFile()).mode & 0o777).toBe(0o600);

    const nextRun = await open();
    expect(nextRun.read()).toBe(key);
    expect(nextRun.status()).toEqual(status);
  });

  it('clears the key by deleting the file', async () => {
    const store = await open();
    await store.write(key);
    expect(await store.clear()).toEqual({ set: false, lastFour: null, storage: 'keychain', note: null });
    expect(store.read()).toBeNull();
    expect(existsSync(keyFile())).toBe(false);
    expect(await store.clear()).toMatchObject({ set: false });
  });

  it('never puts the key in a status or a log line', async () => {
    const store = await open();
    const statuses = [store.status(), await store.write(key), store.status(), await store.clear()];
    await (await open()).write(key);
    await open();
    for (const status of statuses) expectNoKey(status);
    expect(lines.length).toBeGreaterThan(0);
    expectNoKey(lines);
    expect(lines.join('\n')).not.toContain('WXYZ');
  });

  it('treats an undecryptable key file as no key, with a note', async () => {
    writeFileSync(keyFile(), 'garbage that no keychain wrote');
    const store = await open();
    expect(store.read()).toBeNull();
    expect(store.status()).toMatchObject({ set: false, storage: 'keychain', note: expect.stringMatching(/could not be decrypted.*enter it again/) });
    await store.write(key);
    expect(store.status()).toEqual({ set: true, lastFour: 'WXYZ', storage: 'keychain', note: null });
  });

  it('keeps the key for this session only when the keychain is unavailable', async () => {
    safeStorage.available = false;
    const store = await open();
    expect(store.status()).toEqual({ set: false, lastFour: null, storage: 'session', note: sessionOnlyNote });
    expect(await store.write(key)).toEqual({ set: true, lastFour: 'WXYZ', storage: 'session', note: sessionOnlyNote });
    expect(store.read()).toBe(key);
    expect(existsSync(keyFile())).toBe(false);
    expect((await open()).read()).toBeNull();
  });

  it("does not trust Linux's basic_text backend, which only obfuscates", async () => {
    safeStorage.backend = 'basic_text';
    expect(keychainAvailable(safeStorage, 'linux')).toBe(false);
    expect(keychainAvailable(safeStorage, 'darwin')).toBe(true);
    const store = await open('linux');
    await store.write(key);
    expect(store.status().storage).toBe('session');
    expect(existsSync(keyFile())).toBe(false);
  });

  it('says so when a stored key cannot be read because the keychain went away', async () => {
    await (await open()).write(key);
    safeStorage.available = false;
    const store = await open();
    expect(store.read()).toBeNull();
    expect(store.status()).toMatchObject({ set: false, storage: 'session', note: expect.stringMatching(/keychain .* unavailable/) });
  });
});
