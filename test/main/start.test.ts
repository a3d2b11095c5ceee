/**
 * `npm start` (scripts/start.ts): the desktop app where Electron runs, browser mode with one line
 * saying why where it cannot. The Electron probe, the build and both shells are injected.
 */
import { describe, expect, it } from 'vitest';
import { browserModeLine, chooseShell, launch, openCommand, type ElectronProbe, type Env, type LaunchDeps } from '../../scripts/start';

const missing: ElectronProbe = { status: 'missing', detail: 'fetch failed' };
const ready: ElectronProbe = { status: 'ready', executable: '/x/node_modules/electron/dist/electron' };
const desktop: Env = { DISPLAY: ':0' };
const headless: Env = {};
const url = 'http://127.0.0.1:5173/?token=abc';

function fakeDeps(options: { electron: ElectronProbe; platform?: string; env?: Env; buildCode?: number; opens?: boolean }) {
  const calls: string[] = [];
  const printed: string[] = [];
  const deps: LaunchDeps = {
    platform: options.platform ?? 'linux',
    env: options.env ?? desktop,
    probeElectron: () => {
      calls.push('probe');
      return Promise.resolve(options.electron);
    },
    build: () => {
      calls.push('build');
      return Promise.resolve(options.buildCode ?? 0);
    },
    runDesktop: () => {
      calls.push('desktop');
      return Promise.resolve(0);
    },
    startBrowserMode: (args) => {
      calls.push(`browser ${args.join(' ')}`.trim());
      return Promise.resolve({ url, showOutput: () => calls.push('browser output'), exited: Promise.resolve(0) });
    },
    openUrl: (address) => {
      calls.push(`open ${address}`);
      return Promise.resolve(options.opens ?? true);
    },
    print: (line) => {
      calls.push('print');
      printed.push(line);
    },
  };
  return { deps, calls, printed };
}

describe('npm start chooses the shell', () => {
  it('runs the desktop app when Electron is installed and there is a display', () => {
    expect(chooseShell(ready, 'linux', { DISPLAY: ':0' })).toEqual({ shell: 'desktop' });
    expect(chooseShell(ready, 'linux', { WAYLAND_DISPLAY: 'wayland-0' })).toEqual({ shell: 'desktop' });
    // macOS and Windows always have a desktop, whatever DISPLAY says.
    expect(chooseShell(ready, 'darwin', headless)).toEqual({ shell: 'desktop' });
    expect(chooseShell(ready, 'win32', headless)).toEqual({ shell: 'desktop' });
  });

  it('falls back to browser mode, opened in a browser, when the Electron binary is missing', () => {
    expect(chooseShell(missing, 'linux', desktop)).toEqual({
      shell: 'browser',
      reason: "Electron isn't installed here (its binary could not be downloaded: fetch failed)",
      openBrowser: true,
    });
    expect(chooseShell({ status: 'missing', detail: '' }, 'darwin', headless)).toMatchObject({ reason: "Electron isn't installed here (its binary could not be downloaded)", openBrowser: true });
  });

  it('falls back to browser mode without opening anything when Linux has no display', () => {
    expect(chooseShell(missing, 'linux', headless)).toMatchObject({ shell: 'browser', openBrowser: false });
    expect(chooseShell(ready, 'linux', { DISPLAY: '' })).toEqual({
      shell: 'browser',
      reason: 'There is no display here for the Parley window (DISPLAY and WAYLAND_DISPLAY are unset)',
      openBrowser: false,
    });
  });

  it('opens the address with the platform opener', () => {
    expect(openCommand('linux', url)).toEqual({ command: 'xdg-open', args: [url] });
    expect(openCommand('darwin', url)).toEqual({ command: 'open', args: [url] });
    expect(openCommand('win32', url)).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
  });
});

describe('npm start', () => {
  it('with Electron and a display builds and runs the desktop app, and prints nothing of its own', async () => {
    const { deps, calls, printed } = fakeDeps({ electron: ready });
    expect(await launch(deps, [])).toBe(0);
    expect(calls).toEqual(['probe', 'build', 'desktop']);
    expect(printed).toEqual([]);
  });

  it('without Electron starts browser mode, opens it, and says why in one line before its other output', async () => {
    const { deps, calls, printed } = fakeDeps({ electron: missing });
    expect(await launch(deps, ['--verbose'])).toBe(0);
    expect(calls).toEqual(['probe', 'build', 'browser --verbose', `open ${url}`, 'print', 'browser output']);
    expect(printed).toEqual([`Electron isn't installed here (its binary could not be downloaded: fetch failed), so Parley opened in browser mode: ${url}`]);
  });

  it('on a machine with no display prints the address to open instead of opening it', async () => {
    const { deps, calls, printed } = fakeDeps({ electron: missing, env: headless });
    await launch(deps, []);
    expect(calls).not.toContain(`open ${url}`);
    expect(printed).toEqual([`Electron isn't installed here (its binary could not be downloaded: fetch failed), so Parley is running in browser mode: open ${url}`]);
  });

  it('does not claim to have opened a browser that did not start', async () => {
    const { deps, printed } = fakeDeps({ electron: missing, opens: false });
    await launch(deps, []);
    expect(printed).toEqual([`Electron isn't installed here (its binary could not be downloaded: fetch failed), so Parley is running in browser mode: open ${url}`]);
  });

  it('stops with the build failure when the build fails', async () => {
    const { deps, calls } = fakeDeps({ electron: missing, buildCode: 2 });
    expect(await launch(deps, [])).toBe(2);
    expect(calls).toEqual(['probe', 'build']);
  });

  it('words the line for an opened and a printed address', () => {
    const choice = { shell: 'browser', reason: 'Because', openBrowser: true } as const;
    expect(browserModeLine(choice, url, true)).toBe(`Because, so Parley opened in browser mode: ${url}`);
    expect(browserModeLine(choice, url, false)).toBe(`Because, so Parley is running in browser mode: open ${url}`);
  });
});
