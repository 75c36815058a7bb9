/**
 * The doctor's checks as pure functions: each seed's situation produces its finding with evidence and
 * the fix; a clean setup produces nothing above info; checks without data say why they were skipped.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/collectors/mounts/parse-mountinfo.js';
import { healthMetric, oomKilledFlag, oomKills, restarts, stateMetric } from '../../src/collectors/containers/index.js';
import { gpuMemoryFree, gpuMemoryTotal } from '../../src/collectors/nvidia/index.js';
import { success as probeSuccess } from '../../src/collectors/probes/metrics.js';
import { queueBacklog, queueJobs, queueOldest, queueOldestActive, queuePaused, queueWorkers } from '../../src/collectors/queues/metrics.js';
import { gpuProcessMemory } from '../../src/lib/gpu-metrics.js';
import type { MetricDef, Sample } from '../../src/metrics.js';
import { diagnose, exitCodeFor, type DoctorInput, type InspectedContainer } from '../../src/doctor/findings.js';

/** A sample of a real metric definition (the collectors' own objects: a renamed metric breaks this file's build). */
const s = (def: MetricDef, labels: Record<string, string>, value: number): Sample => {
  expect(def.labels, `${def.name} declares every label used here`).toEqual(expect.arrayContaining(Object.keys(labels)));
  return { def, labels, value };
};
const ml = { container: 'immich_machine_learning', id: 'abc123abc123' };
const ctr = (over: Partial<InspectedContainer> = {}): InspectedContainer => ({
  name: 'immich_machine_learning',
  image: 'ghcr.io/immich-app/immich-machine-learning:release',
  env: {},
  devices: [],
  gpuRequested: false,
  memoryLimitBytes: 6144 * 2 ** 20,
  ...over,
});
const input = (over: Partial<DoctorInput>): DoctorInput => ({ samples: [], containers: [ctr()], mounts: [], hostPidNamespace: true, collectors: [], ...over });

describe('doctor findings', () => {
  it('seed 000: OOM kills inside a running container with no restart -> critical, with the fix', () => {
    const r = diagnose(
      input({
        samples: [
          s(oomKills, ml, 3),
          s(restarts, ml, 0),
          s(oomKilledFlag, ml, 0),
          s(stateMetric, { ...ml, state: 'running' }, 1),
        ],
      }),
    );
    const f = r.findings.find((x) => x.check === 'silent-oom-kills');
    expect(f?.severity).toBe('critical');
    expect(f?.title).toContain('3 process(es) OOM-killed inside container immich_machine_learning');
    expect(f?.evidence.join('\n')).toContain('restarts 0, OOMKilled false');
    expect(f?.fix).toContain('deploy.resources.limits.memory: 6144M');
    expect(exitCodeFor(r)).toBe(2);
  });

  it('seed 000: ML container without a limit, or with one too small', () => {
    expect(diagnose(input({ containers: [ctr({ memoryLimitBytes: 0 })] })).findings.map((f) => f.title)).toContain('immich_machine_learning has no memory limit');
    const small = diagnose(input({ containers: [ctr({ memoryLimitBytes: 2 * 2 ** 30 })] })).findings;
    expect(small[0]?.title).toMatch(/memory limit 2\.0 GiB is below what its models need/);
  });

  it('seed 000: OpenVINO image without /dev/dri, CUDA image without a GPU', () => {
    const r = diagnose(input({ containers: [ctr({ image: 'ghcr.io/immich-app/immich-machine-learning:release-openvino' })] }));
    expect(r.findings.find((f) => f.check === 'accel-device')?.fix).toContain('/dev/dri:/dev/dri');
    const ok = diagnose(input({ containers: [ctr({ image: 'ghcr.io/immich-app/immich-machine-learning:release-openvino', devices: ['/dev/dri'] })] }));
    expect(ok.findings.filter((f) => f.check === 'accel-device')).toHaveLength(0);
    const cuda = diagnose(input({ containers: [ctr({ image: 'ghcr.io/immich-app/immich-machine-learning:release-cuda' })] }));
    expect(cuda.findings.find((f) => f.check === 'accel-device')?.title).toContain('CUDA image without a GPU reservation');
  });

  it('seed 002: MODEL_TTL=0 on a GPU shared with llama-server -> critical with the VRAM held', () => {
    const gpu = { vendor: 'nvidia', gpu: '0', uuid: 'GPU-t4' };
    const r = diagnose(
      input({
        containers: [ctr({ env: { MACHINE_LEARNING_MODEL_TTL: '0' }, gpuRequested: true })],
        samples: [
          s(gpuProcessMemory, { ...gpu, container: 'immich_machine_learning', process: 'python', pid: '11' }, 10726 * 2 ** 20),
          s(gpuProcessMemory, { ...gpu, container: 'llama-swap', process: 'llama-server', pid: '12' }, 1000 * 2 ** 20),
          s(gpuMemoryTotal, gpu, 15360 * 2 ** 20),
          s(gpuMemoryFree, gpu, 2200 * 2 ** 20),
        ],
      }),
    );
    const ttl = r.findings.find((f) => f.check === 'model-ttl-zero');
    expect(ttl?.severity).toBe('critical');
    expect(ttl?.evidence.join('\n')).toContain('holds 10.5 GiB');
    expect(ttl?.fix).toContain('MACHINE_LEARNING_MODEL_TTL=600');
    const vram = r.findings.find((f) => f.check === 'low-vram');
    expect(vram?.title).toBe('GPU 0 has only 2.1 GiB of 15.0 GiB free');
    expect(vram?.evidence.join('\n')).toContain('top holders: immich_machine_learning 10.5 GiB');
  });

  it('queues with waiting jobs and no worker -> critical; busy but draining -> nothing', () => {
    const q = { prefix: 'immich_bull', queue: 'smartSearch' };
    const stuck = diagnose(input({ samples: [s(queueJobs, { ...q, state: 'waiting' }, 1200), s(queueJobs, { ...q, state: 'active' }, 0), s(queueWorkers, q, 0), s(queueOldest, q, 3600)] }));
    const f = stuck.findings.find((x) => x.check === 'stuck-queue');
    expect(f?.severity).toBe('critical');
    expect(f?.fix).toContain('LLEN immich_bull:smartSearch:wait');
    // a hung processor: a worker connected, one job active for an hour; a prioritized backlog with no worker
    const hung = diagnose(input({ samples: [s(queueBacklog, q, 50), s(queueJobs, { ...q, state: 'active' }, 1), s(queueWorkers, q, 1), s(queueOldestActive, q, 3600)] }));
    expect(hung.findings.find((x) => x.check === 'stuck-queue')?.runbook).toMatch(/QueueActiveJobStuck/);
    const prio = diagnose(input({ samples: [s(queueJobs, { ...q, state: 'waiting' }, 0), s(queueJobs, { ...q, state: 'prioritized' }, 30), s(queueJobs, { ...q, state: 'active' }, 0), s(queueWorkers, q, 0)] }));
    expect(prio.findings.find((x) => x.check === 'stuck-queue')?.title).toMatch(/30 job\(s\) and no worker/);
    // paused: nothing
    const paused = diagnose(input({ samples: [s(queueBacklog, q, 50), s(queueJobs, { ...q, state: 'active' }, 0), s(queueWorkers, q, 0), s(queuePaused, q, 1)] }));
    expect(paused.findings).toHaveLength(0);
    const busy = diagnose(input({ samples: [s(queueJobs, { ...q, state: 'waiting' }, 1200), s(queueJobs, { ...q, state: 'active' }, 4), s(queueWorkers, q, 1), s(queueOldest, q, 30)] }));
    expect(busy.findings).toHaveLength(0);
  });

  it('seed 001: NFS mounts without soft (fixture mountinfo) -> warning with the fstab line; soft and softerr -> fine', () => {
    const mounts = parseMountinfo(readFileSync(new URL('../fixtures/mounts/mountinfo-nfs-cifs-sshfs-written.txt', import.meta.url), 'utf8'));
    const r = diagnose(input({ mounts }));
    const nfs = r.findings.filter((f) => f.check === 'nfs-hard-mount');
    // hard explicitly (nfs4 on a 5.x kernel) and hard by default (an old kernel printing neither)
    expect(nfs.map((f) => f.title).sort()).toEqual([
      "/mnt/old kernel (oldnas:/share) is an NFS mount without 'soft'",
      "/srv/immich/library (nas.lan:/volume1/photos) is an NFS mount without 'soft'",
    ]);
    expect(nfs.find((f) => f.title.startsWith('/srv'))?.fix).toBe('In /etc/fstab use: nas.lan:/volume1/photos /srv/immich/library nfs4 _netdev,soft,timeo=150,retrans=3,nofail 0 0');
    // seed 001's own mount (soft, timeo=150) and softerr are fine; CIFS and sshfs are not NFS
    expect(r.findings.some((f) => f.title.includes('/mnt/fotos_nas') || f.title.includes('/mnt/softerr'))).toBe(false);
  });

  it('no host PID namespace while GPUs exist -> warning', () => {
    const gpu = { vendor: 'nvidia', gpu: '0', uuid: 'GPU-x' };
    const r = diagnose(input({ hostPidNamespace: false, samples: [s(gpuMemoryTotal, gpu, 16e9), s(gpuMemoryFree, gpu, 15e9)] }));
    expect(r.findings.map((f) => f.check)).toEqual(['host-pid']);
  });

  it('seed 003: a failing ML backend probe; an unhealthy container', () => {
    const r = diagnose(input({ samples: [s(probeSuccess, { group: 'immich-ml', target: 'desktop.local:3003' }, 0), s(healthMetric, { ...ml, status: 'unhealthy' }, 1)] }));
    expect(r.findings.map((f) => f.check).sort()).toEqual(['ml-backend', 'unhealthy-container']);
  });

  it('a clean setup: no findings, exit 0; checks without data are skipped with the reason', () => {
    const r = diagnose(input({ containers: undefined, mounts: undefined, hostPidNamespace: undefined }));
    expect(r.findings).toHaveLength(0);
    expect(exitCodeFor(r)).toBe(0);
    expect(r.skipped.find((x) => x.check === 'ml-memory-limit')?.reason).toMatch(/Docker not reachable/);
    expect(r.skipped.find((x) => x.check === 'stuck-queue')?.reason).toMatch(/no Redis found/);
    expect(r.skipped.find((x) => x.check === 'low-vram')?.reason).toMatch(/no nvidia-smi/);
  });
});
