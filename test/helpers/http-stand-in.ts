/** Stand-in HTTP servers for the probes tests and the fault matrix: any answer, and an Immich ML backend (`GET /ping` → `pong`). */
import { createServer, type Server } from 'node:http';
import { freePort } from './daemon.js';

export interface Backend {
  readonly port: number;
  readonly server: Server;
  stop(): Promise<void>;
}

/** A stand-in HTTP server; `handler` decides the answer to every request. */
export async function serve(answer: (path: string) => { status: number; body: string; delayMs?: number }): Promise<Backend> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const a = answer(req.url ?? '/');
    const send = (): void => {
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
    };
    if (a.delayMs) {
      const t = setTimeout(send, a.delayMs);
      timers.add(t);
    } else send();
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  let stopped = false;
  return {
    port,
    server,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export const immichMl = (): Promise<Backend> => serve((p) => (p === '/ping' ? { status: 200, body: 'pong' } : { status: 404, body: 'not found' }));
