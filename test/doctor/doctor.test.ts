/**
 * `silentwatch doctor` against real components: a real dockerd with containers made to trip each
 * Docker-side finding (an ML container without a memory limit and with MACHINE_LEARNING_MODEL_TTL=0, a
 * real OOM kill inside a running container), a real Redis with a stuck BullMQ queue, a fake T4 through
 * the stand-in nvidia-smi. Each finding appears with its fix; a clean setup reports nothing above info.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, removeDir, tempDir, waitFor } from '../helpers/daemon.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../helpers/dockerd.js';
import { REPO_ROOT, runCli } from '../helpers/exporter.js';
import { bullmqQueues, connectionOf, IMMICH_PREFIX, type Closer } from '../helpers/queues.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';

const NVIDIA = join(REPO_ROOT, 'test/fixtures/nvidia');

const doctor = (args: string[], env: Record<string, string> = {}): ReturnType<typeof runCli> => runCli(['doctor', ...args], env);

interface Finding {
  check: string;
  severity: string;
  title: string;
  evidence: string[];
  fix: string;
  runbook?: string;
}

const skip = dockerUnavailableReason();
describe.skipIf(skip !== undefined)(`doctor on a broken Immich-like host${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  let redis: RunningRedis;
  let queues: Closer | undefined;
  let gpuDir: string;

  beforeAll(async () => {
    [dockerd, redis] = await Promise.all([startDockerd(), startRedis()]);
    // seed 000 + 002: the ML container, no memory limit, TTL 0
    await dockerd.runContainer(['--name', 'immich_machine_learning', '-e', 'MACHINE_LEARNING_MODEL_TTL=0', '--label', 'com.docker.compose.service=immich-machine-learning']);
    // seed 000: a worker OOM-killed inside a container that stays running
    await dockerd.runContainer(['--name', 'immich_server', '-m', '64m']);
    await dockerd.cli(['exec', 'immich_server', 'sh', '-c', 'dd if=/dev/zero bs=100M count=1 | cat >/dev/null']).catch(() => undefined);
    // a stuck queue: smartSearch with waiting jobs and no worker
    const q = await bullmqQueues('bullmq6', connectionOf(redis.port), IMMICH_PREFIX, ['smartSearch'], 25);
    queues = q.close;
    // seed 002's T4 through the stand-in nvidia-smi
    gpuDir = tempDir('doctor-gpu');
    copyFileSync(join(NVIDIA, 'gpu-t4-seed002.csv'), join(gpuDir, 'gpu.csv'));
    copyFileSync(join(NVIDIA, 'apps-t4-seed002.csv'), join(gpuDir, 'apps.csv'));
    mkdirSync(join(gpuDir, 'x'), { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await queues?.();
    await Promise.all([dockerd?.stop(), redis?.stop()]);
    if (gpuDir) removeDir(gpuDir);
  });

  it('finds each problem with its evidence and fix, and exits 2 (critical)', async () => {
    const args = ['--json', `--docker.host=${dockerd.host}`, `--collector.queues.redis-url=${redis.url}`, `--collector.nvidia.binary=${join(NVIDIA, 'fake-nvidia-smi.sh')}`, '--collector.timeout=8s'];
    const r = await waitFor(
      async () => {
        const res = await doctor(args, { FAKE_NVIDIA_SMI_DIR: gpuDir });
        const f = (JSON.parse(res.stdout) as { findings: Finding[] }).findings;
        // the OOM kill and the queue must both be seen (the first may race the container's start)
        return f.some((x) => x.check === 'silent-oom-kills') && f.some((x) => x.check === 'stuck-queue') ? res : undefined;
      },
      'doctor to see all findings',
      60_000,
      1000,
    );
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as { exit_code: number; findings: Finding[]; skipped: Array<{ check: string; reason: string }> };
    expect(report.exit_code).toBe(2);
    const by = (check: string) => report.findings.filter((f) => f.check === check);

    const oom = by('silent-oom-kills').find((f) => f.title.includes('immich_server'));
    expect(oom?.severity).toBe('critical');
    expect(oom?.evidence.join('\n')).toMatch(/Docker: running, restarts 0, OOMKilled false/);

    expect(by('ml-memory-limit')[0]?.title).toBe('immich_machine_learning has no memory limit');
    expect(by('ml-memory-limit')[0]?.fix).toContain('deploy.resources.limits.memory: 6144M');
    expect(by('model-ttl-zero')[0]?.fix).toContain('MACHINE_LEARNING_MODEL_TTL=600');

    const q = by('stuck-queue')[0];
    expect(q?.severity).toBe('critical');
    expect(q?.title).toMatch(/^queue immich_bull:smartSearch \(127\.0\.0\.1:\d+\/0\) has 25 job\(s\) and no worker connected$/);
    expect(q?.fix).toContain('LLEN immich_bull:smartSearch:wait');

    const vram = by('low-vram')[0];
    expect(vram?.title).toBe('GPU 0 has only 2.2 GiB of 15.0 GiB free');
    for (const f of report.findings) expect(f.fix.length).toBeGreaterThan(20);
  });

  it('the text form is readable in a terminal: severity, evidence, fix, runbook', async () => {
    const r = await doctor([`--docker.host=${dockerd.host}`, `--collector.queues.redis-url=${redis.url}`, '--collector.nvidia.binary=/nonexistent/nvidia-smi']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^silentwatch doctor: \d+ critical, \d+ warning, \d+ info; \d+ checks passed, \d+ skipped$/m);
    expect(r.stdout).toMatch(/^CRITICAL {2}\d+ process\(es\) OOM-killed inside container immich_server/m);
    expect(r.stdout).toMatch(/^ {10}fix: {6}/m);
    expect(r.stdout).toMatch(/^ {10}runbook: {2}docs\/runbooks\/ContainerOOMKillInside\.md$/m);
    expect(r.stdout).toMatch(/^SKIPPED {3}low-vram: no GPU memory data/m);
  });
});

describe('doctor on a clean host', () => {
  it('reports nothing above info, exits 0, and says why each check was skipped', async () => {
    const closed = await freePort();
    // An empty sysfs: no container cgroups, so containers left by other test files on this machine don't count.
    const emptySys = tempDir('doctor-sys');
    const r = await doctor(['--json', `--path.sysfs=${emptySys}`, '--docker.host=unix:///nonexistent/docker.sock', `--collector.queues.redis-url=redis://127.0.0.1:${closed}`, '--collector.nvidia.binary=/nonexistent/nvidia-smi', '--collector.llamaswap.default-url=']);
    removeDir(emptySys);
    const report = JSON.parse(r.stdout) as { exit_code: number; findings: Finding[]; skipped: Array<{ check: string; reason: string }> };
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(r.code).toBe(0);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.check, s.reason]));
    expect(reasons['ml-memory-limit']).toMatch(/Docker not reachable/);
    expect(reasons['stuck-queue']).toMatch(/no Redis/);
    expect(reasons['low-vram']).toMatch(/no nvidia-smi/);
  });
});
