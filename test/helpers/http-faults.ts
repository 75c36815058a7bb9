/**
 * A misbehaving HTTP hop for the fault matrix: a reverse proxy on a fixed port in front of a real upstream
 * (a llama-swap stand-in, an Immich ML stand-in) that passes requests through until told to fail in one
 * of the ways HTTP dependencies fail: refuse connections (port closed), hang (accept, never answer), a slow
 * body (headers, then a byte every 200 ms), a stream cut mid-line, or 10 MB of garbage.
 */
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from './daemon.js';

export type HttpFault = 'pass' | 'refuse' | 'hang' | 'slow-body' | 'cut' | 'garbage';

export class FaultyHttpProxy {
  mode: HttpFault = 'pass';
  /** Requests seen while failing. */
  faulted = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly port: number,
    private readonly upstream: URL,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstream: string): Promise<FaultyHttpProxy> {
    const p = new FaultyHttpProxy(await freePort(), new URL(upstream));
    await p.listen();
    return p;
  }

  /** Switch mode; 'refuse' closes the port, leaving it reopens it. */
  async set(mode: HttpFault): Promise<void> {
    this.dropAll();
    this.mode = mode;
    if (mode === 'refuse') await this.unlisten();
    else if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    this.dropAll();
    await this.unlisten();
  }

  private dropAll(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
  }

  private async unlisten(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private listen(): Promise<void> {
    const server = createServer((req, res) => {
      if (this.mode !== 'pass') this.faulted++;
      switch (this.mode) {
        case 'hang':
          return; // never answers; the socket is destroyed when the mode changes
        case 'slow-body': {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{');
          const t = setInterval(() => res.write(' '), 200);
          this.timers.add(t);
          res.on('close', () => {
            clearInterval(t);
            this.timers.delete(t);
          });
          return;
        }
        case 'cut':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
          res.write('{"data":[{"id":1,"model":"qwen3-8b","resp_status_code":20');
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        case 'garbage': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(1 << 20, 0x7b); // "{{{{…": 10 MB of it
          for (let i = 0; i < 10; i++) res.write(chunk);
          res.end();
          return;
        }
        default: {
          const up = request(
            { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
            (upRes) => {
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              upRes.pipe(res);
            },
          );
          up.on('error', () => res.destroy());
          res.on('close', () => up.destroy());
          req.pipe(up);
        }
      }
    });
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((r) => server.listen(this.port, '127.0.0.1', () => r()));
  }
}
