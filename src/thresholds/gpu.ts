/** Thresholds of the alerts (and dashboards and doctor checks) about GPU memory. */
import { type ThresholdDef } from './schema.js';

const GiB = 1024 ** 3;

export const GPU_THRESHOLDS = {
  gpu_free_vram_min_bytes: { default: 4 * GiB, kind: 'number', help: 'GpuFreeVramLow: free VRAM below this many bytes (what your largest model needs to load)…' },
  gpu_free_vram_min_ratio: { default: 0.2, kind: 'number', help: 'GpuFreeVramLow: …and below this fraction of the GPU total.' },
  gpu_free_vram_for: { default: '15m', kind: 'duration', help: 'GpuFreeVramLow: for how long.' },
  gpu_process_vram_ratio: { default: 0.6, kind: 'number', help: 'GpuProcessHoldsMostVram: one process holds more than this fraction of a GPU…' },
  gpu_process_vram_for: { default: '1h', kind: 'duration', help: 'GpuProcessHoldsMostVram: …for this long.' },
  gpu_unattributed_vram_bytes: { default: 2 * GiB, kind: 'number', help: 'GpuUnattributedVramHigh: used VRAM no visible process accounts for, above this many bytes.' },
  gpu_unattributed_vram_for: { default: '30m', kind: 'duration', help: 'GpuUnattributedVramHigh: for how long.' },
} as const satisfies Record<string, ThresholdDef>;
