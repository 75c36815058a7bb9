/**
 * HTTP: /metrics (Prometheus text, or OpenMetrics when asked for), / (landing page with every collector's
 * last status), /healthz. Nothing here can be taken down by a collector: the runner already turned every
 * collector failure into data, and a failure of the exposition itself answers 500 with a log line.
 */
import express, { type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import { CONTENT_TYPES, Exposition, negotiateFormat } from './exposition.js';
import type { Logger } from './logger.js';
import type { CollectorRunner, CollectorState } from './runner.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  readonly runner: CollectorRunner;
  readonly log: Logger;
  readonly telemetryPath: string;
  readonly exposition?: Exposition;
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
  app.get('/healthz', (_req, res) => {
    res.status(200).type('text/plain').send('ok\n');
  });
  app.get('/', (_req, res) => {
    res.status(200).type('text/html').send(landingPage(opts.runner.states(), opts.telemetryPath));
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}

export function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.once('error', reject);
    server.listen({ port, host: host || undefined }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
