/**
 * `npm run bench`: runs every `bench/*.bench.ts` (compiled to dist/bench) one after another, prints
 * each report's figures as JSON and then one readable table, and writes bench/results/latest.json.
 * `npm run bench -- ingest` runs only the benches whose name contains "ingest".
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, type Bench, type BenchReport } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here).filter((f) => f.endsWith('.bench.js')).sort();
const reports: BenchReport[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { bench?: Bench };
  if (mod.bench === undefined) throw new TypeError(`${file} does not export a bench`);
  if (filter !== undefined && !mod.bench.name.includes(filter)) continue;
  process.stderr.write(`bench: running ${mod.bench.name}…\n`);
  const report = await mod.bench.run();
  reports.push(report);
  console.log(JSON.stringify(report));
}
const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', at: new Date().toISOString() };
console.log(`\nmachine: ${machine.cpus} cores, ${machine.cpu}, node ${machine.node}\n`);
console.log(formatTable(reports));
const out = join(here, '..', '..', 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json'), JSON.stringify({ machine, reports }, null, 2) + '\n');
