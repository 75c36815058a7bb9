/**
 * Fault matrix, Docker (containers collector): one real dockerd for the file, and per case a unix-socket
 * relay between the exporter and dockerd that passes bytes through until the socket goes missing or starts
 * accepting connections it never answers. Cases run concurrently; names are the rows of docs/reliability.md.
 */
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../helpers/dockerd.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { describeReport, runFault } from '../helpers/faults.js';

const TIMEOUT_MS = 1000;
const skip = dockerUnavailableReason();
let dockerd: RunningDockerd | undefined;
const closers: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  if (skip) return;
  dockerd = await startDockerd();
  await dockerd.runContainer(['--name', 'steady', '--memory', '64m']);
}, 120_000);
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await dockerd?.stop();
}, 120_000);

/** A unix socket relaying to dockerd's; 'missing' removes it, 'silent' accepts and never answers. */
async function relay(target: string): Promise<{ path: string; set(mode: 'pass' | 'missing' | 'silent'): Promise<void> }> {
  const dir = tempDir('docker-relay');
  const path = join(dir, 'docker.sock');
  let mode: 'pass' | 'missing' | 'silent' = 'pass';
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (): Promise<void> => {
    server = createServer((c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
      c.on('error', () => undefined);
      if (mode === 'silent') return;
      const up = createConnection(target);
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
      c.on('close', () => up.destroy());
    });
    return new Promise((r) => (server as Server).listen(path, () => r()));
  };
  const unlisten = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const c of sockets) c.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
    rmSync(path, { force: true });
  };
  await listen();
  closers.push(async () => {
    await unlisten();
    removeDir(dir);
  });
  return {
    path,
    async set(m) {
      for (const c of sockets) c.destroy();
      mode = m;
      if (m === 'missing') await unlisten();
      else if (!server) await listen();
    },
  };
}

async function exporter(socket: string): Promise<RunningExporter> {
  const e = await startExporter([
    '--collector.timeout=1s',
    '--collector.containers',
    '--collector.containers.docker=true',
    `--docker.host=unix://${socket}`,
    '--docker.timeout=500ms',
    '--no-collector.nvidia',
    '--no-collector.queues',
    '--no-collector.llamaswap',
  ]);
  closers.push(() => e.stop());
  return e;
}

describe.skipIf(skip).concurrent('fault matrix: Docker (containers)', { timeout: 150_000 }, () => {
  for (const [name, mode] of [
    ['socket missing', 'missing'],
    ['a socket that accepts and never answers', 'silent'],
  ] as const) {
    it(`docker: ${name}`, async () => {
      const r = await relay((dockerd as RunningDockerd).socket);
      const e = await exporter(r.path);
      const named = (m: { get(n: string, l: Record<string, string>): unknown[] }): boolean => m.get('silentwatch_container_state', { container: 'steady' }).length > 0;
      const rep = await runFault({
        exporter: e,
        collector: 'containers',
        timeoutMs: TIMEOUT_MS,
        healthy: named,
        inject: () => r.set(mode),
        clear: () => r.set('pass'),
      });
      console.log(describeReport(`docker: ${name}`, rep));
      expect(rep.cause).toMatch(/Docker API/);
    });
  }
});
