/**
 * llama-swap incidents delivered end to end: the real exporter watching three stand-in llama-swaps, a real
 * Prometheus (1 s scrapes and evaluations) with the shipped rules, and a real Alertmanager whose webhook
 * receiver is served by this test.
 *
 * Shortened for the replay (the shipped values are proven by promtool in rules/tests/llamaswap.test.yml):
 * every `for:` is 2 s; the 5xx-ratio and load-failure windows are 20 s instead of 5 min and 15 min (so the
 * alerts resolve within the test once loads succeed); a request counts as stuck after 3 s instead of 600 s.
 *
 * - The seed incident: a model cannot load because the GPU is full, and every request is answered 5xx "for
 *   hours" (here: until the pages arrive) on a v236–v250 llama-swap (500, error_msg) and on a ≤ v217 one
 *   (502, no error_msg: the load failure is known only from the starting → stopped transitions).
 *   LlamaSwapHighErrorRate and LlamaSwapModelLoadFailing page for both; the healthy model does not. Then the
 *   GPU is freed, loads succeed, and every one of those alerts RESOLVES.
 * - A hung generation on a HEAD llama-swap: LlamaSwapRequestStuck pages, and resolves when it ends.
 * - 20 swaps within a minute on the same server: LlamaSwapSwapStorm pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveAlertmanager, startAlertmanager, type RunningAlertmanager } from '../helpers/alertmanager.js';
import { hasCommand, waitFor } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { chat, LlamaSwapStandIn } from '../helpers/llamaswap.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { prometheusRuleGroups, renderTestRules, type TestRules } from '../helpers/rules.js';

const missing = [!hasCommand('prometheus') && 'prometheus', !haveAlertmanager() && 'prometheus-alertmanager'].filter(Boolean);
const SEED_MODEL = 'qwen3-8b';
const HEALTHY_MODEL = 'qwen3vl-4b';

/** Sends requests to `model` every `everyMs` until stopped (a client that keeps retrying for hours). */
function keepSending(url: string, model: string, everyMs: number): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await chat(url, model, 1).catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe.skipIf(missing.length > 0)(`llama-swap incidents delivered end to end (skipped: ${missing.join(', ') || 'nothing missing'})`, () => {
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let rules: TestRules;
  let exporter: RunningExporter;
  let current: LlamaSwapStandIn;
  let legacy: LlamaSwapStandIn;
  let live: LlamaSwapStandIn;

  beforeAll(async () => {
    rules = renderTestRules({
      forOverride: '2s',
      thresholds: { llamaswap_error_window: '20s', llamaswap_load_failure_window: '20s', llamaswap_request_stuck_seconds: 3 },
    });
    [current, legacy, live, am] = await Promise.all([
      LlamaSwapStandIn.start({ mode: 'v250', models: [SEED_MODEL, HEALTHY_MODEL], failing: [SEED_MODEL] }),
      LlamaSwapStandIn.start({ mode: 'v217', models: [SEED_MODEL], failing: [SEED_MODEL] }),
      LlamaSwapStandIn.start({ mode: 'head', models: ['chat', 'embed', 'stuck'], hanging: ['stuck'] }),
      startAlertmanager(),
    ]);
    exporter = await startExporter([
      '--no-collector.host',
      `--collector.llamaswap.servers=current=${current.url},legacy=${legacy.url},live=${live.url}`,
      '--collector.llamaswap.poll-interval=500ms',
    ]);
    prom = await startPrometheus({ targets: [`127.0.0.1:${exporter.port}`], scrapeInterval: '1s', ruleFiles: rules.files, alertmanager: am.hostPort });
    await waitFor(async () => {
      const g = await prometheusRuleGroups(prom.url);
      return g.length > 0 && g.every((x) => x.rules.every((r) => r.health === 'ok'));
    }, 'rules loaded and evaluated', 30_000, 250);
    await prom.waitForSeries('count(silentwatch_llamaswap_info{live="events"}) == 3', 30_000);
    // Counters must be seen before the incident: increase() ignores a series' first sample.
    await prom.waitForSeries('count_over_time(silentwatch_llamaswap_model_swaps_total{server="live"}[1m]) >= 2', 30_000);
  }, 120_000);

  afterAll(async () => {
    live?.releaseHung();
    await prom?.stop();
    await am?.stop();
    if (exporter) expect(await exporter.stop()).toBe(0);
    for (const s of [current, legacy, live]) {
      if (!s) continue;
      // Read-only throughout: the exporter sent only GETs, never /upstream/.
      expect(s.received.filter((r) => !r.startsWith('POST /v1/') && (!r.startsWith('GET ') || r.includes('/upstream')))).toEqual([]);
      await s.close();
    }
    rules?.remove();
  }, 90_000);

  it('the GPU is full: 5xx on every request pages (HighErrorRate, ModelLoadFailing on both versions), then loads succeed and every page resolves', async () => {
    const clients = [keepSending(current.url, SEED_MODEL, 150), keepSending(legacy.url, SEED_MODEL, 150), keepSending(current.url, HEALTHY_MODEL, 400)];
    let recovering: Array<{ stop: () => Promise<void> }> = [];
    try {
      const paged = await Promise.all([
        am.webhook.waitForAlert('LlamaSwapHighErrorRate', { labels: { server: 'current', model: SEED_MODEL }, timeoutMs: 60_000 }),
        am.webhook.waitForAlert('LlamaSwapHighErrorRate', { labels: { server: 'legacy', model: SEED_MODEL }, timeoutMs: 60_000 }),
        am.webhook.waitForAlert('LlamaSwapModelLoadFailing', { labels: { server: 'current', model: SEED_MODEL }, timeoutMs: 60_000 }),
        // v217 rows carry no error_msg: only the transitions know these were failed loads.
        am.webhook.waitForAlert('LlamaSwapModelLoadFailing', { labels: { server: 'legacy', model: SEED_MODEL }, timeoutMs: 60_000 }),
      ]);
      expect(paged.map((a) => a.labels.severity)).toEqual(['critical', 'critical', 'warning', 'warning']);
      expect(paged[1]?.annotations.summary).toBe(`llama-swap legacy fails 100% of requests to ${SEED_MODEL}.`);
      const legacyCounts = await prom.query(`sum by (code) (silentwatch_llamaswap_requests_total{server="legacy", model="${SEED_MODEL}"})`);
      expect(legacyCounts.map((r) => r.metric.code)).toEqual(['502']);
      expect(await prom.query(`silentwatch_llamaswap_model_load_failures_total{server="legacy"}`)).toEqual([]);
      expect(am.webhook.alerts().filter((a) => a.labels.alertname === 'LlamaSwapHighErrorRate' && a.labels.model === HEALTHY_MODEL)).toEqual([]);

      // The GPU is freed: the same clients' requests now load the model and succeed.
      current.failing.clear();
      legacy.failing.clear();
      await Promise.all(clients.map((c) => c.stop()));
      recovering = [keepSending(current.url, SEED_MODEL, 150), keepSending(legacy.url, SEED_MODEL, 150)];
      const resolved = await Promise.all([
        am.webhook.waitForAlert('LlamaSwapHighErrorRate', { status: 'resolved', labels: { server: 'current', model: SEED_MODEL }, timeoutMs: 90_000 }),
        am.webhook.waitForAlert('LlamaSwapHighErrorRate', { status: 'resolved', labels: { server: 'legacy', model: SEED_MODEL }, timeoutMs: 90_000 }),
        am.webhook.waitForAlert('LlamaSwapModelLoadFailing', { status: 'resolved', labels: { server: 'current', model: SEED_MODEL }, timeoutMs: 90_000 }),
        am.webhook.waitForAlert('LlamaSwapModelLoadFailing', { status: 'resolved', labels: { server: 'legacy', model: SEED_MODEL }, timeoutMs: 90_000 }),
      ]);
      for (const r of resolved) expect(r.endsAt > r.startsAt).toBe(true);
      // The counts stayed exact throughout: no false collector failure, nothing missed.
      const ok = await prom.query('min_over_time(silentwatch_collector_success{collector="llamaswap"}[2m])');
      expect(ok[0]?.value[1]).toBe('1');
      expect(await prom.query('sum(silentwatch_llamaswap_activity_rows_missed_total) > 0')).toEqual([]);
    } finally {
      await Promise.all([...clients, ...recovering].map((c) => c.stop()));
    }
  }, 240_000);

  it('a hung generation pages LlamaSwapRequestStuck and resolves when it ends; 20 swaps in a minute page LlamaSwapSwapStorm', async () => {
    const hung = [chat(live.url, 'stuck', 1), chat(live.url, 'stuck', 1)];
    const stuck = await am.webhook.waitForAlert('LlamaSwapRequestStuck', { labels: { server: 'live', model: 'stuck' }, timeoutMs: 60_000 });
    expect(stuck.annotations.description).toContain('in flight for');
    // Nothing else saw it: no activity row, /running says ready.
    expect(await prom.query('sum(silentwatch_llamaswap_requests_total{server="live"})')).toEqual([]);
    expect((await prom.query('silentwatch_llamaswap_model_state{server="live", model="stuck", state="ready"}'))[0]?.value[1]).toBe('1');
    live.releaseHung();
    await Promise.all(hung);
    await am.webhook.waitForAlert('LlamaSwapRequestStuck', { status: 'resolved', labels: { server: 'live', model: 'stuck' }, timeoutMs: 60_000 });

    for (let i = 0; i < 10; i++) {
      await chat(live.url, 'chat', 1);
      await chat(live.url, 'embed', 1);
    }
    const storm = await am.webhook.waitForAlert('LlamaSwapSwapStorm', { labels: { server: 'live' }, timeoutMs: 60_000 });
    expect(storm.labels.severity).toBe('warning');
  }, 180_000);
});
