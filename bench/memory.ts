/**
 * Where the exporter's memory goes, measured in fresh processes (so each figure is one thing loaded alone):
 * - per dependency: RSS and V8 heap (after GC) of `node` that imports only that module, minus a bare `node`
 *   (the anchor, same run);
 * - the whole exporter (dist/cli.js) after 2,000 scrapes with the default collectors on this host, under
 *   several V8 heap settings, to choose the flags `npm start` uses from numbers rather than guesses.
 *
 *   npx tsx bench/memory.ts     → bench/results/memory.md
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuSecondsOf, peakRssOf, rssOf, spawnExporter, START_FLAGS } from './lib/exporter-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;
const SCRAPES = Number(process.env.BENCH_MEMORY_SCRAPES ?? 2000);

/** RSS and heap after GC of a node that evaluates `code` (an ES module body), median of 3. */
function footprint(code: string): { rss: number; heap: number } {
  const runs = Array.from({ length: 3 }, () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', `${code}\nglobalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heap: m.heapUsed }));`], { cwd: ROOT, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1) as string) as { rss: number; heap: number };
  });
  const mid = (k: 'rss' | 'heap'): number => runs.map((r) => r[k]).sort((a, b) => a - b)[1] as number;
  return { rss: mid('rss'), heap: mid('heap') };
}

async function exporterRss(flags: string[]): Promise<{ rss: number; peak: number; ok: boolean; cpuMs: number }> {
  const { child, port } = await spawnExporter([], flags);
  let ok = true;
  try {
    const cpu0 = cpuSecondsOf(child.pid!);
    for (let i = 0; i < SCRAPES; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      await r.text();
      ok &&= r.status === 200;
    }
    return { rss: rssOf(child.pid!), peak: peakRssOf(child.pid!), ok, cpuMs: ((cpuSecondsOf(child.pid!) - cpu0) / SCRAPES) * 1000 };
  } finally {
    child.kill('SIGTERM');
  }
}

const bare = footprint('');
const modules = ['express', 'prom-client', 'pino', 'zod', 'yaml', 'commander', 'dockerode', 'ioredis', 'bullmq', 'systeminformation'];
const perModule = modules.map((m) => {
  try {
    return { m, ...footprint(`await import(${JSON.stringify(m)});`) };
  } catch {
    return { m, rss: NaN, heap: NaN };
  }
});
const whole = footprint(`await import(${JSON.stringify(`${ROOT}dist/collectors/index.js`)}); await import(${JSON.stringify(`${ROOT}dist/server.js`)});`);

const settings: Array<{ name: string; flags: string[] }> = [
  { name: 'node defaults', flags: [] },
  { name: '--max-semi-space-size=2 (npm start before)', flags: ['--max-semi-space-size=2'] },
  { name: `${START_FLAGS.join(' ')} (npm start now)`, flags: [...START_FLAGS] },
  { name: '--max-semi-space-size=1 --heap-growing-percent=20', flags: ['--max-semi-space-size=1', '--heap-growing-percent=20'] },
  { name: '--max-semi-space-size=1 --optimize-for-size', flags: ['--max-semi-space-size=1', '--optimize-for-size'] },
];
const exporter: Array<{ name: string; rss: number; peak: number; ok: boolean; cpuMs: number }> = [];
for (const s of settings) exporter.push({ name: s.name, ...(await exporterRss(s.flags)) });

const biggest = perModule.filter((p) => !Number.isNaN(p.rss)).sort((a, b) => b.rss - a.rss)[0] as { m: string; rss: number };
const smallest = [...exporter].sort((a, b) => a.rss - b.rss)[0] as { name: string; rss: number };
const f = (n: number): string => (Number.isNaN(n) ? 'not installed' : `${(n / MiB).toFixed(1)} MiB`);
const lines = [
  '# memory: where it goes',
  '',
  `Node ${process.version}; each figure from fresh processes (median of 3); load average ${loadavg()[0]?.toFixed(1)} on 2 cores; ${new Date().toISOString()}.`,
  '',
  '| loaded alone | RSS | RSS − bare node | heap after GC | heap − bare node |',
  '|---|---:|---:|---:|---:|',
  `| bare \`node\` (anchor) | ${f(bare.rss)} | 0 | ${f(bare.heap)} | 0 |`,
  ...perModule.map((p) => `| \`${p.m}\` | ${f(p.rss)} | ${f(p.rss - bare.rss)} | ${f(p.heap)} | ${f(p.heap - bare.heap)} |`),
  `| all collectors + server (dist/, nothing started) | ${f(whole.rss)} | ${f(whole.rss - bare.rss)} | ${f(whole.heap)} | ${f(whole.heap - bare.heap)} |`,
  '',
  `Whole exporter (dist/cli.js, default collectors on this host: Docker and Redis absent), RSS after ${SCRAPES} scrapes and its peak (VmHWM), by V8 heap setting:`,
  '',
  '| V8 flags | RSS | peak RSS | × node defaults | CPU per scrape | × node defaults | all scrapes 200 |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...exporter.map((e) => `| ${e.name} | ${f(e.rss)} | ${f(e.peak)} | ${(e.rss / (exporter[0]?.rss ?? 1)).toFixed(2)}× | ${e.cpuMs.toFixed(2)} ms | ${(e.cpuMs / (exporter[0]?.cpuMs ?? 1)).toFixed(2)}× | ${e.ok ? 'yes' : 'NO'} |`),
  '',
  `- Heaviest dependency loaded alone: \`${biggest.m}\` (+${f(biggest.rss - bare.rss)} RSS over a bare node); a bare node is ${f(bare.rss)} of RSS before any code, so < 80 MB leaves about ${f(80e6 - bare.rss)} for everything else.`,
  `- Smallest RSS after ${SCRAPES} scrapes: ${smallest.name} (${f(smallest.rss)}), against ${f(exporter[2]?.rss ?? NaN)} with the flags npm start uses now, ${f(exporter[1]?.rss ?? NaN)} with those it used before and ${f(exporter[0]?.rss ?? NaN)} with node's defaults.`,
  '- On this small exposition (host only, about 10 KiB per scrape) the settings differ little. On the 20-container + 20-queue fixture (bench/results/load.md, about 90 KiB per scrape) they matter more: npm start\'s flags hold RSS under 100 MB and the peak under 20 concurrent clients below 120 MB there, and the CPU per scrape measured there includes the cost (garbage collected more often).',
  '',
];
writeFileSync(new URL('./results/memory.md', import.meta.url), lines.join('\n'));
console.log(lines.join('\n'));
