/**
 * nvidia collector overhead beyond the nvidia-smi calls, for 4 GPUs × 30 processes (fixture-driven):
 * parse both outputs + resolve the 120 PIDs' identity through /proc + write the samples into a sink.
 * Target: < 5 ms. Anchors measured in the same run: one spawn of the fake nvidia-smi printing the same
 * text (what one real call costs at the very least), and a bare `node -e 0` spawn.
 *
 *   npx tsx bench/nvidia.ts      → prints the table and writes bench/results/nvidia.md
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nvidiaCollector, writeSamples } from '../src/collectors/nvidia/index.js';
import { IdentityCache } from '../src/collectors/nvidia/identity-cache.js';
import { parseComputeApps, parseGpuQuery } from '../src/collectors/nvidia/parse-nvidia-smi.js';
import { ProcessIdentity } from '../src/lib/identity/process-identity.js';
import { runCommand } from '../src/lib/subprocess.js';
import { SampleSink } from '../src/metrics.js';

const GPUS = 4;
const PER_GPU = 30;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FAKE = join(ROOT, 'test/fixtures/nvidia/fake-nvidia-smi.sh');

// Real PIDs of this machine where there are enough (so /proc reads hit real files), made-up ones otherwise.
const realPids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
const pids = Array.from({ length: GPUS * PER_GPU }, (_, i) => realPids[i] ?? 3_000_000 + i);
const uuid = (g: number): string => `GPU-${String(g).padStart(8, '0')}-8d1a-4b7e-93f2-6a0d1e7c4b21`;
const gpuText = Array.from({ length: GPUS }, (_, g) => `${g}, ${uuid(g)}, NVIDIA A100-SXM4-80GB, 550.90.07, 81920, ${40000 + g}, ${41000 - g}, ${g * 10}`).join('\n') + '\n';
const appsText =
  pids.map((pid, i) => `${uuid(Math.floor(i / PER_GPU))}, ${pid}, /opt/venv/bin/python3.${i % 12}, ${100 + i}`).join('\n') + '\n';

const identity = new ProcessIdentity('/proc', undefined);
const allowed = new Set(nvidiaCollector.metrics);

const warmCache = new IdentityCache(identity);

/** One scrape's work after nvidia-smi returned; `cache` = the collector's identity cache (fresh = first scrape). */
async function overheadOnce(cache: IdentityCache): Promise<number> {
  const t0 = performance.now();
  const gpus = parseGpuQuery(gpuText);
  const apps = parseComputeApps(appsText);
  const infos = await cache.resolve(apps.rows);
  const sink = new SampleSink(allowed);
  writeSamples(sink, { gpus: gpus.rows, apps: apps.rows, infos });
  const t = performance.now() - t0;
  if (sink.problems.length > 0 || sink.samples.length !== GPUS * 6 + GPUS * PER_GPU) throw new Error(`unexpected samples: ${sink.samples.length} ${sink.problems.join('; ')}`);
  return t;
}

async function timeIt(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out;
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'silentwatch-bench-nvidia-'));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'gpu.csv'), gpuText);
    writeFileSync(join(dir, 'apps.csv'), appsText);
    const env = { ...process.env, FAKE_NVIDIA_SMI_DIR: dir };

    // Warm-up (JIT, page cache), then the measured runs, interleaved so contention hits all alike.
    for (let i = 0; i < 30; i++) await overheadOnce(new IdentityCache(identity));
    const overhead: number[] = [];
    const cold: number[] = [];
    const fake: number[] = [];
    const node: number[] = [];
    for (let round = 0; round < 5; round++) {
      overhead.push(...(await timeIt(100, () => overheadOnce(warmCache))));
      cold.push(...(await timeIt(20, () => overheadOnce(new IdentityCache(identity)))));
      fake.push(...(await timeIt(10, () => runCommand(FAKE, ['--query-compute-apps=gpu_uuid,pid,process_name,used_memory', '--format=csv,noheader,nounits'], { timeoutMs: 10_000, env }))));
      node.push(...(await timeIt(4, () => runCommand(process.execPath, ['-e', '0'], { timeoutMs: 20_000 }))));
    }
    const parseOnly = await timeIt(500, async () => {
      parseGpuQuery(gpuText);
      parseComputeApps(appsText);
    });

    const fakeMed = pct(fake, 50);
    const nodeMed = pct(node, 50);
    const rows: Array<[string, number[], string]> = [
      ['collector overhead, steady state: parse + identity (cached) + sink', overhead, '< 5 ms'],
      ['collector overhead, first scrape / all PIDs new: parse + read 120 PIDs via /proc + sink', cold, ''],
      ['  of which parsing both outputs', parseOnly, ''],
      ['anchor: one fake nvidia-smi spawn (sh + cat, same text)', fake, ''],
      ['anchor: one `node -e 0` spawn', node, ''],
    ];
    const lines = [
      `# nvidia collector benchmark`,
      '',
      `${GPUS} GPUs × ${PER_GPU} processes (${pids.filter((p) => p < 3_000_000).length} of them real PIDs of this machine), input ${gpuText.length + appsText.length} bytes, ${GPUS * 6 + GPUS * PER_GPU} samples written. Node ${process.version}, ${new Date().toISOString()}.`,
      'A real scrape runs nvidia-smi twice (query-gpu, then query-compute-apps); a real nvidia-smi takes tens to hundreds of ms (driver init), far more than the anchors.',
      '',
      '| measure | runs | median ms | p95 ms | median / fake nvidia-smi spawn | median / node spawn | target |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...rows.map(([name, xs, target]) => {
        const med = pct(xs, 50);
        return `| ${name} | ${xs.length} | ${med.toFixed(3)} | ${pct(xs, 95).toFixed(3)} | ${(med / fakeMed).toFixed(3)} | ${(med / nodeMed).toFixed(3)} | ${target} |`;
      }),
      '',
      `Result: steady-state overhead median ${pct(overhead, 50).toFixed(2)} ms, p95 ${pct(overhead, 95).toFixed(2)} ms: median ${pct(overhead, 50) < 5 ? 'within' : 'ABOVE'} the 5 ms target${pct(overhead, 95) < 5 ? ', p95 too' : ' (the p95 tail is scheduling noise of the shared machine: the same code path has no I/O)'}. ` +
        `A scrape where all 120 PIDs are new (the first one, or after every process changed) reads /proc/<pid>/cgroup and comm for each: median ${pct(cold, 50).toFixed(2)} ms, p95 ${pct(cold, 95).toFixed(2)} ms ${pct(cold, 50) < 5 ? '(within the target)' : '(above the target; it happens once per new process, not per scrape)'}.`,
      'Measured on the shared 2-core development machine while other developers ran their test suites: absolute times are noisy, the ratios to the anchors of the same run less so.',
      '',
    ];
    const text = lines.join('\n');
    console.log(text);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/nvidia.md'), text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
