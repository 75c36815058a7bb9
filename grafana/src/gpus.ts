/** GPUs drill-down: NVIDIA VRAM and utilisation, per-process memory of NVIDIA and DRM GPUs (iGPUs) with container labels. */
import { T, pct, UIDS } from './constants.js';
import { I, INSTANCE_VARIABLE, type DashboardSpec } from './common.js';

const G = `${I}, gpu=~"$gpu"`;

export const gpus: DashboardSpec = {
  uid: UIDS.gpus,
  title: 'silentwatch / GPUs',
  description: 'Shared GPUs: free VRAM, who holds it (per process and container, NVIDIA and iGPU/DRM together), memory nobody accounts for, engine busy time.',
  variables: [
    INSTANCE_VARIABLE,
    {
      name: 'gpu',
      label: 'GPU',
      description: 'NVIDIA GPU index(es). iGPU/DRM series have gpu="" and are shown with "All".',
      query: 'label_values(silentwatch_gpu_info{instance=~"$instance"}, gpu)',
    },
  ],
  rows: [
    {
      title: 'VRAM',
      panels: [
        {
          title: 'Free VRAM ratio',
          w: 12,
          unit: 'percentunit',
          description: `Free / total VRAM per GPU. Below ${pct(T.gpu_free_vram_min_ratio)}% (dashed line) and below ${T.gpu_free_vram_min_bytes / 2 ** 30} GiB free (the alert fires on both) the next model load fails with CUDA out of memory.`,
          queries: [{ expr: `silentwatch_gpu_memory_free_bytes{${G}} / silentwatch_gpu_memory_total_bytes{${G}}`, legend: 'GPU {{gpu}} {{uuid}}' }],
          min: 0,
          max: 1,
          baseColor: 'red',
          thresholds: [{ value: T.gpu_free_vram_min_ratio, color: 'green' }],
        },
        {
          title: 'VRAM used and total',
          w: 12,
          unit: 'bytes',
          description: 'Used and total VRAM per GPU.',
          queries: [
            { expr: `max by (gpu) (silentwatch_gpu_memory_used_bytes{${G}})`, legend: 'GPU {{gpu}} used' },
            { expr: `max by (gpu) (silentwatch_gpu_memory_total_bytes{${G}})`, legend: 'GPU {{gpu}} total' },
          ],
          min: 0,
        },
        {
          title: 'Unattributed VRAM',
          w: 12,
          unit: 'bytes',
          description: 'VRAM in use that no visible process accounts for (used minus the per-process sum): held by processes silentwatch cannot see (other PID namespace, other VMs) or leaked by the driver.',
          queries: [{ expr: `max by (gpu) (silentwatch_gpu_memory_unattributed_bytes{${G}})`, legend: 'GPU {{gpu}}' }],
          min: 0,
        },
        {
          title: 'GPU utilisation',
          w: 12,
          unit: 'percentunit',
          description: 'Compute utilisation per GPU. VRAM full with utilisation at 0 means a loaded model is idle and squatting memory.',
          queries: [{ expr: `max by (gpu) (silentwatch_gpu_utilization_ratio{${G}})`, legend: 'GPU {{gpu}}' }],
          min: 0,
          max: 1,
        },
      ],
    },
    {
      title: 'Processes',
      panels: [
        {
          title: 'GPU memory per process',
          w: 12,
          unit: 'bytes',
          description: 'GPU memory per process and container, NVIDIA VRAM and iGPU/DRM regions (system0, local0, vram, gtt, …) together.',
          queries: [{ expr: `sum by (vendor, gpu, device, region, process, container) (silentwatch_gpu_process_memory_bytes{${G}})`, legend: '{{vendor}} {{gpu}}{{device}} {{region}} {{process}} ({{container}})' }],
          min: 0,
        },
        {
          title: 'GPU memory per container',
          kind: 'bargauge',
          w: 12,
          unit: 'bytes',
          description: 'GPU memory held per container right now (host processes have container=""): which service squats the shared GPU.',
          queries: [{ expr: `sort_desc(sum by (vendor, container, compose_service) (silentwatch_gpu_process_memory_bytes{${G}}))`, legend: '{{vendor}} {{container}}', instant: true }],
          min: 0,
        },
        {
          title: 'Engine busy per process (DRM)',
          w: 12,
          unit: 'percentunit',
          description: 'Share of time each process kept each DRM GPU engine (render, video, compute, …) busy, from /proc/<pid>/fdinfo.',
          queries: [{ expr: `sum by (device, engine, process, container) (rate(silentwatch_gpu_process_engine_busy_seconds_total{${I}}[$__rate_interval]))`, legend: '{{device}} {{engine}} {{process}} ({{container}})' }],
          min: 0,
        },
        {
          title: 'DRM resident memory',
          w: 12,
          unit: 'bytes',
          description: 'Resident memory per DRM device and region summed over all clients.',
          queries: [{ expr: `sum by (driver, device, region) (silentwatch_gpu_drm_memory_resident_bytes{${I}})`, legend: '{{driver}} {{device}} {{region}}' }],
          min: 0,
        },
        {
          title: 'DRM clients',
          kind: 'stat',
          w: 12,
          unit: 'short',
          description: 'Open DRM clients per device: 0 while a GPU service should be working means it fell back to the CPU.',
          queries: [{ expr: `sum by (driver, device) (silentwatch_gpu_drm_clients{${I}})`, legend: '{{driver}} {{device}}' }],
        },
        {
          title: 'GPU inventory',
          kind: 'table',
          w: 12,
          unit: 'short',
          description: 'GPUs seen by the NVIDIA collector with model name and driver version.',
          queries: [{ expr: `max by (vendor, gpu, uuid, name, driver_version) (silentwatch_gpu_info{${G}})`, instant: true }],
        },
      ],
    },
  ],
};
