/**
 * npm run bench: builds, runs every bench/<name>.ts in turn (each writes bench/results/<name>.md), then
 * assembles bench/RESULTS.md. `npm run bench -- queues exporter` runs only those.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = `${root}bench/`;
// `--assemble` only rebuilds RESULTS.md from the sections already in bench/results/.
const assembleOnly = process.argv.includes('--assemble');
const wanted = process.argv.slice(2).filter((a) => a !== '--assemble');
const all = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const selected = assembleOnly ? [] : wanted.length ? all.filter((b) => wanted.includes(b)) : all;

if (selected.length) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
const failed: string[] = [];
for (const name of selected) {
  console.log(`\n=== bench/${name}.ts`);
  try {
    // The soak's 100,000 scrapes take over an hour on 2 shared cores; it writes its figures at each checkpoint.
    execFileSync('npx', ['tsx', `bench/${name}.ts`], { cwd: root, stdio: 'inherit', timeout: name === 'soak' ? 4 * 3600_000 : 600_000 });
  } catch {
    failed.push(name);
  }
}

const sections = all
  .filter((b) => existsSync(`${benchDir}results/${b}.md`))
  .map((b) => readFileSync(`${benchDir}results/${b}.md`, 'utf8').trim());
writeFileSync(
  `${benchDir}RESULTS.md`,
  [
    '# Benchmark results',
    '',
    'Produced by `npm run bench` (each section by `npx tsx bench/<name>.ts`). Every figure is given with the anchor measured in the same run and the ratio between them, because absolute times depend on the machine. Machine: 2 cores, 24 GiB, cgroup v1 hybrid, dockerd 20.10 (vfs), redis-server 7.0.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n'),
);
console.log(`\nwrote bench/RESULTS.md (${sections.length} sections)${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`);
if (failed.length) process.exitCode = 1;
