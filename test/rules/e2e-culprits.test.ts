/**
 * The culprit in the delivered notification: the incident lab (test/helpers/lab.ts) watched by the real exporter,
 * a real Prometheus evaluating the shipped rules (1 s scrapes; every `for:` shortened to 2 s and the stalled-queue
 * age to 5 s, as in e2e-incidents) and a real Alertmanager posting to this test's webhook receiver. The
 * descriptions that ARRIVE must name what the operator needs: the container that holds the GPU's memory (for
 * GpuFreeVramLow and llama-swap's failing model load), the OOM-killed container's working set and limit, the
 * workers of the stalled queue and its siblings. The delivered texts are written to .tmp/web/culprit-notifications.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveAlertmanager, startAlertmanager, type RunningAlertmanager, type WebhookAlert } from '../helpers/alertmanager.js';
import { hasCommand } from '../helpers/daemon.js';
import { REPO_ROOT } from '../helpers/exporter.js';
import { dockerUnavailableReason, FAILING_MODEL, STALLED_QUEUE, startLab, SEED002, type Lab } from '../helpers/lab.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { renderTestRules, waitForRulesEvaluated, type TestRules } from '../helpers/rules.js';

const missing = [!hasCommand('prometheus') && 'prometheus', !haveAlertmanager() && 'prometheus-alertmanager', dockerUnavailableReason()].filter(Boolean);

describe.skipIf(missing.length > 0)(`culprits in delivered notifications (skipped: ${missing.join(', ') || 'nothing missing'})`, () => {
  let lab: Lab;
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let rules: TestRules;
  const delivered: Record<string, string> = {};

  beforeAll(async () => {
    rules = renderTestRules({ forOverride: '2s', thresholds: { queue_stalled_oldest_age_seconds: 5 } });
    [lab, am] = await Promise.all([startLab(), startAlertmanager()]);
    prom = await startPrometheus({ targets: lab.targets, scrapeInterval: '1s', ruleFiles: rules.files, alertmanager: am.hostPort });
    await waitForRulesEvaluated(prom.url);
    // increase() ignores a series' first sample: let Prometheus see the counters before the incidents.
    await prom.waitForSeries('count_over_time(silentwatch_container_oom_kills_total{container="immich_machine_learning"}[1m]) >= 2', 30_000);
    await Promise.all([lab.oomKill(), lab.driveLlamaSwap({ failing: 10, healthy: 0, spreadMs: 2000 })]);
  }, 150_000);

  afterAll(async () => {
    mkdirSync(join(REPO_ROOT, '.tmp/web'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.tmp/web/culprit-notifications.json'), `${JSON.stringify(delivered, null, 2)}\n`);
    await prom?.stop();
    await am?.stop();
    await lab?.stop();
    rules?.remove();
  }, 90_000);

  const arrive = async (alert: string, labels: Record<string, string>): Promise<WebhookAlert> => {
    const a = await am.webhook.waitForAlert(alert, { labels, timeoutMs: 60_000 });
    delivered[`${alert} ${JSON.stringify(labels)}`] = a.annotations.description ?? '';
    return a;
  };

  it('GpuFreeVramLow names the containers holding the GPU, biggest first', async () => {
    const a = await arrive('GpuFreeVramLow', { uuid: SEED002.uuid });
    // 10726 MiB and 1581 MiB as humanize1024 prints them
    expect(a.annotations.description).toMatch(/ Biggest VRAM holders of this GPU: immich_machine_learning 10\.47GiB, jellyfin 1\.544GiB\.$/);
  }, 90_000);

  it('LlamaSwapModelLoadFailing says how much VRAM is free and who holds it', async () => {
    const a = await arrive('LlamaSwapModelLoadFailing', { server: 'current', model: FAILING_MODEL });
    expect(a.annotations.description).toContain(' Free VRAM now: GPU 0 2.15GiB.');
    expect(a.annotations.description).toMatch(/ Biggest VRAM holders: immich_machine_learning 10\.47GiB on GPU 0, jellyfin 1\.544GiB on GPU 0\.$/);
  }, 90_000);

  it('ContainerOOMKillInside gives the 64 MiB limit and the working set', async () => {
    const a = await arrive('ContainerOOMKillInside', { container: 'immich_machine_learning' });
    expect(a.annotations.description).toMatch(/ Memory limit 64MiB, working set now [\d.]+[kM]iB\.$/);
  }, 90_000);

  it('the queue alerts say which workers are connected: none to the stalled queue, one to its busy sibling', async () => {
    const none = await arrive('QueueNoWorkers', { queue: STALLED_QUEUE });
    expect(none.annotations.description).toMatch(/ Workers are connected to other queues of immich_bull \(thumbnailGeneration: 1\): the worker process runs but nothing consumes this queue\.$/);
    const stalled = await arrive('QueueStalled', { queue: STALLED_QUEUE });
    expect(stalled.annotations.description).toMatch(/ Worker connections to this queue in Redis now: 0\.$/);
  }, 90_000);
});
