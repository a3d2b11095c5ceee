/**
 * `npm run check:package`: what would Parley's installers contain? The Electron binary cannot be
 * downloaded here, so this packs electron-builder's Linux `dir` target around a stand-in Electron
 * (`-c.electronDist`), lists app.asar and app.asar.unpacked, and fails when an entry point, a
 * runtime dependency or a native module is missing, or when a development-only package slipped in.
 *
 * Offline by construction: `electronDist` means no Electron download, `npmRebuild=false` means no
 * Electron headers download (a real `npm run dist` rebuilds `speaker` and `better-sqlite3` for Electron's ABI), and the
 * `dir` target needs none of the AppImage/fpm/NSIS tool downloads.
 */
import { listPackage, statFile } from '@electron/asar';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { writeIcons } from './icons';

/** The report goes to stdout; progress and failures to stderr. */
const print = (line: string): void => void process.stdout.write(`${line}\n`);
const root = resolve(import.meta.dirname, '..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  console.error(`$ ${relative(root, command) || command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} failed (${result.status ?? result.signal})`);
}

/** The smallest Electron distribution electron-builder accepts: the executable and resources/. */
function standInElectron(dir: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  const electronVersion = (JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
  writeFileSync(join(dir, 'electron'), '#!/bin/sh\necho "stand-in Electron for the packaging check; it cannot run Parley" >&2\nexit 1\n');
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'version'), electronVersion);
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, base) : [`/${relative(base, path).split('\\').join('/')}`];
  });
}

/** Bare package names the built main process imports at run time (electron and node: built-ins aside). */
function runtimeImports(outMain: string): string[] {
  const names = new Set<string>();
  for (const file of walk(outMain).filter((path) => path.endsWith('.js'))) {
    const source = readFileSync(join(outMain, file), 'utf8');
    for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire(?:\.resolve)?\s*\(\s*|\.resolve\(\s*)["']([^"'./][^"']*)["']/g)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('node:') || specifier === 'electron') continue;
      names.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? specifier));
    }
  }
  return [...names].sort();
}

function packageOf(path: string): string | null {
  const match = /^\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match?.[1] ?? null;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'parley-package-'));
  try {
    run(bin('electron-vite'), ['build']);
    writeIcons(join(root, 'build'));
    const electronDist = join(work, 'electron');
    const output = join(work, 'dist');
    standInElectron(electronDist);
    run(
      bin('electron-builder'),
      ['--linux', 'dir', `-c.electronDist=${electronDist}`, '-c.npmRebuild=false', `-c.directories.output=${output}`, '--publish', 'never'],
      { ELECTRON_SKIP_BINARY_DOWNLOAD: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false' },
    );

    const resources = join(output, 'linux-unpacked', 'resources');
    const asar = join(resources, 'app.asar');
    if (!existsSync(asar)) throw new Error(`no app.asar at ${asar}`);
    const packed = listPackage(asar, { isPack: false })
      .map((path) => path.split('\\').join('/'))
      .filter((path) => !('files' in statFile(asar, path.slice(1), false)));
    const unpackedDir = join(resources, 'app.asar.unpacked');
    const unpacked = existsSync(unpackedDir) ? walk(unpackedDir) : [];

    const ours = packed.filter((path) => packageOf(path) === null);
    const perPackage = new Map<string, number>();
    for (const path of packed) {
      const name = packageOf(path);
      if (name !== null) perPackage.set(name, (perPackage.get(name) ?? 0) + 1);
    }
    const listFile = join(root, 'dist', 'package-files.txt');
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(listFile, [...packed.map((path) => `app.asar${path}`), ...unpacked.map((path) => `app.asar.unpacked${path}`)].join('\n') + '\n');

    print(`\napp.asar: ${packed.length} files (${(statSync(asar).size / 1e6).toFixed(1)} MB)`);
    for (const path of ours) print(`  app.asar${path}`);
    print(`  node_modules: ${perPackage.size} packages`);
    print(`    ${[...perPackage].map(([name, count]) => `${name} (${count})`).join(', ')}`);
    print(`app.asar.unpacked: ${unpacked.length} files`);
    for (const path of unpacked) print(`  app.asar.unpacked${path}`);
    print(`full list: ${relative(root, listFile)}`);

    const missing: string[] = [];
    const packedSet = new Set(packed);
    const unpackedSet = new Set(unpacked);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    for (const entry of ['/package.json', `/${manifest.main}`, '/out/main/index.js', '/out/preload/preload.cjs', '/out/renderer/index.html']) {
      if (!packedSet.has(entry)) missing.push(`app.asar${entry} (entry point)`);
    }
    const html = readFileSync(join(root, 'out/renderer/index.html'), 'utf8');
    for (const [, asset] of html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)) {
      if (!packedSet.has(`/out/renderer/${asset}`)) missing.push(`app.asar/out/renderer/${asset} (loaded by index.html)`);
    }
    for (const name of runtimeImports(join(root, 'out/main'))) {
      if (!packedSet.has(`/node_modules/${name}/package.json`)) missing.push(`node_modules/${name} (imported by out/main)`);
    }
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (!packedSet.has(`/node_modules/${name}/package.json`)) missing.push(`node_modules/${name} (a production dependency)`);
    }
    const nativeModules = [
      '/node_modules/speaker/build/Release/binding.node',
      '/node_modules/uiohook-napi/prebuilds/linux-x64/uiohook-napi.node',
      '/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    ];
    for (const binary of nativeModules) {
      if (!unpackedSet.has(binary)) missing.push(`app.asar.unpacked${binary} (native module)`);
    }
    const leaked = Object.keys(manifest.devDependencies ?? {}).filter((name) => perPackage.has(name) && !(name in (manifest.dependencies ?? {})));
    const nativeInAsar = packed.filter((path) => path.endsWith('.node') && !unpackedSet.has(path));

    const failures = [
      ...missing.map((item) => `missing: ${item}`),
      ...leaked.map((name) => `development-only package packaged: ${name}`),
      ...nativeInAsar.map((path) => `native binary inside the asar (cannot be loaded): ${path}`),
    ];
    if (failures.length > 0) {
      console.error(`\ncheck:package FAILED\n${failures.map((line) => `  ${line}`).join('\n')}`);
      process.exitCode = 1;
      return;
    }
    print(`\ncheck:package OK: entry points, ${runtimeImports(join(root, 'out/main')).length} runtime imports and ${nativeModules.length} native modules are packaged.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
