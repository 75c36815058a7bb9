/**
 * drm collector scan cost: a fake procfs with 500 processes × 50 fds, 20 of them DRM (with fdinfo), scanned
 * by scanDrmFds (readdir + readlink of every fd, fdinfo read and parse of the DRM ones). Anchor: a bare
 * readdir + readlink walk of the same tree in the same run. Also times `intel_gpu_top -J` start-up here.
 * With the scan memory (the collector's default): the first scrape (a full walk, as before) and the steady
 * state, where a process without DRM files is looked at again every `revisit_every` scrapes (staggered), then
 * only its new fd numbers. Target: steady state < 60 ms median.
 * Run: npx tsx bench/drm.ts   (writes bench/results/drm.md)
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ScanMemory } from '../src/collectors/drm/scan-memory.js';
import { bareFdWalk, scanDrmFds } from '../src/collectors/drm/scan.js';

const PROCS = 500;
const FDS = 50;
const DRM_PROCS = 20;
const ROUNDS = 15;

function build(root: string): void {
  for (let p = 1; p <= PROCS; p++) {
    const d = join(root, String(1000 + p));
    mkdirSync(join(d, 'fd'), { recursive: true });
    mkdirSync(join(d, 'fdinfo'));
    for (let f = 0; f < FDS; f++) {
      const drm = p <= DRM_PROCS && f === 7;
      const target = drm ? '/dev/dri/renderD128' : f < 3 ? '/dev/pts/0' : f % 3 === 0 ? `socket:[${p * 100 + f}]` : f % 3 === 1 ? `/var/lib/app/file${f}` : `pipe:[${p * 100 + f}]`;
      symlinkSync(target, join(d, 'fd', String(f)));
      writeFileSync(
        join(d, 'fdinfo', String(f)),
        drm
          ? `pos:\t0\nflags:\t02100002\nmnt_id:\t26\nino:\t284\ndrm-driver:\ti915\ndrm-client-id:\t${p}\ndrm-pdev:\t0000:00:02.0\ndrm-total-system0:\t6044 KiB\ndrm-resident-system0:\t6044 KiB\ndrm-purgeable-system0:\t1688 KiB\ndrm-engine-render:\t${p * 346249} ns\ndrm-engine-copy:\t0 ns\ndrm-engine-video:\t0 ns\ndrm-engine-video-enhance:\t0 ns\n`
          : 'pos:\t0\nflags:\t02\nmnt_id:\t26\nino:\t1\n',
      );
    }
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timeIt(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm the dentry cache and the JIT
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

function intelGpuTop(): Promise<{ ms: number; result: string }> {
  return new Promise((resolve) => {
    const t = performance.now();
    execFile('intel_gpu_top', ['-J', '-s', '100', '-o', '-'], { timeout: 5000 }, (err, stdout, stderr) => {
      const ms = performance.now() - t;
      const e = err as (NodeJS.ErrnoException & { code?: string | number; signal?: string }) | null;
      if (e?.code === 'ENOENT') resolve({ ms, result: 'not installed' });
      else resolve({ ms, result: `exit ${e ? String(e.code ?? e.signal) : 0}: ${(stderr || stdout).trim().split('\n').slice(0, 2).join(' / ').slice(0, 160)}` });
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'silentwatch-bench-drm-'));
try {
  const tBuild = performance.now();
  build(root);
  const buildMs = performance.now() - tBuild;
  const rows: string[] = [];
  let check = '';
  const results: Array<{ name: string; ms: number[]; note: string }> = [];
  const memoryRows: Array<{ every: number; first: number; steady: number[]; fdsSteady: number; skipped: number }> = [];
  for (const concurrency of [16]) {
    const bare = await timeIt(() => bareFdWalk(root, concurrency));
    const scan = await timeIt(async () => {
      const r = await scanDrmFds(root, { concurrency, maxFds: 200_000 });
      check = `${r.processes} processes, ${r.fdsScanned} fds scanned, ${r.fds.length} DRM fds parsed`;
    });
    results.push({ name: `bare readdir+readlink walk (anchor), concurrency ${concurrency}`, ms: bare, note: 'anchor' });
    results.push({ name: `scanDrmFds without memory (every fd every scrape), concurrency ${concurrency}`, ms: scan, note: `${(median(scan) / median(bare)).toFixed(2)}× anchor` });
    for (const every of [4, 1]) {
      const memory = new ScanMemory(every);
      const firsts: number[] = [];
      const t = performance.now();
      const first = await scanDrmFds(root, { concurrency, maxFds: 200_000, memory });
      firsts.push(performance.now() - t);
      const steady: number[] = [];
      let last = first;
      // 40 scrapes: every staggered revisit and full revisit is in the sample, not only the quiet scrapes.
      for (let i = 0; i < 40; i++) {
        const t1 = performance.now();
        last = await scanDrmFds(root, { concurrency, maxFds: 200_000, memory });
        steady.push(performance.now() - t1);
      }
      if (last.fds.length !== DRM_PROCS || first.fds.length !== DRM_PROCS) throw new Error(`memory scan found ${first.fds.length}/${last.fds.length} DRM fds`);
      memoryRows.push({ every, first: firsts[0] as number, steady, fdsSteady: last.fdsScanned, skipped: last.skippedProcesses });
      results.push({ name: `scanDrmFds with memory, revisit_every=${every}: first scrape (full walk)`, ms: firsts, note: '' });
      results.push({ name: `scanDrmFds with memory, revisit_every=${every}: steady state (40 scrapes; last one looked at ${last.fdsScanned} fds, skipped ${last.skippedProcesses} processes)`, ms: steady, note: '' });
    }
  }
  let realCheck = '';
  const realBare = await timeIt(() => bareFdWalk('/proc', 16));
  const realScan = await timeIt(async () => {
    const r = await scanDrmFds('/proc', { concurrency: 16, maxFds: 200_000 });
    realCheck = `${r.processes} processes, ${r.fdsScanned} fds`;
  });
  results.push({ name: `bare walk of this host's real /proc (${realCheck})`, ms: realBare, note: '' });
  results.push({ name: `scanDrmFds on this host's real /proc`, ms: realScan, note: '' });
  const anchor = median(results[0]?.ms ?? [1]);
  for (const r of results) rows.push(`| ${r.name} | ${median(r.ms).toFixed(1)} | ${Math.min(...r.ms).toFixed(1)} | ${Math.max(...r.ms).toFixed(1)} | ${(median(r.ms) / anchor).toFixed(2)} |`);
  const igt = await intelGpuTop();
  const table = [
    `# drm collector scan benchmark`,
    '',
    `Fake procfs: ${PROCS} processes × ${FDS} fds (${PROCS * FDS} fd links), ${DRM_PROCS} DRM fds with i915 fdinfo; built in ${buildMs.toFixed(0)} ms on tmpfs/disk under ${tmpdir()}. ${ROUNDS} rounds after one warm-up, Node ${process.version}, ${new Date().toISOString()}.`,
    `Result check: ${check}.`,
    '',
    '| what | median ms | min ms | max ms | ratio to anchor |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} cores.`,
    '',
    ...memoryRows.map(
      (m) =>
        `Target: steady state < 60 ms median with 500 processes × 50 fds → **${median(m.steady) < 60 ? 'met' : 'missed'}** at revisit_every=${m.every}${m.every === 4 ? ' (the default)' : ''}: ${median(m.steady).toFixed(1)} ms median (${(median(m.steady) / anchor).toFixed(2)}× the bare walk of the same run), first scrape ${m.first.toFixed(1)} ms (a full walk, as without memory: ${(m.first / median(results[1]?.ms ?? [1])).toFixed(2)}× its median).`,
    ),
    '',
    'Bound for a process that opens a GPU after it was last looked at: within `revisit_every` scrapes when the DRM file gets an fd number that was not open at the last look (the usual case; default 4 scrapes = 1 min at a 15 s scrape interval), within 10 × `revisit_every` scrapes (10 min) when it reuses one. revisit_every=1 keeps the next-scrape bound for new fd numbers and still skips the links of unchanged fds.',
    '',
    '',
    'Reading: the scan costs what the bare walk costs (ratio ≈ 1): the fdinfo reads and parsing of the 20 DRM fds are lost in the noise; the time is one asynchronous readlink per fd through libuv\'s thread pool (4 threads) on a 2-core machine. The per-fd walk is the floor for any /proc-based DRM scan that reads every link (nvtop and qmassa do the same readlinks, synchronously); the memory of quiet processes is what brings the steady state below it. max_fds bounds the worst case.',
    '',
    `\`intel_gpu_top -J -s 100 -o -\` here (no GPU): ${igt.ms.toFixed(1)} ms, ${igt.result}`,
    '',
  ].join('\n');
  writeFileSync(new URL('./results/drm.md', import.meta.url), table);
  console.log(table);
} finally {
  rmSync(root, { recursive: true, force: true });
}
