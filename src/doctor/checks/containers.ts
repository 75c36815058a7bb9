/** doctor checks about containers. */
import { healthMetric, oomKilledFlag, oomKills, restarts as restartsMetric, stateMetric, oomExits, podOomKills } from '../../collectors/containers/metrics.js';
import { type Check, RUNBOOK, ML_MIN_MEMORY_BYTES, ML_RECOMMENDED_MEMORY, isImmichMl, values, valueFor, bytes } from '../check-helpers.js';

/** Processes OOM-killed inside a container that Docker still shows as fine. */
export const silentOomKills: Check = (input, out) => {
  const kills = values(input.samples, oomKills);
  if (kills.length === 0) return out.skip('no container memory data (containers collector inactive or no containers)');
  for (const k of kills.filter((x) => x.value > 0)) {
    const who = { container: k.labels.container ?? '', id: k.labels.id ?? '' };
    const restarts = valueFor(input.samples, restartsMetric, who);
    const flagged = valueFor(input.samples, oomKilledFlag, who);
    const running = valueFor(input.samples, stateMetric, { ...who, state: 'running' });
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

/** Containers OOM-killed as a whole (main process, or memory.oom.group on Kubernetes) and restarted: their own counter shows nothing. */
export const oomRestarts: Check = (input, out) => {
  const exits = values(input.samples, oomExits).filter((x) => x.value > 0);
  const pods = values(input.samples, podOomKills).filter((x) => x.value > 0);
  if (values(input.samples, oomExits).length === 0 && values(input.samples, podOomKills).length === 0) {
    return out.skip('no Docker event stream and no Kubernetes pod cgroups (containers collector inactive, Docker unreachable, or not a Kubernetes node)');
  }
  for (const e of exits) {
    out.add({
      check: 'oom-restarts',
      severity: 'warning',
      title: `container ${e.labels.container} was OOM-killed as a whole ${e.value} time(s) since the exporter started`,
      evidence: [`Docker reported oom then die (exit 137) ${e.value} time(s); the restarted container's own oom_kill counter starts again at 0`],
      fix: `Raise the memory limit of ${e.labels.container ?? 'the container'} or make what it loads at start-up smaller.`,
      runbook: `${RUNBOOK}ContainerOOMKilledRestarted.md`,
    });
  }
  for (const p of pods) {
    const who = p.labels.pod ? `${p.labels.namespace ?? ''}/${p.labels.pod}` : `with UID ${p.labels.pod_uid ?? ''}`;
    out.add({
      check: 'oom-restarts',
      severity: 'warning',
      title: `pod ${who} counts ${p.value} OOM kill(s) in its cgroup`,
      evidence: ['the pod cgroup counts the kills of all its containers, including containers killed as a whole and replaced (memory.oom.group=1 since Kubernetes 1.28)'],
      fix: `kubectl -n ${p.labels.namespace || '<namespace>'} describe pod ${p.labels.pod || '<pod>'} (Last State: OOMKilled); raise resources.limits.memory.`,
      runbook: `${RUNBOOK}ContainerOOMKilledRestarted.md`,
    });
  }
};

/** The ML container must have a realistic memory limit. */
export const mlMemoryLimit: Check = (input, out) => {
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
        fix: `Set deploy.resources.limits.memory: ${ML_RECOMMENDED_MEMORY} on ${c.name} (enough for CLIP + faces + OCR loaded together).`,
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

/** An accelerated ML image without the device it needs silently falls back to CPU. */
export const accelImageWithoutDevice: Check = (input, out) => {
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

/** Unhealthy containers: Docker's own health check says so, yet nothing pages (often the first symptom of OOM kills inside). */
export const unhealthy: Check = (input, out) => {
  const health = values(input.samples, healthMetric);
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
