/**
 * `npm start`: the desktop app where Electron can run, browser mode (opened in a browser where
 * there is a display) where it cannot, with one line saying why.
 *
 * Electron 45 fetches its binary the first time `require('electron')` runs, and throws "Electron
 * failed to install correctly" when it cannot; the probe does that in a child process, so the
 * download's own output and stack traces stay out of the way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

export type Env = Readonly<Record<string, string | undefined>>;

export type ElectronProbe = { status: 'ready'; executable: string } | { status: 'missing'; detail: string };

export type ShellChoice =
  | { shell: 'desktop' }
  | { shell: 'browser'; reason: string; openBrowser: boolean };

/** Whether a window can be shown: macOS and Windows always have a desktop; Linux needs X11 or Wayland. */
export function hasDisplay(platform: string, env: Env): boolean {
  if (platform !== 'linux') return true;
  return (env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== '';
}

export function chooseShell(electron: ElectronProbe, platform: string, env: Env): ShellChoice {
  const display = hasDisplay(platform, env);
  if (electron.status === 'missing') {
    const detail = electron.detail === '' ? '' : `: ${electron.detail}`;
    return { shell: 'browser', reason: `Electron isn't installed here (its binary could not be downloaded${detail})`, openBrowser: display };
  }
  if (!display) return { shell: 'browser', reason: 'There is no display here for the Parley window (DISPLAY and WAYLAND_DISPLAY are unset)', openBrowser: false };
  return { shell: 'desktop' };
}

/** The one line `npm start` prints in browser mode. */
export function browserModeLine(choice: Extract<ShellChoice, { shell: 'browser' }>, url: string, opened: boolean): string {
  if (opened) return `${choice.reason}, so Parley opened in browser mode: ${url}`;
  return `${choice.reason}, so Parley is running in browser mode: open ${url}`;
}

/** The platform's "open this address" command. */
export function openCommand(platform: string, url: string): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // What `start` does, without cmd's quoting rules; it exits 0 once the handler has the address.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

export interface RunningBrowserMode {
  url: string;
  /** Lets browser mode's later lines (the emulator's address, warnings) through, after ours. */
  showOutput(): void;
  /** Resolves with browser mode's exit code. */
  exited: Promise<number>;
}

export interface LaunchDeps {
  platform: string;
  env: Env;
  probeElectron(): Promise<ElectronProbe>;
  /** `electron-vite build`, quiet unless something is wrong; resolves with its exit code. */
  build(): Promise<number>;
  /** The desktop app on the fresh build; resolves with its exit code. */
  runDesktop(): Promise<number>;
  /** Browser mode on the fresh build, once it has printed its URL; `args` such as `--port`, `--verbose`. */
  startBrowserMode(args: string[]): Promise<RunningBrowserMode>;
  /** Resolves true when a browser was asked to open `url`. */
  openUrl(url: string): Promise<boolean>;
  print(line: string): void;
}

export async function launch(deps: LaunchDeps, args: string[]): Promise<number> {
  const choice = chooseShell(await deps.probeElectron(), deps.platform, deps.env);
  const built = await deps.build();
  if (built !== 0) return built;
  if (choice.shell === 'desktop') return deps.runDesktop();
  const browser = await deps.startBrowserMode(args);
  const opened = choice.openBrowser && (await deps.openUrl(browser.url));
  deps.print(browserModeLine(choice, browser.url, opened));
  browser.showOutput();
  return browser.exited;
}

// The real I/O.

const root = join(import.meta.dirname, '..');
const printLine = (line: string): void => void process.stdout.write(`${line}\n`);
const requireHere = createRequire(import.meta.url);

/** The child's exit code; a Ctrl+C or kill aimed at this launcher reaches the child too. */
function exitCodeOf(child: ChildProcess): Promise<number> {
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.once('exit', () => {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  });
  return new Promise((resolve) => {
    child.once('error', (error) => {
      console.error(error.message);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

/** Runs `require('electron')` in a child; prints nothing of its own. */
export function probeElectron(): Promise<ElectronProbe> {
  const script = "try { process.stdout.write(JSON.stringify({ executable: require('electron') })) } catch (e) { process.stdout.write(JSON.stringify({ error: e.message })) }";
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => resolve({ status: 'missing', detail: error.message }));
    child.once('close', () => {
      // Electron's index.js prints "Downloading Electron binary..." on stdout before the result.
      const result = /\{"(?:executable|error)".*\}$/.exec(stdout.trim())?.[0];
      const parsed = result === undefined ? {} : (JSON.parse(result) as { executable?: unknown });
      if (typeof parsed.executable === 'string') return resolve({ status: 'ready', executable: parsed.executable });
      resolve({ status: 'missing', detail: downloadFailure(stderr) });
    });
  });
}

/** The download's own complaint, e.g. "fetch failed", from the stack trace it printed. */
function downloadFailure(stderr: string): string {
  const line = stderr.split('\n').find((text) => /^\w*Error: /.test(text.trim()));
  return line === undefined ? '' : line.trim().replace(/^\w*Error: /, '');
}

function electronVite(args: string[], stdio: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  const manifest = requireHere.resolve('electron-vite/package.json');
  const bin = join(dirname(manifest), (requireHere('electron-vite/package.json') as { bin: Record<string, string> }).bin['electron-vite'] ?? '');
  return spawn(process.execPath, [bin, ...args], { cwd: root, stdio });
}

function startBrowserModeChild(args: string[]): Promise<RunningBrowserMode> {
  const child = spawn(process.execPath, [join(root, 'out/main/browser.js'), ...args], { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
  const exited = exitCodeOf(child);
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    let url: string | null = null;
    let held: string[] | null = [];
    const showOutput = (): void => {
      for (const line of held ?? []) printLine(line);
      held = null;
    };
    lines.on('line', (line) => {
      if (held === null) return printLine(line);
      // Its first line is "Parley is running in browser mode: open <url>"; ours replaces it.
      const found = url === null ? /open (http:\/\/\S+)$/.exec(line)?.[1] : undefined;
      if (found === undefined) return held.push(line);
      url = found;
      resolve({ url, showOutput, exited });
    });
    // Browser mode could not start; it said why on stderr.
    void exited.then((code) => {
      if (url !== null) return;
      showOutput();
      reject(new StartFailed(code === 0 ? 1 : code));
    });
  });
}

/** How long an opener may take to fail; one still running then has handed the page to a browser. */
const openerGraceMs = 3000;

/** True unless the opener is missing or exits with an error (xdg-open: 3 or 4 when no browser starts). */
function openUrl(url: string): Promise<boolean> {
  const { command, args } = openCommand(process.platform, url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      child.unref();
      resolve(true);
    }, openerGraceMs);
    timer.unref();
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

class StartFailed extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`browser mode exited with code ${code}`);
    this.code = code;
  }
}

async function main(): Promise<void> {
  const code = await launch(
    {
      platform: process.platform,
      env: process.env,
      probeElectron,
      build: () => exitCodeOf(electronVite(['build', '--logLevel', 'error'])),
      runDesktop: () => exitCodeOf(electronVite(['preview', '--skipBuild', '--logLevel', 'error'])),
      startBrowserMode: startBrowserModeChild,
      openUrl,
      print: printLine,
    },
    process.argv.slice(2),
  ).catch((error: unknown) => {
    if (error instanceof StartFailed) return error.code;
    throw error;
  });
  process.exit(code);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
