/**
 * Container OOM kills delivered end to end: a real dockerd with real kernel OOM kills, the real exporter, a real
 * Prometheus (1 s scrapes and evaluations) loading the shipped rule expressions, and a real Alertmanager whose
 * webhook receiver is this test.
 *
 * Shortened for the replay: `container_oom_window` is 20 s instead of 10 min (so the exporter has been scraped for
 * one window before the kill, as the rule requires of a "new series" without waiting 10 minutes); every rule
 * expression is otherwise the shipped one. These OOM alerts have no `for:`.
 *
 * - killed before the first scrape: a container's child process is OOM-killed while the exporter is down (a model
 *   loaded at start-up, right after a restart); the exporter comes back, the series' first sample is already 1,
 *   `increase()` alone is 0 — ContainerOOMKillInside still arrives;
 * - a container whose main process is OOM-killed and restarted by its restart policy is counted
 *   (oom_exits_total 1, restarts 1) and paged as ContainerOOMKilledRestarted, "killed as a whole and restarted".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveAlertmanager, startAlertmanager, type RunningAlertmanager } from '../helpers/alertmanager.js';
import { freePort, hasCommand, waitFor } from '../helpers/daemon.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../helpers/dockerd.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { renderTestRules, waitForRulesEvaluated, type TestRules } from '../helpers/rules.js';

const missing = [!hasCommand('prometheus') && 'prometheus', !haveAlertmanager() && 'prometheus-alertmanager', dockerUnavailableReason()].filter(Boolean);
const RUNBOOK = 'https://github.com/silentwatch/silentwatch/blob/main/docs/runbooks';

describe.skipIf(missing.length > 0)(`container OOM kills delivered end to end (skipped: ${missing.join(', ') || 'nothing missing'})`, () => {
  let dockerd: RunningDockerd;
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let rules: TestRules;
  let exporter: RunningExporter | undefined;
  let port = 0;
  const exporterArgs = (): string[] => [`--web.listen-address=127.0.0.1:${port}`, `--docker.host=${dockerd.host}`, '--collector.containers', '--no-collector.host'];

  /** The kernel's oom_kill counter of a running container's memory cgroup (v1 or v2). */
  async function kernelOomKills(id: string): Promise<number> {
    const pid = (await dockerd.cli(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    const dir = v1 ? join('/sys/fs/cgroup/memory', v1.slice(v1.lastIndexOf(':') + 1)) : join('/sys/fs/cgroup', (lines.find((l) => l.startsWith('0::')) ?? '0::/').slice(3));
    const file = existsSync(join(dir, 'memory.oom_control')) ? 'memory.oom_control' : 'memory.events';
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? 0);
  }

  beforeAll(async () => {
    rules = renderTestRules({ forOverride: '2s', thresholds: { container_oom_window: '20s' } });
    [dockerd, am, port] = await Promise.all([startDockerd(), startAlertmanager(), freePort()]);
    exporter = await startExporter(exporterArgs());
    prom = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeInterval: '1s', ruleFiles: rules.files, alertmanager: am.hostPort });
    await waitForRulesEvaluated(prom.url);
    // the exporter has been scraped for more than one window before anything happens
    await prom.waitForSeries('count_over_time(silentwatch_build_info[1m]) >= 22', 60_000);
  }, 150_000);

  afterAll(async () => {
    await exporter?.stop();
    await prom?.stop();
    await am?.stop();
    await dockerd?.stop();
    rules?.remove();
  }, 90_000);

  it('killed before the first scrape: the series starts at 1, increase() is 0, ContainerOOMKillInside arrives', async () => {
    await exporter?.stop();
    exporter = undefined;
    const id = await dockerd.runContainer(['--name', 'loaded_at_start', '-m', '64m'], ['sh', '-c', 'dd if=/dev/zero bs=100M count=1 | cat >/dev/null; exec sleep 3600']);
    await waitFor(async () => (await kernelOomKills(id)) >= 1, 'the kernel to OOM-kill dd in the container', 20_000, 100);
    exporter = await startExporter(exporterArgs());
    const a = await am.webhook.waitForAlert('ContainerOOMKillInside', { labels: { container: 'loaded_at_start' }, timeoutMs: 60_000 });
    expect(a.labels).toMatchObject({ severity: 'warning', id: id.slice(0, 12), image: 'silentwatch-test/busybox:latest' });
    expect(a.annotations.summary).toBe('A process inside container loaded_at_start was OOM-killed; the container kept running.');
    expect(a.annotations.runbook_url).toBe(`${RUNBOOK}/ContainerOOMKillInside.md`);
    // it really was the case increase() misses: Prometheus never saw the counter below 1
    const [first] = await prom.query(`min_over_time(silentwatch_container_oom_kills_total{container="loaded_at_start"}[5m])`);
    expect(Number(first?.value[1])).toBeGreaterThanOrEqual(1);
    const [inc] = await prom.query(`increase(silentwatch_container_oom_kills_total{container="loaded_at_start"}[20s])`);
    expect(Number(inc?.value[1] ?? 0)).toBe(0);
    expect((await dockerd.cli(['inspect', '-f', '{{.State.Status}} {{.State.OOMKilled}} {{.RestartCount}}', id])).stdout.trim()).toBe('running false 0');
  }, 120_000);

  it('main process OOM-killed, restarted by the restart policy: counted, paged as killed and restarted', async () => {
    // the first run is OOM-killed (dd is PID 1 via exec); the restart finds /tmp/done and stays up
    const id = await dockerd.runContainer(
      ['--name', 'oom_main', '-m', '64m', '--restart', 'on-failure:3'],
      ['sh', '-c', '[ -f /tmp/done ] && exec sleep 3600; touch /tmp/done; sleep 3; exec dd if=/dev/zero bs=100M count=1 of=/dev/null'],
    );
    const a = await am.webhook.waitForAlert('ContainerOOMKilledRestarted', { labels: { container: 'oom_main' }, timeoutMs: 60_000 });
    expect(a.labels).toMatchObject({ severity: 'warning', id: id.slice(0, 12) });
    expect(a.annotations.summary).toBe('Container oom_main was OOM-killed as a whole and restarted.');
    expect(a.annotations.description).toContain('the container died and was restarted');
    expect(a.annotations.runbook_url).toBe(`${RUNBOOK}/ContainerOOMKilledRestarted.md`);
    expect((await dockerd.cli(['inspect', '-f', '{{.State.Status}} {{.State.OOMKilled}} {{.RestartCount}}', id])).stdout.trim()).toBe('running true 1');
    const m = await waitFor(
      async () => {
        const s = await (exporter as RunningExporter).metrics();
        return s.value('silentwatch_container_restarts_total', { container: 'oom_main' }) === 1 ? s : undefined;
      },
      'restarts_total of oom_main to reach 1',
      30_000,
      200,
    );
    expect(m.value('silentwatch_container_oom_exits_total', { container: 'oom_main' })).toBe(1);
    // the restarted container's fresh cgroup no longer shows the kill: that is why the exit is counted
    expect(m.value('silentwatch_container_oom_kills_total', { container: 'oom_main' })).toBe(0);
  }, 120_000);
});
