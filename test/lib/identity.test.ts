/**
 * PID -> container identity: the pure parsers on recorded and documented /proc/<pid>/cgroup layouts,
 * and the live mapping of a real container's PID under a real dockerd.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerIndex } from '../../src/lib/identity/docker-index.js';
import { containerOf, EMPTY_IDENTITY, ProcessIdentity } from '../../src/lib/identity/process-identity.js';
import { containerFromCgroupPath, memoryCgroupOf, parseProcCgroup } from '../../src/lib/identity/parse-proc-cgroup.js';
import { dockerUnavailableReason, startDockerd, type RunningDockerd } from '../helpers/dockerd.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/identity/${name}`, import.meta.url), 'utf8');

describe('parseProcCgroup / memoryCgroupOf', () => {
  it('v1 hybrid: the memory controller line wins', () => {
    const entries = parseProcCgroup(fixture('proc-cgroup-docker-cgroupfs-v1-hybrid.txt'));
    expect(entries).toHaveLength(10);
    expect(memoryCgroupOf(entries)).toEqual({ version: 1, path: '/docker/deb2da93b3fe219ca6dc402d02530c72d9f198c8408314a5f895ab5c3dd2670e' });
  });
  it('v2 only: the unified line', () => {
    expect(memoryCgroupOf(parseProcCgroup(fixture('proc-cgroup-docker-systemd-v2.txt')))?.version).toBe(2);
  });
  it('garbage and empty files give no entries beyond the valid ones, never a throw', () => {
    expect(parseProcCgroup(fixture('proc-cgroup-garbage.txt'))).toEqual([{ hierarchyId: 4, controllers: ['memory'], path: '/docker/abc' }]);
    expect(parseProcCgroup(fixture('proc-cgroup-empty.txt'))).toEqual([]);
    expect(memoryCgroupOf([])).toBeUndefined();
  });
});

describe('containerOf', () => {
  it.each([
    ['proc-cgroup-docker-cgroupfs-v1-hybrid.txt', { runtime: 'docker', id: 'deb2da93b3fe219ca6dc402d02530c72d9f198c8408314a5f895ab5c3dd2670e' }],
    ['proc-cgroup-docker-systemd-v2.txt', { runtime: 'docker', id: '3f1c2b9a7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a' }],
    ['proc-cgroup-k8s-burstable-containerd-systemd-v2.txt', { runtime: 'containerd', id: '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', podUid: '8d0a7c36-5e1b-4f0c-9a2d-3b4c5d6e7f80', qos: 'burstable' }],
    ['proc-cgroup-k8s-besteffort-cgroupfs-v1.txt', { runtime: 'cri', id: '7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a291800', podUid: '1c9a2f3e-4b5d-6e7f-8091-a2b3c4d5e6f7', qos: 'besteffort' }],
    ['proc-cgroup-k8s-guaranteed-crio-systemd-v2.txt', { runtime: 'cri-o', id: '1f2e3d4c5b6a79880f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a6978', podUid: '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901', qos: 'guaranteed' }],
    ['proc-cgroup-podman-rootful-v2.txt', { runtime: 'podman', id: '4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c' }],
    ['proc-cgroup-lxc-v2.txt', { runtime: 'docker', id: '5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b' }],
  ])('%s', (file, expected) => {
    expect(containerOf(fixture(file))).toEqual(expected);
  });

  it.each(['proc-cgroup-host-process-v1-hybrid.txt', 'proc-cgroup-podman-conmon-v2.txt', 'proc-cgroup-garbage.txt', 'proc-cgroup-empty.txt'])('%s is no container', (file) => {
    expect(containerOf(fixture(file))).toBeUndefined();
  });

  it('LXC container by name', () => {
    expect(containerFromCgroupPath('/lxc.payload.immich-vm')).toEqual({ runtime: 'lxc', id: 'immich-vm' });
    expect(containerFromCgroupPath('/lxc/web')).toEqual({ runtime: 'lxc', id: 'web' });
  });
});

const dockerSkip = dockerUnavailableReason();
describe.skipIf(dockerSkip !== undefined)(`live PID mapping under a real dockerd${dockerSkip ? ` (skipped: ${dockerSkip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  beforeAll(async () => {
    dockerd = await startDockerd();
  });
  afterAll(async () => {
    await dockerd?.stop();
  });

  it('maps a container process to its name, image and compose labels; a host PID to nothing', async () => {
    const id = await dockerd.runContainer(['--name', 'immich_machine_learning', '--label', 'com.docker.compose.project=immich', '--label', 'com.docker.compose.service=immich-machine-learning']);
    const { stdout } = await dockerd.cli(['inspect', '-f', '{{.State.Pid}}', id]);
    const pid = Number(stdout.trim());
    const identity = new ProcessIdentity('/proc', new DockerIndex(() => dockerd.client));
    const resolved = await identity.resolve([pid, process.pid, 999_999_999]);
    expect(resolved.get(pid)).toMatchObject({
      comm: 'sleep',
      container: { runtime: 'docker', id },
      labels: {
        container: 'immich_machine_learning',
        id: id.slice(0, 12),
        image: 'silentwatch-test/busybox:latest',
        compose_project: 'immich',
        compose_service: 'immich-machine-learning',
        pod: '',
        namespace: '',
      },
    });
    expect(resolved.get(process.pid)?.labels).toEqual(EMPTY_IDENTITY);
    // a PID that does not exist (exited) is host identity with no name, not an error
    expect(resolved.get(999_999_999)).toMatchObject({ comm: '', labels: EMPTY_IDENTITY });
  });

  it('without a reachable Docker the container is still identified by short id', async () => {
    const id = await dockerd.runContainer([]);
    const pid = Number((await dockerd.cli(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    const Docker = (await import('dockerode')).default;
    const identity = new ProcessIdentity('/proc', new DockerIndex(() => new Docker({ socketPath: '/nonexistent.sock' })));
    expect((await identity.resolve([pid])).get(pid)?.labels).toMatchObject({ container: id.slice(0, 12), id: id.slice(0, 12), image: '' });
  });
});
