/**
 * How scrape cost grows with what is watched: queues 10→200 (real redis-server + BullMQ), containers
 * 10→200 (a cgroup v2 tree of N containers under --path.sysfs, built from the recorded fixture files),
 * GPU processes 10→1,000 (a procfs of N processes holding a DRM client, under --path.procfs). Each size
 * runs against the real exporter process; the anchor is the smallest size of the same series, and the
 * slope is the added cost per watched item.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { removeDir, tempDir } from '../test/helpers/daemon.js';
import { startExporter } from '../test/helpers/exporter.js';
import { bullmqQueues, connectionOf } from '../test/helpers/queues.js';
import { startRedis } from '../test/helpers/redis.js';
import { addV2Containers, assertCollectorsSucceeded } from './lib/cgroup-fixture.js';
import { fmtMs, ratio, report, time, type Row } from './lib/stats.js';

const SCRAPES = 40;

interface Point {
  n: number;
  ms: number;
}

async function measure(args: string[], env: Record<string, string> = {}): Promise<number> {
  const e = await startExporter(args, env);
  try {
    assertCollectorsSucceeded(await e.scrape()); // discovery, first reads
    return (await time(() => e.scrape(), SCRAPES, 3)).p50;
  } finally {
    await e.stop();
  }
}

function rows(what: string, unit: string, one: string, points: Point[], note: string): Row[] {
  const first = points[0] as Point;
  const last = points.at(-1) as Point;
  const slope = (last.ms - first.ms) / (last.n - first.n);
  return [
    ...points.map((p) => ({ figure: `${what}: ${p.n} ${unit}`, value: fmtMs(p.ms), anchor: `${first.n} ${unit}: ${fmtMs(first.ms)}`, ratio: ratio(p.ms, first.ms), sizes: note })),
    { figure: `${what}: slope`, value: `${(slope * 1000).toFixed(0)} µs per ${one}`, anchor: `${first.n}→${last.n} ${unit}`, ratio: ratio(last.ms / last.n, first.ms / first.n) + ' per item', sizes: 'linear fit of the ends' },
  ];
}

async function queues(): Promise<Row[]> {
  const redis = await startRedis();
  const points: Point[] = [];
  let made = 0;
  const closers: Array<() => Promise<void>> = [];
  try {
    for (const n of [10, 50, 100, 200]) {
      const names = Array.from({ length: n - made }, (_, i) => `q${made + i}`);
      closers.push((await bullmqQueues('bullmq6', connectionOf(redis.port), 'bench', names, 5)).close);
      made = n;
      points.push({ n, ms: await measure(['--no-collector.containers', `--collector.queues.redis-url=${redis.url}`, '--collector.queues']) });
    }
  } finally {
    for (const c of closers) await c();
    await redis.stop();
  }
  return rows('queues', 'queues', 'queue', points, 'BullMQ 6, 5 waiting jobs each, one pipelined round trip');
}

async function containers(): Promise<Row[]> {
  const sysfs = tempDir('scale-sysfs');
  const points: Point[] = [];
  let made = 0;
  try {
    for (const n of [10, 50, 100, 200]) {
      made = addV2Containers(sysfs, made, n);
      points.push({ n, ms: await measure([`--path.sysfs=${sysfs}`, '--collector.containers.docker=false', '--no-collector.host']) });
    }
  } finally {
    removeDir(sysfs);
  }
  return rows('containers', 'containers', 'container', points, 'cgroup v2 tree, 4 memory files each, no Docker enrichment');
}

async function gpuProcesses(): Promise<Row[]> {
  const dir = tempDir('scale-procfs');
  const procfs = join(dir, 'proc');
  const sysfs = join(dir, 'sys');
  mkdirSync(join(sysfs, 'class', 'drm', 'renderD128'), { recursive: true });
  const points: Point[] = [];
  let made = 0;
  try {
    for (const n of [10, 100, 500, 1000]) {
      for (; made < n; made++) {
        const p = join(procfs, String(1000 + made));
        mkdirSync(join(p, 'fd'), { recursive: true });
        mkdirSync(join(p, 'fdinfo'));
        writeFileSync(join(p, 'comm'), 'python3\n');
        writeFileSync(join(p, 'cgroup'), '0::/\n');
        for (let f = 0; f < 10; f++) {
          const drm = f === 7;
          symlinkSync(drm ? '/dev/dri/renderD128' : `/var/lib/app/f${f}`, join(p, 'fd', String(f)));
          writeFileSync(
            join(p, 'fdinfo', String(f)),
            drm ? `pos:\t0\nflags:\t02100002\ndrm-driver:\ti915\ndrm-client-id:\t${made + 1}\ndrm-pdev:\t0000:00:02.0\ndrm-resident-system0:\t6044 KiB\ndrm-engine-render:\t${made * 1000} ns\n` : 'pos:\t0\nflags:\t02\n',
          );
        }
      }
      points.push({ n, ms: await measure([`--path.procfs=${procfs}`, `--path.sysfs=${sysfs}`, '--collector.drm', '--no-collector.host', '--no-collector.containers']) });
    }
  } finally {
    removeDir(dir);
  }
  return rows('GPU processes (DRM)', 'processes', 'process', points, '10 fds each, one DRM client each');
}

const all = [...(await queues()), ...(await containers()), ...(await gpuProcesses())];
report('scaling', 'Scaling: scrape p50 of the real exporter as the watched set grows', all, [
  `Each size is a fresh exporter process; p50 of ${SCRAPES} scrapes after one warm-up scrape. The ratio compares with the smallest size of the same series; "per item" compares the cost per watched item at the largest and smallest sizes (below 1× = the fixed cost of a scrape is amortised).`,
  `Load average ${loadavg()[0]?.toFixed(1)} on 2 cores at the end: absolute times move with it, the ratios of one series less so.`,
]);
