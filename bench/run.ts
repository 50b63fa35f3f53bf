/**
 * `npm run bench`: every benchmark in turn, each in a process of its own, so that one
 * bench's garbage and warm-up do not skew the next one's memory and timing figures. Each
 * prints its figures and the machine. `npm run bench -- reports-profit call-engine` runs
 * only those.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'ami-ingest',
  'call-engine',
  'call-journal',
  'missed-call-notices',
  'outbox-throughput',
  'fastagi',
  'reports-profit',
  'reports-rerate',
  'provider-accounts',
];

const here = path.dirname(fileURLToPath(import.meta.url));
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !BENCHES.includes(name));
if (unknown.length) {
  console.error(`no such bench: ${unknown.join(', ')} (there are: ${BENCHES.join(', ')})`);
  process.exit(2);
}
const failed: string[] = [];
for (const name of asked.length ? asked : BENCHES) {
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(`${name} (${run.signal ?? `exit ${run.status}`})`);
}
if (failed.length) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
