/**
 * `npm run check:security`: Electronegativity over Parley's sources, failing on every finding that
 * is not explained.
 *
 * A finding is explained by a comment at the spot it reports (on that line or up to ten lines
 * above): `// Electronegativity CHECK_ID: why it does not apply`, or `<!-- … -->` in HTML. Files
 * this check cannot annotate are listed in `explainedHere` below with the same kind of reason.
 *
 * The sources are scanned, not out/: Electronegativity's parser skips the ESM bundle without a
 * word (it then reports "no navigation limits" and "no permission handler", both present), and
 * the TypeScript sources are where an explanation can sit next to the code.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The report goes to stdout; progress and failures to stderr. */
const print = (line: string): void => void process.stdout.write(`${line}\n`);
const root = resolve(import.meta.dirname, '..');
/** Everything that ships: the Electron shell, the renderer and the app it runs. */
const scanned = ['main', 'renderer', 'app'];
const skippedChecks = [
  // Downloads Electron's release list from GitHub on every run (CI is offline). Electron is
  // pinned in package.json and moved forward deliberately; that is where its fixes come in.
  'AvailableSecurityFixesGlobalCheck',
];

/** Findings in files that carry no comment of ours, with the reason they do not apply. */
const explainedHere: Array<{ check: string; file: string; message: string; reason: string }> = [
  {
    check: 'CSP_GLOBAL_CHECK',
    file: 'renderer/index.html',
    // The "maybe weak" verdict only; a policy that really is weak gets another message and fails.
    message: 'One or more CSP directives detected seems to be vulnerable',
    reason:
      "The evaluator's only remark is \"script-src 'self' can be problematic if you host JSONP, Angular or user uploaded files\". " +
      "'self' is the app's own file:// bundle (or browser mode's loopback server of the same files): no JSONP, no Angular, nothing uploaded.",
  },
];

interface Finding {
  check: string;
  file: string;
  line: number;
  message: string;
  level: string;
}

interface Sarif {
  runs: Array<{
    results: Array<{
      ruleId: string;
      level: string;
      message: { text: string };
      locations?: Array<{ physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number } } }>;
    }>;
  }>;
}

const marker = /Electronegativity ([A-Z_]+): (\S.{8,})/;

/** The reason written at the spot, or null. */
function explanationAt(finding: Finding): string | null {
  const listed = explainedHere.find((entry) => entry.check === finding.check && entry.file === finding.file && entry.message === finding.message);
  if (listed !== undefined) return `${listed.reason} (scripts/checkSecurity.ts)`;
  const path = join(root, finding.file);
  if (finding.line < 1 || !existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let index = finding.line - 1; index >= Math.max(0, finding.line - 11); index -= 1) {
    const match = marker.exec(lines[index] ?? '');
    if (match?.[1] === finding.check) return `${match[2]?.replace(/\s*(\*\/|-->)\s*$/, '')} (${finding.file}:${index + 1})`;
  }
  return null;
}

function main(): void {
  const stage = mkdtempSync(join(tmpdir(), 'parley-electronegativity-'));
  try {
    for (const folder of scanned) cpSync(join(root, folder), join(stage, folder), { recursive: true });
    const require = createRequire(import.meta.url);
    const cli = join(dirname(require.resolve('@doyensec/electronegativity/package.json')), 'dist', 'index.js');
    const electronVersion = (require('electron/package.json') as { version: string }).version;
    const report = join(stage, 'electronegativity.sarif');
    const result = spawnSync(
      process.execPath,
      [cli, '--input', stage, '--relative', '--electron-version', electronVersion, '--exclude-checks', skippedChecks.join(','), '--verbose', 'false', '--output', report],
      { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
    );
    if (result.status !== 0 || !existsSync(report)) {
      console.error(result.stdout, result.stderr);
      throw new Error(`electronegativity failed (${result.status ?? result.signal})`);
    }
    const sarif = JSON.parse(readFileSync(report, 'utf8')) as Sarif;
    const findings: Finding[] = (sarif.runs[0]?.results ?? []).map((entry) => {
      const location = entry.locations?.[0]?.physicalLocation;
      return {
        check: entry.ruleId,
        file: (location?.artifactLocation?.uri ?? 'N/A').split('\\').join('/'),
        line: location?.region?.startLine ?? 0,
        message: entry.message.text,
        level: entry.level,
      };
    });

    print(`Electronegativity ${(require('@doyensec/electronegativity/package.json') as { version: string }).version} over ${scanned.join(', ')} (Electron ${electronVersion}; skipped: ${skippedChecks.join(', ')})`);
    let unexplained = 0;
    for (const finding of findings) {
      const explanation = explanationAt(finding);
      if (explanation === null) unexplained += 1;
      print(`${explanation === null ? 'FINDING  ' : 'explained'} ${finding.check} ${finding.file}:${finding.line} [${finding.level}] ${finding.message}`);
      if (explanation !== null) print(`          why it does not apply: ${explanation}`);
    }
    print(`\n${findings.length} finding(s), ${findings.length - unexplained} explained, ${unexplained} unexplained`);
    if (unexplained > 0) {
      console.error('check:security FAILED: fix each FINDING, or explain it where it is reported with "// Electronegativity CHECK_ID: why".');
      process.exitCode = 1;
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

main();
