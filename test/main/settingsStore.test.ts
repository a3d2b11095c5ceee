import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultSettings, settingsVersion } from '../../app/settings/schema';
import { backupStamp, copilotSettingsStore, createSettingsFile, type SettingsFs } from '../../main/settingsStore';

const at = Date.UTC(2025, 0, 31, 9, 15, 0, 123);
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (fsImpl: SettingsFs = fs) => createSettingsFile({ dir, fs: fsImpl, now: () => at });
const settingsPath = () => join(dir, 'settings.json');
const onDisk = () => JSON.parse(readFileSync(settingsPath(), 'utf8')) as Record<string, unknown>;

describe('the settings file', () => {
  it('starts from defaults when there is no file, and writes nothing until saved', async () => {
    const loaded = await open().load();
    expect(loaded).toEqual({ settings: defaultSettings, problems: [], migratedFrom: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reads a valid file as it is', async () => {
    const saved = { ...defaultSettings, voice: 'cedar', hotkey: 'Alt+F13', window: { x: 10, y: 20, width: 800, height: 600 } };
    writeFileSync(settingsPath(), JSON.stringify(saved));
    const file = open();
    const loaded = await file.load();
    expect(loaded).toEqual({ settings: saved, problems: [], migratedFrom: null });
    expect(file.current()).toEqual(saved);
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('backs up a corrupt file, uses defaults and says where the backup is', async () => {
    writeFileSync(settingsPath(), '{"voice": "cedar", ');
    const loaded = await open().load();
    const backup = join(dir, `settings.corrupt-${backupStamp(at)}.json`);
    expect(loaded.settings).toEqual(defaultSettings);
    expect(loaded.problems).toEqual([`The settings file was not valid JSON; it was saved as ${backup} and defaults are in use.`]);
    expect(readFileSync(backup, 'utf8')).toBe('{"voice": "cedar", ');
    expect(backupStamp(at)).toBe('2025-01-31T09-15-00-123Z');
  });

  it('treats JSON that is not an object as corrupt too', async () => {
    writeFileSync(settingsPath(), '[1, 2, 3]');
    const loaded = await open().load();
    expect(loaded.settings).toEqual(defaultSettings);
    expect(loaded.problems[0]).toMatch(/did not hold a settings object; it was saved as .*settings\.corrupt-.*\.json/);
  });

  it('keeps the valid fields, reports each invalid one, and keeps the original as a backup', async () => {
    writeFileSync(settingsPath(), JSON.stringify({ ...defaultSettings, voice: 'robot', rolloverMinutes: 90, agentModel: 'gpt-5', surprise: 1 }));
    const loaded = await open().load();
    expect(loaded.settings).toEqual({ ...defaultSettings, agentModel: 'gpt-5' });
    expect(loaded.problems).toHaveLength(4);
    expect(loaded.problems.slice(0, 3).join('\n')).toMatch(/"voice" was invalid[\s\S]*"rolloverMinutes" was invalid[\s\S]*"surprise" is not a Parley setting/);
    expect(loaded.problems[3]).toBe(`The file as it was is saved as ${join(dir, `settings.invalid-${backupStamp(at)}.json`)}.`);
    expect(onDisk()).toEqual(loaded.settings);
  });

  it('migrates a version 0 file, keeping the old one', async () => {
    writeFileSync(settingsPath(), JSON.stringify({ pushToTalkKey: 'Alt+Space', model: 'gpt-5', voice: 'ash' }));
    const loaded = await open().load();
    expect(loaded.migratedFrom).toBe(0);
    expect(loaded.problems).toEqual([]);
    expect(loaded.settings).toMatchObject({ version: settingsVersion, hotkey: 'Alt+Space', agentModel: 'gpt-5', voice: 'ash' });
    expect(onDisk()).toEqual(loaded.settings);
    expect(JSON.parse(readFileSync(join(dir, `settings.v0-${backupStamp(at)}.json`), 'utf8'))).toEqual({ pushToTalkKey: 'Alt+Space', model: 'gpt-5', voice: 'ash' });
  });

  it('saves through a temporary file and a rename, creating the folder when needed', async () => {
    rmSync(dir, { recursive: true });
    const calls: string[] = [];
    const recording: SettingsFs = {
      readFile: (path) => fs.readFile(path),
      mkdir: (path, options) => fs.mkdir(path, options),
      unlink: (path) => fs.unlink(path),
      writeFile: async (path, data) => {
        calls.push(`write ${path.slice(dir.length + 1)}`);
        await fs.writeFile(path, data);
      },
      rename: async (from, to) => {
        calls.push(`rename ${from.slice(dir.length + 1)} → ${to.slice(dir.length + 1)}`);
        await fs.rename(from, to);
      },
    };
    const file = open(recording);
    const next = { ...defaultSettings, voice: 'verse' as const };
    await file.save(next);
    expect(calls).toEqual([`write settings.json.${process.pid}.1.tmp`, `rename settings.json.${process.pid}.1.tmp → settings.json`]);
    expect(onDisk()).toEqual(next);
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('leaves the old file whole when a write fails half way', async () => {
    writeFileSync(settingsPath(), JSON.stringify(defaultSettings));
    const failing: SettingsFs = {
      ...fs,
      readFile: (path) => fs.readFile(path),
      writeFile: async (path) => {
        await fs.writeFile(path, '{"half');
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
    };
    await expect(open(failing).save({ ...defaultSettings, voice: 'verse' })).rejects.toThrow('disk full');
    expect(onDisk()).toEqual(defaultSettings);
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('reads a file saved with a UTF-8 byte-order mark, as Windows editors write it', async () => {
    const saved = { ...defaultSettings, voice: 'cedar' };
    writeFileSync(settingsPath(), `\uFEFF${JSON.stringify(saved)}`);
    expect(await open().load()).toEqual({ settings: saved, problems: [], migratedFrom: null });
  });

  it('writes saves in order and tells listeners', async () => {
    const file = open();
    const seen: string[] = [];
    file.onSaved((settings) => seen.push(settings.voice));
    await Promise.all([file.save({ ...defaultSettings, voice: 'ash' }), file.save({ ...defaultSettings, voice: 'sage' })]);
    expect(seen).toEqual(['ash', 'sage']);
    expect(onDisk().voice).toBe('sage');
  });
});

describe('the store the composition root gets', () => {
  it('loses neither a settings save nor a window-bounds save that race each other', async () => {
    const file = open();
    const store = copilotSettingsStore(file, await file.load());
    const window = { x: 5, y: 6, width: 700, height: 500 };
    // Both start before either has reached the disk.
    await Promise.all([store.save({ ...defaultSettings, voice: 'coral' }), file.update((current) => ({ ...current, window }))]);
    expect(onDisk()).toMatchObject({ voice: 'coral', window });
    await Promise.all([file.update((current) => ({ ...current, window: { ...window, x: 50 } })), store.save({ ...defaultSettings, voice: 'sage' })]);
    expect(onDisk()).toMatchObject({ voice: 'sage', window: { ...window, x: 50 } });
  });


  it('hands over what main loaded and keeps the window bounds main saved', async () => {
    const file = open();
    const loaded = await file.load();
    const store = copilotSettingsStore(file, loaded);
    expect(await store.load()).toBe(loaded);
    const window = { x: 5, y: 6, width: 700, height: 500 };
    await file.save({ ...file.current(), window });
    await store.save({ ...defaultSettings, voice: 'coral', window: null });
    expect(onDisk()).toEqual({ ...defaultSettings, voice: 'coral', window });
  });
});
