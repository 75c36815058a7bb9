/**
 * The issue's fixture under load: 20 containers (a cgroup v2 tree under --path.sysfs, from the recorded
 * fixture files, no Docker) + 20 BullMQ queues on a real redis-server, host collector on, the exporter run
 * as `npm start` runs it (same node flags). Measures one client (p50, CPU per scrape, RSS after N scrapes)
 * and 20 concurrent clients (p99, peak RSS sampled every 20 ms). Anchor: a bare node:http server answering
 * the same body, same run.
 *
 *   npx tsx bench/load.ts            (BENCH_LOAD_SCRAPES=10000 by default) → bench/results/load.md
 */
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { removeDir, tempDir } from '../test/helpers/daemon.js';
import { bullmqQueues, connectionOf } from '../test/helpers/queues.js';
import { startRedis } from '../test/helpers/redis.js';
import { addV2Containers, assertCollectorsSucceeded } from './lib/cgroup-fixture.js';
import { cpuSecondsOf, privateOf, rssOf, spawnExporter, START_FLAGS } from './lib/exporter-process.js';
import { fmtMs, percentile, ratio, report, time, type Row } from './lib/stats.js';

const SCRAPES = Number(process.env.BENCH_LOAD_SCRAPES ?? 10_000);
const CLIENTS = 20;
const PER_CLIENT = 100;
const MB = 1e6;

const redis = await startRedis();
const sysfs = tempDir('load-sysfs');
addV2Containers(sysfs, 0, 20);
const q = await bullmqQueues('bullmq6', connectionOf(redis.port), 'bench', Array.from({ length: 20 }, (_, i) => `q${i}`), 5);
const { child, port } = await spawnExporter([`--path.sysfs=${sysfs}`, '--collector.containers', '--collector.containers.docker=false', '--collector.queues', `--collector.queues.redis-url=${redis.url}`, '--no-collector.nvidia', '--no-collector.llamaswap'], START_FLAGS);
try {
  const url = `http://127.0.0.1:${port}/metrics`;
  const scrape = async (): Promise<string> => (await fetch(url)).text();
  const body = await scrape();
  assertCollectorsSucceeded(body);
  const containers = new Set([...body.matchAll(/^silentwatch_container_\w+\{[^}]*\bid="([^"]+)"/gm)].map((m) => m[1])).size;
  const queues = new Set([...body.matchAll(/^silentwatch_queue_\w+\{[^}]*queue="([^"]+)"/gm)].map((m) => m[1])).size;
  const anchorServer = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => anchorServer.listen(0, '127.0.0.1', () => r()));
  const anchorUrl = `http://127.0.0.1:${(anchorServer.address() as { port: number }).port}/metrics`;
  const anchor = await time(async () => (await fetch(anchorUrl)).text(), 300);

  await time(scrape, 100);
  const rss100 = rssOf(child.pid!);
  const cpu0 = cpuSecondsOf(child.pid!);
  const one = await time(scrape, SCRAPES, 0);
  const cpuPerScrapeMs = ((cpuSecondsOf(child.pid!) - cpu0) / SCRAPES) * 1000;
  const rssAfter = rssOf(child.pid!);
  const privateAfter = privateOf(child.pid!);

  let peak = rssOf(child.pid!);
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 20);
  const lat: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = 0; i < PER_CLIENT; i++) {
        const t = performance.now();
        await scrape();
        lat.push(performance.now() - t);
      }
    }),
  );
  clearInterval(sampler);
  lat.sort((a, b) => a - b);
  const p50c = percentile(lat, 50);
  const p99c = percentile(lat, 99);
  const anchor2 = await time(async () => (await fetch(anchorUrl)).text(), 300);
  anchorServer.close();
  const cpuPct = (cpuPerScrapeMs / 15_000) * 100;
  const met = (ok: boolean): string => (ok ? '**met**' : '**missed**');
  const sizes = `20 container cgroups built (${containers} distinct container ids in the exposition) + ${queues} queues + host, ${(body.length / 1024).toFixed(1)} KiB`;
  const rows: Row[] = [
    { figure: 'one client: scrape p50', value: fmtMs(one.p50), anchor: `bare HTTP, same body: ${fmtMs(anchor.p50)}`, ratio: ratio(one.p50, anchor.p50), sizes: `${sizes}; ${SCRAPES} scrapes; target < 15 ms` },
    { figure: 'one client: scrape p99', value: fmtMs(one.p99), anchor: `bare HTTP p99: ${fmtMs(anchor.p99)}`, ratio: ratio(one.p99, anchor.p99), sizes: sizes },
    { figure: 'CPU per scrape (exporter user+sys)', value: fmtMs(cpuPerScrapeMs), anchor: `scrape p50 ${fmtMs(one.p50)}`, ratio: ratio(cpuPerScrapeMs, one.p50), sizes: `at a 15 s interval: ${cpuPct.toFixed(3)} % of a core; target < 0.1 %` },
    { figure: `RSS after ${SCRAPES} scrapes`, value: `${(rssAfter / MB).toFixed(1)} MB`, anchor: `after 100: ${(rss100 / MB).toFixed(1)} MB`, ratio: ratio(rssAfter, rss100), sizes: `target < 80 MB; node flags ${START_FLAGS.join(' ') || '(none)'}` },
    { figure: `private memory after ${SCRAPES} scrapes (RSS less the shared, file-backed pages of the node binary and libraries)`, value: `${(privateAfter / MB).toFixed(1)} MB`, anchor: `RSS: ${(rssAfter / MB).toFixed(1)} MB`, ratio: ratio(privateAfter, rssAfter), sizes: 'what the exporter takes that no other process shares; no target' },
    { figure: `${CLIENTS} concurrent clients: p50`, value: fmtMs(p50c), anchor: `one client p50 ${fmtMs(one.p50)}`, ratio: ratio(p50c, one.p50), sizes: `${CLIENTS} × ${PER_CLIENT} scrapes` },
    { figure: `${CLIENTS} concurrent clients: p99`, value: fmtMs(p99c), anchor: `bare HTTP p99 (after): ${fmtMs(anchor2.p99)}`, ratio: ratio(p99c, anchor2.p99), sizes: 'target < 100 ms' },
    { figure: `${CLIENTS} concurrent clients: peak RSS`, value: `${(peak / MB).toFixed(1)} MB`, anchor: `RSS before them: ${(rssAfter / MB).toFixed(1)} MB`, ratio: ratio(peak, rssAfter), sizes: 'sampled every 20 ms; target < 120 MB' },
  ];
  report('load', `The 20-container + 20-queue fixture, one and ${CLIENTS} clients (exporter as npm start runs it)`, rows, [
    `Load average ${loadavg()[0]?.toFixed(1)} on 2 cores at the end.`,
    `Targets: one-client p50 < 15 ms ${met(one.p50 < 15)}; ${CLIENTS}-client p99 < 100 ms ${met(p99c < 100)}; RSS < 80 MB after ${SCRAPES} scrapes ${met(rssAfter < 80 * MB)}${SCRAPES < 10_000 ? ` (only ${SCRAPES} scrapes: BENCH_LOAD_SCRAPES)` : ''}; peak < 120 MB under ${CLIENTS} clients ${met(peak < 120 * MB)}; CPU per scrape at 15 s < 0.1 % of a core ${met(cpuPct < 0.1)}.`,
  ]);
} finally {
  child.kill('SIGTERM');
  await q.close();
  await redis.stop();
  removeDir(sysfs);
}
