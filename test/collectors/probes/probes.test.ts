/**
 * The probes collector in the real exporter against real HTTP servers made here (up, refused, a hang before
 * the headers, headers then a stalled body, a blackholed port, wrong body, 500) and a real nginx balancer in
 * front of two stand-in Immich ML backends (`GET /ping` → `pong`): the balancer stopped while both backends
 * answer, then one backend stopped, then both.
 */
import { connect } from 'node:net';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasCommand } from '../../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { blackholed, immichMl, nginxBalancer, serve, type Backend, type Blackhole, type NginxBalancer } from '../../helpers/probes.js';

describe('HTTP targets', () => {
  let exporter: RunningExporter;
  const servers: Backend[] = [];
  let hole: Blackhole;
  let refusedPort = 0;
  beforeAll(async () => {
    const [up, wrong, err, slow, stalled] = await Promise.all([
      immichMl(),
      serve(() => ({ status: 200, body: 'pang' })),
      serve(() => ({ status: 500, body: 'unspecific error: upstream command exited prematurely' })),
      serve(() => ({ status: 200, body: 'pong', delayMs: 20_000 })),
      serve(() => ({ status: 200, body: 'pong pong pong pong', stallBody: true })),
    ]);
    servers.push(up, wrong, err, slow, stalled);
    hole = await blackholed();
    refusedPort = await freePort();
    exporter = await startExporter([
      `--collector.probes.targets=up=http://127.0.0.1:${up.port}/ping,wrongbody=http://127.0.0.1:${wrong.port}/ping,error=http://127.0.0.1:${err.port}/,slow=http://127.0.0.1:${slow.port}/ping,stalled=http://127.0.0.1:${stalled.port}/ping,blackholed=http://127.0.0.1:${hole.port}/ping,refused=http://127.0.0.1:${refusedPort}/ping`,
      `--collector.probes.immich-ml=127.0.0.1:${up.port},127.0.0.1:${wrong.port}`,
      '--collector.probes.probe-timeout=1s',
      '--collector.probes.timeout=4s',
    ]);
  });
  afterAll(async () => {
    await exporter?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await hole?.stop();
  });

  it('the blackholed port really never completes a connection', async () => {
    const s = connect(hole.port, '127.0.0.1');
    s.on('error', () => undefined);
    const connected = await new Promise<boolean>((r) => {
      s.once('connect', () => r(true));
      setTimeout(() => r(false), 1500);
    });
    s.destroy();
    expect(connected).toBe(false);
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
    // A hang before the status line: no code arrived.
    expect(s('slow')).toEqual([0, 0]);
    expect(s('refused')).toEqual([0, 0]);
    // 200 and half the body arrived, then nothing: a failure, and the code that did arrive.
    expect(s('stalled')).toEqual([0, 200]);
    // Connection never completes: nothing arrived.
    expect(s('blackholed')).toEqual([0, 0]);
    // Each stuck target costs its time-out and no more; the scrape does not wait for a 20 s answer.
    for (const target of ['slow', 'stalled', 'blackholed']) {
      const d = m.value('silentwatch_probe_duration_seconds', { target }) ?? 0;
      expect(d, target).toBeGreaterThanOrEqual(0.9);
      expect(d, target).toBeLessThanOrEqual(1.0);
    }
    expect(took).toBeLessThan(4);
    expect(m.value('silentwatch_collector_duration_seconds', { collector: 'probes' })).toBeLessThan(1.5);
    // Plain targets are their own role.
    expect(m.value('silentwatch_probe_success', { group: 'up', target: 'up', role: 'target' })).toBe(1);
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
  let nginx: NginxBalancer;
  let a: Backend;
  let b: Backend;
  beforeAll(async () => {
    [a, b] = await Promise.all([immichMl(), immichMl()]);
    nginx = await nginxBalancer([a.port, b.port]);
    const balancers = `[{name: immich-ml, url: "${nginx.url}", backends: "127.0.0.1:${a.port},127.0.0.1:${b.port}"}]`;
    exporter = await startExporter(['--collector.probes.probe-timeout=1500ms', '--collector.probes.timeout=4s'], { SILENTWATCH_COLLECTOR_PROBES_BALANCERS: balancers });
  });
  afterAll(async () => {
    await exporter?.stop();
    await nginx?.remove();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const probe = async (): Promise<Record<string, number | undefined>> => {
    const m = await exporter.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'probes' })).toBe(1);
    return {
      balancer: m.value('silentwatch_probe_success', { group: 'immich-ml', target: `127.0.0.1:${nginx.port}`, role: 'balancer' }),
      a: m.value('silentwatch_probe_success', { group: 'immich-ml', target: `127.0.0.1:${a.port}`, role: 'backend' }),
      b: m.value('silentwatch_probe_success', { group: 'immich-ml', target: `127.0.0.1:${b.port}`, role: 'backend' }),
    };
  };
  const code = async (target: string): Promise<number | undefined> => (await exporter.metrics()).value('silentwatch_probe_http_status_code', { group: 'immich-ml', target });

  it('all up: the balancer and each backend answer pong, each with its role', async () => {
    expect(await probe()).toEqual({ balancer: 1, a: 1, b: 1 });
  });

  it('the balancer stopped while both backends answer: only the balancer fails, with no status code', async () => {
    await nginx.stop();
    expect(await probe()).toEqual({ balancer: 0, a: 1, b: 1 });
    expect(await code(`127.0.0.1:${nginx.port}`)).toBe(0);
    await nginx.start();
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
    expect(await code(`127.0.0.1:${nginx.port}`)).toBe(502);
  });
});
