/**
 * The doctor's checks: pure functions from what the collectors measured (this scrape's samples), Docker's
 * read-only inspect data and the host mount table, to findings with evidence and the exact fix.
 * They encode the seeds' manual checklists (seed 000 OOM/limits/OpenVINO, 001 NFS hard mounts,
 * 002 MODEL_TTL=0 on a shared GPU, 003 ML backends behind a balancer).
 */
import { nfsMode, type MountEntry } from '../collectors/mounts/parse-mountinfo.js';
import type { Sample } from '../metrics.js';

export type { MountEntry };

export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  readonly check: string;
  readonly severity: Severity;
  /** What is wrong, in one line, naming the subject (container, queue, mount, GPU). */
  readonly title: string;
  /** The numbers and settings that show it. */
  readonly evidence: readonly string[];
  /** The exact change that fixes it. */
  readonly fix: string;
  readonly runbook?: string;
}

export interface Skipped {
  readonly check: string;
  readonly reason: string;
}

/** Read-only facts from `docker inspect` that the collectors do not export. */
export interface InspectedContainer {
  readonly name: string;
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
  /** Host paths of devices mapped in (HostConfig.Devices). */
  readonly devices: readonly string[];
  /** GPU requests (HostConfig.DeviceRequests with gpu capability, or the nvidia runtime). */
  readonly gpuRequested: boolean;
  readonly memoryLimitBytes: number;
}

export interface DoctorInput {
  readonly samples: readonly Sample[];
  /** undefined when Docker could not be reached. */
  readonly containers: readonly InspectedContainer[] | undefined;
  readonly mounts: readonly MountEntry[] | undefined;
  /** Whether the exporter sees the host PID namespace (per-process GPU attribution works). */
  readonly hostPidNamespace: boolean | undefined;
  /** Collectors that were active and their last error, to explain skipped checks. */
  readonly collectors: ReadonlyArray<{ name: string; status: string; reason: string; error?: string }>;
}

export interface DoctorReport {
  readonly findings: readonly Finding[];
  readonly skipped: readonly Skipped[];
  readonly passed: readonly string[];
}

const RUNBOOK = 'docs/runbooks/';
const GiB = 2 ** 30;
/** Seed 000: ViT-B-32 + buffalo_l + PP-OCRv5 loaded together need ~6 GiB; below 4 GiB the worker gets killed. */
export const ML_MIN_MEMORY_BYTES = 4 * GiB;
export const ML_RECOMMENDED_MEMORY = '6144M';
/**
 * Free VRAM below this is too little to load a typical model: seed 002's qwen3-8b needed 4455 MiB, while
 * the T4 had 2.2 GB free, i.e. 13.75 %: a ratio threshold alone (10 %) would have stayed silent.
 */
export const LOW_VRAM_BYTES = 4 * GiB;
export const LOW_VRAM_RATIO = 0.1;

const isImmichMl = (image: string, name: string): boolean => /immich-machine-learning|immich_machine_learning/.test(`${image} ${name}`);

function values(samples: readonly Sample[], name: string): Array<{ labels: Readonly<Record<string, string>>; value: number }> {
  return samples.filter((s) => s.def.name === name && typeof s.value === 'number').map((s) => ({ labels: s.labels, value: s.value as number }));
}

function valueFor(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>>): number | undefined {
  return values(samples, name).find((v) => Object.entries(match).every(([k, want]) => v.labels[k] === want))?.value;
}

const bytes = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);

type Check = (input: DoctorInput, out: { add: (f: Finding) => void; skip: (reason: string) => void }) => void;

/** Seed 000: processes OOM-killed inside a container that Docker still shows as fine. */
const silentOomKills: Check = (input, out) => {
  const kills = values(input.samples, 'silentwatch_container_oom_kills_total');
  if (kills.length === 0) return out.skip('no container memory data (containers collector inactive or no containers)');
  for (const k of kills.filter((x) => x.value > 0)) {
    const who = { container: k.labels.container ?? '', id: k.labels.id ?? '' };
    const restarts = valueFor(input.samples, 'silentwatch_container_restarts_total', who);
    const flagged = valueFor(input.samples, 'silentwatch_container_oom_killed', who);
    const running = valueFor(input.samples, 'silentwatch_container_state', { ...who, state: 'running' });
    const silent = (restarts ?? 0) === 0 && (flagged ?? 0) === 0;
    out.add({
      check: 'silent-oom-kills',
      severity: silent ? 'critical' : 'warning',
      title: `${k.value} process(es) OOM-killed inside container ${who.container}${silent ? ' while Docker shows no restart and OOMKilled=false' : ''}`,
      evidence: [
        `cgroup oom_kill counter: ${k.value}`,
        `Docker: ${running === 1 ? 'running' : 'not running'}, restarts ${restarts ?? 'unknown'}, OOMKilled ${flagged === 1 ? 'true' : 'false'}`,
        'typical log line: "Worker (pid:…) was sent SIGKILL! Perhaps out of memory?"',
      ],
      fix: `Raise the memory limit of ${who.container} (compose: deploy.resources.limits.memory: ${ML_RECOMMENDED_MEMORY}) or load fewer models at once (Immich: Machine Learning Settings → Max Models = 1, disable OCR on small hosts).`,
      runbook: `${RUNBOOK}ContainerOOMKillInside.md`,
    });
  }
};

/** Seed 000's first checklist item: the ML container must have a realistic memory limit. */
const mlMemoryLimit: Check = (input, out) => {
  if (!input.containers) return out.skip('Docker not reachable: cannot inspect container limits');
  const ml = input.containers.filter((c) => isImmichMl(c.image, c.name));
  if (ml.length === 0) return out.skip('no Immich machine-learning container found');
  for (const c of ml) {
    if (c.memoryLimitBytes <= 0) {
      out.add({
        check: 'ml-memory-limit',
        severity: 'warning',
        title: `${c.name} has no memory limit`,
        evidence: [`image ${c.image}`, 'HostConfig.Memory = 0 (unlimited): one model load can push the whole host into the OOM killer'],
        fix: `Set deploy.resources.limits.memory: ${ML_RECOMMENDED_MEMORY} on ${c.name} (seed 000's value for CLIP + faces + OCR).`,
        runbook: `${RUNBOOK}ContainerWithoutMemoryLimit.md`,
      });
    } else if (c.memoryLimitBytes < ML_MIN_MEMORY_BYTES) {
      out.add({
        check: 'ml-memory-limit',
        severity: 'warning',
        title: `${c.name}'s memory limit ${bytes(c.memoryLimitBytes)} is below what its models need`,
        evidence: [`limit ${bytes(c.memoryLimitBytes)}; CLIP ViT-B-32 + buffalo_l + PP-OCRv5 together need about 6 GiB`],
        fix: `Raise it to ${ML_RECOMMENDED_MEMORY}, or set Max Models = 1 and disable OCR.`,
        runbook: `${RUNBOOK}ContainerMemoryNearLimit.md`,
      });
    }
  }
};

/** Seed 002: MACHINE_LEARNING_MODEL_TTL=0 pins every model's VRAM forever on a GPU others need. */
const modelTtlZero: Check = (input, out) => {
  if (!input.containers) return out.skip('Docker not reachable: cannot read container environment');
  const pinned = input.containers.filter((c) => c.env.MACHINE_LEARNING_MODEL_TTL === '0');
  if (pinned.length === 0) return;
  const gpuProcs = values(input.samples, 'silentwatch_gpu_process_memory_bytes');
  for (const c of pinned) {
    const mine = gpuProcs.filter((p) => p.labels.container === c.name);
    const gpus = new Set(mine.map((p) => p.labels.uuid || p.labels.device));
    const others = gpuProcs.filter((p) => p.labels.container !== c.name && gpus.has(p.labels.uuid || p.labels.device));
    const shared = others.length > 0 || input.containers.some((o) => o !== c && o.gpuRequested && c.gpuRequested);
    const held = mine.reduce((a, p) => a + p.value, 0);
    out.add({
      check: 'model-ttl-zero',
      severity: shared ? 'critical' : 'warning',
      title: `${c.name} runs with MACHINE_LEARNING_MODEL_TTL=0${shared ? ' on a GPU shared with other processes' : ''}`,
      evidence: [
        'TTL 0 disables unloading: onnxruntime keeps its CUDA arena forever (seed 002: 10.7 GB of a 16 GB T4)',
        ...(held > 0 ? [`${c.name} holds ${bytes(held)} of VRAM now`] : []),
        ...(others.length ? [`other GPU processes: ${[...new Set(others.map((o) => o.labels.container || o.labels.process))].join(', ')}`] : []),
      ],
      fix: 'Set MACHINE_LEARNING_MODEL_TTL=600 (idle models unload after 10 min; preload CLIP with MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL if search must stay warm).',
      runbook: `${RUNBOOK}GpuProcessHoldsMostVram.md`,
    });
  }
};

/** Seed 000/003: an accelerated ML image without the device it needs silently falls back to CPU. */
const accelImageWithoutDevice: Check = (input, out) => {
  if (!input.containers) return out.skip('Docker not reachable: cannot inspect devices');
  for (const c of input.containers.filter((x) => isImmichMl(x.image, x.name))) {
    if (/openvino/.test(c.image) && !c.devices.some((d) => d.startsWith('/dev/dri'))) {
      out.add({
        check: 'accel-device',
        severity: 'warning',
        title: `${c.name} uses the OpenVINO image without /dev/dri mapped`,
        evidence: [`image ${c.image}`, `devices: ${c.devices.join(', ') || 'none'}`],
        fix: 'Add `devices: [/dev/dri:/dev/dri]` to the service (and pass the iGPU through to the VM on ESXi/Proxmox).',
      });
    }
    if (/cuda/.test(c.image) && !c.gpuRequested) {
      out.add({
        check: 'accel-device',
        severity: 'warning',
        title: `${c.name} uses the CUDA image without a GPU reservation`,
        evidence: [`image ${c.image}`, 'no DeviceRequests with the gpu capability and no nvidia runtime'],
        fix: 'Add deploy.resources.reservations.devices: [{driver: nvidia, count: 1, capabilities: [gpu]}] (Immich hwaccel.ml.yml "cuda").',
      });
    }
  }
};

/** Queues with work waiting and nobody to do it: the dead-ML-worker case. */
const stuckQueues: Check = (input, out) => {
  const waiting = values(input.samples, 'silentwatch_queue_jobs').filter((v) => v.labels.state === 'waiting' || v.labels.state === 'wait');
  if (waiting.length === 0 && values(input.samples, 'silentwatch_queue_workers').length === 0) return out.skip('no queue data (queues collector inactive: no Redis found)');
  for (const w of waiting.filter((x) => x.value > 0)) {
    const q = { prefix: w.labels.prefix ?? '', queue: w.labels.queue ?? '' };
    const workers = valueFor(input.samples, 'silentwatch_queue_workers', q);
    const active = valueFor(input.samples, 'silentwatch_queue_jobs', { ...q, state: 'active' }) ?? 0;
    const age = valueFor(input.samples, 'silentwatch_queue_oldest_waiting_job_age_seconds', q);
    if (workers === 0 || (active === 0 && (age ?? 0) > 900)) {
      out.add({
        check: 'stuck-queue',
        severity: workers === 0 ? 'critical' : 'warning',
        title: `queue ${q.prefix}:${q.queue} has ${w.value} waiting job(s) and ${workers === 0 ? 'no worker connected' : 'nothing active'}`,
        evidence: [`waiting ${w.value}, active ${active}, workers ${workers ?? 'unknown'}`, ...(age !== undefined ? [`oldest waiting job ${Math.round(age)} s old`] : [])],
        fix: 'Check the worker (Immich: immich_machine_learning / immich_server logs for SIGKILL or fetch failed); restart it; confirm with `redis-cli LLEN ' + `${q.prefix}:${q.queue}:wait\` (Immich's prefix is immich_bull, not bull).`,
        runbook: `${RUNBOOK}${workers === 0 ? 'QueueNoWorkers' : 'QueueStalled'}.md`,
      });
    }
  }
};

/** Seed 001: NFS/CIFS media mounted hard freezes every reader when the NAS reboots. */
const networkMounts: Check = (input, out) => {
  if (!input.mounts) return out.skip('mount table not readable');
  for (const m of input.mounts) {
    if (nfsMode(m) === 'hard') {
      out.add({
        check: 'nfs-hard-mount',
        severity: 'warning',
        title: `${m.mountPoint} (${m.source}) is an NFS mount without 'soft'`,
        evidence: [`fstype ${m.fstype}`, `options ${m.superOptions.join(',')}`, 'a hard mount blocks every reader forever while the server is away'],
        fix: `In /etc/fstab use: ${m.source} ${m.mountPoint} ${m.fstype} _netdev,soft,timeo=150,retrans=3,nofail 0 0`,
        runbook: `${RUNBOOK}MountUnresponsive.md`,
      });
    }
  }
  for (const p of values(input.samples, 'silentwatch_mount_present').filter((v) => v.value === 0)) {
    out.add({
      check: 'mount-missing',
      severity: 'critical',
      title: `watched mount ${p.labels.path} is not mounted`,
      evidence: ['not in the mount table (df -h does not list it)'],
      fix: 'mount -a (check the NAS and /etc/fstab); with nofail the host boots without it, silently.',
      runbook: `${RUNBOOK}MountMissing.md`,
    });
  }
  for (const p of values(input.samples, 'silentwatch_mount_responsive').filter((v) => v.value === 0)) {
    out.add({
      check: 'mount-unresponsive',
      severity: 'critical',
      title: `watched mount ${p.labels.path} does not answer`,
      evidence: ['stat/readdir did not return within the probe time-out'],
      fix: 'Check the NAS; remount soft (see above) so readers get an error instead of hanging.',
      runbook: `${RUNBOOK}MountUnresponsive.md`,
    });
  }
};

/** Seed 002: free VRAM too low for the next model load. */
const lowVram: Check = (input, out) => {
  const totals = values(input.samples, 'silentwatch_gpu_memory_total_bytes');
  if (totals.length === 0) return out.skip('no GPU memory data (no nvidia-smi)');
  for (const t of totals) {
    const free = valueFor(input.samples, 'silentwatch_gpu_memory_free_bytes', { uuid: t.labels.uuid ?? '' });
    if (free === undefined || t.value <= 0 || (free / t.value >= LOW_VRAM_RATIO && free >= LOW_VRAM_BYTES)) continue;
    const holders = values(input.samples, 'silentwatch_gpu_process_memory_bytes')
      .filter((p) => p.labels.uuid === t.labels.uuid)
      .sort((a, b) => b.value - a.value)
      .slice(0, 3)
      .map((p) => `${p.labels.container || p.labels.process} ${bytes(p.value)}`);
    out.add({
      check: 'low-vram',
      severity: 'warning',
      title: `GPU ${t.labels.gpu} has only ${bytes(free)} of ${bytes(t.value)} free`,
      evidence: [`free ${((free / t.value) * 100).toFixed(1)} % (a model load needs its weights + KV cache free: under ${bytes(LOW_VRAM_BYTES)} most fail)`, ...(holders.length ? [`top holders: ${holders.join(', ')}`] : [])],
      fix: 'Find the holder above; for immich-ml set MACHINE_LEARNING_MODEL_TTL=600; a llama-server model load needs its full weights + KV cache free.',
      runbook: `${RUNBOOK}GpuFreeVramLow.md`,
    });
  }
};

/** Per-process GPU data is blind without the host PID namespace. */
const hostPid: Check = (input, out) => {
  if (input.hostPidNamespace === undefined) return out.skip('cannot tell the PID namespace');
  const gpus = values(input.samples, 'silentwatch_gpu_memory_total_bytes').length > 0;
  if (!input.hostPidNamespace && gpus) {
    out.add({
      check: 'host-pid',
      severity: 'warning',
      title: 'silentwatch does not see the host PID namespace: GPU memory cannot be attributed to containers',
      evidence: ['/proc/1 is not the host init', 'nvidia-smi inside a container shows "No running processes found"'],
      fix: 'Run silentwatch with `pid: host` (compose) or `hostPID: true` (Kubernetes).',
      runbook: `${RUNBOOK}GpuUnattributedVramHigh.md`,
    });
  }
};

/** Seed 003: ML backends behind a balancer. */
const backends: Check = (input, out) => {
  const probes = values(input.samples, 'silentwatch_probe_success');
  if (probes.length === 0) return out.skip('no probes configured');
  for (const p of probes.filter((x) => x.value === 0)) {
    out.add({
      check: 'ml-backend',
      severity: 'warning',
      title: `probe ${p.labels.target} (${p.labels.group}) fails`,
      evidence: [`status ${valueFor(input.samples, 'silentwatch_probe_http_status_code', { group: p.labels.group ?? '', target: p.labels.target ?? '' }) ?? 'no answer'}`],
      fix: `curl -s http://${p.labels.target}/ping should answer "pong"; start the backend or remove it from IMML_BACKENDS.`,
      runbook: `${RUNBOOK}MlBackendDown.md`,
    });
  }
};

/** Unhealthy containers: Docker's own health check says so, yet nothing pages (seed 000's first symptom). */
const unhealthy: Check = (input, out) => {
  const health = values(input.samples, 'silentwatch_container_health_status');
  if (health.length === 0) return out.skip('no container health data (containers collector inactive or Docker unreachable)');
  for (const h of health.filter((x) => x.labels.status === 'unhealthy' && x.value === 1)) {
    out.add({
      check: 'unhealthy-container',
      severity: 'warning',
      title: `container ${h.labels.container} is unhealthy`,
      evidence: ['Docker health check failing; for immich_machine_learning this usually follows worker SIGKILLs (see silent-oom-kills)'],
      fix: `docker logs ${h.labels.container} --tail 50; look for "was sent SIGKILL! Perhaps out of memory?" and raise the memory limit.`,
      runbook: `${RUNBOOK}ContainerUnhealthy.md`,
    });
  }
};

export const CHECKS: ReadonlyArray<readonly [string, Check]> = [
  ['silent-oom-kills', silentOomKills],
  ['ml-memory-limit', mlMemoryLimit],
  ['model-ttl-zero', modelTtlZero],
  ['accel-device', accelImageWithoutDevice],
  ['stuck-queue', stuckQueues],
  ['network-mounts', networkMounts],
  ['low-vram', lowVram],
  ['host-pid', hostPid],
  ['ml-backend', backends],
  ['unhealthy-container', unhealthy],
];

export function diagnose(input: DoctorInput): DoctorReport {
  const findings: Finding[] = [];
  const skipped: Skipped[] = [];
  const passed: string[] = [];
  for (const [name, check] of CHECKS) {
    const before = findings.length;
    let skippedReason: string | undefined;
    check(input, { add: (f) => findings.push(f), skip: (reason) => (skippedReason = reason) });
    if (skippedReason !== undefined) skipped.push({ check: name, reason: skippedReason });
    else if (findings.length === before) passed.push(name);
  }
  const order: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  return { findings, skipped, passed };
}

export function exitCodeFor(report: DoctorReport): 0 | 1 | 2 {
  if (report.findings.some((f) => f.severity === 'critical')) return 2;
  if (report.findings.some((f) => f.severity === 'warning')) return 1;
  return 0;
}
