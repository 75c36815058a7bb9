/**
 * PID → container attribution of GPU memory against real processes: a busybox container under a private
 * dockerd; the fake nvidia-smi reports that container's host PID (as the real one does with the host PID
 * namespace), and the per-process series must carry the container's name and compose labels. A second
 * case maps a Kubernetes (containerd, systemd driver) cgroup path from the identity fixtures.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../../helpers/daemon.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../../helpers/dockerd.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { FAKE_NVIDIA_SMI, fakeNvidiaSmiDir } from '../../helpers/nvidia.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const FAKE = FAKE_NVIDIA_SMI;
const UUID = 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21';
const MiB = 1024 * 1024;
const skip = dockerUnavailableReason();

const exporters: RunningExporter[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(exporters.map((e) => e.stop()));
  for (const d of dirs) removeDir(d);
});

function fakeDir(apps: string): string {
  const d = fakeNvidiaSmiDir('gpu-t4-seed002.csv', { text: apps }, 'nvidia-attr');
  dirs.push(d);
  return d;
}

describe.skipIf(skip !== undefined)(`attribution to a real Docker container${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  let pid: number;
  beforeAll(async () => {
    dockerd = await startDockerd();
    const id = await dockerd.runContainer([
      '--name',
      'immich_machine_learning',
      '--label',
      'com.docker.compose.project=immich',
      '--label',
      'com.docker.compose.service=immich-machine-learning',
    ]);
    const { stdout } = await dockerd.cli(['inspect', '-f', '{{.State.Pid}}', id]);
    pid = Number(stdout.trim());
  }, 120_000);
  afterAll(async () => {
    await dockerd?.stop();
  }, 60_000);

  it('the VRAM of a container process carries its container name and compose labels; a host process does not', async () => {
    expect(pid).toBeGreaterThan(1);
    // The container's process (named by nvidia-smi) and this test runner itself (a host process, no name given).
    const d = fakeDir(`${UUID}, ${pid}, /opt/venv/bin/python3, 10726\n${UUID}, ${process.pid}, [N/A], 1581\n`);
    const e = await startExporter(['--no-collector.host', `--collector.nvidia.binary=${FAKE}`, `--docker.host=${dockerd.host}`], { FAKE_NVIDIA_SMI_DIR: d });
    exporters.push(e);
    const m = await e.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'nvidia' })).toBe(1);
    const [inContainer] = m.get('silentwatch_gpu_process_memory_bytes', { pid: String(pid) });
    expect(inContainer?.value).toBe(10726 * MiB);
    expect(inContainer?.labels).toMatchObject({
      vendor: 'nvidia',
      gpu: '0',
      uuid: UUID,
      process: 'python3',
      container: 'immich_machine_learning',
      image: 'silentwatch-test/busybox:latest',
      compose_project: 'immich',
      compose_service: 'immich-machine-learning',
      pod: '',
      namespace: '',
    });
    expect(inContainer?.labels.id).toMatch(/^[0-9a-f]{12}$/);
    const [host] = m.get('silentwatch_gpu_process_memory_bytes', { pid: String(process.pid) });
    // process_name [N/A]: the name falls back to /proc/<pid>/comm of the real process.
    expect(host?.labels).toMatchObject({ process: 'node', container: '', compose_service: '' });
  }, 60_000);
});

describe('attribution to a Kubernetes pod container from its cgroup path', () => {
  it('the container id comes from a kubepods cgroup (containerd, systemd driver)', async () => {
    const d = fakeDir(`${UUID}, 4242, /usr/bin/llama-server, 9000\n`);
    const proc = join(d, 'proc');
    mkdirSync(join(proc, '4242'), { recursive: true });
    copyFileSync(join(FIXTURES, 'identity', 'proc-cgroup-k8s-burstable-containerd-systemd-v2.txt'), join(proc, '4242', 'cgroup'));
    writeFileSync(join(proc, '4242', 'comm'), 'llama-server\n');
    const e = await startExporter(
      ['--no-collector.host', `--collector.nvidia.binary=${FAKE}`, `--path.procfs=${proc}`, '--docker.host=unix:///nonexistent/docker.sock'],
      { FAKE_NVIDIA_SMI_DIR: d },
    );
    exporters.push(e);
    const m = await e.metrics();
    const [s] = m.get('silentwatch_gpu_process_memory_bytes', { pid: '4242' });
    // No Docker to name it: the short container id identifies it (containerd pods are named via Docker labels only).
    expect(s?.labels).toMatchObject({ process: 'llama-server', id: '0a1b2c3d4e5f', container: '0a1b2c3d4e5f' });
    expect(s?.value).toBe(9000 * MiB);
  }, 60_000);
});
