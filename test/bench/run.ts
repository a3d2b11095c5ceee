/**
 * `npm run bench -- <name> [options]`: runs one benchmark (or all with defaults) and prints JSON,
 * one object per line. Figures from the emulator are simulated and labelled so.
 */
import { coldStart } from './coldStart';
import { responsesBench } from './responses';
import { voiceBench } from './voice';
import { uiBench } from './ui';
import { soakBench } from './soak';
import { echoBench } from './echo';
import { historyBench } from './history';
import { meetingBench } from './meeting';

const print = (line: object): void => console.log(JSON.stringify(line));

const benches: Record<string, (argv: readonly string[]) => Promise<void>> = {
  'cold-start': async (argv) => {
    const index = argv.indexOf('--runs');
    const runs = index >= 0 ? Number(argv[index + 1]) : 5;
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, not "${argv[index + 1]}".`);
    print(await coldStart(runs));
  },
  responses: (argv) => responsesBench(argv, print),
  voice: (argv) => voiceBench(argv, print),
  ui: (argv) => uiBench(argv, print),
  soak: (argv) => soakBench(argv, print),
  echo: (argv) => echoBench(argv, print),
  history: (argv) => historyBench(argv, print),
  meeting: (argv) => meetingBench(argv, print),
};

const [name, ...argv] = process.argv.slice(2);
const selected = name === undefined || name.startsWith('--') ? Object.keys(benches) : [name];
const unknown = selected.filter((entry) => !(entry in benches));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}.`);
  process.exit(2);
}
try {
  for (const entry of selected) await (benches[entry] as (argv: readonly string[]) => Promise<void>)(name === undefined ? [] : argv);
} catch (error) {
  console.error(`Benchmark failed: ${(error as Error).message}`);
  process.exit(1);
}
