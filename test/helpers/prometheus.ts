/** A real Prometheus server (Debian's prometheus package) with a generated config, for one test file. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, removeDir, startDaemon, tempDir, waitFor, type Daemon } from './daemon.js';

export interface PrometheusOptions {
  /** host:port targets scraped by job "silentwatch". */
  readonly targets: readonly string[];
  readonly scrapeInterval?: string;
  readonly ruleFiles?: readonly string[];
  readonly evaluationInterval?: string;
  /** host:port of an Alertmanager. */
  readonly alertmanager?: string;
  readonly extraScrapeConfigs?: readonly Record<string, unknown>[];
}

export interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  readonly url: string;
  readonly daemon: Daemon;
  readonly configFile: string;
  query(expr: string): Promise<QueryResult[]>;
  /** Waits until the query returns at least one series. */
  waitForSeries(expr: string, timeoutMs?: number): Promise<QueryResult[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = tempDir('prometheus');
  const port = await freePort();
  const configFile = join(dir, 'prometheus.yml');
  const config = {
    global: { scrape_interval: opts.scrapeInterval ?? '1s', evaluation_interval: opts.evaluationInterval ?? opts.scrapeInterval ?? '1s' },
    rule_files: opts.ruleFiles ?? [],
    ...(opts.alertmanager ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanager] }] }] } } : {}),
    scrape_configs: [{ job_name: 'silentwatch', static_configs: [{ targets: opts.targets }] }, ...(opts.extraScrapeConfigs ?? [])],
  };
  writeFileSync(configFile, stringify(config));
  const daemon = startDaemon('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (daemon.exited()) throw new Error(`prometheus exited: ${daemon.output().slice(-2000)}`);
    return (await fetch(`${url}/-/ready`)).ok;
  }, 'prometheus ready', 30_000, 100);
  const query = async (expr: string): Promise<QueryResult[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: QueryResult[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  };
  return {
    url,
    daemon,
    configFile,
    query,
    waitForSeries: (expr, timeoutMs = 20_000) => waitFor(async () => {
      const r = await query(expr);
      return r.length > 0 ? r : undefined;
    }, `series for ${expr}`, timeoutMs, 200),
    async stop() {
      await daemon.stop();
      removeDir(dir);
    },
  };
}
