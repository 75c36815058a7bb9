/**
 * Secrets never leave the exporter (issue 13): one real exporter configured with every kind of secret it
 * accepts — a Redis password (in redis_url, wrong on purpose so the error path runs), a llama-swap api_key,
 * credentials and tokens inside llama-swap and probe URLs, basic-auth users with a bcrypt hash — at log level
 * debug, with every collector failing against its dependency. Then every output an outsider or an operator
 * sees is grepped for every secret: the logs, /metrics, the landing page, /healthz, a 404 page, `doctor`
 * (text and JSON), and the exit-2 message of a bad config that carries the same secrets.
 * The HTTP side: what a response echoes back is escaped, unknown paths 404, nothing lists a directory.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, removeDir, tempDir } from '../helpers/daemon.js';
import { runCli, startExporter, type RunningExporter } from '../helpers/exporter.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';

const SECRETS = {
  redisPassword: 'redis-pw-Zq81x',
  llamaApiKey: 'llama-key-Hx52v',
  llamaUrlPassword: 'llama-url-pw-Kp33',
  llamaUrlToken: 'llama-url-token-Wm77',
  probeUrlPassword: 'probe-url-pw-Jd44',
  probeUrlToken: 'probe-url-token-Rt19',
  webPassword: 'web-pw-Lc90q',
} as const;
let webHash = '';

const dir = tempDir('secrets');
let redis: RunningRedis;
let exporter: RunningExporter;
let configFile = '';
let webConfig = '';
const AUTH = { Authorization: `Basic ${Buffer.from(`prometheus:${SECRETS.webPassword}`).toString('base64')}` };

/** Every secret, and the recognisable parts of the bcrypt hash, found in `text` (empty = clean). */
function leaked(text: string): string[] {
  const found: string[] = Object.entries(SECRETS)
    .filter(([, s]) => text.includes(s) || text.includes(encodeURIComponent(s)))
    .map(([k]) => k);
  // The hash's salt+digest (after "$2b$10$"): a leak of the hash is a leak even if re-prefixed.
  if (webHash && text.includes(webHash.slice(7))) found.push('webHash');
  return found;
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCli(args);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** A raw GET, so paths like /%3Cscript%3E reach the server exactly as written. */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  redis = await startRedis({ password: 'the-real-one' });
  const closed = await freePort(); // nothing listens: llama-swap and the probe are refused
  webHash = await bcrypt.hash(SECRETS.webPassword, 4);
  webConfig = join(dir, 'web.yml');
  writeFileSync(webConfig, `basic_auth_users:\n  prometheus: '${webHash}'\n`);
  configFile = join(dir, 'silentwatch.yml');
  writeFileSync(
    configFile,
    [
      'log:',
      '  level: debug',
      'collectors:',
      '  timeout: 2s',
      '  queues:',
      '    enabled: true',
      `    redis_url: redis://:${SECRETS.redisPassword}@127.0.0.1:${redis.port}`,
      '  llamaswap:',
      '    enabled: true',
      `    api_key: ${SECRETS.llamaApiKey}`,
      '    servers:',
      `      - name: main`,
      `        url: http://127.0.0.1:${closed}`,
      '  probes:',
      '    enabled: true',
      '    targets:',
      '      - name: ml',
      `        url: http://probe:${SECRETS.probeUrlPassword}@127.0.0.1:${closed}/ping?token=${SECRETS.probeUrlToken}`,
      '',
    ].join('\n'),
  );
  exporter = await startExporter([`--config=${configFile}`, `--web.config-file=${webConfig}`]);
}, 60_000);

afterAll(async () => {
  await exporter?.stop();
  await redis?.stop();
  removeDir(dir);
});

describe('secrets never appear in what the exporter shows', () => {
  it('the configuration really was exercised: every collector holding a secret ran and failed against its dependency', async () => {
    // a few scrapes, so each failure path (and its log line) has run
    let body = '';
    for (let i = 0; i < 3; i++) body = await (await fetch(`${exporter.url}/metrics`, { headers: AUTH })).text();
    expect(body).toMatch(/silentwatch_collector_success\{collector="queues"\} 0/);
    expect(body).toMatch(/silentwatch_llamaswap_up\{server="main"\} 0/);
    expect(body).toMatch(/silentwatch_probe_success\{[^}]*target="ml"[^}]*\} 0/);
    const failures = exporter.logs().filter((l) => l.msg === 'collector failed');
    expect(failures.map((l) => l.collector)).toContain('queues');
    expect(JSON.stringify(failures)).toMatch(/WRONGPASS|invalid username-password/);
    expect(leaked(body)).toEqual([]);
  });

  it('logs (debug level), landing page, /healthz and a 404 page', async () => {
    const landing = await rawGet(exporter.port, '/', AUTH);
    expect(landing.status).toBe(200);
    expect(landing.body).toContain('<b>queues</b>');
    const pages = [landing, await rawGet(exporter.port, '/healthz'), await rawGet(exporter.port, '/nope', AUTH), await rawGet(exporter.port, '/metrics')];
    for (const p of pages) expect(leaked(p.body), p.body.slice(0, 200)).toEqual([]);
    expect(exporter.daemon.output()).toMatch(/Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/); // the URL is logged, masked
    expect(leaked(exporter.daemon.output())).toEqual([]);
  });

  it('doctor, text and JSON, with the same configuration', async () => {
    for (const json of [[], ['--json']]) {
      const r = await cli(['doctor', ...json, `--config=${configFile}`, '--web.listen-address=127.0.0.1:0']);
      expect(r.out.length).toBeGreaterThan(50);
      expect(leaked(r.out)).toEqual([]);
    }
  });

  it('the exit-2 message of a bad configuration that also carries the secrets', async () => {
    const r = await cli([`--config=${configFile}`, `--web.config-file=${webConfig}`, '--collector.timeout=banana']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/collectors\.timeout/);
    expect(leaked(r.out)).toEqual([]);
    // a secret inside the invalid value itself is not echoed either: a malformed Redis URL, and credentials
    // and a token in a llama-swap URL (refused: API keys belong in api_key)
    for (const [arg, key] of [
      [`--collector.queues.redis-url=redis://:${SECRETS.redisPassword}@[::1`, /redis_url/],
      [`--collector.llamaswap.servers=main=http://admin:${SECRETS.llamaUrlPassword}@127.0.0.1:1/?token=${SECRETS.llamaUrlToken}`, /llamaswap\.servers/],
    ] as const) {
      const bad = await cli([arg]);
      expect(bad.code, bad.out).toBe(2);
      expect(bad.out).toMatch(key);
      expect(leaked(bad.out)).toEqual([]);
    }
  });
});

describe('HTTP responses escape what they echo; unknown paths 404; no directory listing', () => {
  it('a path with markup is not reflected as markup', async () => {
    for (const path of ['/%3Cscript%3Ealert(1)%3C/script%3E', '/<script>alert(1)</script>', '/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E', '/metrics/%3Cb%3E']) {
      const r = await rawGet(exporter.port, path, AUTH);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toMatch(/<script|<img|<b>/i);
      expect(r.type).not.toMatch(/javascript/);
    }
  });

  it('no directory listing or file serving, whatever the path', async () => {
    for (const path of ['/..', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/dist/', '/src/', '/node_modules/', '/.git/config', '/package.json']) {
      const r = await rawGet(exporter.port, path, AUTH);
      expect([400, 404], path).toContain(r.status);
      expect(r.body).not.toMatch(/root:x:0|Index of|"dependencies"|\[core\]/);
    }
  });

  it('methods other than GET/HEAD are not served', async () => {
    const res = await fetch(`${exporter.url}/metrics`, { method: 'POST', headers: AUTH, body: 'x' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.text()).not.toContain('silentwatch_build_info');
  });
});

describe('the landing page escapes every field it shows', () => {
  it('markup in a collector error, reason, detail or the telemetry path comes out as text', async () => {
    const { landingPage } = await import('../../src/server.js');
    const evil = '<script>alert(1)</script>"\'&';
    const page = landingPage(
      [
        { name: 'queues', description: 'd', status: 'active', reason: evil, failures: 1, details: { [evil]: evil }, last: { success: false, durationSeconds: 0.01, error: evil, at: new Date(0), samples: 0 } },
        { name: 'drm', description: evil, status: 'not-detected', reason: evil, failures: 0 },
      ],
      `/metrics${evil}`,
    );
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    // 4 fields of queues, 2 of drm, the telemetry path as href and as text
    expect(page.match(/&lt;script&gt;/g)?.length).toBe(8);
  });
});
