/**
 * HTTP: /metrics (Prometheus text, or OpenMetrics when asked for), / (landing page with every collector's
 * last status), /healthz. Nothing here can be taken down by a collector: the runner already turned every
 * collector failure into data, and a failure of the exposition itself answers 500 with a log line.
 */
import express, { type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { CONTENT_TYPES, Exposition, negotiateFormat } from './exposition.js';
import type { Logger } from './logger.js';
import type { CollectorRunner, CollectorState } from './runner.js';
import { VERSION } from './version.js';
import { basicAuth, type WebConfig } from './web-config.js';

export interface ServerOptions {
  readonly runner: CollectorRunner;
  readonly log: Logger;
  readonly telemetryPath: string;
  readonly exposition?: Exposition;
  /** TLS, basic auth and extra headers from --web.config-file. */
  readonly web?: WebConfig;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function statusCell(s: CollectorState): string {
  if (s.status !== 'active') return `<td class="off">${escapeHtml(s.status)}</td>`;
  if (!s.last) return '<td>not scraped yet</td>';
  return s.last.success ? '<td class="ok">ok</td>' : `<td class="bad">failed: ${escapeHtml(s.last.error ?? '')}</td>`;
}

export function landingPage(states: readonly CollectorState[], telemetryPath: string): string {
  const rows = states
    .map((s) => {
      const details = Object.entries(s.details ?? {})
        .map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`)
        .join('<br>');
      const last = s.last ? `${(s.last.durationSeconds * 1000).toFixed(1)} ms, ${s.last.samples} samples` : '';
      return `<tr><td><b>${escapeHtml(s.name)}</b><br><small>${escapeHtml(s.description)}</small></td>${statusCell(s)}<td>${escapeHtml(s.reason)}</td><td>${last}</td><td>${details}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>silentwatch</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}.ok{color:#070}.bad{color:#a00}.off{color:#777}</style></head>
<body><h1>silentwatch ${escapeHtml(VERSION)}</h1>
<p>Prometheus exporter for the silent failures of self-hosted ML stacks. Metrics: <a href="${escapeHtml(telemetryPath)}">${escapeHtml(telemetryPath)}</a> · health: <a href="/healthz">/healthz</a></p>
<table><tr><th>collector</th><th>last scrape</th><th>why active / inactive</th><th>cost</th><th>details</th></tr>
${rows}
</table></body></html>
`;
}

export function createApp(opts: ServerOptions): express.Express {
  const exposition = opts.exposition ?? new Exposition();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const headers = opts.web?.headers;
  if (headers) {
    app.use((_req, res, next) => {
      res.set(headers);
      next();
    });
  }
  // Liveness stays open for container health checks; it reveals nothing but "ok".
  app.get('/healthz', (_req, res) => {
    res.status(200).type('text/plain').send('ok\n');
  });
  if (opts.web?.users) app.use(basicAuth(opts.web.users));

  app.get(opts.telemetryPath, async (req: Request, res: Response) => {
    const format = negotiateFormat(req.get('accept'));
    try {
      const result = await opts.runner.collect();
      const body = await exposition.render(result, format);
      res.status(200).type(CONTENT_TYPES[format]).send(body);
    } catch (e) {
      opts.log.error({ err: (e as Error).message }, 'exposition failed');
      res.status(500).type('text/plain').send('internal error while rendering metrics\n');
    }
  });
  app.get('/', (_req, res) => {
    res.status(200).type('text/html').send(landingPage(opts.runner.states(), opts.telemetryPath));
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}

export function listen(app: express.Express, host: string, port: number, web?: WebConfig): Promise<Server> {
  return new Promise((resolve, reject) => {
    const tls = web?.tls;
    const server: Server = tls
      ? createTlsServer(
          { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized, minVersion: tls.minVersion as 'TLSv1.2', maxVersion: tls.maxVersion as 'TLSv1.3' | undefined },
          app,
        )
      : createServer(app);
    server.once('error', reject);
    server.listen({ port, host: host || undefined }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
