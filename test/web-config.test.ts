/**
 * TLS and basic auth from an exporter-toolkit web config file, tested with a real TLS client against
 * the real exporter process: wrong and missing credentials, plain HTTP to the TLS port, and no secret
 * in logs or pages.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from './helpers/daemon.js';
import { CLI, cleanEnv, startExporter, type RunningExporter } from './helpers/exporter.js';

const run = promisify(execFile);
const dir = tempDir('webcfg');
const PASSWORD = 'correct-horse-battery-staple';
let cert: Buffer;

function get(port: number, path: string, auth?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca: cert, servername: 'localhost', headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let exporter: RunningExporter;
beforeAll(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  cert = (await import('node:fs')).readFileSync(join(dir, 'cert.pem'));
  const hash = await bcrypt.hash(PASSWORD, 10);
  // exporter-toolkit's own format; relative paths resolve against the file's directory; $2y$ as htpasswd writes it
  writeFileSync(
    join(dir, 'web.yml'),
    `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: '${hash.replace(/^\$2b\$/, '$2y$')}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`,
  );
  exporter = await startExporter([`--web.config.file=${join(dir, 'web.yml')}`]);
});
afterAll(async () => {
  await exporter?.stop();
  removeDir(dir);
});

describe('web config: TLS + basic auth', () => {
  it('serves /metrics over TLS to the right credentials only', async () => {
    const ok = await get(exporter.port, '/metrics', `prometheus:${PASSWORD}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('silentwatch_build_info');
    expect(ok.headers['x-frame-options']).toBe('deny');
    expect((await get(exporter.port, '/metrics')).status).toBe(401);
    expect((await get(exporter.port, '/metrics', 'prometheus:wrong')).status).toBe(401);
    expect((await get(exporter.port, '/metrics', `someone:${PASSWORD}`)).status).toBe(401);
    expect((await get(exporter.port, '/', `prometheus:wrong`)).status).toBe(401);
    // cached success: repeated scrapes stay fast and correct
    for (let i = 0; i < 3; i++) expect((await get(exporter.port, '/metrics', `prometheus:${PASSWORD}`)).status).toBe(200);
  });

  it('plain HTTP to the TLS port gets no metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${exporter.port}/metrics`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(res).not.toBe(200);
  });

  it('/healthz stays open for container health checks', async () => {
    expect((await get(exporter.port, '/healthz')).body).toBe('ok\n');
  });

  it('no secret in logs or on the landing page', async () => {
    const page = await get(exporter.port, '/', `prometheus:${PASSWORD}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain(PASSWORD);
    expect(exporter.daemon.output()).not.toContain(PASSWORD);
    expect(exporter.daemon.output()).not.toContain('$2y$');
    expect(exporter.logs().find((l) => l.msg === 'listening')).toMatchObject({ tls: true, basic_auth: true });
  });
});

describe('web config errors exit 2 naming the key', () => {
  async function cli(file: string) {
    return run(process.execPath, [CLI, `--web.config-file=${file}`, '--web.listen-address=127.0.0.1:0'], { env: cleanEnv(), timeout: 20_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
  }
  it.each([
    ['basic_auth_users:\n  alice: plaintext\n', /basic_auth_users\.alice: expected a bcrypt hash/],
    ['tls_server_config:\n  cert_file: nope.pem\n  key_file: nope.key\n', /tls_server_config\.cert_file: cannot read .*nope\.pem: ENOENT/],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS99\n', /tls_server_config\.min_version/],
    ['basic_auth_user: {}\n', /unknown key basic_auth_user/],
  ])('%j', async (yaml, pattern) => {
    const f = join(dir, `bad-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(f, yaml);
    const r = await cli(f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
  });
  it('a missing web config file', async () => {
    const r = await cli('/nonexistent/web.yml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/web config: cannot read \/nonexistent\/web\.yml: ENOENT/);
  });
});
