/**
 * The seed incidents replayed end to end, all at once in one incident lab (test/helpers/lab.ts), through the real
 * exporter, a real Prometheus (1 s scrapes and evaluations, the shipped rules with `for:` shortened by
 * test/helpers/rules.ts) and a real Alertmanager whose webhook receiver is served by this test. Each alert must
 * ARRIVE at the webhook with the labels that let a human act on it:
 * - seed 000: a process OOM-killed inside `immich_machine_learning` while Docker still says running, OOMKilled=false;
 * - the stalled smartSearch queue (jobs, no worker, nothing active, nothing completing) → QueueStalled, QueueNoWorkers
 *   and QueueNotProgressing, then a worker
 *   starts, the queue drains and both RESOLVE (resolved notifications); the busy-but-draining queue never pages;
 * - seed 002: the T4 with 2.2 GB free → GpuFreeVramLow; immich-ml's python holding 70 % → GpuProcessHoldsMostVram
 *   naming the container; the hog unloads → GpuFreeVramLow resolves;
 * - seed 002: llama-swap's model cannot load → LlamaSwapHighErrorRate for 500 (current) and 502 (legacy), and
 *   LlamaSwapModelLoadFailing;
 * - one of two Immich ML backends refuses connections → MlBackendDown for it alone (not MlBackendsAllDown); the
 *   lab's tmpfs mount stays present and responsive → no mount alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveAlertmanager, startAlertmanager, type RunningAlertmanager, type WebhookAlert } from '../helpers/alertmanager.js';
import { hasCommand, waitFor } from '../helpers/daemon.js';
import { BUSY_QUEUE, dockerUnavailableReason, FAILING_MODEL, MiB, SEED002, STALLED_JOBS, STALLED_QUEUE, startLab, type Lab } from '../helpers/lab.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { prometheusRuleGroups, renderTestRules, type TestRules } from '../helpers/rules.js';

const missing = [!hasCommand('prometheus') && 'prometheus', !haveAlertmanager() && 'prometheus-alertmanager', dockerUnavailableReason()].filter(Boolean);
const RUNBOOK = 'https://github.com/silentwatch/silentwatch/blob/main/docs/runbooks';

describe.skipIf(missing.length > 0)(`seed incidents delivered end to end (skipped: ${missing.join(', ') || 'nothing missing'})`, () => {
  let lab: Lab;
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let rules: TestRules;
  let instance: string;
  let docker: { status: string; oomKilled: boolean; restarts: number };
  let llama: Awaited<ReturnType<Lab['driveLlamaSwap']>>;
  let incidentsStarted = 0;

  beforeAll(async () => {
    rules = renderTestRules({ forOverride: '2s', thresholds: { queue_stalled_oldest_age_seconds: 5 } });
    [lab, am] = await Promise.all([startLab(), startAlertmanager()]);
    instance = lab.targets[0] as string;
    prom = await startPrometheus({ targets: lab.targets, scrapeInterval: '1s', ruleFiles: rules.files, alertmanager: am.hostPort });
    await waitFor(async () => {
      const g = await prometheusRuleGroups(prom.url);
      return g.length > 0 && g.every((x) => x.rules.every((r) => r.health === 'ok'));
    }, 'rules loaded and evaluated', 30_000, 250);
    // Counters must be seen at their value before the incident: increase() ignores a series' first sample.
    await prom.waitForSeries('count_over_time(silentwatch_container_oom_kills_total{container="immich_machine_learning"}[1m]) >= 2', 30_000);
    incidentsStarted = Date.now();
    // Every incident at once.
    [docker, llama] = await Promise.all([lab.oomKill(), lab.driveLlamaSwap({ failing: 50, healthy: 10, spreadMs: 8000 })]);
  }, 150_000);

  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    await lab?.stop();
    rules?.remove();
  }, 90_000);

  const only = (name: string, labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing'): WebhookAlert[] =>
    am.webhook.alerts().filter((a) => a.labels.alertname === name && a.status === status && Object.entries(labels).every(([k, v]) => a.labels[k] === v));

  it('seed 000: ContainerOOMKillInside arrives for immich_machine_learning while Docker says running, OOMKilled false, 0 restarts', async () => {
    expect(docker).toEqual({ status: 'running', oomKilled: false, restarts: 0 });
    const a = await am.webhook.waitForAlert('ContainerOOMKillInside', { labels: { container: 'immich_machine_learning' }, timeoutMs: 60_000 });
    expect(a.labels).toMatchObject({
      severity: 'warning',
      job: 'silentwatch',
      instance,
      container: 'immich_machine_learning',
      compose_project: 'immich',
      compose_service: 'immich-machine-learning',
      image: 'silentwatch-test/busybox:latest',
      id: lab.containers.ml.slice(0, 12),
    });
    expect(a.annotations.summary).toBe('A process inside container immich_machine_learning was OOM-killed; the container kept running.');
    expect(a.annotations.runbook_url).toBe(`${RUNBOOK}/ContainerOOMKillInside.md`);
    // the container is still running after the page
    expect((await lab.dockerd.cli(['inspect', '-f', '{{.State.Status}} {{.State.OOMKilled}}', lab.containers.ml])).stdout.trim()).toBe('running false');
    // only the lab container that had the kill pages (the exporter reads the host's whole cgroup tree: containers of
    // other test suites on this machine, OOM-killed on purpose, may page too and are not the lab's business)
    const others = [lab.containers.jellyfin, lab.containers.flaky].map((id) => id.slice(0, 12));
    expect(am.webhook.alerts().filter((x) => x.labels.alertname === 'ContainerOOMKillInside' && others.includes(x.labels.id ?? ''))).toEqual([]);
    // the kernel's host-wide counter moved too (real /proc/vmstat): HostOOMKill pages for the same instance
    expect((await am.webhook.waitForAlert('HostOOMKill', { labels: { instance }, timeoutMs: 30_000 })).labels.severity).toBe('warning');
    // a running container without a limit is reported (for: shortened), the limited one is not
    await am.webhook.waitForAlert('ContainerWithoutMemoryLimit', { labels: { container: 'jellyfin' }, timeoutMs: 30_000 });
    expect(only('ContainerWithoutMemoryLimit', { container: 'immich_machine_learning' })).toEqual([]);
  }, 90_000);

  it('seed 002: GpuFreeVramLow and GpuProcessHoldsMostVram (naming immich_machine_learning) arrive; unloading the hog resolves the first', async () => {
    const low = await am.webhook.waitForAlert('GpuFreeVramLow', { labels: { uuid: SEED002.uuid }, timeoutMs: 60_000 });
    expect(low.labels).toMatchObject({ severity: 'warning', instance, vendor: 'nvidia', gpu: '0', uuid: SEED002.uuid });
    expect(low.annotations.summary).toBe('GPU 0 has only 2.15GiB of VRAM free.'); // 2202 MiB
    const hog = await am.webhook.waitForAlert('GpuProcessHoldsMostVram', { labels: { pid: String(lab.pids.ml) }, timeoutMs: 60_000 });
    expect(hog.labels).toMatchObject({
      severity: 'warning',
      gpu: '0',
      process: 'python3',
      container: 'immich_machine_learning',
      compose_service: 'immich-machine-learning',
      region: 'vram',
    });
    expect(hog.annotations.summary).toBe(`Process python3 holds ${((100 * SEED002.immichMlMiB) / SEED002.totalMiB).toFixed(2)}% of GPU 0.`);
    // jellyfin's ffmpeg holds 10 %: no page
    expect(only('GpuProcessHoldsMostVram', { container: 'jellyfin' })).toEqual([]);
    // the value behind it, in Prometheus: 10726 MiB
    const [v] = await prom.query(`silentwatch_gpu_process_memory_bytes{pid="${lab.pids.ml}"}`);
    expect(Number(v?.value[1])).toBe(SEED002.immichMlMiB * MiB);

    lab.healGpu();
    const resolved = await am.webhook.waitForAlert('GpuFreeVramLow', { status: 'resolved', labels: { uuid: SEED002.uuid }, timeoutMs: 60_000 });
    expect(resolved.endsAt > resolved.startsAt).toBe(true);
    await am.webhook.waitForAlert('GpuProcessHoldsMostVram', { status: 'resolved', labels: { pid: String(lab.pids.ml) }, timeoutMs: 30_000 });
  }, 120_000);

  it('seed 002: llama-swap 5xx: LlamaSwapHighErrorRate for 500 (current) and 502 (legacy), LlamaSwapModelLoadFailing; the healthy model does not page', async () => {
    expect(llama.current.get(500)).toBe(25);
    expect(llama.legacy.get(502)).toBe(25);
    expect(llama.current.get(200)).toBe(10);
    for (const server of ['current', 'legacy']) {
      const a = await am.webhook.waitForAlert('LlamaSwapHighErrorRate', { labels: { server, model: FAILING_MODEL }, timeoutMs: 60_000 });
      expect(a.labels).toMatchObject({ severity: 'critical', instance, job: 'silentwatch' });
      expect(a.annotations.summary).toBe(`llama-swap ${server} fails 100% of requests to ${FAILING_MODEL}.`);
    }
    const load = await am.webhook.waitForAlert('LlamaSwapModelLoadFailing', { labels: { server: 'current', model: FAILING_MODEL }, timeoutMs: 30_000 });
    expect(load.labels.severity).toBe('warning');
    // what Prometheus counted: every one of the 25 failures per server (the exporter started before the requests)
    // (the alert may fire before the last requests are scraped: wait for Prometheus to hold all of them)
    await prom.waitForSeries(`sum(silentwatch_llamaswap_requests_total{model="${FAILING_MODEL}", code=~"5.."}) == 50`, 30_000);
    const counted = await prom.query(`sum by (server, code) (silentwatch_llamaswap_requests_total{model="${FAILING_MODEL}"})`);
    expect(Object.fromEntries(counted.map((s) => [`${s.metric.server} ${s.metric.code}`, Number(s.value[1])]))).toEqual({ 'current 500': 25, 'legacy 502': 25 });
    expect(am.webhook.alerts().filter((x) => x.labels.alertname?.startsWith('LlamaSwap') && x.labels.model === 'bge-m3')).toEqual([]);
    expect(only('LlamaSwapDown', {})).toEqual([]);
  }, 90_000);

  it('the stalled smartSearch queue pages (QueueStalled, QueueNoWorkers); a worker drains it and both RESOLVE; the busy queue never pages', async () => {
    const stalled = await am.webhook.waitForAlert('QueueStalled', { labels: { queue: STALLED_QUEUE }, timeoutMs: 60_000 });
    expect(stalled.labels).toMatchObject({ severity: 'warning', instance, prefix: 'immich_bull', queue: STALLED_QUEUE });
    expect(stalled.annotations.summary).toBe(`Queue ${STALLED_QUEUE} is stalled: jobs wait, none is processed.`);
    const none = await am.webhook.waitForAlert('QueueNoWorkers', { labels: { queue: STALLED_QUEUE }, timeoutMs: 60_000 });
    expect(none.annotations.description).toContain(`${STALLED_JOBS} jobs wait in queue immich_bull:${STALLED_QUEUE}`);
    const stopped = await am.webhook.waitForAlert('QueueNotProgressing', { labels: { queue: STALLED_QUEUE }, timeoutMs: 60_000 });
    expect(stopped.labels).toMatchObject({ severity: 'critical', instance, prefix: 'immich_bull', queue: STALLED_QUEUE });

    await lab.startSmartSearchWorker();
    const [r1, r2] = await Promise.all([
      am.webhook.waitForAlert('QueueStalled', { status: 'resolved', labels: { queue: STALLED_QUEUE }, timeoutMs: 60_000 }),
      am.webhook.waitForAlert('QueueNoWorkers', { status: 'resolved', labels: { queue: STALLED_QUEUE }, timeoutMs: 60_000 }),
    ]);
    expect([r1.status, r2.status]).toEqual(['resolved', 'resolved']);
    // (QueueNoWorkers resolves as soon as the worker connects, possibly before the drained queue is scraped)
    const [waiting] = await prom.waitForSeries(`silentwatch_queue_jobs{queue="${STALLED_QUEUE}", state="waiting"} == 0`, 30_000);
    expect(Number(waiting?.value[1])).toBe(0);
    const [workers] = await prom.query(`silentwatch_queue_workers{queue="${STALLED_QUEUE}"}`);
    expect(Number(workers?.value[1])).toBeGreaterThanOrEqual(1);
    // the busy queue had waiting jobs all along, and a worker working them: never a page
    const [busyWaiting] = await prom.query(`min_over_time(silentwatch_queue_jobs{queue="${BUSY_QUEUE}", state="waiting"}[1m])`);
    expect(Number(busyWaiting?.value[1])).toBeGreaterThan(0);
    expect(am.webhook.alerts().filter((a) => a.labels.queue === BUSY_QUEUE)).toEqual([]);
  }, 120_000);

  it('one ML backend of two down: MlBackendDown names it, MlBackendsAllDown does not fire; the healthy mount never pages', async () => {
    const a = await am.webhook.waitForAlert('MlBackendDown', { labels: { group: 'immich_ml' }, timeoutMs: 60_000 });
    expect(a.labels).toMatchObject({ severity: 'warning', instance, group: 'immich_ml', target: lab.mlBackends.down });
    const probes = await prom.query('silentwatch_probe_success{group="immich_ml"}');
    expect(Object.fromEntries(probes.map((p) => [p.metric.target, p.value[1]]))).toEqual({ [lab.mlBackends.up]: '1', [lab.mlBackends.down]: '0' });
    expect(only('MlBackendDown', { target: lab.mlBackends.up })).toEqual([]);
    expect(only('MlBackendsAllDown', {})).toEqual([]);
    const [mount] = await prom.query(`silentwatch_mount_present{path="${lab.mount}"} * silentwatch_mount_responsive`);
    expect(mount?.value[1]).toBe('1');
    expect(am.webhook.alerts().filter((x) => x.labels.alertname?.startsWith('Mount'))).toEqual([]);
  }, 90_000);

  it('nothing else paged: every notification is one of the replayed incidents (and the whole replay took under 2 minutes)', () => {
    const expected = new Set([
      'ContainerOOMKillInside',
      'HostOOMKill',
      'ContainerWithoutMemoryLimit',
      'GpuFreeVramLow',
      'GpuProcessHoldsMostVram',
      'LlamaSwapHighErrorRate',
      'LlamaSwapModelLoadFailing',
      'QueueStalled',
      'QueueNoWorkers',
      'QueueNotProgressing',
      'MlBackendDown',
    ]);
    const names = new Set(am.webhook.alerts().map((a) => a.labels.alertname as string));
    expect([...names].filter((n) => !expected.has(n))).toEqual([]);
    expect([...expected].filter((n) => !names.has(n))).toEqual([]);
    expect(Date.now() - incidentsStarted).toBeLessThan(120_000);
  });
});
