/**
 * electron-builder's `beforeBuild` hook, run by `npm run dist` (plain JavaScript: electron-builder
 * imports it directly). It rebuilds the node-gyp modules tied to one ABI for Electron, and only
 * them: `speaker`, and `better-sqlite3` (the conversation history; it compiles its own SQLite, so
 * it needs only a C compiler). `uiohook-napi` is Node-API with prebuilt binaries for every
 * platform, but @electron/rebuild does not recognise their file names and would recompile it from
 * source, needing X11, Xcode or MSVC headers for nothing.
 *
 * The rebuild happens in place: afterwards run `npm rebuild speaker better-sqlite3` to use them
 * with Node again (tests, browser mode).
 */
import { rebuild } from '@electron/rebuild';
import { createRequire } from 'node:module';

/**
 * @param {{ appDir: string, electronVersion?: string, platform: { nodeName: NodeJS.Platform }, arch: string }} context
 * @returns {Promise<boolean>} false: node_modules are ready, electron-builder must not rebuild them again
 */
export default async function beforeBuild({ appDir, electronVersion, platform, arch }) {
  const version = electronVersion ?? createRequire(import.meta.url)('electron/package.json').version;
  await rebuild({ buildPath: appDir, electronVersion: version, platform: platform.nodeName, arch, onlyModules: ['speaker', 'better-sqlite3'], force: true, mode: 'sequential' });
  return false;
}
