/**
 * The incident lab: ONE realistic self-hosted ML stack for a test file, every part real or a stand-in the
 * collector tests already use, watched by the real exporter.
 *
 * - a real dockerd: `immich_machine_learning` (busybox, `-m 64m`, compose project immich / service
 *   immich-machine-learning) in which oomKill() makes the kernel kill a memory hog while the container keeps
 *   running (seed 000); `jellyfin` without a limit; `flaky`, restarted by Docker's restart policy every few seconds;
 * - a real redis-server with BullMQ 6 queues under prefix `immich_bull`: `smartSearch` with waiting jobs and no
 *   worker (stalled), `thumbnailGeneration` busy with one slow worker (draining); startSmartSearchWorker() heals;
 * - the fake nvidia-smi replaying seed 002's Tesla T4 (15360 MiB, 2202 MiB free): immich-ml's python holding
 *   10726 MiB is the init process of `immich_machine_learning`, jellyfin's ffmpeg (1581 MiB) the one of `jellyfin`,
 *   so the per-process series carry real container names; healGpu() unloads the hog;
 * - two llama-swap stand-ins whose `qwen3-8b` cannot load: `current` (v250, 500 per request) and `legacy`
 *   (v217, 502), plus a healthy `bge-m3` on `current` (in a group with swap: false, so the failing loads evict nothing); driveLlamaSwap() sends the chat completions;
 * - two Immich ML backends for the probes collector (the probes tests' stand-in): `ml-up` answers /ping with pong,
 *   `ml-down` refuses connections;
 * - a tmpfs mounted in a temp dir for the mounts collector (present and responsive);
 * - the real exporter configured for all of it (host collector on the real /proc), and a second one on a fake
 *   procfs/sysfs (test/helpers/drm.ts) where immich_machine_learning's process has an Intel iGPU open, its engine
 *   time growing, so the DRM collector has data too (this host has no DRM device); its sysfs also holds a cgroup v2
 *   memory hierarchy with one Docker container after OOM kills (test/helpers/cgroups.ts), so the cgroup-v2-only
 *   series (silentwatch_container_oom_events_total) exist even where the host's controller is v1.
 */
import { join } from 'node:path';
import * as mq from 'bullmq';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort, removeDir, sleep, tempDir, waitFor } from './daemon.js';
import { cgroupV2Root, V2_DOCKER_FILES } from './cgroups.js';
import { FakeHost, fdinfo } from './drm.js';
import { startDockerd, type RunningDockerd } from './dockerd.js';
import { startExporter, type RunningExporter } from './exporter.js';
import { chat, LlamaSwapStandIn } from './llamaswap.js';
import { immichMl } from './probes.js';
import { FAKE_NVIDIA_SMI, fakeNvidiaSmiDir, NVIDIA_FIXTURES } from './nvidia.js';
import { bullmqQueues, connectionOf, IMMICH_PREFIX } from './queues.js';
import { startRedis, type RunningRedis } from './redis.js';

export { dockerUnavailableReason } from './dockerd.js';

/** Seed 002's T4, as the fixtures record it. */
export const SEED002 = {
  uuid: 'GPU-5c2b9f0e-8d1a-4b7e-93f2-6a0d1e7c4b21',
  totalMiB: 15360,
  freeMiB: 2202,
  usedMiB: 12571,
  immichMlMiB: 10726,
  ffmpegMiB: 1581,
} as const;
export const MiB = 1024 * 1024;

export const STALLED_QUEUE = 'smartSearch';
export const BUSY_QUEUE = 'thumbnailGeneration';
export const STALLED_JOBS = 20;
export const FAILING_MODEL = 'qwen3-8b';
export const HEALTHY_MODEL = 'bge-m3';
export const IGPU = '0000:00:02.0';
/** The cgroup v2 container of the fake host (no Docker API there: named by its short id). */
export const V2_CONTAINER_ID = 'f00d'.repeat(16);

export interface Lab {
  readonly dockerd: RunningDockerd;
  readonly redis: RunningRedis;
  readonly exporter: RunningExporter;
  /** The exporter of the fake DRM host (drm collector only). */
  readonly drmExporter: RunningExporter;
  /** host:port of every exporter of the lab, for Prometheus' targets. */
  readonly targets: string[];
  readonly llamaswap: { readonly current: LlamaSwapStandIn; readonly legacy: LlamaSwapStandIn };
  /** Full Docker ids. */
  readonly containers: { readonly ml: string; readonly jellyfin: string; readonly flaky: string };
  /** Host PIDs of the container init processes the fake nvidia-smi reports. */
  readonly pids: { readonly ml: number; readonly jellyfin: number };
  /** host:port of the Immich ML backends the probes collector watches (group immich_ml). */
  readonly mlBackends: { readonly up: string; readonly down: string };
  /** The tmpfs mount point the mounts collector watches. */
  readonly mount: string;
  /** A memory hog inside immich_machine_learning is OOM-killed; the container keeps running. Resolves with Docker's view afterwards. */
  oomKill(): Promise<{ status: string; oomKilled: boolean; restarts: number }>;
  /**
   * Chat completions spread over `spreadMs`: `failing` to qwen3-8b split between both servers (500 current, 502 legacy)
   * and `healthy` to bge-m3 on current. Resolves with the status codes per server.
   */
  driveLlamaSwap(opts?: { failing?: number; healthy?: number; spreadMs?: number }): Promise<{ current: Map<number, number>; legacy: Map<number, number> }>;
  /** A BullMQ worker for smartSearch: the backlog drains. Resolves once no job waits. */
  startSmartSearchWorker(): Promise<void>;
  /** immich-ml's model is unloaded: the hog leaves the GPU, its memory is free again. */
  healGpu(): void;
  stop(): Promise<void>;
}

/** Docker state of one container. */
async function inspect(dockerd: RunningDockerd, id: string): Promise<{ status: string; oomKilled: boolean; restarts: number; pid: number }> {
  const { stdout } = await dockerd.cli(['inspect', '-f', '{{.State.Status}} {{.State.OOMKilled}} {{.RestartCount}} {{.State.Pid}}', id]);
  const [status = '', oom, restarts, pid] = stdout.trim().split(' ');
  return { status, oomKilled: oom === 'true', restarts: Number(restarts), pid: Number(pid) };
}

export async function startLab(opts: { exporterArgs?: readonly string[] } = {}): Promise<Lab> {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    // The slow parts (dockerd, its image import; redis) start together.
    const [dockerd, redis, current, legacy] = await Promise.all([
      startDockerd(),
      startRedis(),
      LlamaSwapStandIn.start({ mode: 'v250', models: [FAILING_MODEL, HEALTHY_MODEL], failing: [FAILING_MODEL], swap: false }),
      LlamaSwapStandIn.start({ mode: 'v217', models: [FAILING_MODEL], failing: [FAILING_MODEL] }),
    ]);
    cleanups.push(() => dockerd.stop(), () => redis.stop(), () => current.close(), () => legacy.close());

    const compose = (service: string): string[] => ['--label', 'com.docker.compose.project=immich', '--label', `com.docker.compose.service=${service}`];
    const [ml, jellyfin, flaky] = await Promise.all([
      dockerd.runContainer(['-m', '64m', '--name', 'immich_machine_learning', ...compose('immich-machine-learning')]),
      dockerd.runContainer(['--name', 'jellyfin']),
      // Docker restarts it every few seconds: restarts_total grows, the restart annotation has something to show.
      dockerd.runContainer(['--name', 'flaky', '--restart', 'always', ...compose('flaky-sidecar')], ['sh', '-c', 'sleep 3; exit 1']),
    ]);
    const [mlState, jfState] = await Promise.all([inspect(dockerd, ml), inspect(dockerd, jellyfin)]);

    // Queues: the stalled one (jobs, no worker) and the busy one (a slow worker, many jobs).
    const connection = connectionOf(redis.port);
    const stalled = await bullmqQueues('bullmq6', connection, IMMICH_PREFIX, [STALLED_QUEUE], STALLED_JOBS);
    cleanups.push(() => stalled.close());
    const busy = await bullmqQueues('bullmq6', connection, IMMICH_PREFIX, [BUSY_QUEUE], 600);
    cleanups.push(() => busy.close());
    // Two jobs at a time, 0.5 s each: never idle between jobs at a scrape, 600 jobs last ~150 s.
    const busyWorker = new mq.Worker(BUSY_QUEUE, async () => sleep(500), { connection, prefix: IMMICH_PREFIX, concurrency: 2 });
    cleanups.push(() => busyWorker.close(true));
    let smartWorker: mq.Worker | undefined;
    cleanups.push(() => smartWorker?.close(true));

    // The GPU: seed 002, its two processes living in the lab's containers.
    const gpuDir = fakeNvidiaSmiDir('gpu-t4-seed002.csv', {
      text: `${SEED002.uuid}, ${mlState.pid}, /opt/venv/bin/python3, ${SEED002.immichMlMiB}\n${SEED002.uuid}, ${jfState.pid}, /usr/lib/jellyfin-ffmpeg/ffmpeg, ${SEED002.ffmpegMiB}\n`,
    }, 'lab-nvidia');
    cleanups.push(() => removeDir(gpuDir));

    // ML backends: one answers, one refuses (its port is free, nobody listens).
    const mlUp = await immichMl();
    cleanups.push(() => mlUp.stop());
    const mlBackends = { up: `127.0.0.1:${mlUp.port}`, down: `127.0.0.1:${await freePort()}` };
    // A tmpfs where the photo library would be mounted.
    const mountDir = tempDir('lab-mount');
    const mount = join(mountDir, 'library');
    mkdirSync(mount);
    cleanups.push(() => removeDir(mountDir));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'silentwatch-lab', mount]);
    cleanups.push(() => spawnSync('umount', ['-l', mount]));

    const exporter = await startExporter(
      [
        `--docker.host=${dockerd.host}`,
        '--collector.containers',
        '--collector.nvidia',
        `--collector.nvidia.binary=${FAKE_NVIDIA_SMI}`,
        '--collector.queues',
        `--collector.queues.redis-url=${redis.url}`,
        `--collector.queues.prefixes=${IMMICH_PREFIX}`,
        '--collector.queues.discovery-interval=1s',
        '--collector.llamaswap',
        `--collector.llamaswap.servers=current=${current.url},legacy=${legacy.url}`,
        '--collector.llamaswap.poll-interval=500ms',
        '--collector.probes',
        `--collector.probes.immich-ml=${mlBackends.up},${mlBackends.down}`,
        '--collector.mounts',
        `--collector.mounts.paths=${mount}`,
        '--collector.mounts.expected-fstypes=tmpfs',
        ...(opts.exporterArgs ?? []),
      ],
      { FAKE_NVIDIA_SMI_DIR: gpuDir },
    );
    cleanups.push(() => exporter.stop());

    // The fake DRM host: immich-ml (pid 100, in the immich_machine_learning container's cgroup) renders on an
    // Intel iGPU; its engine counter grows 0.25 s per second, as a busy OpenVINO inference would.
    const drmDir = tempDir('lab-drm');
    cleanups.push(() => removeDir(drmDir));
    const fake = new FakeHost(drmDir);
    fake.card(0, IGPU, '0x8086', 'i915');
    fake.process(100, 'immich-ml', `12:memory:/docker/${ml}\n`);
    const igpu = (renderNs: number): string =>
      fdinfo('i915', IGPU, 39, { 'drm-total-system0': '512 MiB', 'drm-resident-system0': '409600 KiB' }, { render: renderNs, copy: 0, video: 0 });
    fake.fd(100, 5, '/dev/dri/renderD128', igpu(0));
    cgroupV2Root(fake.sys)(`system.slice/docker-${V2_CONTAINER_ID}.scope`, V2_DOCKER_FILES);
    const drmStarted = Date.now();
    const engineTicker = setInterval(() => {
      writeFileSync(join(fake.proc, '100', 'fdinfo', '5'), igpu(Math.round((Date.now() - drmStarted) * 0.25e6)));
    }, 500);
    cleanups.push(() => clearInterval(engineTicker));
    const drmExporter = await startExporter([
      `--path.procfs=${fake.proc}`,
      `--path.sysfs=${fake.sys}`,
      `--docker.host=${dockerd.host}`,
      '--collector.drm',
      '--no-collector.host',
      '--collector.containers',
      '--collector.containers.docker=false',
      '--no-collector.nvidia',
      '--no-collector.queues',
      '--no-collector.llamaswap',
    ]);
    cleanups.push(() => drmExporter.stop());

    // Ready when every part is visible in one scrape.
    await waitFor(
      async () => {
        const m = await exporter.metrics();
        return (
          m.value('silentwatch_collector_success', { collector: 'containers' }) === 1 &&
          m.value('silentwatch_collector_success', { collector: 'nvidia' }) === 1 &&
          m.value('silentwatch_collector_success', { collector: 'queues' }) === 1 &&
          m.value('silentwatch_collector_success', { collector: 'llamaswap' }) === 1 &&
          m.get('silentwatch_container_oom_kills_total', { container: 'immich_machine_learning' }).length === 1 &&
          m.get('silentwatch_gpu_process_memory_bytes', { container: 'immich_machine_learning' }).length === 1 &&
          m.get('silentwatch_queue_jobs', { queue: STALLED_QUEUE, state: 'waiting' }).length === 1 &&
          m.value('silentwatch_llamaswap_up', { server: 'legacy' }) === 1 &&
          m.value('silentwatch_llamaswap_up', { server: 'current' }) === 1 &&
          m.value('silentwatch_collector_success', { collector: 'probes' }) === 1 &&
          m.value('silentwatch_collector_success', { collector: 'mounts' }) === 1 &&
          m.value('silentwatch_mount_responsive', { path: mount }) === 1
        );
      },
      'the lab exporter to see every part',
      30_000,
      250,
    );
    await waitFor(
      async () => {
        const m = await drmExporter.metrics();
        return (
          m.value('silentwatch_collector_success', { collector: 'drm' }) === 1 &&
          m.get('silentwatch_gpu_process_engine_busy_seconds_total', { pid: '100' }).length > 0 &&
          m.value('silentwatch_collector_success', { collector: 'containers' }) === 1 &&
          m.value('silentwatch_container_oom_events_total', { id: V2_CONTAINER_ID.slice(0, 12) }) === 7
        );
      },
      'the DRM exporter to see the iGPU client',
      30_000,
      250,
    );

    return {
      dockerd,
      redis,
      exporter,
      drmExporter,
      targets: [`127.0.0.1:${exporter.port}`, `127.0.0.1:${drmExporter.port}`],
      llamaswap: { current, legacy },
      containers: { ml, jellyfin, flaky },
      pids: { ml: mlState.pid, jellyfin: jfState.pid },
      mlBackends,
      mount,
      async oomKill() {
        // dd allocates a 100 MiB buffer in a 64 MiB cgroup: the kernel kills dd, the container's sleep lives on.
        await dockerd.cli(['exec', ml, 'sh', '-c', 'dd if=/dev/zero bs=100M count=1 | cat >/dev/null']).catch(() => undefined);
        const { status, oomKilled, restarts } = await inspect(dockerd, ml);
        return { status, oomKilled, restarts };
      },
      async driveLlamaSwap({ failing = 50, healthy = 10, spreadMs = 10_000 } = {}) {
        const ticks = 10;
        const out = { current: new Map<number, number>(), legacy: new Map<number, number>() };
        const add = (into: Map<number, number>, from: Map<number, number>): void => {
          for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
        };
        for (let t = 0; t < ticks; t++) {
          const share = (n: number): number => Math.floor((n * (t + 1)) / ticks) - Math.floor((n * t) / ticks);
          const [a, b, c] = await Promise.all([
            chat(current.url, FAILING_MODEL, share(Math.ceil(failing / 2))),
            chat(legacy.url, FAILING_MODEL, share(Math.floor(failing / 2))),
            chat(current.url, HEALTHY_MODEL, share(healthy)),
          ]);
          add(out.current, a);
          add(out.legacy, b);
          add(out.current, c);
          if (t < ticks - 1) await sleep(spreadMs / ticks);
        }
        return out;
      },
      async startSmartSearchWorker() {
        smartWorker = new mq.Worker(STALLED_QUEUE, async () => 'embedded', { connection, prefix: IMMICH_PREFIX, concurrency: 4 });
        const q = stalled.queues[0] as unknown as mq.Queue;
        await waitFor(async () => {
          const c = await q.getJobCounts('waiting', 'active', 'prioritized');
          return c.waiting === 0 && c.active === 0 && c.prioritized === 0;
        }, 'smartSearch to drain', 30_000, 100);
      },
      healGpu() {
        const [row] = readFileSync(join(NVIDIA_FIXTURES, 'gpu-t4-seed002.csv'), 'utf8').split('\n');
        const used = SEED002.usedMiB - SEED002.immichMlMiB;
        const free = SEED002.freeMiB + SEED002.immichMlMiB;
        writeFileSync(join(gpuDir, 'gpu.csv'), `${(row as string).replace(`, ${SEED002.usedMiB}, ${SEED002.freeMiB},`, `, ${used}, ${free},`)}\n`);
        writeFileSync(join(gpuDir, 'apps.csv'), `${SEED002.uuid}, ${jfState.pid}, /usr/lib/jellyfin-ffmpeg/ffmpeg, ${SEED002.ffmpegMiB}\n`);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
