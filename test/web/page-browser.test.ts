/**
 * The status page in a real browser (Debian's headless chromium) against the real exporter: with a real
 * in-container OOM kill under dockerd and a real BullMQ queue whose jobs wait with no worker, the page shows
 * both findings naming the container and the queue, and GET /api/v1/findings gives what `doctor --json` gives
 * on the same host; on a clean host the page says nothing is wrong. Screenshots of both states (desktop and
 * phone width) are written to .tmp/web/ for a reader to look at.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/findings.js';
import type { reportJson } from '../../src/doctor/index.js';
import { freePort, removeDir, tempDir, waitFor } from '../helpers/daemon.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../helpers/dockerd.js';
import { runCli, startExporter, type RunningExporter } from '../helpers/exporter.js';
import { bullmqQueues, connectionOf, IMMICH_PREFIX, type Closer } from '../helpers/queues.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { ARTEFACTS, chromiumUnavailableReason, dumpDom, screenshot } from './chromium.js';

type Report = ReturnType<typeof reportJson>;

const ML = 'immich_machine_learning';
const QUEUE = `${IMMICH_PREFIX}:smartSearch`;
const ours = (f: Finding): boolean => f.title.includes(ML) || f.title.includes(QUEUE);
const key = (f: Finding): string => `${f.severity} ${f.check} ${f.title}`;

/** The text of each <article class="finding …"> in the DOM chromium built. */
function findingArticles(dom: string): Array<{ severity: string; check: string; text: string }> {
  return [...dom.matchAll(/<article class="finding (\w+)" data-check="([^"]+)">([\s\S]*?)<\/article>/g)].map((m) => ({
    severity: m[1] as string,
    check: m[2] as string,
    text: (m[3] as string).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
  }));
}

const skip = dockerUnavailableReason() ?? chromiumUnavailableReason();
describe.skipIf(skip !== undefined)(`status page in chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  let redis: RunningRedis;
  let queues: Closer | undefined;
  let exporter: RunningExporter | undefined;
  let args: string[];

  beforeAll(async () => {
    [dockerd, redis] = await Promise.all([startDockerd(), startRedis()]);
    // A worker OOM-killed inside a container that keeps running (64 MiB limit, a 100 MiB allocation in docker exec).
    await dockerd.runContainer(['--name', ML, '-m', '64m']);
    await dockerd.cli(['exec', ML, 'sh', '-c', 'dd if=/dev/zero bs=100M count=1 | cat >/dev/null']).catch(() => undefined);
    // smartSearch: 25 jobs waiting, no worker to take them.
    queues = (await bullmqQueues('bullmq6', connectionOf(redis.port), IMMICH_PREFIX, ['smartSearch'], 25)).close;
    args = [`--docker.host=${dockerd.host}`, `--collector.queues.redis-url=${redis.url}`, '--collector.nvidia.binary=/nonexistent/nvidia-smi', '--collector.llamaswap.default-url=', '--collector.timeout=8s'];
    exporter = await startExporter(args);
  }, 120_000);
  afterAll(async () => {
    await exporter?.stop();
    await queues?.();
    await Promise.all([dockerd?.stop(), redis?.stop()]);
  });

  it('shows the OOM kill and the stalled queue, named, worst first; the API agrees with doctor --json', async () => {
    const e = exporter!;
    // Each scrape is a fresh collection the page then reuses; wait until both problems are seen (the OOM may race the start).
    const api = await waitFor(
      async () => {
        await e.scrape();
        const r = (await (await fetch(`${e.url}/api/v1/findings`)).json()) as Report;
        const f = r.findings.filter(ours);
        return f.some((x) => x.check === 'silent-oom-kills') && f.some((x) => x.check === 'stuck-queue') ? r : undefined;
      },
      'the exporter to see the OOM kill and the stalled queue',
      60_000,
      1000,
    );
    expect(api.exit_code).toBe(2);

    const dom = await dumpDom(`${e.url}/`);
    const articles = findingArticles(dom);
    const oom = articles.find((a) => a.check === 'silent-oom-kills' && a.text.includes(ML));
    const queue = articles.find((a) => a.check === 'stuck-queue');
    expect(oom?.severity).toBe('critical');
    expect(oom?.text).toContain(`OOM-killed inside container ${ML} while Docker shows no restart and OOMKilled=false`);
    expect(oom?.text).toContain('Docker: running, restarts 0, OOMKilled false');
    expect(oom?.text).toMatch(/Fix: Raise the memory limit of immich_machine_learning/);
    expect(queue?.severity).toBe('critical');
    expect(queue?.text).toMatch(new RegExp(`queue ${QUEUE} \\(127\\.0\\.0\\.1:\\d+/0\\) has 25 job\\(s\\) and no worker connected`));
    expect(queue?.text).toContain('Runbook');
    // worst first: no warning or info above a critical
    const order = articles.map((a) => ['critical', 'warning', 'info'].indexOf(a.severity));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(dom).toMatch(/<section class="summary critical" id="summary">\d+ critical/);
    expect(dom).toMatch(/<td><b>queues<\/b>[\s\S]*?<td class="ok">ok<\/td>/);
    // no script and nothing fetched from elsewhere
    expect(dom).not.toMatch(/<script|<link|<img/);

    // the same checks as doctor on the same host, in the same JSON shape
    const doctor = await runCli(['doctor', '--json', ...args]);
    const cli = JSON.parse(doctor.stdout) as Report;
    expect(Object.keys(api).sort()).toEqual(Object.keys(cli).sort());
    expect(api.findings.filter(ours).map(key).sort()).toEqual(cli.findings.filter(ours).map(key).sort());
    for (const f of api.findings) expect(Object.keys(f).sort()).toEqual(expect.arrayContaining(['check', 'evidence', 'fix', 'severity', 'title']));

    const desktop = await screenshot(`${e.url}/`, join(ARTEFACTS, 'page-problems.png'), 1100, 1500);
    const phone = await screenshot(`${e.url}/`, join(ARTEFACTS, 'page-problems-phone.png'), 412, 1400);
    for (const f of [desktop, phone]) expect(statSync(f).size).toBeGreaterThan(10_000);
  });

  it('on a clean host says that nothing is wrong', async () => {
    const emptySys = tempDir('page-sys');
    const closed = await freePort();
    // An empty sysfs: container cgroups of other tests on this machine do not count.
    const clean = await startExporter([`--path.sysfs=${emptySys}`, '--docker.host=unix:///nonexistent/docker.sock', `--collector.queues.redis-url=redis://127.0.0.1:${closed}`, '--collector.nvidia.binary=/nonexistent/nvidia-smi', '--collector.llamaswap.default-url=']);
    try {
      const dom = await dumpDom(`${clean.url}/`);
      expect(findingArticles(dom)).toEqual([]);
      expect(dom).toMatch(/<section class="summary" id="summary">No problems found\. \d+ checks? passed/);
      expect(dom).toContain('Nothing wrong in the latest collection.');
      expect(dom).toContain('<title>silentwatch: no problems found</title>');
      const api = (await (await fetch(`${clean.url}/api/v1/findings`)).json()) as Report;
      expect(api.exit_code).toBe(0);
      expect(api.findings).toEqual([]);
      expect(statSync(await screenshot(`${clean.url}/`, join(ARTEFACTS, 'page-clean.png'), 1100, 1300)).size).toBeGreaterThan(10_000);
    } finally {
      await clean.stop();
      removeDir(emptySys);
    }
  });
});
