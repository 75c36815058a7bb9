/**
 * nvidia collector overhead beyond the nvidia-smi calls, for 4 GPUs × 30 processes (fixture-driven):
 * parse both outputs + resolve the 120 PIDs' identity through /proc + write the samples into a sink.
 * Target: < 5 ms. Anchors measured in the same run: one spawn of the fake nvidia-smi printing the same
 * text (what one real call costs at the very least), and a bare `node -e 0` spawn.
 *
 *   npx tsx bench/nvidia.ts      → prints the table and writes bench/results/nvidia.md (npm run bench
 *                                  gathers it into bench/RESULTS.md)
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nvidiaCollector, writeSamples } from '../src/collectors/nvidia/index.js';
import { IdentityCache } from '../src/collectors/nvidia/identity-cache.js';
import { parseComputeApps, parseGpuQuery } from '../src/collectors/nvidia/parse-nvidia-smi.js';
import { ProcessIdentity } from '../src/lib/identity/process-identity.js';
import { runCommand } from '../src/lib/subprocess.js';
import { SampleSink } from '../src/metrics.js';
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
    const fakeAfter = await time(spawnFake, 30);
    const fake = fakeBefore.p50 <= fakeAfter.p50 ? fakeBefore : fakeAfter;

    const realPidCount = pids.filter((p) => p < 3_000_000).length;
    const sizes = `${GPUS} GPUs × ${PER_GPU} processes, ${gpuText.length + appsText.length} B of nvidia-smi output, ${SAMPLES} samples`;
    const rows: Row[] = [
      { figure: 'collector overhead beyond nvidia-smi, steady state p50 (parse + cached identity + sink)', value: fmtMs(steady.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(steady.p50, fake.p50), sizes: `${sizes}; target < 5 ms` },
      { figure: 'same, p99', value: fmtMs(steady.p99), anchor: `fake nvidia-smi p99: ${fmtMs(fake.p99)}`, ratio: ratio(steady.p99, fake.p99), sizes: `${steady.n} runs` },
      { figure: 'first scrape / all PIDs new p50 (reads /proc/<pid>/cgroup + comm of each)', value: fmtMs(cold.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(cold.p50, fake.p50), sizes: `${PIDS} PIDs (${realPidCount} real), no Docker` },
      { figure: 'parsing both outputs p50', value: fmtMs(parse.p50), anchor: `steady overhead ${fmtMs(steady.p50)}`, ratio: ratio(parse.p50, steady.p50), sizes: sizes },
      { figure: '`node -e 0` spawn p50 (second anchor)', value: fmtMs(nodeSpawn.p50), anchor: `one fake nvidia-smi spawn: ${fmtMs(fake.p50)}`, ratio: ratio(nodeSpawn.p50, fake.p50), sizes: `fake spawn before/after: ${fmtMs(fakeBefore.p50)} / ${fmtMs(fakeAfter.p50)}` },
    ];
    report('nvidia', 'nvidia collector (4 GPUs × 30 processes, fixture-driven)', rows, [
      `Steady state: ${steady.p50 < 5 ? 'within' : 'ABOVE'} the 5 ms target at p50${steady.p99 < 5 ? ' and p99' : `; the p99 (${fmtMs(steady.p99)}) is scheduling noise of the shared 2-core machine (no I/O on that path)`}.`,
      `All PIDs new (first scrape, or every process replaced): ${fmtMs(cold.p50)} p50, ${cold.p50 < 5 ? 'within' : 'above'} the target; paid once per new process, as PID identity is cached while a PID stays listed with the same name (at most 60 s).`,
      'A real scrape runs nvidia-smi twice (query-gpu, then query-compute-apps); a real nvidia-smi costs far more than the fake (driver initialisation), so the overhead ratio to a real call is smaller still.',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
