/**
 * The probe alerts end to end: a real nginx balancing two real Immich ML backend stand-ins, the real
 * exporter, a real Prometheus (1 s scrapes and evaluations) with the shipped rules/probes.yml whose `for:`
 * are scaled down 30× but kept in their shipped ratio (probe_all_down_for 2m → 4 s, probe_backend_down_for
 * 5m → 10 s). The promtool tests (rules/tests/probes.test.yml) prove the shipped durations themselves.
 * - The balancer stops while both backends answer pong → MlBalancerDown, critical, as fast as all-down.
 * - One backend stops → MlBackendDown, a warning, and no critical alert at any time.
 * - Both backends stop → MlBackendsAllDown, critical (and no MlBalancerDown beside it).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../rules/src/index.js';
import { renderRuleFiles } from '../../rules/src/render.js';
import { hasCommand, removeDir, sleep, tempDir, waitFor } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { immichMl, nginxBalancer, type Backend, type NginxBalancer } from '../helpers/probes.js';
import { prometheusAlerts, prometheusRuleGroups, type PrometheusAlert } from '../helpers/rules.js';

const missing = [!hasCommand('prometheus') && 'prometheus', !hasCommand('nginx') && 'nginx'].filter(Boolean);
const ALL_DOWN_FOR_S = 4;
const BACKEND_DOWN_FOR_S = 10;
/** A scrape and an evaluation (1 s each) between the fault and the alert, plus slack for 2 loaded cores. */
const LAG_S = 4;

describe.skipIf(missing.length > 0)(`probe alerts page by what the user loses (skipped: ${missing.join(', ') || 'nothing missing'})`, { timeout: 120_000 }, () => {
  let a: Backend;
  let b: Backend;
  let nginx: NginxBalancer;
  let exporter: RunningExporter;
  let prom: RunningPrometheus;
  let rulesDir: string;
  let balancerTarget: string;
  /** Seconds from the balancer stopping to MlBalancerDown firing. */
  let balancerSeconds = 0;

  beforeAll(async () => {
    rulesDir = tempDir('rules-probes');
    const rules = renderRuleFiles(resolveThresholds({ probe_all_down_for: `${ALL_DOWN_FOR_S}s`, probe_backend_down_for: `${BACKEND_DOWN_FOR_S}s` }));
    const file = join(rulesDir, 'probes.yml');
    writeFileSync(file, rules.get('probes.yml') as string);
    [a, b] = await Promise.all([immichMl(), immichMl()]);
    nginx = await nginxBalancer([a.port, b.port]);
    balancerTarget = `127.0.0.1:${nginx.port}`;
    exporter = await startExporter(
      ['--collector.probes.probe-timeout=500ms', '--collector.timeout=2s', '--no-collector.nvidia', '--no-collector.containers', '--no-collector.queues', '--no-collector.llamaswap'],
      { SILENTWATCH_COLLECTOR_PROBES_BALANCERS: `[{name: immich-ml, url: "${nginx.url}", backends: "127.0.0.1:${a.port},127.0.0.1:${b.port}"}]` },
    );
    prom = await startPrometheus({ targets: [`127.0.0.1:${exporter.port}`], scrapeInterval: '1s', ruleFiles: [file] });
    await waitFor(async () => {
      const g = await prometheusRuleGroups(prom.url);
      return g.length > 0 && g.every((x) => x.rules.every((r) => r.health === 'ok'));
    }, 'rules loaded and evaluated', 30_000, 250);
    await prom.waitForSeries('count(silentwatch_probe_success{group="immich-ml"} == 1) == 3', 30_000);
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await exporter?.stop();
    await nginx?.remove();
    await Promise.all([a?.stop(), b?.stop()]);
    if (rulesDir) removeDir(rulesDir);
  });

  /** Waits for `alertname` to fire; returns it and the seconds since `since`. */
  const firing = async (alertname: string, since: number, timeoutS: number): Promise<{ alert: PrometheusAlert; seconds: number }> => {
    const alert = await waitFor(async () => (await prometheusAlerts(prom.url)).find((x) => x.labels.alertname === alertname && x.state === 'firing'), `${alertname} to fire`, timeoutS * 1000, 100);
    return { alert, seconds: (performance.now() - since) / 1000 };
  };
  const quiet = (): Promise<unknown> => waitFor(async () => (await prometheusAlerts(prom.url)).length === 0, 'no alert pending or firing', 30_000, 200);

  it('the balancer stops while both backends answer: MlBalancerDown pages critical', async () => {
    await quiet();
    const t0 = performance.now();
    await nginx.stop();
    const { alert, seconds } = await firing('MlBalancerDown', t0, ALL_DOWN_FOR_S + LAG_S + 10);
    balancerSeconds = seconds;
    expect(alert.labels).toMatchObject({ severity: 'critical', group: 'immich-ml', target: balancerTarget, role: 'balancer' });
    expect(seconds).toBeGreaterThanOrEqual(ALL_DOWN_FOR_S);
    expect(seconds).toBeLessThan(ALL_DOWN_FOR_S + LAG_S);
    // Never reported as a mere capacity loss, and the backends are not reported down.
    const others = (await prometheusAlerts(prom.url)).filter((x) => x.labels.alertname !== 'MlBalancerDown');
    expect(others).toEqual([]);
    console.log(`balancer stopped → MlBalancerDown (critical) firing after ${seconds.toFixed(1)} s (for: ${ALL_DOWN_FOR_S} s)`);
    await nginx.start();
    await quiet();
  });

  it('one backend stops: MlBackendDown, a warning, and never a critical alert', async () => {
    const t0 = performance.now();
    await a.stop();
    const severities = new Set<string>();
    const watch = setInterval(() => {
      void prometheusAlerts(prom.url).then(
        (alerts) => alerts.forEach((x) => severities.add(`${x.labels.alertname}/${x.labels.severity}`)),
        () => undefined,
      );
    }, 250);
    try {
      const { alert, seconds } = await firing('MlBackendDown', t0, BACKEND_DOWN_FOR_S + LAG_S + 10);
      expect(alert.labels).toMatchObject({ severity: 'warning', group: 'immich-ml', target: `127.0.0.1:${a.port}`, role: 'backend' });
      expect(seconds).toBeGreaterThanOrEqual(BACKEND_DOWN_FOR_S);
      // Well past the all-down for: and still nothing critical.
      await sleep((ALL_DOWN_FOR_S + 2) * 1000);
    } finally {
      clearInterval(watch);
    }
    expect([...severities]).toEqual(['MlBackendDown/warning']);
  });

  it('both backends stop: MlBackendsAllDown pages critical, as fast as the balancer did, and alone', async () => {
    const t0 = performance.now();
    await b.stop();
    const { alert, seconds } = await firing('MlBackendsAllDown', t0, ALL_DOWN_FOR_S + LAG_S + 10);
    expect(alert.labels).toMatchObject({ severity: 'critical', group: 'immich-ml' });
    expect(seconds).toBeLessThan(ALL_DOWN_FOR_S + LAG_S);
    // The balancer (answering 502 now) is part of the all-down, not a second page; the warnings stop.
    await sleep(2000);
    const names = (await prometheusAlerts(prom.url)).filter((x) => x.state === 'firing').map((x) => x.labels.alertname);
    expect(names).toEqual(['MlBackendsAllDown']);
    // Same for:, same speed: the balancer's page came no later than all-down's, give or take a scrape.
    expect(balancerSeconds).toBeLessThanOrEqual(seconds + 1.5);
    console.log(`all backends stopped → MlBackendsAllDown (critical) firing after ${seconds.toFixed(1)} s; balancer alone: ${balancerSeconds.toFixed(1)} s`);
  });
});
