/**
 * Soak: N scrapes (default 100,000) of the real exporter with every collector that runs here without a daemon
 * active on fixtures: host, nvidia (fake nvidia-smi in loop mode, 4 GPUs), drm (forced on, this host's /proc),
 * mounts (/tmp) and probes (an HTTP target in this process), reporting V8 heap after a full GC and RSS at
 * 1k / 10k / 100k scrapes. Flat (< 5 % growth 10k → 100k) excludes a leak on these paths instead of assuming
 * it. Containers and queues need dockerd and redis-server and are not in this soak (bench/containers.ts and
 * bench/queues.ts measure them).
 *
 * The exporter runs in this process (so that `global.gc()` can be called: run with --expose-gc, which
 * `npm run bench` does through bench/run.ts → tsx; without it the figures are heap before GC), serving real
 * HTTP on loopback to a keep-alive client in the same process; the client's garbage is collected by the same
 * GC. Results are written after every checkpoint, so a cut-short run still reports what it measured.
 *
 *   SOAK_SCRAPES=100000 node --expose-gc --import tsx bench/soak.ts
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner } from '../src/app.js';
import { ALL_COLLECTORS } from '../src/collectors/index.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createApp, listen } from '../src/server.js';

// Heap after GC needs --expose-gc: without it (npm run bench runs `npx tsx bench/soak.ts`), run again with it.
if (!(globalThis as { gc?: unknown }).gc && !process.env.SOAK_NO_REEXEC) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, SOAK_NO_REEXEC: '1' } });
  process.exitCode = r.status ?? 1;
} else {
  await soak();
}

async function soak(): Promise<void> {
  const TOTAL = Number(process.env.SOAK_SCRAPES ?? 100_000);
  const CHECKPOINTS = [1_000, 10_000, 100_000, 1_000_000].filter((c) => c <= TOTAL);
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
      '--no-collector.containers',
      '--no-collector.queues',
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
      `${done.toLocaleString('en')} of ${TOTAL.toLocaleString('en')} scrapes of the in-process exporter (host, nvidia on the fake nvidia-smi in loop mode with 4 GPUs × 5 processes, drm forced on over this host's /proc, mounts, probes), ${(body.length / 1024).toFixed(1)} KiB per scrape, Node ${process.version}, ${gc ? 'heap after two full GCs (--expose-gc)' : 'heap WITHOUT a forced GC (run without --expose-gc)'}; load average ${loadavg()[0]?.toFixed(1)} on 2 shared cores; ${new Date().toISOString()}.`,
      '',
      '| scrapes | heap after GC | RSS | seconds since start | failed scrapes |',
      '|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.at.toLocaleString('en')} | ${(r.heap / MiB).toFixed(2)} MiB | ${(r.rss / MiB).toFixed(1)} MiB | ${r.seconds.toFixed(0)} | ${r.failed} |`),
      '',
      `- Heap after GC, 1k → 10k: ${growth(at(1_000), at(10_000))}; 10k → 100k: ${growth(at(10_000), at(100_000))} (target < 5 %: ${heapFlat}).`,
      `- RSS 10k → 100k: ${rssGrowth(at(10_000), at(100_000))}. Anchor: the heap at 1,000 scrapes of the same run.`,
      '- Not in this soak: containers and queues (they need dockerd and redis-server); their own benches measure them.',
      '',
    ];
    writeFileSync(new URL('./results/soak.md', import.meta.url), lines.join('\n'));
  }

  try {
    for (let i = 1; i <= TOTAL; i++) {
      const res = await fetch(url);
      body = await res.text();
      if (res.status !== 200) failed++;
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
    rmSync(dir, { recursive: true, force: true });
  }
}
