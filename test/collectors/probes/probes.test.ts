/**
 * The probes collector in the real exporter against real HTTP servers made here (up, refused, slow past
 * the time-out, wrong body, 500) and a real nginx balancer in front of two stand-in Immich ML backends
 * (`GET /ping` → `pong`), one of them stopped mid-test, then both.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasCommand, removeDir, startDaemon, tempDir, waitFor, type Daemon } from '../../helpers/daemon.js';
import { immichMl, serve, type Backend } from '../../helpers/http-stand-in.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';

describe('HTTP targets', () => {
  let exporter: RunningExporter;
  const servers: Backend[] = [];
  let refusedPort = 0;
  beforeAll(async () => {
    const [up, wrong, err, slow] = await Promise.all([
      immichMl(),
      serve(() => ({ status: 200, body: 'pang' })),
      serve(() => ({ status: 500, body: 'unspecific error: upstream command exited prematurely' })),
      serve(() => ({ status: 200, body: 'pong', delayMs: 20_000 })),
    ]);
    servers.push(up, wrong, err, slow);
    refusedPort = await freePort();
    exporter = await startExporter([
      `--collector.probes.targets=up=http://127.0.0.1:${up.port}/ping,wrongbody=http://127.0.0.1:${wrong.port}/ping,error=http://127.0.0.1:${err.port}/,slow=http://127.0.0.1:${slow.port}/ping,refused=http://127.0.0.1:${refusedPort}/ping`,
      `--collector.probes.immich-ml=127.0.0.1:${up.port},127.0.0.1:${wrong.port}`,
      '--collector.probes.probe-timeout=1s',
      '--collector.probes.timeout=4s',
    ]);
  });
  afterAll(async () => {
    await exporter?.stop();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('reports each target by its configured name, with status codes', async () => {
    const started = performance.now();
    const m = await exporter.metrics();
    const took = (performance.now() - started) / 1000;
    expect(m.value('silentwatch_collector_success', { collector: 'probes' })).toBe(1);
    const s = (target: string): [number | undefined, number | undefined] => [
      m.value('silentwatch_probe_success', { group: target, target }),
      m.value('silentwatch_probe_http_status_code', { group: target, target }),
    ];
    expect(s('up')).toEqual([1, 200]);
    expect(s('wrongbody')).toEqual([1, 200]); // no expect_body on a plain target: any 2xx is fine
    expect(s('error')).toEqual([0, 500]);
    expect(s('slow')).toEqual([0, 0]);
    expect(s('refused')).toEqual([0, 0]);
    // The slow target costs its time-out and no more; the scrape does not wait for its 20 s answer.
    const slowDuration = m.value('silentwatch_probe_duration_seconds', { target: 'slow' }) ?? 0;
    expect(slowDuration).toBeGreaterThanOrEqual(0.9);
    expect(slowDuration).toBeLessThanOrEqual(1.0);
    expect(took).toBeLessThan(4);
    expect(m.value('silentwatch_probe_duration_seconds', { target: 'up' })).toBeLessThan(1);
  });

  it('the Immich ML preset expects pong from /ping', async () => {
    const m = await exporter.metrics();
    const [up, wrong] = servers;
    expect(m.value('silentwatch_probe_success', { group: 'immich_ml', target: `127.0.0.1:${up!.port}` })).toBe(1);
    expect(m.value('silentwatch_probe_success', { group: 'immich_ml', target: `127.0.0.1:${wrong!.port}` })).toBe(0);
    expect(m.value('silentwatch_probe_http_status_code', { group: 'immich_ml', target: `127.0.0.1:${wrong!.port}` })).toBe(200);
    // Label values are names or host:port, never URLs.
    for (const smp of m.samples.filter((x) => x.name.startsWith('silentwatch_probe_'))) expect(smp.labels.target).not.toMatch(/\/|\?/);
  });

  it('a target that comes back is seen on the next scrape', async () => {
    // Start a server on the port that refused connections so far.
    const again = createServer((_req, res) => res.end('pong'));
    await new Promise<void>((r) => again.listen(refusedPort, '127.0.0.1', r));
    try {
      const m = await exporter.metrics();
      expect(m.value('silentwatch_probe_success', { target: 'refused' })).toBe(1);
      expect(m.value('silentwatch_probe_http_status_code', { target: 'refused' })).toBe(200);
    } finally {
      again.closeAllConnections();
      await new Promise<void>((r) => again.close(() => r()));
    }
  });
});

describe.skipIf(!hasCommand('nginx'))('nginx balancer in front of two Immich ML backends', () => {
  let exporter: RunningExporter;
  let nginx: Daemon;
  let dir: string;
  let a: Backend;
  let b: Backend;
  let port = 0;
  beforeAll(async () => {
    dir = tempDir('probes-nginx');
    [a, b] = await Promise.all([immichMl(), immichMl()]);
    port = await freePort();
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
  upstream immich_ml { server 127.0.0.1:${a.port}; server 127.0.0.1:${b.port}; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://immich_ml; proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 1s; }
  }
}
`,
    );
    nginx = startDaemon('nginx', ['-p', dir, '-e', `${dir}/error.log`, '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid;`]);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/ping`)).status === 200, 'nginx to answer', 15_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${nginx.output()}`);
    });
    const balancers = `[{name: immich-ml, url: "http://127.0.0.1:${port}", backends: "127.0.0.1:${a.port},127.0.0.1:${b.port}"}]`;
    exporter = await startExporter(['--collector.probes.probe-timeout=1500ms', '--collector.probes.timeout=4s'], { SILENTWATCH_COLLECTOR_PROBES_BALANCERS: balancers });
  });
  afterAll(async () => {
    await exporter?.stop();
    await nginx?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) removeDir(dir);
  });

  const probe = async (): Promise<Record<string, number | undefined>> => {
    const m = await exporter.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'probes' })).toBe(1);
    return {
      balancer: m.value('silentwatch_probe_success', { group: 'immich-ml', target: `127.0.0.1:${port}` }),
      a: m.value('silentwatch_probe_success', { group: 'immich-ml', target: `127.0.0.1:${a.port}` }),
      b: m.value('silentwatch_probe_success', { group: 'immich-ml', target: `127.0.0.1:${b.port}` }),
    };
  };

  it('all up: the balancer and each backend answer pong', async () => {
    expect(await probe()).toEqual({ balancer: 1, a: 1, b: 1 });
  });

  it('one backend stopped: its probe fails while the balancer still answers (group partly up)', async () => {
    await a.stop();
    expect(await probe()).toEqual({ balancer: 1, a: 0, b: 1 });
    // Several scrapes: nginx keeps routing around the dead backend, the probe keeps seeing it dead.
    for (let i = 0; i < 3; i++) expect(await probe()).toEqual({ balancer: 1, a: 0, b: 1 });
  });

  it('all backends stopped: every probe of the group fails, the balancer answers 502', async () => {
    await b.stop();
    expect(await probe()).toEqual({ balancer: 0, a: 0, b: 0 });
    const m = await exporter.metrics();
    expect(m.value('silentwatch_probe_http_status_code', { group: 'immich-ml', target: `127.0.0.1:${port}` })).toBe(502);
  });
});
