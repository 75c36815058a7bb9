/**
 * A Docker Engine API proxy for tests (issue 13, "read-only, proven"): an HTTP server on its own unix socket
 * that forwards GET and HEAD requests to a real dockerd and answers anything else with 405 without
 * forwarding it, recording every request either way. A test points the exporter at it
 * (--docker.host=unix://<proxy.socket>) and then asserts on what was called.
 *
 * `beforeForward` lets a test act between the exporter's request and dockerd's answer (for example remove the
 * container an inspect is about to read), which is how "removed between list and read" is made to happen on
 * every try instead of by luck.
 */
import { rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { removeDir, tempDir } from './daemon.js';

export interface ProxiedCall {
  readonly method: string;
  /** Path without the API version prefix and without the query string (/containers/json). */
  readonly path: string;
  /** dockerd's status, or 405 when the proxy refused the request. */
  status?: number;
}

export interface DockerGetProxy {
  readonly socket: string;
  /** Every request seen, in order of arrival. */
  readonly calls: ProxiedCall[];
  /** Requests that were not GET or HEAD (each answered 405, never forwarded). */
  refused(): ProxiedCall[];
  close(): Promise<void>;
}

/** Strips /v1.43 and the query string: what was asked for, comparable across API versions. */
export const apiPath = (url: string): string => url.replace(/\?.*$/, '').replace(/^\/v\d+(\.\d+)?(?=\/)/, '');

export async function startDockerGetProxy(target: string, beforeForward?: (call: ProxiedCall) => Promise<void>): Promise<DockerGetProxy> {
  const dir = tempDir('docker-get-proxy');
  const socket = join(dir, 'docker.sock');
  const calls: ProxiedCall[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const call: ProxiedCall = { method: req.method ?? '', path: apiPath(req.url ?? '') };
    calls.push(call);
    if (call.method !== 'GET' && call.method !== 'HEAD') {
      call.status = 405;
      req.resume();
      res.writeHead(405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `silentwatch test proxy: ${call.method} refused, the exporter must only read` }));
      return;
    }
    void (async () => {
      await beforeForward?.(call).catch(() => undefined);
      const up = request({ socketPath: target, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        call.status = upRes.statusCode;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${e.message}`);
      });
      res.on('close', () => up.destroy());
      req.pipe(up);
    })();
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socket, () => resolve()));
  return {
    socket,
    calls,
    refused: () => calls.filter((c) => c.method !== 'GET' && c.method !== 'HEAD'),
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socket, { force: true });
      removeDir(dir);
    },
  };
}
