/**
 * HTTP: /metrics (Prometheus text, or OpenMetrics when asked for), / (the status page: findings on the
 * latest collection, recent history, every collector's health), /api/v1/findings (the same findings as
 * `silentwatch doctor --json`), /healthz (open even with basic auth). Nothing here can be taken down by a collector: the runner already turned every
 * collector failure into data, and a failure of the exposition itself answers 500 with a log line.
 */
import express, { type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { CONTENT_TYPES, Exposition, negotiateFormat } from './exposition.js';
import type { Logger } from './logger.js';
import type { CollectorRunner, CollectorState } from './runner.js';
import type { HostFacts } from './doctor/index.js';
import { reportJson } from './doctor/index.js';
import { History } from './web/history.js';
import { renderStatusPage } from './web/page.js';
import { StatusSource, type StatusOptions, type StatusSnapshot } from './web/status.js';
import { errorMessage } from './lib/async.js';
import { basicAuth, type WebConfig } from './web-config.js';

export interface ServerOptions {
  readonly runner: CollectorRunner;
  readonly log: Logger;
  readonly telemetryPath: string;
  readonly exposition?: Exposition;
  /** TLS, basic auth and extra headers from --web.config.file. */
  readonly web?: WebConfig;
  /** Docker inspect, mount table and PID namespace for the status page's checks (see src/web/status.ts). */
  readonly hostFacts?: () => Promise<HostFacts>;
  /** Status page tuning (tests, bench). */
  readonly status?: Omit<StatusOptions, 'hostFacts'>;
}

export { escapeHtml } from './web/html.js';

/** The status page for collector states alone, before any findings (kept for callers that only have states). */
export function landingPage(states: readonly CollectorState[], telemetryPath: string): string {
  return renderStatusPage({ report: { findings: [], skipped: [], passed: [] }, states, collectedAt: undefined, history: new History() }, { telemetryPath });
}

export function createApp(opts: ServerOptions): express.Express {
  const exposition = opts.exposition ?? new Exposition();
  const status = new StatusSource(opts.runner, opts.log, { ...opts.status, hostFacts: opts.hostFacts });
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
      const result = await status.collect();
      const body = await exposition.renderBody(result, format);
      res.status(200).type(CONTENT_TYPES[format]).send(body);
    } catch (e) {
      opts.log.error({ err: (e as Error).message }, 'exposition failed');
      res.status(500).type('text/plain').send('internal error while rendering metrics\n');
    }
  });
  // The page and the API share one snapshot logic; a bug in a check answers 500 with a log line, never a crash.
  const withSnapshot = (send: (snapshot: StatusSnapshot, res: Response) => void) => async (_req: Request, res: Response) => {
    try {
      send(await status.snapshot(), res.set('Cache-Control', 'no-store'));
    } catch (e) {
      opts.log.error({ err: errorMessage(e) }, 'status page failed');
      res.status(500).type('text/plain').send('internal error while evaluating findings\n');
    }
  };
  app.get(
    '/',
    withSnapshot((snapshot, res) => res.status(200).type('text/html').send(renderStatusPage(snapshot, { telemetryPath: opts.telemetryPath }))),
  );
  app.get(
    '/api/v1/findings',
    withSnapshot((snapshot, res) => {
      if (snapshot.collectedAt !== undefined) res.set('Last-Modified', new Date(snapshot.collectedAt).toUTCString());
      res.status(200).json(reportJson(snapshot.report));
    }),
  );
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
