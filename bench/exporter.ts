/**
 * Whole exporter: scrape latency p50/p99 with the default collectors, CPU per scrape, RSS after 10,000
 * scrapes vs after 100, open fds, and 10 concurrent scrapes costing one collection.
 * Anchor: a bare node:http server answering a static body of the same size, measured in the same run
 * (the floor of one HTTP round trip carrying that exposition).
 */
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpuSecondsOf, rssOf, spawnExporter } from './lib/exporter-process.js';
import { fmtMs, ratio, report, time, type Row } from './lib/stats.js';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 10_000);

const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

async function main(): Promise<void> {
  const { child, port } = await spawnExporter();
  const url = `http://127.0.0.1:${port}/metrics`;
  const scrape = async (): Promise<string> => (await fetch(url)).text();
  try {
    const body = await scrape();
    const anchorServer = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => anchorServer.listen(0, '127.0.0.1', () => r()));
    const anchorUrl = `http://127.0.0.1:${(anchorServer.address() as { port: number }).port}/metrics`;
    const anchor = await time(async () => (await fetch(anchorUrl)).text(), 500);
    anchorServer.close();

    const first = await time(scrape, 100);
    const rss100 = rssOf(child.pid!);
    const fds100 = fdsOf(child.pid!);
    const cpu0 = cpuSecondsOf(child.pid!);
    const all = await time(scrape, SCRAPES, 0);
    const cpuPerScrape = ((cpuSecondsOf(child.pid!) - cpu0) / SCRAPES) * 1000;
    const rssEnd = rssOf(child.pid!);
    const fdsEnd = fdsOf(child.pid!);

    // 10 concurrent scrapes: singleflight means one collection; compare with 10 sequential.
    const concurrent = await time(async () => Promise.all(Array.from({ length: 10 }, scrape)), 50);
    const samples = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const rows: Row[] = [
      { figure: 'scrape p50 (default collectors)', value: fmtMs(all.p50), anchor: `bare HTTP, same body: ${fmtMs(anchor.p50)}`, ratio: ratio(all.p50, anchor.p50), sizes: `${samples} samples, ${(body.length / 1024).toFixed(1)} KiB, ${SCRAPES} scrapes` },
      { figure: 'scrape p99', value: fmtMs(all.p99), anchor: `bare HTTP p99: ${fmtMs(anchor.p99)}`, ratio: ratio(all.p99, anchor.p99), sizes: `target p99 < 100 ms` },
      { figure: 'CPU per scrape', value: fmtMs(cpuPerScrape), anchor: `scrape p50 ${fmtMs(all.p50)}`, ratio: ratio(cpuPerScrape, all.p50), sizes: 'user+sys of the exporter process' },
      { figure: `RSS after ${SCRAPES} scrapes`, value: `${(rssEnd / 2 ** 20).toFixed(1)} MiB`, anchor: `after 100: ${(rss100 / 2 ** 20).toFixed(1)} MiB`, ratio: ratio(rssEnd, rss100), sizes: 'target < 80 MB, growth < 5 %' },
      { figure: 'open fds', value: String(fdsEnd), anchor: `after 100 scrapes: ${fds100}`, ratio: ratio(fdsEnd, fds100), sizes: 'stable = 1.00×' },
      { figure: '10 concurrent scrapes', value: fmtMs(concurrent.p50), anchor: `one scrape ${fmtMs(first.p50)}`, ratio: ratio(concurrent.p50, first.p50), sizes: 'one shared collection' },
    ];
    report('exporter', 'Whole exporter (idle host: runner + host collector + process metrics)', rows);
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
