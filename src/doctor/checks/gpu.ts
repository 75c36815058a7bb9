/** doctor checks about gpu. */
import { gpuMemoryFree, gpuMemoryTotal } from '../../collectors/nvidia/index.js';
import { gpuProcessMemory } from '../../lib/gpu-metrics.js';
import { type Check, RUNBOOK, thresholdsOf, values, valueFor, bytes } from '../check-helpers.js';

/** Immich ML with MACHINE_LEARNING_MODEL_TTL=0 pins every model's VRAM forever on a GPU others need. */
export const modelTtlZero: Check = (input, out) => {
  if (!input.containers) return out.skip('Docker not reachable: cannot read container environment');
  const pinned = input.containers.filter((c) => c.env.MACHINE_LEARNING_MODEL_TTL === '0');
  if (pinned.length === 0) return;
  const gpuProcs = values(input.samples, gpuProcessMemory);
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
        'TTL 0 disables unloading: onnxruntime keeps its CUDA arena forever (10.7 GB of a 16 GB T4 in one reported case)',
        ...(held > 0 ? [`${c.name} holds ${bytes(held)} of VRAM now`] : []),
        ...(others.length ? [`other GPU processes: ${[...new Set(others.map((o) => o.labels.container || o.labels.process))].join(', ')}`] : []),
      ],
      fix: 'Set MACHINE_LEARNING_MODEL_TTL=600 (idle models unload after 10 min; preload CLIP with MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL if search must stay warm).',
      runbook: `${RUNBOOK}GpuProcessHoldsMostVram.md`,
    });
  }
};

/** Free VRAM too low for the next model load: the GpuFreeVramLow condition (below both thresholds), without its `for:`. */
export const lowVram: Check = (input, out) => {
  const { gpu_free_vram_min_bytes: minBytes, gpu_free_vram_min_ratio: minRatio } = thresholdsOf(input);
  const totals = values(input.samples, gpuMemoryTotal);
  if (totals.length === 0) return out.skip('no GPU memory data (no nvidia-smi)');
  for (const t of totals) {
    const free = valueFor(input.samples, gpuMemoryFree, { uuid: t.labels.uuid ?? '' });
    if (free === undefined || t.value <= 0 || !(free < minBytes && free / t.value < minRatio)) continue;
    const holders = values(input.samples, gpuProcessMemory)
      .filter((p) => p.labels.uuid === t.labels.uuid)
      .sort((a, b) => b.value - a.value)
      .slice(0, 3)
      .map((p) => `${p.labels.container || p.labels.process} ${bytes(p.value)}`);
    out.add({
      check: 'low-vram',
      severity: 'warning',
      title: `GPU ${t.labels.gpu} has only ${bytes(free)} of ${bytes(t.value)} free`,
      evidence: [`free ${((free / t.value) * 100).toFixed(1)} % (a model load needs its weights + KV cache free: the alert fires below ${bytes(minBytes)} and below ${(minRatio * 100).toFixed(0)} %)`, ...(holders.length ? [`top holders: ${holders.join(', ')}`] : [])],
      fix: 'Find the holder above; for immich-ml set MACHINE_LEARNING_MODEL_TTL=600; a llama-server model load needs its full weights + KV cache free.',
      runbook: `${RUNBOOK}GpuFreeVramLow.md`,
    });
  }
};

/** Per-process GPU data is blind without the host PID namespace. */
export const hostPid: Check = (input, out) => {
  if (input.hostPidNamespace === undefined) return out.skip('cannot tell the PID namespace');
  const gpus = values(input.samples, gpuMemoryTotal).length > 0;
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
