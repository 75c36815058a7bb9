/**
 * The containers collector in the real exporter process.
 *
 * Seed 000 under a real dockerd: a process inside a `-m 64m` container is OOM-killed by the kernel while the
 * container keeps running, Docker says OOMKilled=false and 0 restarts, and only the cgroup's own counter
 * tells. Also: an unlimited container is not "limit 0", the counter survives an exporter restart, and an
 * unreachable Docker still serves the cgroup metrics with success 0.
 *
 * Then cgroup v2 layouts (systemd-driver Docker, a Kubernetes burstable pod, podman) in a sysfs tree built
 * from fixtures and passed with --path.sysfs, since this host's memory controller is v1.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, shareDir, tempDir, unprivileged, waitFor } from '../../helpers/daemon.js';
import { BUSYBOX_IMAGE, dockerUnavailableReason, startDockerd, type RunningDockerd } from '../../helpers/dockerd.js';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import type { ParsedExposition } from '../../helpers/metrics-text.js';
import { cgroupV2Root, V2_DOCKER_FILES } from '../../helpers/cgroups.js';

const MiB = 1024 * 1024;

function memoryControllerReason(): string | undefined {
  if (existsSync('/sys/fs/cgroup/memory/memory.stat')) return undefined;
  if (existsSync('/sys/fs/cgroup/cgroup.controllers') && readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').includes('memory')) return undefined;
  return 'no cgroup memory controller on this host';
}
const dockerSkip = dockerUnavailableReason() ?? memoryControllerReason();

describe.skipIf(dockerSkip !== undefined)(`seed 000 under a real dockerd${dockerSkip ? ` (skipped: ${dockerSkip})` : ''}`, () => {
  let dockerd: RunningDockerd;
  let exporter: RunningExporter | undefined;
  let limitedId = '';
  let unlimitedId = '';
  let exitedId = '';
  const short = (id: string): string => id.slice(0, 12);

  /** The container's memory cgroup directory, from its init PID's /proc/<pid>/cgroup. */
  async function cgroupDir(id: string): Promise<string> {
    const pid = (await dockerd.cli(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    if (v1) return join('/sys/fs/cgroup/memory', v1.slice(v1.lastIndexOf(':') + 1));
    return join('/sys/fs/cgroup', (lines.find((l) => l.startsWith('0::')) ?? '0::/').slice(3));
  }
  const kernelOomKills = async (id: string): Promise<number> => {
    const dir = await cgroupDir(id);
    const file = existsSync(join(dir, 'memory.oom_control')) ? 'memory.oom_control' : 'memory.events';
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1]);
  };
  const scrape = async (): Promise<ParsedExposition> => (exporter as RunningExporter).metrics();

  beforeAll(async () => {
    dockerd = await startDockerd();
    [limitedId, unlimitedId, exitedId] = await Promise.all([
      dockerd.runContainer(['-m', '64m', '--name', 'immich_machine_learning', '--label', 'com.docker.compose.project=immich', '--label', 'com.docker.compose.service=immich-machine-learning']),
      dockerd.runContainer(['--name', 'no_limit']),
      dockerd.runContainer(['--name', 'one_shot'], ['sh', '-c', 'exit 3']),
    ]);
    await waitFor(async () => (await dockerd.cli(['inspect', '-f', '{{.State.Status}}', exitedId])).stdout.trim() === 'exited', 'one_shot to exit', 20_000, 100);
    exporter = await startExporter([`--docker.host=${dockerd.host}`, '--collector.containers']);
  });
  afterAll(async () => {
    await exporter?.stop();
    await dockerd?.stop();
  });

  it('before: running, limit 64 MiB, no OOM kill, named from Docker', async () => {
    const m = await scrape();
    const id = { id: short(limitedId) };
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(1);
    const [sample] = m.get('silentwatch_container_memory_limit_bytes', id);
    expect(sample?.value).toBe(64 * MiB);
    expect(sample?.labels).toEqual({
      container: 'immich_machine_learning',
      id: short(limitedId),
      image: BUSYBOX_IMAGE,
      compose_project: 'immich',
      compose_service: 'immich-machine-learning',
      pod: '',
      namespace: '',
    });
    expect(m.value('silentwatch_container_memory_limited', id)).toBe(1);
    expect(m.value('silentwatch_container_oom_kills_total', id)).toBe(0);
    expect(m.value('silentwatch_container_oom_kills_total', id)).toBe(await kernelOomKills(limitedId));
    expect(m.value('silentwatch_container_state', { ...id, state: 'running' })).toBe(1);
    expect(m.get('silentwatch_container_state', id).filter((s) => s.value === 1)).toHaveLength(1);
    expect(m.get('silentwatch_container_state', id)).toHaveLength(7);
    expect(m.value('silentwatch_container_health_status', { ...id, status: 'none' })).toBe(1);
    expect(m.value('silentwatch_container_restarts_total', id)).toBe(0);
    expect(m.value('silentwatch_container_oom_killed', id)).toBe(0);
    const startedAt = (await dockerd.cli(['inspect', '-f', '{{.State.StartedAt}}', limitedId])).stdout.trim();
    expect(m.value('silentwatch_container_started_time_seconds', id)).toBeCloseTo(Date.parse(startedAt) / 1000, 0);
    const usage = m.value('silentwatch_container_memory_usage_bytes', id) ?? -1;
    expect(usage).toBeGreaterThan(0);
    expect(usage).toBeLessThan(64 * MiB);
    const ws = m.value('silentwatch_container_memory_working_set_bytes', id) ?? -1;
    expect(ws).toBeGreaterThanOrEqual(0);
    expect(ws).toBeLessThanOrEqual(usage);
    expect(m.value('silentwatch_container_memory_rss_bytes', id)).toBeGreaterThan(0);
    expect(m.value('silentwatch_container_memory_cache_bytes', id)).toBeGreaterThanOrEqual(0);
  });

  it('a container without -m is unlimited: limited 0 and no limit series (never limit 0 or 2^63)', async () => {
    const m = await scrape();
    const id = { id: short(unlimitedId) };
    expect(m.value('silentwatch_container_memory_limited', id)).toBe(0);
    expect(m.get('silentwatch_container_memory_limit_bytes', id)).toHaveLength(0);
    expect(m.value('silentwatch_container_memory_usage_bytes', { ...id, container: 'no_limit' })).toBeGreaterThan(0);
    for (const s of m.get('silentwatch_container_memory_limit_bytes')) expect(s.value).toBeLessThan(2 ** 62);
  });

  it('an exited container has its Docker state but no cgroup series', async () => {
    const m = await scrape();
    const id = { id: short(exitedId), container: 'one_shot' };
    expect(m.value('silentwatch_container_state', { ...id, state: 'exited' })).toBe(1);
    expect(m.value('silentwatch_container_state', { ...id, state: 'running' })).toBe(0);
    expect(m.value('silentwatch_container_restarts_total', id)).toBe(0);
    expect(m.get('silentwatch_container_memory_usage_bytes', id)).toHaveLength(0);
  });

  it('a worker OOM-killed inside the running container: oom_kills_total 0 → ≥1 while Docker sees nothing', async () => {
    // dd allocates a 100 MiB buffer in a 64 MiB cgroup: the kernel kills dd, the container's sleep lives on
    await dockerd.cli(['exec', limitedId, 'sh', '-c', 'dd if=/dev/zero bs=100M count=1 | cat >/dev/null']).catch(() => undefined);
    const m = await waitFor(
      async () => {
        const s = await scrape();
        return (s.value('silentwatch_container_oom_kills_total', { id: short(limitedId) }) ?? 0) >= 1 ? s : undefined;
      },
      'the container OOM counter to rise',
      20_000,
      200,
    );
    const id = { id: short(limitedId), container: 'immich_machine_learning' };
    expect(m.value('silentwatch_container_oom_kills_total', id)).toBe(await kernelOomKills(limitedId));
    // the silent part: Docker's own view is unchanged
    expect(m.value('silentwatch_container_state', { ...id, state: 'running' })).toBe(1);
    expect(m.value('silentwatch_container_restarts_total', id)).toBe(0);
    expect(m.value('silentwatch_container_oom_killed', id)).toBe(0);
    expect((await dockerd.cli(['inspect', '-f', '{{.State.OOMKilled}} {{.RestartCount}} {{.State.Status}}', limitedId])).stdout.trim()).toBe('false 0 running');
    expect(m.value('silentwatch_container_memory_limit_bytes', id)).toBe(64 * MiB);
    expect(m.value('silentwatch_container_oom_kills_total', { id: short(unlimitedId) })).toBe(0);
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(1);
  });

  it('after an exporter restart the counter still reads ≥1 (it is the kernel’s, not ours)', async () => {
    await exporter?.stop();
    exporter = await startExporter([`--docker.host=${dockerd.host}`, '--collector.containers']);
    const m = await scrape();
    expect(m.value('silentwatch_container_oom_kills_total', { id: short(limitedId), container: 'immich_machine_learning' })).toBeGreaterThanOrEqual(1);
  });

  it('restarts by the restart policy and a manual restart are seen (inspect refreshed, not per scrape)', async () => {
    const flapping = await dockerd.runContainer(['--name', 'flapping', '--restart', 'always'], ['sh', '-c', 'sleep 1; exit 1']);
    const id = { id: short(flapping), container: 'flapping' };
    const m = await waitFor(
      async () => {
        const s = await scrape();
        return (s.value('silentwatch_container_restarts_total', id) ?? 0) >= 2 ? s : undefined;
      },
      'restarts_total of the flapping container to reach 2',
      30_000,
      300,
    );
    const docker = Number((await dockerd.cli(['inspect', '-f', '{{.RestartCount}}', flapping])).stdout.trim());
    expect(m.value('silentwatch_container_restarts_total', id)).toBeLessThanOrEqual(docker);

    const before = (await scrape()).value('silentwatch_container_started_time_seconds', { id: short(unlimitedId) }) ?? 0;
    await new Promise((r) => setTimeout(r, 2100));
    await dockerd.cli(['restart', '-t', '0', unlimitedId]);
    const after = await waitFor(
      async () => {
        const v = (await scrape()).value('silentwatch_container_started_time_seconds', { id: short(unlimitedId) }) ?? 0;
        return v > before ? v : undefined;
      },
      'started_time of the restarted container to move',
      15_000,
      200,
    );
    expect(after).toBeGreaterThan(before + 2);
    await dockerd.cli(['rm', '-f', flapping]);
  });

  it('Docker unreachable: cgroup metrics still served under short ids, success 0 with the reason', async () => {
    const blind = await startExporter(['--docker.host=unix:///nonexistent.sock', '--collector.containers']);
    try {
      const m = await blind.metrics();
      const id = { id: short(limitedId) };
      expect(m.value('silentwatch_container_oom_kills_total', { ...id, container: short(limitedId), image: '' })).toBeGreaterThanOrEqual(1);
      expect(m.value('silentwatch_container_memory_limit_bytes', id)).toBe(64 * MiB);
      expect(m.value('silentwatch_container_memory_limited', { id: short(unlimitedId) })).toBe(0);
      expect(m.get('silentwatch_container_state')).toHaveLength(0);
      expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(0);
      const page = await (await fetch(blind.url)).text();
      expect(page).toMatch(/Docker API/);
    } finally {
      await blind.stop();
    }
  });
});

describe('cgroup v2 layouts from a sysfs tree given with --path.sysfs', () => {
  const ids = {
    docker: 'a'.repeat(64),
    k8s: 'b'.repeat(64),
    podman: 'c'.repeat(64),
    vanished: 'd'.repeat(64),
    partial: 'e'.repeat(64),
  };
  const podUid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  let sysfs = '';
  let exporter: RunningExporter | undefined;

  beforeAll(async () => {
    sysfs = tempDir('containers-sysfs');
    const put = cgroupV2Root(sysfs);
    const full = V2_DOCKER_FILES;
    put(`system.slice/docker-${ids.docker}.scope`, full);
    put(`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUid.replace(/-/g, '_')}.slice/cri-containerd-${ids.k8s}.scope`, {
      ...full,
      'memory.max': 'v2-unlimited.memory.max',
    });
    put(`machine.slice/libpod-${ids.podman}.scope`, { ...full, 'memory.events': 'v2-kernel-5.10.memory.events' });
    put(`system.slice/docker-${ids.vanished}.scope`, {}); // gone between the walk and the reads: no files
    put(`system.slice/docker-${ids.partial}.scope`, { 'memory.current': 'v2-systemd-docker.memory.current', 'memory.stat': 'v2-truncated.memory.stat' });
    put('user.slice/user-1000.slice/session-1.scope', full); // not a container
    exporter = await startExporter([`--path.sysfs=${sysfs}`, '--collector.containers.docker=false', '--collector.containers']);
  });
  afterAll(async () => {
    await exporter?.stop();
    if (sysfs) removeDir(sysfs);
  });

  it('finds the systemd-driver Docker, Kubernetes and podman containers, and nothing else', async () => {
    const m = await (exporter as RunningExporter).metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(1);
    const found = new Set(m.get('silentwatch_container_memory_usage_bytes').map((s) => s.labels.id));
    expect(found).toEqual(new Set([ids.docker, ids.k8s, ids.podman, ids.partial].map((i) => i.slice(0, 12))));
    expect(m.value('silentwatch_container_cgroups', { cgroup_version: '2' })).toBe(4);

    const docker = { id: ids.docker.slice(0, 12) };
    expect(m.value('silentwatch_container_memory_usage_bytes', docker)).toBe(1513844736);
    expect(m.value('silentwatch_container_memory_working_set_bytes', docker)).toBe(1513844736 - 1104355328);
    expect(m.value('silentwatch_container_memory_rss_bytes', docker)).toBe(215760896);
    expect(m.value('silentwatch_container_memory_cache_bytes', docker)).toBe(1287651328);
    expect(m.value('silentwatch_container_memory_limit_bytes', docker)).toBe(6 * 1024 * MiB);
    expect(m.value('silentwatch_container_oom_kills_total', docker)).toBe(4);
    expect(m.value('silentwatch_container_oom_events_total', docker)).toBe(7);

    const k8s = { id: ids.k8s.slice(0, 12) };
    expect(m.value('silentwatch_container_memory_limited', k8s)).toBe(0);
    expect(m.get('silentwatch_container_memory_limit_bytes', k8s)).toHaveLength(0);
    expect(m.value('silentwatch_container_oom_kills_total', { id: ids.podman.slice(0, 12) })).toBe(0);

    // a missing or truncated file skips that value, not the container
    const partial = { id: ids.partial.slice(0, 12) };
    expect(m.value('silentwatch_container_memory_usage_bytes', partial)).toBe(1513844736);
    expect(m.get('silentwatch_container_memory_working_set_bytes', partial)).toHaveLength(0);
    expect(m.get('silentwatch_container_oom_kills_total', partial)).toHaveLength(0);
    expect(m.get('silentwatch_container_memory_limited', partial)).toHaveLength(0);
    // no Docker asked, so no Docker series
    expect(m.get('silentwatch_container_state')).toHaveLength(0);
  });

  it('a container that goes away between scrapes disappears silently; values are re-read each scrape', async () => {
    const root = join(sysfs, 'fs', 'cgroup');
    removeDir(join(root, `machine.slice/libpod-${ids.podman}.scope`));
    writeFileSync(join(root, `system.slice/docker-${ids.docker}.scope/memory.events`), 'low 0\nhigh 0\nmax 1843\noom 8\noom_kill 5\noom_group_kill 0\n');
    const m = await (exporter as RunningExporter).metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(1);
    expect(m.get('silentwatch_container_memory_usage_bytes', { id: ids.podman.slice(0, 12) })).toHaveLength(0);
    expect(m.value('silentwatch_container_cgroups', { cgroup_version: '2' })).toBe(3);
    expect(m.value('silentwatch_container_oom_kills_total', { id: ids.docker.slice(0, 12) })).toBe(5);
    expect(m.value('silentwatch_container_oom_events_total', { id: ids.docker.slice(0, 12) })).toBe(8);
  });

  it('with open-files=0 every file is opened per scrape and the values are the same', async () => {
    const other = await startExporter([`--path.sysfs=${sysfs}`, '--collector.containers.docker=false', '--collector.containers.open-files=0', '--collector.containers']);
    try {
      const m = await other.metrics();
      expect(m.value('silentwatch_container_oom_kills_total', { id: ids.docker.slice(0, 12) })).toBe(5);
      expect(m.value('silentwatch_container_memory_limit_bytes', { id: ids.docker.slice(0, 12) })).toBe(6 * 1024 * MiB);
    } finally {
      await other.stop();
    }
  });
});

describe('cgroup files the exporter may not read', () => {
  // A vanished cgroup is skipped silently, but EACCES hides a container that is there: the scrape is partial
  // (success 0 naming the path), the readable containers are still served. As nobody, since root ignores chmod.
  const ids = { hidden: 'f'.repeat(64), open: '1'.repeat(64), vanished: '2'.repeat(64) };
  let sysfs = '';
  let exporter: RunningExporter | undefined;
  beforeAll(async () => {
    sysfs = tempDir('containers-denied');
    shareDir(sysfs);
    const put = cgroupV2Root(sysfs);
    put(`system.slice/docker-${ids.hidden}.scope`, V2_DOCKER_FILES);
    put(`system.slice/docker-${ids.open}.scope`, V2_DOCKER_FILES);
    put(`system.slice/docker-${ids.vanished}.scope`, {});
    for (const f of Object.keys(V2_DOCKER_FILES)) chmodSync(join(sysfs, 'fs', 'cgroup', 'system.slice', `docker-${ids.hidden}.scope`, f), 0o000);
    exporter = await startExporter([`--path.sysfs=${sysfs}`, '--collector.containers.docker=false', '--collector.containers'], {}, unprivileged());
  });
  afterAll(async () => {
    await exporter?.stop();
    if (sysfs) removeDir(sysfs);
  });

  it('a container whose memory files are unreadable: success 0 with EACCES and the path, the others served', async () => {
    const m = await (exporter as RunningExporter).metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'containers' })).toBe(0);
    expect(m.value('silentwatch_container_memory_usage_bytes', { id: ids.open.slice(0, 12) })).toBe(1513844736);
    expect(m.get('silentwatch_container_memory_usage_bytes', { id: ids.hidden.slice(0, 12) })).toHaveLength(0);
    expect(m.value('silentwatch_container_cgroups', { cgroup_version: '2' })).toBe(1);
    const cause = String((exporter as RunningExporter).logs().find((l) => l.msg === 'collector failed' && l.collector === 'containers')?.cause);
    expect(cause).toMatch(/^partial data: permission denied on 4 cgroup path\(s\), containers missing or incomplete \(first: .*docker-f{64}\.scope\/memory\.\w+: EACCES\)$/);
    expect(cause).not.toContain(ids.vanished);
  });
});
