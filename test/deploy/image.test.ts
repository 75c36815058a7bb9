/**
 * The Dockerfile, built for real under dockerd against a locally assembled Node base image (base images
 * cannot be pulled here), then run the way the README says: host /proc and /sys read-only, read-only
 * root filesystem. The container must serve /metrics with the host collector working.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, removeDir, tempDir, waitFor } from '../helpers/daemon.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../helpers/dockerd.js';
import { REPO_ROOT } from '../helpers/exporter.js';
import { parseExposition } from '../helpers/metrics-text.js';
import { importNodeBaseImage } from '../helpers/node-base-image.js';

const skip = dockerUnavailableReason();
describe.skipIf(skip !== undefined)(`Docker image${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('image');
    dockerd = await startDockerd();
  }, 120_000);
  // Removing the vfs layers of a built image takes a while on a loaded machine.
  afterAll(async () => {
    await dockerd?.stop();
    if (dir) removeDir(dir);
  }, 300_000);

  it('builds with the project Dockerfile and serves /metrics from a read-only container', async () => {
    const base = await importNodeBaseImage(dockerd, dir);
    // --network host: the build stage's npm ci reaches the registry the host reaches (no bridge here).
    await dockerd.cli(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${base}`, '-t', 'silentwatch:test', REPO_ROOT], 600_000);
    const { stdout: inspect } = await dockerd.cli(['image', 'inspect', 'silentwatch:test']);
    const image = JSON.parse(inspect)[0];
    expect(image.Config.Healthcheck.Test.join(' ')).toContain('/healthz');
    // The node flags are those of `npm start` (package.json is their one source).
    const startFlags = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ').filter((a) => a.startsWith('--'));
    expect(image.Config.Entrypoint).toEqual(['node', ...startFlags, '/app/dist/cli.js']);
    // production dependencies only: no test tooling in the runtime image
    const { stdout: ls } = await dockerd.cli(['run', '--rm', '--entrypoint', 'ls', 'silentwatch:test', '/app/node_modules']);
    expect(ls).toContain('prom-client');
    expect(ls).not.toContain('vitest');
    expect(ls).not.toContain('typescript');

    const port = await freePort();
    await dockerd.cli([
      'run', '-d', '--name', 'silentwatch', '--network', 'host', '--read-only', '--tmpfs', '/tmp',
      '-v', '/proc:/host/proc:ro', '-v', '/sys:/host/sys:ro',
      'silentwatch:test', '--path.procfs=/host/proc', '--path.sysfs=/host/sys', `--web.listen-address=127.0.0.1:${port}`,
    ]);
    const body = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return res.ok ? res.text() : undefined;
    }, 'containerised exporter', 30_000, 250);
    const m = parseExposition(body);
    expect(m.value('silentwatch_collector_success', { collector: 'host' })).toBe(1);
    const hostOom = Number(/^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1]);
    expect(m.value('silentwatch_host_oom_kills_total')).toBeGreaterThanOrEqual(hostOom);
    expect(m.get('silentwatch_build_info')).toHaveLength(1);
  }, 900_000);
});
