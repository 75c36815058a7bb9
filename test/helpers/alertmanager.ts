/**
 * A real Alertmanager (Debian's /usr/bin/prometheus-alertmanager) for one test file, routing every alert to a
 * webhook receiver served by the test process itself, so a test can assert "the page arrived".
 * Clustering is off (--cluster.listen-address=), storage and config live in a temp dir, ports are free ones.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, hasCommand, removeDir, startDaemon, tempDir, waitFor, type Daemon } from './daemon.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';
export const haveAlertmanager = (): boolean => hasCommand(ALERTMANAGER_BIN) || hasCommand('prometheus-alertmanager');

/** One alert of a webhook notification (Alertmanager's webhook payload, version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}
export interface WebhookPayload {
  version: string;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every notification received so far, in order. */
  readonly payloads: WebhookPayload[];
  /** Every alert of every notification, flattened. */
  alerts(): WebhookAlert[];
  /** Waits until a notification carries an alert with this name (and these labels) in this status. */
  waitForAlert(alertname: string, opts?: { status?: 'firing' | 'resolved'; labels?: Record<string, string>; timeoutMs?: number }): Promise<WebhookAlert>;
  clear(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const payloads: WebhookPayload[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        payloads.push(JSON.parse(body) as WebhookPayload);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const alerts = (): WebhookAlert[] => payloads.flatMap((p) => p.alerts);
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    payloads,
    alerts,
    waitForAlert: (alertname, opts = {}) =>
      waitFor(
        () =>
          alerts().find(
            (a) => a.labels.alertname === alertname && a.status === (opts.status ?? 'firing') && Object.entries(opts.labels ?? {}).every(([k, v]) => a.labels[k] === v),
          ),
        `webhook to receive ${opts.status ?? 'firing'} ${alertname}`,
        opts.timeoutMs ?? 60_000,
        100,
      ),
    clear: () => void payloads.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface AlertmanagerOptions {
  /** Defaults fit tests: notify within a second, resend resolved quickly. */
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly repeatInterval?: string;
}

export interface RunningAlertmanager {
  readonly url: string;
  /** host:port, for Prometheus' alerting config. */
  readonly hostPort: string;
  readonly daemon: Daemon;
  readonly webhook: WebhookReceiver;
  /** Alerts Alertmanager currently holds (API v2). */
  alerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string } }>>;
  stop(): Promise<void>;
}

export async function startAlertmanager(opts: AlertmanagerOptions = {}): Promise<RunningAlertmanager> {
  const webhook = await startWebhookReceiver();
  const dir = tempDir('alertmanager');
  const port = await freePort();
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(
    configFile,
    stringify({
      route: {
        receiver: 'webhook',
        group_by: ['...'], // one notification per alert: tests look alerts up by name
        group_wait: opts.groupWait ?? '1s',
        group_interval: opts.groupInterval ?? '1s',
        repeat_interval: opts.repeatInterval ?? '1h',
      },
      receivers: [{ name: 'webhook', webhook_configs: [{ url: webhook.url, send_resolved: true }] }],
    }),
  );
  const bin = hasCommand(ALERTMANAGER_BIN) ? ALERTMANAGER_BIN : 'prometheus-alertmanager';
  const daemon = startDaemon(bin, [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  const cleanup = async (): Promise<void> => {
    await daemon.stop();
    await webhook.close();
    removeDir(dir);
  };
  await waitFor(async () => {
    if (daemon.exited()) throw new Error(`alertmanager exited: ${daemon.output().slice(-2000)}`);
    return (await fetch(`${url}/-/ready`)).ok;
  }, 'alertmanager ready', 30_000, 100).catch(async (e: unknown) => {
    await cleanup();
    throw e;
  });
  return {
    url,
    hostPort: `127.0.0.1:${port}`,
    daemon,
    webhook,
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`);
      if (!res.ok) throw new Error(`alertmanager /api/v2/alerts answered ${res.status}`);
      return (await res.json()) as Array<{ labels: Record<string, string>; status: { state: string } }>;
    },
    stop: cleanup,
  };
}
