/**
 * Soak: N scrapes (default 100,000) of the real exporter with every collector active on fixtures: host,
 * containers (20 container cgroups in a cgroup v2 tree under --path.sysfs, no Docker), queues (20 BullMQ 6
 * queues on a real redis-server, with a worker that completes a job every second so the event stream moves),
 * nvidia (fake nvidia-smi in loop mode, 4 GPUs), drm (forced on, this host's /proc), mounts (/tmp) and probes
 * (an HTTP target in this process), reporting V8 heap after a full GC and RSS at 1k / 10k / 100k scrapes.
 * Flat (< 5 % growth 10k → 100k) excludes a leak on these paths instead of assuming it.
 *
 * The exporter runs in this process (so that `global.gc()` can be called: run with --expose-gc, which
 * `npm run bench` does through bench/run.ts → tsx; without it the figures are heap before GC), serving real
 * HTTP on loopback to a keep-alive client in the same process; the client's garbage is collected by the same
 * GC. Results are written after every checkpoint, so a cut-short run still reports what it measured.
 *
 *   SOAK_SCRAPES=100000 node --expose-gc --import tsx bench/soak.ts
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner } from '../src/app.js';
import { ALL_COLLECTORS } from '../src/collectors/index.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createApp, listen } from '../src/server.js';
import { bullmqQueues, connectionOf } from '../test/helpers/queues.js';
import { startRedis } from '../test/helpers/redis.js';
import { addV2Containers, assertCollectorsSucceeded } from './lib/cgroup-fixture.js';

// Heap after GC needs --expose-gc: without it (npm run bench runs `npx tsx bench/soak.ts`), run again with it.
if (!(globalThis as { gc?: unknown }).gc && !process.env.SOAK_NO_REEXEC) {
  const { spawnSync } = await import('node:child_process');
  // The V8 heap flags of `npm start`, so RSS is the production figure.
  const startFlags = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ').filter((a) => a.startsWith('--'));
  const r = spawnSync(process.execPath, [...startFlags, '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, SOAK_NO_REEXEC: '1' } });
  process.exitCode = r.status ?? 1;
} else {
  await soak();
}

async function soak(): Promise<void> {
  const TOTAL = Number(process.env.SOAK_SCRAPES ?? 100_000);
  const CHECKPOINTS = [1_000, 10_000, 20_000, 30_000, 50_000, 75_000, 100_000, 1_000_000].filter((c) => c <= TOTAL);
  if (!CHECKPOINTS.includes(TOTAL)) CHECKPOINTS.push(TOTAL);
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const gc = (globalThis as { gc?: () => void }).gc;

  const dir = mkdtempSync(join(tmpdir(), 'silentwatch-soak-'));
  copyFileSync(join(ROOT, 'test/fixtures/nvidia/gpu-4x-a100.csv'), join(dir, 'gpu.csv'));
  copyFileSync(join(ROOT, 'test/fixtures/nvidia/apps-4x-a100.csv'), join(dir, 'apps.csv'));
  process.env.FAKE_NVIDIA_SMI_DIR = dir;
  const target = createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  const targetPort = (target.address() as { port: number }).port;
  addV2Containers(dir, 0, 20);
  const redis = await startRedis();
  const queues = await bullmqQueues('bullmq6', connectionOf(redis.port), 'soak', Array.from({ length: 20 }, (_, i) => `q${i}`), 5);
  // Progress on one queue: a producer adds a job every second and a worker completes it.
  const { Queue, Worker } = await import('bullmq');
  const live = new Queue('q0', { connection: connectionOf(redis.port), prefix: 'soak' });
  const worker = new Worker('q0', async () => 'done', { connection: connectionOf(redis.port), prefix: 'soak', removeOnComplete: { count: 100 } });
  const producer = setInterval(() => void live.add('tick', {}, { removeOnComplete: { count: 100 } }).catch(() => undefined), 1000);

  const config = loadConfig({
    argv: [
      '--web.listen-address=127.0.0.1:0',
      '--collector.host',
      '--collector.nvidia',
      `--collector.nvidia.binary=${join(ROOT, 'test/fixtures/nvidia/fake-nvidia-smi.sh')}`,
      '--collector.drm',
      '--collector.mounts',
      `--collector.mounts.paths=${tmpdir()}`,
      '--collector.probes',
      `--collector.probes.immich-ml=127.0.0.1:${targetPort}`,
      `--path.sysfs=${dir}`,
      '--collector.containers',
      '--collector.containers.docker=false',
      '--collector.queues',
      `--collector.queues.redis-url=${redis.url}`,
      '--no-collector.llamaswap',
      '--docker.host=unix:///nonexistent/docker.sock',
    ],
    env: {},
    collectors: ALL_COLLECTORS,
  });
  const runner = createRunner(config, silentLogger());
  await runner.start();
  const server = await listen(createApp({ runner, log: silentLogger(), telemetryPath: '/metrics' }), '127.0.0.1', 0);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;

  const MiB = 2 ** 20;
  function memory(): { heap: number; rss: number } {
    if (gc) {
      gc();
      gc();
    }
    const m = process.memoryUsage();
    return { heap: m.heapUsed, rss: m.rss };
  }

  const rows: Array<{ at: number; heap: number; rss: number; seconds: number; failed: number }> = [];
  const t0 = performance.now();
  let failed = 0;
  let body = '';
  let done = 0;
  function write(): void {
    const at = (n: number) => rows.find((r) => r.at === n);
    const growth = (a?: { heap: number }, b?: { heap: number }): string => (a && b ? `${(((b.heap - a.heap) / a.heap) * 100).toFixed(1)} %` : 'not reached');
    const rssGrowth = (a?: { rss: number }, b?: { rss: number }): string => (a && b ? `${(((b.rss - a.rss) / a.rss) * 100).toFixed(1)} %` : 'not reached');
    const heapFlat = at(10_000) && at(100_000) ? ((at(100_000)!.heap - at(10_000)!.heap) / at(10_000)!.heap < 0.05 ? '**met**' : '**missed**') : '**not measured** (run cut short)';
    const lines = [
      '# soak: heap after GC and RSS over many scrapes',
      '',
      `${done.toLocaleString('en')} of ${TOTAL.toLocaleString('en')} scrapes of the in-process exporter (host, containers on 20 container cgroups, queues on 20 BullMQ queues in a real redis-server with one worker completing a job a second, nvidia on the fake nvidia-smi in loop mode with 4 GPUs × 5 processes, drm forced on over this host's /proc, mounts, probes; the V8 flags of npm start), ${(body.length / 1024).toFixed(1)} KiB per scrape, Node ${process.version}, ${gc ? 'heap after two full GCs (--expose-gc)' : 'heap WITHOUT a forced GC (run without --expose-gc)'}; load average ${loadavg()[0]?.toFixed(1)} on 2 shared cores; ${new Date().toISOString()}.`,
      '',
      '| scrapes | heap after GC | RSS | seconds since start | failed scrapes |',
      '|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.at.toLocaleString('en')} | ${(r.heap / MiB).toFixed(2)} MiB | ${(r.rss / MiB).toFixed(1)} MiB | ${r.seconds.toFixed(0)} | ${r.failed} |`),
      '',
      `- Heap after GC, 1k → 10k: ${growth(at(1_000), at(10_000))}; 10k → 100k: ${growth(at(10_000), at(100_000))} (target < 5 %: ${heapFlat}).`,
      `- RSS 10k → 100k: ${rssGrowth(at(10_000), at(100_000))}. Anchor: the heap at 1,000 scrapes of the same run.`,
      ...(rows.length > 2 && !at(100_000) ? [`- Heap after GC, 10k → ${rows.at(-1)!.at.toLocaleString('en')} (the last checkpoint reached): ${growth(at(10_000), rows.at(-1))}.`] : []),
      '- Not in this soak: Docker enrichment of containers (it needs dockerd; bench/containers.ts measures it).',
      '',
    ];
    writeFileSync(new URL('./results/soak.md', import.meta.url), lines.join('\n'));
  }

  try {
    for (let i = 1; i <= TOTAL; i++) {
      const res = await fetch(url);
      body = await res.text();
      if (res.status !== 200) failed++;
      if (i === 1) assertCollectorsSucceeded(body);
      done = i;
      if (CHECKPOINTS.includes(i)) {
        rows.push({ at: i, ...memory(), seconds: (performance.now() - t0) / 1000, failed });
        write();
        console.log(`${i} scrapes: heap ${(rows.at(-1)!.heap / MiB).toFixed(2)} MiB, rss ${(rows.at(-1)!.rss / MiB).toFixed(1)} MiB`);
      }
    }
  } finally {
    write();
    server.close();
    server.closeAllConnections();
    target.close();
    await runner.close();
    clearInterval(producer);
    await worker.close();
    await live.close();
    await queues.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
