/** `npm run bench -- [name …] [--runs N]`: runs the named benchmarks (all by default), prints JSON. */
import { parseArgs } from 'node:util';
import { coldStart } from './coldStart';

const benches: Record<string, (runs: number) => Promise<Record<string, unknown>>> = {
  'cold-start': coldStart,
};

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive whole number, not "${values.runs}".`);
  process.exit(2);
}
const names = positionals.length > 0 ? positionals : Object.keys(benches);
const unknown = names.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}.`);
  process.exit(2);
}
for (const name of names) console.log(JSON.stringify(await (benches[name] as (runs: number) => Promise<Record<string, unknown>>)(runs), null, 2));
