/** Alert rules rendered into rules/gpu.yml. */
import { type GroupDef, WHO, ON_INSTANCE } from './define.js';

export const gpuGroup: GroupDef = {
  file: 'gpu',
  name: 'silentwatch.gpu',
  alerts: [
    {
      alert: 'GpuFreeVramLow',
      severity: 'warning',
      expr: (t) =>
        `silentwatch_gpu_memory_free_bytes < ${t.gpu_free_vram_min_bytes}\n` +
        `and silentwatch_gpu_memory_free_bytes / (silentwatch_gpu_memory_total_bytes > 0) < ${t.gpu_free_vram_min_ratio}`,
      for: 'gpu_free_vram_for',
      summary: 'GPU {{ $labels.gpu }} has only {{ $value | humanize1024 }}B of VRAM free.',
      description:
        'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} has {{ $value | humanize1024 }}B of VRAM free. ' +
        'A model that needs more (llama-swap loading an LLM, Immich ML loading CLIP/OCR) will fail with a CUDA out-of-memory error while every container stays Running.',
      explain: 'free VRAM below N bytes AND below a fraction of the total',
      thresholds: ['gpu_free_vram_min_bytes', 'gpu_free_vram_min_ratio', 'gpu_free_vram_for'],
    },
    {
      alert: 'GpuProcessHoldsMostVram',
      severity: 'warning',
      expr: (t) =>
        `silentwatch_gpu_process_memory_bytes / on(${ON_INSTANCE}, vendor, gpu, uuid) group_left() (silentwatch_gpu_memory_total_bytes > 0) > ${t.gpu_process_vram_ratio}`,
      for: 'gpu_process_vram_for',
      summary: 'Process {{ $labels.process }} holds {{ $value | humanizePercentage }} of GPU {{ $labels.gpu }}.',
      description:
        `Process {{ $labels.process }} (pid {{ $labels.pid }}, container ${WHO}) has held {{ $value | humanizePercentage }} of the VRAM of GPU {{ $labels.gpu }} on {{ $labels.instance }} for a long time. ` +
        'On a shared GPU this starves every other user (e.g. onnxruntime\'s arena in immich-ml with MACHINE_LEARNING_MODEL_TTL=0).',
      explain: 'one process holds more than a fraction of a GPU\'s VRAM for long',
      thresholds: ['gpu_process_vram_ratio', 'gpu_process_vram_for'],
    },
    {
      alert: 'GpuUnattributedVramHigh',
      severity: 'warning',
      expr: (t) => `silentwatch_gpu_memory_unattributed_bytes > ${t.gpu_unattributed_vram_bytes}`,
      for: 'gpu_unattributed_vram_for',
      summary: 'GPU {{ $labels.gpu }} has {{ $value | humanize1024 }}B of VRAM no visible process accounts for.',
      description:
        '{{ $value | humanize1024 }}B of the used VRAM of GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} belongs to no process silentwatch can see. ' +
        'Either silentwatch does not run in the host PID namespace, or a process outside its view (another VM, a zombie context) holds it.',
      explain: 'used VRAM minus the per-process sum above N bytes',
      thresholds: ['gpu_unattributed_vram_bytes', 'gpu_unattributed_vram_for'],
    },
  ],
};
