/**
 * Benchmark of the queues collector: 40 BullMQ queues holding ~100k jobs in mixed states in a real
 * redis-server, and in the same run the anchors it is measured against:
 *   - the physical limit: one pipelined LLEN/ZCARD round trip over every queue's state keys;
 *   - BullMQ's own Queue.getJobCounts() per queue, sequential and in parallel;
 *   - redis_exporter --check-keys (Debian prometheus-redis-exporter) on the same state keys.
 * Run: npx tsx bench/queues.ts   (writes bench/results/queues.md)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { freePort, startDaemon, waitFor } from '../test/helpers/daemon.js';
import { startRedis } from '../test/helpers/redis.js';
import { harness } from '../test/collectors/queues/collector-harness.js';
import { dueCommand, queueCommands, queueKey } from '../src/collectors/queues/parse-counts.js';

const QUEUES = 40;
const PREFIX = 'bench';
const STATES = { wait: 1500, delayed: 500, prioritized: 250, completed: 200, failed: 50 } as const; // per queue = 2500 -> 100k
const RUNS = 300;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
async function time(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(10, runs); i++) await fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}
async function commandCalls(r: Redis): Promise<number> {
  const text = await r.info('commandstats');
  let n = 0;
  for (const [, calls] of text.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) n += Number(calls);
  return n;
}

const setupStart = performance.now();
const redis = await startRedis();
const admin = new Redis(redis.port, '127.0.0.1');
const connection = { host: '127.0.0.1', port: redis.port };
const names = Array.from({ length: QUEUES }, (_, i) => `queue${String(i).padStart(2, '0')}`);
const queues = names.map((n) => new Queue(n, { connection, prefix: PREFIX }));
try {
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  // waiting, delayed and prioritized jobs through the library (addBulk); completed/failed written the way
  // BullMQ leaves them (job hash + zset entry), in pipelines, since processing 10k jobs would dominate setup.
  const now = Date.now();
  for (const q of queues) {
    await q.addBulk(Array.from({ length: STATES.wait }, (_, i) => ({ name: 'job', data: { i }, opts: { timestamp: now - 3_600_000 + i } })));
    await q.addBulk(Array.from({ length: STATES.delayed }, (_, i) => ({ name: 'later', data: { i }, opts: { delay: 3_600_000 + i } })));
    await q.addBulk(Array.from({ length: STATES.prioritized }, (_, i) => ({ name: 'urgent', data: { i }, opts: { priority: 1 + (i % 10) } })));
  }
  for (const n of names) {
    const pipe = admin.pipeline();
    for (const [state, count] of [['completed', STATES.completed], ['failed', STATES.failed]] as const) {
      for (let i = 0; i < count; i++) {
        const id = `${state}-${i}`;
        pipe.hset(`${PREFIX}:${n}:${id}`, { name: 'job', data: '{}', opts: '{}', timestamp: String(now - 60_000), finishedOn: String(now), processedOn: String(now - 10) });
        pipe.zadd(`${PREFIX}:${n}:${state}`, now + i, id);
      }
    }
    await pipe.exec();
  }
  const counts = await queues[0]!.getJobCounts();
  const dbsize = await admin.dbsize();
  const setupS = (performance.now() - setupStart) / 1000;
  const jobs = QUEUES * Object.values(STATES).reduce((a, b) => a + b, 0);
  console.log(`setup: ${QUEUES} queues, ${jobs} jobs, ${dbsize} keys in ${setupS.toFixed(1)} s; queue00 counts ${JSON.stringify(counts)}`);

  // 1. The collector, steady state (discovery cached, oldest-job timestamps cached: one round trip).
  const h = harness({ redis_url: `redis://127.0.0.1:${redis.port}`, discovery_interval: '1h' });
  const first = await h.scrape();
  if (first.series('silentwatch_queue_info').length !== QUEUES) throw new Error('collector did not find every queue');
  const c0 = await commandCalls(admin);
  const collectorOnly = await time(RUNS, () => h.scrape());
  const c1 = await commandCalls(admin);
  // each commandstats read itself counts one INFO; RUNS + 10 warm-up scrapes ran between them
  const cmdsPerScrape = (c1 - c0 - 1) / (RUNS + 10);
  const cost = h.instance.describe?.()['last scrape'] ?? '';

  // Cold scrape: a fresh collector (connect + SCAN discovery + first timestamp reads).
  const coldTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const hc = harness({ redis_url: `redis://127.0.0.1:${redis.port}` });
    const t = performance.now();
    await hc.scrape();
    coldTimes.push(performance.now() - t);
    await hc.close();
  }

  // 2. The physical limit: one pipeline of LLEN/ZCARD over every queue's state keys. Measured interleaved
  // with the collector (A, B, A, B …) so that load from other processes on this shared machine hits both alike.
  const limitRun = async (): Promise<void> => {
    const p = admin.pipeline();
    for (const n of names) {
      for (const s of ['wait', 'active', 'paused']) p.llen(`${PREFIX}:${n}:${s}`);
      for (const s of ['delayed', 'prioritized', 'waiting-children', 'completed', 'failed']) p.zcard(`${PREFIX}:${n}:${s}`);
    }
    await p.exec();
  };
  // The collector's own command set sent raw (no interpretation, no samples): splits the collector's cost
  // into "more commands than the limit" and "JavaScript on top".
  // (the event stream read from its last id, as the collector does in steady state)
  const lastIds = new Map<string, string>();
  for (const n of names) lastIds.set(n, ((await admin.xrevrange(`${PREFIX}:${n}:events`, '+', '-', 'COUNT', 1))[0]?.[0] as string | undefined) ?? '0-0');
  let ownCommands = 0;
  const sameCommandsRun = async (): Promise<void> => {
    const p = admin.pipeline();
    p.call('client', 'list');
    const now = Date.now();
    for (const n of names) {
      const ref = { prefix: PREFIX, queue: n };
      for (const [name, ...args] of [...queueCommands({ ref, library: 'bullmq' }), dueCommand(ref, now)]) p.call(name, ...args);
      p.call('xrange', queueKey(ref, 'events'), lastIds.get(n) as string, '+', 'COUNT', '2001');
    }
    ownCommands = p.length;
    await p.exec();
  };
  const lx: number[] = [];
  const cx: number[] = [];
  const sx: number[] = [];
  const px: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await Promise.all(queues.map((q) => q.getJobCounts()));
    px.push(performance.now() - t0);
    let t = performance.now();
    await limitRun();
    lx.push(performance.now() - t);
    t = performance.now();
    await h.scrape();
    cx.push(performance.now() - t);
    t = performance.now();
    await sameCommandsRun();
    sx.push(performance.now() - t);
  }
  const limit = { p50: pct(lx, 50), p99: pct(lx, 99) };
  const collector = { p50: pct(cx, 50), p99: pct(cx, 99) };
  const same = { p50: pct(sx, 50), p99: pct(sx, 99) };
  // BullMQ's getJobCounts() for every queue in parallel, interleaved with the others (the anchor of the target)
  const parInterleaved = { p50: pct(px, 50), p99: pct(px, 99) };

  // 3. BullMQ getJobCounts, sequential and parallel.
  const seq = await time(100, async () => {
    for (const q of queues) await q.getJobCounts();
  });
  const par = await time(RUNS, () => Promise.all(queues.map((q) => q.getJobCounts())));

  // 4. redis_exporter --check-keys on the same state keys.
  let rex: { p50: number; p99: number; bytes: number } | { skipped: string };
  const bin = '/usr/bin/prometheus-redis-exporter';
  const port = await freePort();
  const patterns = ['wait', 'active', 'paused', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'].map((s) => `${PREFIX}:*:${s}`).join(',');
  const d = startDaemon(bin, [`-redis.addr=redis://127.0.0.1:${redis.port}`, `-web.listen-address=127.0.0.1:${port}`, `-check-keys=${patterns}`]);
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 'redis_exporter', 10_000);
    let bytes = 0;
    const r = await time(10, async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      bytes = body.length;
      if (!body.includes('redis_key_size')) throw new Error('redis_exporter reported no key sizes');
    });
    rex = { ...r, bytes };
  } catch (e) {
    rex = { skipped: `${(e as Error).message} ${d.output().slice(-300)}` };
  } finally {
    await d.stop();
  }

  const ms = (x: number): string => `${x.toFixed(2)} ms`;
  const ratio = (x: number, anchor: number): string => `${(x / anchor).toFixed(2)}×`;
  const rows: string[][] = [
    ['silentwatch queues collector, steady state (interleaved with the limit)', ms(collector.p50), ms(collector.p99), ratio(collector.p50, limit.p50), `${cmdsPerScrape.toFixed(0)} commands/scrape; ${cost}`],
    ['silentwatch queues collector, steady state (run alone)', ms(collectorOnly.p50), ms(collectorOnly.p99), ratio(collectorOnly.p50, limit.p50), 'includes writing ~500 samples into the sink, as in the exporter'],
    ['silentwatch, cold (connect + SCAN discovery + first timestamp reads)', ms(pct(coldTimes, 50)), ms(Math.max(...coldTimes)), ratio(pct(coldTimes, 50), limit.p50), `5 runs; once per discovery_interval, in the background after the first`],
    ['anchor: one pipelined LLEN/ZCARD round trip (physical limit, interleaved)', ms(limit.p50), ms(limit.p99), '1.00×', `${QUEUES * 8} commands`],
    ['the collector\'s own commands as one raw pipeline (interleaved)', ms(same.p50), ms(same.p99), ratio(same.p50, limit.p50), `${ownCommands} commands; collector vs this: ${ratio(collector.p50, same.p50)}`],
    ['BullMQ getJobCounts(), 40 queues sequential', ms(seq.p50), ms(seq.p99), ratio(seq.p50, limit.p50), '40 round trips (EVALSHA each)'],
    ['BullMQ getJobCounts(), 40 queues in parallel (run alone)', ms(par.p50), ms(par.p99), ratio(par.p50, limit.p50), '40 EVALSHA, pipelined by ioredis'],
    ['BullMQ getJobCounts(), 40 queues in parallel (interleaved)', ms(parInterleaved.p50), ms(parInterleaved.p99), ratio(parInterleaved.p50, limit.p50), `collector vs this: ${ratio(collector.p50, parInterleaved.p50)}`],
    'skipped' in rex
      ? ['redis_exporter --check-keys', 'skipped', '', '', rex.skipped]
      : ['redis_exporter --check-keys (same 8 state keys per queue)', ms(rex.p50), ms(rex.p99), ratio(rex.p50, limit.p50), `${rex.bytes} bytes/scrape; SCANs the keyspace every scrape`],
  ];
  const speedup = 'skipped' in rex ? 'n/a' : `${(rex.p50 / collector.p50).toFixed(0)}×`;
  const md = [
    '# Benchmark: queues collector',
    '',
    `Run \`npx tsx bench/queues.ts\` — ${new Date().toISOString()}, Node ${process.version}, redis-server 7 (Debian), ${QUEUES} BullMQ 6 queues, ${jobs} jobs (${Object.entries(STATES).map(([k, v]) => `${k} ${v}`).join(', ')} per queue), ${dbsize} keys; setup ${setupS.toFixed(1)} s. Shared 2-core machine: absolute times are noisy, ratios are measured in the same run.`,
    '',
    '| what | p50 | p99 | p50 vs pipelined limit | notes |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Targets (steady state, the event stream read every scrape): one round trip: **${cost.startsWith('1 round trip') ? 'met' : 'missed'}** (${cost}); ` +
      `≤ 1.5× its own commands sent raw: **${ratio(collector.p50, same.p50)} ${collector.p50 <= 1.5 * same.p50 ? 'met' : 'missed'}**; ` +
      `within 1.5× of BullMQ getJobCounts() for all queues in parallel (both interleaved): **${ratio(collector.p50, parInterleaved.p50)} ${collector.p50 <= 1.5 * parInterleaved.p50 ? 'met' : 'missed'}**; ` +
      `≥ 100× faster than redis_exporter --check-keys: **${speedup} ${'skipped' in rex ? 'not measured' : rex.p50 >= 100 * collector.p50 ? 'met' : 'missed'}**.`,
    '',
    `The collector's round trip carries more than the LLEN/ZCARD limit's: CLIENT LIST (workers), EXISTS (vanished queues), HGET meta paused, the tails of wait/paused/active/prioritized (oldest ages; the enqueue time of an unchanged next job is cached by job id), ZCOUNT of due delayed jobs and one XRANGE of the event stream — ${cmdsPerScrape.toFixed(0)} commands against the limit's ${QUEUES * 8}.`,
    '',
  ].join('\n');
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/queues.md', import.meta.url), md);
  console.log(md);
  await h.close();
} finally {
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  admin.disconnect();
  await redis.stop();
}
