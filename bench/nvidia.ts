/**
 * nvidia collector overhead beyond the nvidia-smi calls, for 4 GPUs × 30 processes (fixture-driven):
 * parse both outputs + resolve the 120 PIDs' identity through /proc + write the samples into a sink.
 * Target: < 5 ms. Anchors measured in the same run: one spawn of the fake nvidia-smi printing the same
 * text (what one real call costs at the very least), and a bare `node -e 0` spawn.
 * Loop mode (the default): a whole collect() of the real collector against the fake nvidia-smi in `-lms`
 * mode, steady state, and the process starts it made. Target: < 2 ms p50, zero starts per scrape.
 *
 *   npx tsx bench/nvidia.ts      → prints the table and writes bench/results/nvidia.md (npm run bench
 *                                  gathers it into bench/RESULTS.md)
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nvidiaCollector, writeSamples } from '../src/collectors/nvidia/index.js';
import { IdentityCache } from '../src/collectors/nvidia/identity-cache.js';
import { parseComputeApps, parseGpuQuery } from '../src/collectors/nvidia/parse-nvidia-smi.js';
import { ProcessIdentity } from '../src/lib/identity/process-identity.js';
import { runCommand } from '../src/lib/subprocess.js';
import { silentLogger } from '../src/logger.js';
import { SampleSink } from '../src/metrics.js';
import { budgetFor } from '../src/lib/time-budget.js';
import { fmtMs, ratio, report, time, type Row } from './lib/stats.js';

const GPUS = 4;
const PER_GPU = 30;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FAKE = join(ROOT, 'test/fixtures/nvidia/fake-nvidia-smi.sh');

// Real PIDs of this machine where there are enough (so /proc reads hit real files), made-up ones otherwise.
const realPids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
const PIDS = GPUS * PER_GPU;
const SAMPLES = GPUS * 6 + PIDS;
const pids = Array.from({ length: PIDS }, (_, i) => realPids[i] ?? 3_000_000 + i);
const uuid = (g: number): string => `GPU-${String(g).padStart(8, '0')}-8d1a-4b7e-93f2-6a0d1e7c4b21`;
const gpuText = Array.from({ length: GPUS }, (_, g) => `${g}, ${uuid(g)}, NVIDIA A100-SXM4-80GB, 550.90.07, 81920, ${40000 + g}, ${41000 - g}, ${g * 10}`).join('\n') + '\n';
const appsText =
  pids.map((pid, i) => `${uuid(Math.floor(i / PER_GPU))}, ${pid}, /opt/venv/bin/python3.${i % 12}, ${100 + i}`).join('\n') + '\n';

const identity = new ProcessIdentity('/proc', undefined);
const allowed = new Set(nvidiaCollector.metrics);

const warmCache = new IdentityCache(identity);

/** One scrape's work after nvidia-smi returned; `cache` = the collector's identity cache (fresh = first scrape). */
async function overheadOnce(cache: IdentityCache): Promise<void> {
  const gpus = parseGpuQuery(gpuText);
  const apps = parseComputeApps(appsText);
  const infos = await cache.resolve(apps.rows);
  const sink = new SampleSink(allowed);
  writeSamples(sink, { gpus: gpus.rows, apps: apps.rows, infos });
  if (sink.problems.length > 0 || sink.samples.length !== SAMPLES) throw new Error(`unexpected samples: ${sink.samples.length} ${sink.problems.join('; ')}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'silentwatch-bench-nvidia-'));
  try {
    writeFileSync(join(dir, 'gpu.csv'), gpuText);
    writeFileSync(join(dir, 'apps.csv'), appsText);
    const env = { ...process.env, FAKE_NVIDIA_SMI_DIR: dir };
    const spawnFake = () => runCommand(FAKE, ['--query-compute-apps=gpu_uuid,pid,process_name,used_memory', '--format=csv,noheader,nounits'], { timeoutMs: 10_000, env });

    // Anchors first and last, so a load change on the shared machine shows as a gap between them.
    const fakeBefore = await time(spawnFake, 30);
    const nodeSpawn = await time(() => runCommand(process.execPath, ['-e', '0'], { timeoutMs: 20_000 }), 10, 2);
    await overheadOnce(warmCache); // fills the cache: from here on, a steady-state scrape
    const steady = await time(() => overheadOnce(warmCache), 1000, 30);
    const cold = await time(() => overheadOnce(new IdentityCache(identity)), 100, 10);
    const parse = await time(() => {
      parseGpuQuery(gpuText);
      parseComputeApps(appsText);
    }, 1000, 50);
    // Loop mode: the real collector, its two looping fake nvidia-smi, one scrape after another.
    process.env.FAKE_NVIDIA_SMI_DIR = dir;
    const loopCollector = nvidiaCollector.create({
      name: 'nvidia',
      options: nvidiaCollector.options.parse({ binary: FAKE, loop_interval: '1s' }),
      paths: { procfs: '/proc', sysfs: '/sys', rootfs: '/' },
      log: silentLogger(),
      shared: { docker: () => { throw new Error('no Docker in this bench'); }, dockerIndex: undefined as never, identity },
      timeoutSeconds: 5,
    });
    const loopScrape = async (): Promise<void> => {
      const sink = new SampleSink(allowed);
      await loopCollector.collect(sink, budgetFor(5));
      if (sink.problems.length > 0 || sink.degradedReason || sink.samples.length !== SAMPLES) throw new Error(`loop scrape not clean: ${sink.samples.length} ${[...sink.problems, sink.degradedReason].join('; ')}`);
    };
    const t0 = performance.now();
    let loopFirst: number, startsBefore: number, loopSteady: Awaited<ReturnType<typeof time>>, loopCpuMs: number, startsAfter: number;
    try {
      await loopScrape(); // starts both loops, waits for their first samples
      loopFirst = performance.now() - t0;
      startsBefore = Number(loopCollector.describe?.()['nvidia-smi starts']);
      const cpu0 = process.cpuUsage();
      loopSteady = await time(loopScrape, 1000, 30);
      const cpu = process.cpuUsage(cpu0);
      loopCpuMs = (cpu.user + cpu.system) / 1000 / (loopSteady.n + 30);
      startsAfter = Number(loopCollector.describe?.()['nvidia-smi starts']);
    } finally {
      await loopCollector.close?.();
    }
    const fakeAfter = await time(spawnFake, 30);
    const fake = fakeBefore.p50 <= fakeAfter.p50 ? fakeBefore : fakeAfter;

    const realPidCount = pids.filter((p) => p < 3_000_000).length;
    const sizes = `${GPUS} GPUs × ${PER_GPU} processes, ${gpuText.length + appsText.length} B of nvidia-smi output, ${SAMPLES} samples`;
    const rows: Row[] = [
      { figure: 'collector overhead beyond nvidia-smi, steady state p50 (parse + cached identity + sink)', value: fmtMs(steady.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(steady.p50, fake.p50), sizes: `${sizes}; target < 5 ms` },
      { figure: 'same, p99', value: fmtMs(steady.p99), anchor: `fake nvidia-smi p99: ${fmtMs(fake.p99)}`, ratio: ratio(steady.p99, fake.p99), sizes: `${steady.n} runs` },
      { figure: 'first scrape / all PIDs new p50 (reads /proc/<pid>/cgroup + comm of each)', value: fmtMs(cold.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(cold.p50, fake.p50), sizes: `${PIDS} PIDs (${realPidCount} real), no Docker` },
      { figure: 'parsing both outputs p50', value: fmtMs(parse.p50), anchor: `steady overhead ${fmtMs(steady.p50)}`, ratio: ratio(parse.p50, steady.p50), sizes: sizes },
      { figure: 'loop mode: whole collect() p50, steady state (newest sample of the looping nvidia-smi, parse, identity, sink)', value: fmtMs(loopSteady.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(loopSteady.p50, fake.p50), sizes: `${sizes}; target < 2 ms` },
      { figure: 'loop mode: CPU time of this process per steady-state scrape (user + system, mean)', value: fmtMs(loopCpuMs), anchor: `steady overhead p50 ${fmtMs(steady.p50)}`, ratio: ratio(loopCpuMs, steady.p50), sizes: 'wall time above includes waiting for the CPU on a loaded machine' },
      { figure: 'loop mode: same, p99', value: fmtMs(loopSteady.p99), anchor: `fake nvidia-smi p99: ${fmtMs(fake.p99)}`, ratio: ratio(loopSteady.p99, fake.p99), sizes: `${loopSteady.n} scrapes` },
      { figure: 'loop mode: nvidia-smi starts during the steady-state scrapes', value: String(startsAfter - startsBefore), anchor: `once mode: ${2 * loopSteady.n} (2 per scrape)`, ratio: '0×', sizes: `target 0; ${startsBefore} at the first scrape` },
      { figure: 'loop mode: first scrape (starts both loops, waits for their first samples)', value: fmtMs(loopFirst), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(loopFirst, fake.p50), sizes: 'once per exporter start' },
      { figure: '`node -e 0` spawn p50 (second anchor)', value: fmtMs(nodeSpawn.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(nodeSpawn.p50, fake.p50), sizes: `fake spawn before/after: ${fmtMs(fakeBefore.p50)} / ${fmtMs(fakeAfter.p50)}` },
    ];
    report('nvidia', 'nvidia collector (4 GPUs × 30 processes, fixture-driven)', rows, [
      `Steady state: ${steady.p50 < 5 ? 'within' : 'ABOVE'} the 5 ms target at p50${steady.p99 < 5 ? ' and p99' : `; the p99 (${fmtMs(steady.p99)}) is scheduling noise of the shared 2-core machine (no I/O on that path)`}.`,
      `All PIDs new (first scrape, or every process replaced): ${fmtMs(cold.p50)} p50, ${cold.p50 < 5 ? 'within' : 'above'} the target; paid once per new process, as PID identity is cached while a PID stays listed with the same name (at most 60 s).`,
      `Machine load while measuring: ${loadavg()[0]?.toFixed(1)} (1-min load average, 2 cores shared).`,
      `Loop mode: ${loopSteady.p50 < 2 ? '**met**' : '**missed**'} the < 2 ms p50 target per scrape (${fmtMs(loopSteady.p50)} wall, ${fmtMs(loopCpuMs)} CPU); ${startsAfter === startsBefore ? '**met**' : '**missed**'} zero process starts per scrape (${startsAfter - startsBefore} in ${loopSteady.n} scrapes).`,
      'Once mode runs nvidia-smi twice per scrape (query-gpu, then query-compute-apps); a real start costs far more than the fake: 24–30 ms per query on an H200 with persistence mode on (test/fixtures/nvidia/timing-h200-580.159.04.json), more without it or on a busy driver.',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
