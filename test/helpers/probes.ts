/**
 * Stand-in HTTP servers for the probes collector (shared with the incident lab and the alert replays): a
 * server whose answer a function decides (at once, after a delay, or headers then a body that stalls), an
 * Immich ML backend (`GET /ping` → `pong`), a blackholed port (connections never complete) and a real
 * nginx balancing over backends the way an Immich ML balancer does (`proxy_next_upstream`).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, removeDir, sleep, startDaemon, tempDir, waitFor, type Daemon } from './daemon.js';

export interface Backend {
  readonly port: number;
  readonly server: Server;
  stop(): Promise<void>;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  /** Wait this long before the status line. */
  readonly delayMs?: number;
  /** Send the status line, the headers and the first half of the body, then never anything more. */
  readonly stallBody?: boolean;
}

/** A stand-in HTTP server; `answer` decides the answer to every request. */
export async function serve(answer: (path: string) => Answer, port?: number): Promise<Backend> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const a = answer(req.url ?? '/');
    const send = (): void => {
      if (a.stallBody) {
        res.writeHead(a.status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(a.body)) });
        res.write(a.body.slice(0, Math.floor(a.body.length / 2)));
        return;
      }
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
    };
    if (a.delayMs) {
      const t = setTimeout(send, a.delayMs);
      timers.add(t);
    } else send();
  });
  const listenPort = port ?? (await freePort());
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  let stopped = false;
  return {
    port: listenPort,
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

const pingPong = (p: string): Answer => (p === '/ping' ? { status: 200, body: 'pong' } : { status: 404, body: 'not found' });

/** An Immich ML backend stand-in; `port` to bring one back where it was. */
export const immichMl = (port?: number): Promise<Backend> => serve(pingPong, port);

export interface Blackhole {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A port whose connections never complete, like a backend behind a firewall that drops packets: a listening
 * socket (backlog 1) in a process that is stopped, so nothing accepts; two connections fill its accept queue,
 * after which the kernel drops every further SYN and connect() just waits.
 */
export async function blackholed(): Promise<Blackhole> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen({ port: ${port}, host: '127.0.0.1', backlog: 1 }, () => { console.log('listening'); process.kill(process.pid, 'SIGSTOP'); })`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  await sleep(50);
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    await new Promise<void>((r) => s.once('connect', () => r()));
  }
  return {
    port,
    stop: async () => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
      await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    },
  };
}

export interface NginxBalancer {
  readonly port: number;
  readonly url: string;
  /** Stops nginx (the balancer goes away; its backends stay). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  remove(): Promise<void>;
}

/** A real nginx on a free port balancing over `backendPorts` (round robin, next upstream on errors). */
export async function nginxBalancer(backendPorts: readonly number[]): Promise<NginxBalancer> {
  const dir = tempDir('probes-nginx');
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream immich_ml { ${backendPorts.map((p) => `server 127.0.0.1:${p};`).join(' ')} }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://immich_ml; proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 1s; }
  }
}
`,
  );
  let daemon: Daemon | undefined;
  const url = `http://127.0.0.1:${port}`;
  const start = async (): Promise<void> => {
    const d = startDaemon('nginx', ['-p', dir, '-e', `${dir}/error.log`, '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid;`]);
    daemon = d;
    await waitFor(async () => {
      if (d.exited()) throw new Error(`nginx exited: ${d.output()}`);
      return (await fetch(`${url}/ping`).catch(() => undefined))?.status === 200;
    }, 'nginx to answer', 15_000);
  };
  const stop = async (): Promise<void> => {
    await daemon?.stop();
    daemon = undefined;
  };
  await start();
  return {
    port,
    url,
    start,
    stop,
    remove: async () => {
      await stop();
      removeDir(dir);
    },
  };
}
