/**
 * The status page and the findings API obey the web config like /metrics: over TLS only, and only to the right
 * basic-auth credentials; /healthz stays open for container health checks. Real exporter, real TLS client.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, removeDir, tempDir } from '../helpers/daemon.js';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';

const run = promisify(execFile);
const dir = tempDir('page-auth');
const PASSWORD = 'page-auth-correct-horse';
let cert: Buffer;
let exporter: RunningExporter;

async function get(path: string, auth?: string): Promise<{ status: number; body: string; type: string }> {
  const headers = auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {};
  const res = await new Promise<IncomingMessage>((resolve, reject) => request({ host: '127.0.0.1', port: exporter.port, path, ca: cert, servername: 'localhost', headers }, resolve).on('error', reject).end());
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), type: String(res.headers['content-type'] ?? '') };
}

beforeAll(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  cert = readFileSync(join(dir, 'cert.pem'));
  writeFileSync(join(dir, 'web.yml'), `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  admin: '${await bcrypt.hash(PASSWORD, 4)}'\n`);
  const closed = await freePort();
  const sys = tempDir('page-auth-sys');
  exporter = await startExporter([`--web.config-file=${join(dir, 'web.yml')}`, `--path.sysfs=${sys}`, '--docker.host=unix:///nonexistent/docker.sock', `--collector.queues.redis-url=redis://127.0.0.1:${closed}`, '--collector.nvidia.binary=/nonexistent/nvidia-smi', '--collector.llamaswap.default-url=']);
  removeDir(sys);
});
afterAll(async () => {
  await exporter?.stop();
  removeDir(dir);
});

describe('status page and findings API behind the web config', () => {
  it('answer 401 without or with wrong credentials, and give nothing away', async () => {
    for (const path of ['/', '/api/v1/findings']) {
      for (const auth of [undefined, 'admin:wrong', `someone:${PASSWORD}`]) {
        const r = await get(path, auth);
        expect(r.status, `${path} ${auth ?? 'no auth'}`).toBe(401);
        expect(r.body).not.toMatch(/finding|collector|silentwatch_/);
      }
    }
  });

  it('serve the right credentials over TLS only', async () => {
    const page = await get('/', `admin:${PASSWORD}`);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('No problems found.');
    const api = await get('/api/v1/findings', `admin:${PASSWORD}`);
    expect(api.status).toBe(200);
    expect(JSON.parse(api.body)).toMatchObject({ exit_code: 0, findings: [] });
    const plain = await fetch(`http://127.0.0.1:${exporter.port}/api/v1/findings`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });

  it('/healthz stays open', async () => {
    const r = await get('/healthz');
    expect(r).toMatchObject({ status: 200, body: 'ok\n' });
  });
});
