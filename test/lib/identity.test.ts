/**
 * PID -> container identity: the pure parsers on recorded and documented /proc/<pid>/cgroup layouts; Kubernetes
 * names from the kubelet's log layout on four node layouts (containerd and CRI-O, cgroup v1 and v2, cgroupfs and
 * systemd drivers); and the live mapping of a real container's PID under a real dockerd, with Docker's event
 * stream keeping the container list current through a dropped stream.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findContainerCgroups } from '../../src/collectors/containers/cgroup-walk.js';
import { KubeletLogIndex, parseContainerLogLink, parsePodLogDir } from '../../src/lib/identity/kubelet-logs.js';
import { identityLabels } from '../../src/lib/identity/process-identity.js';
import { KUBELET_NODES, materialiseNode } from '../collectors/containers/kubelet-node.js';
import { removeDir, waitFor } from '../helpers/daemon.js';
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

describe('kubelet log layout parsers', () => {
  it('pod log directories: <namespace>_<pod>_<uid>; the pre-1.14 <uid>-only layout and junk are not', () => {
    expect(parsePodLogDir('immich_immich-ml-7d9f8c6b5-x2k4q_8d0a7c36-5e1b-4f0c-9a2d-3b4c5d6e7f80')).toEqual({
      namespace: 'immich',
      pod: 'immich-ml-7d9f8c6b5-x2k4q',
      uid: '8d0a7c36-5e1b-4f0c-9a2d-3b4c5d6e7f80',
    });
    expect(parsePodLogDir('kube-system_etcd-cp.example.com_0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toBeUndefined(); // static pod config hash, not a uid
    expect(parsePodLogDir('8d0a7c36-5e1b-4f0c-9a2d-3b4c5d6e7f80')).toBeUndefined();
    expect(parsePodLogDir('a_b_c_8d0a7c36-5e1b-4f0c-9a2d-3b4c5d6e7f80')).toBeUndefined();
    expect(parsePodLogDir('')).toBeUndefined();
  });
  it('container symlinks: <pod>_<namespace>_<container>-<64 hex>.log; truncated or short ids are not', () => {
    const id = 'e7e81563288586e4f1c20cd3b93fd98811bcb50922ab7eab8fad13c528f2aa23';
    expect(parseContainerLogLink(`immich-ml-7d9f8c6b5-x2k4q_immich_machine-learning-${id}.log`)).toEqual({ pod: 'immich-ml-7d9f8c6b5-x2k4q', namespace: 'immich', container: 'machine-learning', id });
    // the kubelet cuts names over 255 bytes: the id is then incomplete and must not be guessed
    expect(parseContainerLogLink(`immich-ml-7d9f8c6b5-x2k4q_immich_machine-learning-${id.slice(0, 40)}.log`)).toBeUndefined();
    expect(parseContainerLogLink(`immich-ml_immich_machine-learning-${id}`)).toBeUndefined();
    expect(parseContainerLogLink(`immich-ml_immich_machine-learning-${id.toUpperCase()}.log`)).toBeUndefined();
    expect(parseContainerLogLink('.log')).toBeUndefined();
  });
});

describe.each(KUBELET_NODES)('Kubernetes node without Docker: %s', (node) => {
  const n = materialiseNode(node);
  afterAll(() => removeDir(n.dir));

  it('the cgroup walk finds every container and pod cgroup, nothing else (no conmon, no QoS slice)', async () => {
    const walked = await findContainerCgroups(n.cgroupRoot, AbortSignal.timeout(10_000), 10_000);
    expect(new Set(walked.found.map((f) => f.ref.id))).toEqual(new Set(n.layout.containers.map((c) => c.id)));
    expect(walked.found.every((f) => f.ref.runtime === (node.startsWith('crio') ? 'cri-o' : node.includes('systemd') ? 'containerd' : 'cri'))).toBe(true);
    expect(new Set(walked.pods.map((p) => p.uid))).toEqual(new Set(n.layout.pods.map((p) => p.uid)));
  });

  it('every container is named namespace/pod/container from /var/log/pods and /var/log/containers; a pod sandbox by its pod', async () => {
    const walked = await findContainerCgroups(n.cgroupRoot, AbortSignal.timeout(10_000), 10_000);
    const snap = await new KubeletLogIndex(n.rootfs).snapshot();
    for (const c of n.layout.containers) {
      const ref = walked.found.find((f) => f.ref.id === c.id)?.ref;
      const labels = identityLabels(ref, undefined, snap);
      const pod = n.layout.pods.find((p) => c.cgroup.startsWith(p.cgroup)) as { uid: string };
      expect(ref?.podUid).toBe(pod.uid);
      if (c.names) expect(labels).toMatchObject({ ...c.names, id: c.id.slice(0, 12) });
      else expect(labels).toMatchObject({ container: c.id.slice(0, 12), pod: snap.podsByUid.get(pod.uid)?.pod, namespace: snap.podsByUid.get(pod.uid)?.namespace });
      expect(labels.pod).not.toBe('');
    }
  });

  it('a GPU process in a pod carries its pod name (the identity the nvidia and drm collectors use)', async () => {
    const identity = new ProcessIdentity(n.procfs, undefined, new KubeletLogIndex(n.rootfs));
    const pids = n.layout.procs.map((p) => p.pid);
    expect(pids.length).toBeGreaterThan(0);
    const resolved = await identity.resolve(pids);
    for (const p of n.layout.procs) {
      const expected = n.layout.containers.find((c) => p.cgroup.includes(c.id))?.names;
      expect(expected).toBeDefined();
      expect(resolved.get(p.pid)).toMatchObject({ comm: p.comm, labels: expected });
    }
  });
});

describe('KubeletLogIndex refreshes', () => {
  it('a pod that appears is named at once; a sandbox that never has a log does not cost a re-list per call', async () => {
    const n = materialiseNode('containerd-systemd-v2');
    try {
      let t = 0;
      const index = new KubeletLogIndex(n.rootfs, 30_000, 1000, () => t);
      const first = await index.snapshot();
      const sandbox = n.layout.containers.find((c) => !c.names) as { id: string };
      const known = n.layout.containers.find((c) => c.names) as { id: string };
      // unknown sandbox id: one refresh, then remembered as unknown until the TTL
      t = 2000;
      const second = await index.snapshot({ containerIds: [sandbox.id, known.id] });
      expect(second).not.toBe(first);
      t = 4000;
      expect(await index.snapshot({ containerIds: [sandbox.id] })).toBe(second);
      // a new container's symlink appears: asked for, it is found without waiting for the TTL
      const { symlinkSync } = await import('node:fs');
      const newId = 'f'.repeat(64);
      symlinkSync('/var/log/pods/x', `${n.rootfs}/var/log/containers/immich-ml-7d9f8c6b5-x2k4q_immich_machine-learning-${newId}.log`);
      t = 6000;
      expect((await index.snapshot({ containerIds: [newId] })).containersById.get(newId)?.container).toBe('machine-learning');
    } finally {
      removeDir(n.dir);
    }
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

describe.skipIf(dockerSkip !== undefined)(`Docker's event stream keeps the container list current${dockerSkip ? ` (skipped: ${dockerSkip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  let relay: { socket: string; drop(): number; close(): Promise<void> };
  beforeAll(async () => {
    dockerd = await startDockerd();
    relay = await startRelay(dockerd.socket);
  }, 120_000);
  afterAll(async () => {
    await relay?.close();
    await dockerd?.stop();
  }, 60_000);

  it('containers created and removed while the stream is cut are all seen; an OOM exit is counted once, not a child kill', async () => {
    const Docker = (await import('dockerode')).default;
    // resync far away: only the stream (and its replay on reopening) can bring changes in
    const index = new DockerIndex(() => new Docker({ socketPath: relay.socket, timeout: 2000 }), 2000, Date.now, 600_000);
    index.watch();
    try {
      await waitFor(() => index.status().streaming, 'the event stream to open', 15_000, 50);
      const a = await dockerd.runContainer(['--name', 'before_cut']);
      await waitFor(async () => (await index.containers()).has(a), 'a new container named through its event', 15_000, 100);
      // an idle stream outlives the client's 2 s request time-out
      await new Promise((r) => setTimeout(r, 2500));
      expect(index.status()).toMatchObject({ streaming: true, reconnects: 0 });

      expect(relay.drop()).toBeGreaterThan(0); // the stream's connection, cut mid-run
      await waitFor(() => !index.status().streaming, 'the stream to be noticed down', 5000, 20);
      const b = await dockerd.runContainer(['--name', 'during_cut']);
      await dockerd.cli(['rm', '-f', a]);
      // main process OOM-killed (exit 137) while the stream is down: replayed with `since` when it reopens
      const oom = await dockerd.runContainer(['--name', 'oom_main', '-m', '64m'], ['sh', '-c', 'exec dd if=/dev/zero bs=100M count=1 of=/dev/null']);
      // a child OOM-killed in a container that keeps running: an `oom` event, no exit
      const child = await dockerd.runContainer(['--name', 'oom_child', '-m', '64m'], ['sh', '-c', 'dd if=/dev/zero bs=100M count=1 of=/dev/null; exec sleep 3600']);
      await waitFor(() => index.status().streaming && index.status().reconnects >= 1, 'the stream to reopen', 20_000, 100);
      const c = await dockerd.runContainer(['--name', 'after_cut']);
      const list = await waitFor(
        async () => {
          const l = await index.containers();
          return l.has(c) && l.get(oom)?.state === 'exited' && (index.oomExits().get(oom) ?? 0) >= 1 ? l : undefined;
        },
        'the list to catch up',
        20_000,
        100,
      );
      expect(list.has(b)).toBe(true);
      expect(list.has(a)).toBe(false);
      expect(list.get(child)?.state).toBe('running');
      expect(index.oomExits().get(oom)).toBe(1);
      expect(index.oomExits().get(child)).toBeUndefined();
      // the same as a full list says
      const full = await dockerd.client.listContainers({ all: true });
      expect(new Set(list.keys())).toEqual(new Set(full.map((x) => x.Id)));
    } finally {
      index.unwatch();
    }
  }, 90_000);
});

/** A unix-socket relay to dockerd whose open connections a test can cut (drop() returns how many it cut). */
async function startRelay(target: string): Promise<{ socket: string; drop(): number; close(): Promise<void> }> {
  const net = await import('node:net');
  const { tempDir } = await import('../helpers/daemon.js');
  const socket = `${tempDir('docker-relay')}/docker.sock`;
  const open = new Set<import('node:net').Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(target);
    open.add(down);
    down.pipe(up).pipe(down);
    const end = (): void => {
      open.delete(down);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(socket, () => r()));
  return {
    socket,
    drop() {
      const n = open.size;
      for (const s of open) s.destroy();
      return n;
    },
    close: () => {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
