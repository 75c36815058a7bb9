/**
 * The GPU families shared by the NVIDIA and DRM (iGPU/AMD) collectors: one metric name for per-process
 * GPU memory whatever the vendor, so one panel and one alert cover both, and the identity labels join it
 * with the container's memory series. Labels that do not apply to a vendor are '' (absent in PromQL).
 */
import { defineMetric } from '../metrics.js';
import { IDENTITY_LABELS } from './identity/process-identity.js';

/** Device labels: nvidia fills gpu (index) and uuid; DRM fills driver and device (PCI address or card). */
export const GPU_DEVICE_LABELS = ['vendor', 'driver', 'gpu', 'uuid', 'device'] as const;

export const gpuProcessMemory = defineMetric({
  name: 'silentwatch_gpu_process_memory_bytes',
  type: 'gauge',
  help: 'GPU memory held by one process, in bytes (NVIDIA: used_memory from nvidia-smi; DRM: resident memory per region from fdinfo), with the container/pod the process belongs to.',
  labels: [...GPU_DEVICE_LABELS, 'region', 'pid', 'process', ...IDENTITY_LABELS],
});
