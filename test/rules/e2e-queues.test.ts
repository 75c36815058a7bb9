/**
 * Every way a queue's work can stop, end to end: real BullMQ 6/5 and Bull 4 queues and workers in one real
 * redis-server (two databases), the real exporter, a real Prometheus evaluating the shipped queue rules and
 * a real Alertmanager delivering to this test's webhook. Which alert fires for which shape, and a healthy
 * busy queue (whose event stream BullMQ trims faster than it is read) that fires none.
 *
 * Shortened for this live replay only (the promtool tests in rules/tests/queues.test.yml use the shipped
 * values): every `for:` is 2 s except QueuePausedLong (kept at its shipped 1 h: a paused queue must not
 * page), queue_no_progress_window 20 s, queue_active_job_max_age_seconds 5, queue_stalled_oldest_age_seconds 5.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as mq6 from 'bullmq';
import * as mq5 from 'bullmq5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../rules/src/index.js';
import { renderRuleFiles } from '../../rules/src/render.js';
import { haveAlertmanager, startAlertmanager, type RunningAlertmanager } from '../helpers/alertmanager.js';
import { hasCommand, removeDir, sleep, tempDir, waitFor } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { busyQueue, connectionOf, hungBullQueue, hungWorker, workerProcess, type Closer } from '../helpers/queues.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { prometheusRuleGroups } from '../helpers/rules.js';

const missing = [!hasCommand('prometheus') && 'prometheus', !haveAlertmanager() && 'prometheus-alertmanager', !hasCommand('redis-server') && 'redis-server'].filter(Boolean);
const P = 'immich_bull';

describe.skipIf(missing.length > 0)(`queue failures delivered end to end (skipped: ${missing.join(', ') || 'nothing missing'})`, () => {
  let redis: RunningRedis;
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let exporter: RunningExporter;
  let rulesDir: string;
  let db0: string;
  let db2: string;
  const closers: Closer[] = [];
  let rulesLoaded = 0;

  beforeAll(async () => {
    redis = await startRedis();
    db0 = `127.0.0.1:${redis.port}/0`;
    db2 = `127.0.0.1:${redis.port}/2`;
    const c = connectionOf(redis.port);
    // Healthy and busy: jobs keep coming, a worker keeps finishing them; its events stream is capped at 10.
    closers.push(await busyQueue('bullmq6', c, P, 'thumbnailGeneration', { backlog: 100, everyMs: 20, jobMs: 30, maxLenEvents: 10 }));
    // A processor that never returns.
    const hung = new mq6.Queue('smartSearch', { connection: c, prefix: P });
    closers.push(() => hung.close());
    await hung.addBulk(Array.from({ length: 21 }, (_, i) => ({ name: 'clip', data: { i } })));
    closers.push(hungWorker('bullmq6', c, P, 'smartSearch'));
    // A worker SIGKILLed mid-job (BullMQ 5, as Immich pins).
    const killedQ = new mq5.Queue('faceDetection', { connection: c, prefix: P });
    closers.push(() => killedQ.close());
    await killedQ.addBulk(Array.from({ length: 11 }, (_, i) => ({ name: 'face', data: { i } })));
    const w = await workerProcess('bullmq5', c, P, 'faceDetection');
    await w.kill();
    // A prioritized backlog, delayed jobs already due, a paused queue: no worker for any of them.
    const prio = new mq6.Queue('metadataExtraction', { connection: c, prefix: P });
    const due = new mq6.Queue('backgroundTask', { connection: c, prefix: P });
    const paused = new mq6.Queue('library', { connection: c, prefix: P });
    closers.push(() => prio.close(), () => due.close(), () => paused.close());
    await prio.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'meta', data: { i }, opts: { priority: 1 + (i % 3) } })));
    await due.addBulk(Array.from({ length: 5 }, () => ({ name: 'task', data: {}, opts: { delay: 50 } })));
    await paused.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'scan', data: { i } })));
    await paused.pause();
    // Bull 4 in database 2, its processor hung.
    closers.push(await hungBullQueue({ ...c, db: 2 }, P, 'videoConversion', 3));
    // A foreign application's keys in the same database: never queues.
    const admin = new Redis(redis.port, '127.0.0.1');
    const pipe = admin.pipeline();
    for (let i = 0; i < 2000; i++) pipe.set(`app:user${i}:id`, String(i));
    await pipe.exec();
    admin.disconnect();

    rulesDir = tempDir('queue-rules');
    const t = resolveThresholds({ queue_no_progress_window: '20s', queue_active_job_max_age_seconds: 5, queue_stalled_oldest_age_seconds: 5 });
    const files: string[] = [];
    for (const [name, text] of renderRuleFiles(t, { forOverride: (alert, normal) => (alert === 'QueuePausedLong' ? normal : alert === 'SilentwatchDown' ? '30s' : '2s') })) {
      if (name !== 'queues.yml') continue;
      writeFileSync(join(rulesDir, name), text);
      files.push(join(rulesDir, name));
    }
    am = await startAlertmanager();
    exporter = await startExporter([], { SILENTWATCH_COLLECTOR_QUEUES_REDIS_URL: redis.url, SILENTWATCH_COLLECTOR_QUEUES_REDIS_URLS: `${redis.url}/2` });
    prom = await startPrometheus({ targets: [`127.0.0.1:${exporter.port}`], scrapeInterval: '1s', ruleFiles: files, alertmanager: am.hostPort });
    await waitFor(async () => {
      const g = await prometheusRuleGroups(prom.url);
      return g.length > 0 && g.every((x) => x.rules.every((r) => r.health === 'ok'));
    }, 'queue rules loaded and evaluated', 30_000, 250);
    rulesLoaded = Date.now();
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    await exporter?.stop();
    await Promise.all(closers.map((c) => Promise.race([c().catch(() => undefined), sleep(5000)])));
    await redis?.stop();
    if (rulesDir) removeDir(rulesDir);
  }, 90_000);

  const fired = (alert: string, queue: string, redisLabel = db0) => am.webhook.waitForAlert(alert, { labels: { queue, redis: redisLabel, prefix: P }, timeoutMs: 60_000 });

  it('each shape pages with its alert', async () => {
    // a processor that never returns: the worker is connected and holds one active job
    const notProgressing = await fired('QueueNotProgressing', 'smartSearch');
    expect(notProgressing.labels.severity).toBe('critical');
    expect(notProgressing.annotations.description).toContain('20 jobs wait in queue immich_bull:smartSearch');
    await fired('QueueActiveJobStuck', 'smartSearch');
    // a worker killed mid-job
    const killed = await fired('QueueNoWorkers', 'faceDetection');
    expect(killed.annotations.description).toContain('11 jobs wait in queue immich_bull:faceDetection'); // 10 waiting + the orphaned active one
    await fired('QueueActiveJobStuck', 'faceDetection');
    // a prioritized backlog with no worker
    await fired('QueueNoWorkers', 'metadataExtraction');
    await fired('QueueNotProgressing', 'metadataExtraction');
    // delayed jobs due with no worker
    await fired('QueueNoWorkers', 'backgroundTask');
    // Bull 4 in database 2: no event stream, the hung job still pages
    await fired('QueueActiveJobStuck', 'videoConversion', db2);
  }, 90_000);

  it('a healthy busy queue (its stream trimmed under it) and a paused queue page nothing; foreign keys make no queue', async () => {
    // The busy queue's events were trimmed past what the exporter had read, and that is counted, not a page.
    await prom.waitForSeries(`silentwatch_queue_events_lost_total{queue="thumbnailGeneration"} > 0`, 30_000);
    // at least 30 s of evaluations (longer than the 20 s progress window) before judging
    await sleep(Math.max(0, rulesLoaded + 30_000 - Date.now()));
    const [done] = await prom.query(`increase(silentwatch_queue_events_total{queue="thumbnailGeneration", event="completed"}[30s])`);
    expect(Number(done?.value[1])).toBeGreaterThan(30);
    // ALERTS holds pending alerts too: none, ever, for these two queues, except QueuePausedLong pending on
    // the paused one (it fires after its shipped hour: a queue paused for that long deserves a look).
    const held = async (range: string): Promise<string[]> =>
      (await prom.query(`count_over_time(ALERTS{queue=~"thumbnailGeneration|library"}[${range}])`)).map((r) => `${r.metric.alertname} ${r.metric.alertstate} ${r.metric.queue}`);
    expect(await held('5m')).toEqual(['QueuePausedLong pending library']);
    expect(am.webhook.alerts().filter((a) => ['thumbnailGeneration', 'library'].includes(a.labels.queue ?? ''))).toEqual([]);
    // exactly the real queues, in both databases
    const queues = (await prom.query('silentwatch_queue_info')).map((r) => `${r.metric.redis} ${r.metric.queue}`).sort();
    expect(queues).toEqual(
      [...['backgroundTask', 'faceDetection', 'library', 'metadataExtraction', 'smartSearch', 'thumbnailGeneration'].map((q) => `${db0} ${q}`), `${db2} videoConversion`].sort(),
    );
  }, 60_000);
});
