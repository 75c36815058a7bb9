/**
 * The one source of silentwatch's alert rules: rules/*.yml and docs/alerts.md are rendered from here by
 * scripts/render-rules.ts (test/rules/rules.test.ts keeps the committed files equal to the renderer).
 *
 * Thresholds and `for:` durations are named values with defaults (THRESHOLDS). An operator overrides them
 * without forking the rules: `npx tsx scripts/render-rules.ts --thresholds my-thresholds.yml --out /etc/prometheus/rules/silentwatch`.
 */
import { z } from 'zod';

/** Where every runbook_url points (one place); overridable with the `runbook_base_url` threshold key. */
export const RUNBOOK_BASE_URL = 'https://github.com/silentwatch/silentwatch/blob/main/docs/runbooks';

const GiB = 1024 ** 3;

export interface ThresholdDef {
  readonly default: number | string;
  readonly help: string;
  readonly kind: 'number' | 'duration' | 'string';
}

/** Every overridable value, with its default. Durations are Prometheus durations (`90s`, `10m`, `1h`). */
export const THRESHOLDS = {
  runbook_base_url: { default: RUNBOOK_BASE_URL, kind: 'string', help: 'Base URL of the runbooks (runbook_url = <base>/<Alert>.md).' },
  silentwatch_job: { default: 'silentwatch', kind: 'string', help: 'Prometheus job name that scrapes silentwatch (for SilentwatchDown).' },

  container_oom_window: { default: '10m', kind: 'duration', help: 'ContainerOOMKillInside / HostOOMKill: fire while the kernel counter increased within this window.' },
  container_memory_near_limit_ratio: { default: 0.9, kind: 'number', help: 'ContainerMemoryNearLimit: working set / limit above this.' },
  container_memory_near_limit_for: { default: '10m', kind: 'duration', help: 'ContainerMemoryNearLimit: for how long.' },
  container_without_limit_for: { default: '1h', kind: 'duration', help: 'ContainerWithoutMemoryLimit: for how long a running container has had no limit.' },
  container_unhealthy_for: { default: '5m', kind: 'duration', help: 'ContainerUnhealthy: for how long Docker reports `unhealthy`.' },

  queue_stalled_oldest_age_seconds: { default: 900, kind: 'number', help: 'QueueStalled: oldest waiting job older than this (seconds) while nothing is active.' },
  queue_stalled_for: { default: '5m', kind: 'duration', help: 'QueueStalled: for how long.' },
  queue_no_workers_for: { default: '10m', kind: 'duration', help: 'QueueNoWorkers: jobs waiting and no worker connected for this long.' },
  queue_failed_increase: { default: 10, kind: 'number', help: 'QueueFailedJobsRising: failed jobs grew by more than this within queue_failed_window.' },
  queue_failed_window: { default: '30m', kind: 'duration', help: 'QueueFailedJobsRising: the window.' },
  queue_paused_for: { default: '1h', kind: 'duration', help: 'QueuePausedLong: paused for this long.' },

  gpu_free_vram_min_bytes: { default: 4 * GiB, kind: 'number', help: 'GpuFreeVramLow: free VRAM below this many bytes (what your largest model needs to load)…' },
  gpu_free_vram_min_ratio: { default: 0.2, kind: 'number', help: 'GpuFreeVramLow: …and below this fraction of the GPU total.' },
  gpu_free_vram_for: { default: '15m', kind: 'duration', help: 'GpuFreeVramLow: for how long.' },
  gpu_process_vram_ratio: { default: 0.6, kind: 'number', help: 'GpuProcessHoldsMostVram: one process holds more than this fraction of a GPU…' },
  gpu_process_vram_for: { default: '1h', kind: 'duration', help: 'GpuProcessHoldsMostVram: …for this long.' },
  gpu_unattributed_vram_bytes: { default: 2 * GiB, kind: 'number', help: 'GpuUnattributedVramHigh: used VRAM no visible process accounts for, above this many bytes.' },
  gpu_unattributed_vram_for: { default: '30m', kind: 'duration', help: 'GpuUnattributedVramHigh: for how long.' },

  llamaswap_error_ratio: { default: 0.2, kind: 'number', help: 'LlamaSwapHighErrorRate: 5xx share of a model\'s requests above this…' },
  llamaswap_min_requests: { default: 3, kind: 'number', help: 'LlamaSwapHighErrorRate: …when the model had at least this many requests in llamaswap_error_window.' },
  llamaswap_error_window: { default: '5m', kind: 'duration', help: 'LlamaSwapHighErrorRate: rate window.' },
  llamaswap_error_for: { default: '5m', kind: 'duration', help: 'LlamaSwapHighErrorRate: for how long.' },
  llamaswap_load_failure_window: { default: '15m', kind: 'duration', help: 'LlamaSwapModelLoadFailing: fire while load failures increased within this window.' },
  llamaswap_down_for: { default: '2m', kind: 'duration', help: 'LlamaSwapDown: unreachable for this long.' },

  probe_backend_down_for: { default: '5m', kind: 'duration', help: 'MlBackendDown: one target of a group failing for this long.' },
  probe_all_down_for: { default: '2m', kind: 'duration', help: 'MlBackendsAllDown: every target of a group failing for this long.' },
  mount_missing_for: { default: '2m', kind: 'duration', help: 'MountMissing: for how long.' },
  mount_unresponsive_for: { default: '2m', kind: 'duration', help: 'MountUnresponsive: for how long.' },

  collector_failing_for: { default: '10m', kind: 'duration', help: 'SilentwatchCollectorFailing: a collector reporting success 0 for this long.' },
  silentwatch_down_for: { default: '5m', kind: 'duration', help: 'SilentwatchDown: the exporter target down or absent for this long.' },
} as const satisfies Record<string, ThresholdDef>;

export type ThresholdKey = keyof typeof THRESHOLDS;
export type Thresholds = { [K in ThresholdKey]: (typeof THRESHOLDS)[K]['default'] extends number ? number : string };

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** zod schema of a thresholds file: every key optional, unknown keys rejected (a typo must not be ignored). */
export const thresholdsSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(THRESHOLDS).map(([k, d]) => {
      const t: ThresholdDef = d;
      const s = t.kind === 'number' ? z.number().finite().nonnegative() : t.kind === 'duration' ? z.string().regex(DURATION, 'a Prometheus duration like 90s, 10m, 1h') : z.string().min(1);
      return [k, s.optional().describe(t.help)];
    }),
  ),
);

export function resolveThresholds(overrides: unknown = {}): Thresholds {
  const parsed = thresholdsSchema.parse(overrides ?? {}) as Partial<Record<ThresholdKey, number | string>>;
  const out: Record<string, number | string> = {};
  for (const [k, d] of Object.entries(THRESHOLDS)) out[k] = parsed[k as ThresholdKey] ?? d.default;
  return out as Thresholds;
}

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertDef {
  readonly alert: string;
  readonly severity: Severity;
  /** PromQL; may use the thresholds. */
  readonly expr: (t: Thresholds) => string;
  readonly for?: ThresholdKey;
  readonly summary: string;
  readonly description: string;
  /** One line for docs/alerts.md. */
  readonly explain: string;
  /** Threshold keys shown in docs/alerts.md. */
  readonly thresholds: readonly ThresholdKey[];
}

export interface GroupDef {
  /** File name under rules/ (without .yml) and group name suffix. */
  readonly file: string;
  readonly name: string;
  readonly alerts: readonly AlertDef[];
}

/** Identity labels to show in descriptions: container name, falling back to pod or id. */
const WHO = '{{ with $labels.container }}{{ . }}{{ else }}{{ with $labels.pod }}{{ $labels.namespace }}/{{ . }}{{ else }}{{ $labels.id }}{{ end }}{{ end }}';
const ON_INSTANCE = 'instance, job';
const Q = `${ON_INSTANCE}, prefix, queue`;

export const GROUPS: readonly GroupDef[] = [
  {
    file: 'containers',
    name: 'silentwatch.containers',
    alerts: [
      {
        alert: 'ContainerOOMKillInside',
        severity: 'warning',
        expr: (t) => `increase(silentwatch_container_oom_kills_total[${t.container_oom_window}]) > 0`,
        summary: 'A process inside container {{ $labels.container }} was OOM-killed.',
        description:
          `The kernel OOM-killed a process inside container ${WHO}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} in the last %WINDOW% (counter increase ≈ {{ $value | humanize }}). ` +
          'Docker may still show the container running and healthy with OOMKilled=false and 0 restarts: the killed process was a child (e.g. a gunicorn worker), not PID 1, and the work it was doing has stopped.',
        explain: 'kernel oom_kill counter of the container cgroup increased',
        thresholds: ['container_oom_window'],
      },
      {
        alert: 'ContainerMemoryNearLimit',
        severity: 'warning',
        expr: (t) => `silentwatch_container_memory_working_set_bytes / (silentwatch_container_memory_limit_bytes > 0) > ${t.container_memory_near_limit_ratio}`,
        for: 'container_memory_near_limit_for',
        summary: 'Container {{ $labels.container }} is at {{ $value | humanizePercentage }} of its memory limit.',
        description:
          `The working set of container ${WHO} on {{ $labels.instance }} is {{ $value | humanizePercentage }} of its memory limit. ` +
          'The next allocation peak (a model load, a large batch) will OOM-kill a process inside it.',
        explain: 'working set / memory limit, only for containers that have a limit',
        thresholds: ['container_memory_near_limit_ratio', 'container_memory_near_limit_for'],
      },
      {
        alert: 'ContainerWithoutMemoryLimit',
        severity: 'info',
        expr: () => `silentwatch_container_memory_limited == 0 and on(${ON_INSTANCE}, id) silentwatch_container_state{state="running"} == 1`,
        for: 'container_without_limit_for',
        summary: 'Container {{ $labels.container }} runs without a memory limit.',
        description:
          `Container ${WHO}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} has no memory limit: when it grows, the host OOM killer picks a victim anywhere on the host, not inside this container.`,
        explain: 'a running container has no memory limit',
        thresholds: ['container_without_limit_for'],
      },
      {
        alert: 'ContainerUnhealthy',
        severity: 'warning',
        expr: () => 'silentwatch_container_health_status{status="unhealthy"} == 1',
        for: 'container_unhealthy_for',
        summary: 'Container {{ $labels.container }} is unhealthy.',
        description: `Docker's health check has reported container ${WHO}{{ with $labels.image }} (image {{ . }}){{ end }} on {{ $labels.instance }} unhealthy for a while; Docker does not restart unhealthy containers by itself.`,
        explain: 'Docker health status `unhealthy`',
        thresholds: ['container_unhealthy_for'],
      },
      {
        alert: 'HostOOMKill',
        severity: 'warning',
        expr: (t) => `increase(silentwatch_host_oom_kills_total[${t.container_oom_window}]) > 0`,
        summary: 'The kernel OOM killer ran on {{ $labels.instance }}.',
        description:
          `The kernel OOM-killed a process on {{ $labels.instance }} in the last %WINDOW% (any cgroup; counter increase ≈ {{ $value | humanize }}). ` +
          'If ContainerOOMKillInside fires too, it names the container; otherwise the victim was outside the watched containers.',
        explain: 'host /proc/vmstat oom_kill increased',
        thresholds: ['container_oom_window'],
      },
    ],
  },
  {
    file: 'queues',
    name: 'silentwatch.queues',
    alerts: [
      {
        alert: 'QueueStalled',
        severity: 'warning',
        expr: (t) =>
          `silentwatch_queue_oldest_waiting_job_age_seconds > ${t.queue_stalled_oldest_age_seconds}\n` +
          `and on(${Q}) silentwatch_queue_jobs{state="waiting"} > 0\n` +
          `and on(${Q}) silentwatch_queue_jobs{state="active"} == 0\n` +
          `unless on(${Q}) silentwatch_queue_paused == 1`,
        for: 'queue_stalled_for',
        summary: 'Queue {{ $labels.queue }} is stalled: jobs wait, none is processed.',
        description:
          'Queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} has jobs waiting, no active job, and its oldest waiting job has waited {{ $value | humanizeDuration }}. ' +
          'The workers (e.g. immich-server/microservices calling the ML backend) are not taking work although every container may look healthy.',
        explain: 'waiting > 0, active == 0, oldest waiting job older than the threshold, not paused',
        thresholds: ['queue_stalled_oldest_age_seconds', 'queue_stalled_for'],
      },
      {
        alert: 'QueueNoWorkers',
        severity: 'warning',
        expr: () =>
          `silentwatch_queue_jobs{state="waiting"} > 0\nand on(${Q}) silentwatch_queue_workers == 0\nunless on(${Q}) silentwatch_queue_paused == 1`,
        for: 'queue_no_workers_for',
        summary: 'Queue {{ $labels.queue }} has waiting jobs and no worker.',
        description: '{{ $value | humanize }} jobs wait in queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} and no worker is connected to it.',
        explain: 'waiting > 0 and workers == 0, not paused',
        thresholds: ['queue_no_workers_for'],
      },
      {
        alert: 'QueueFailedJobsRising',
        severity: 'warning',
        expr: (t) => `delta(silentwatch_queue_jobs{state="failed"}[${t.queue_failed_window}]) > ${t.queue_failed_increase}`,
        summary: 'Failed jobs are piling up in queue {{ $labels.queue }}.',
        description: `The failed set of queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} grew by about {{ $value | humanize }} jobs in the last %WINDOW%.`,
        explain: 'failed jobs grew by more than N within the window',
        thresholds: ['queue_failed_increase', 'queue_failed_window'],
      },
      {
        alert: 'QueuePausedLong',
        severity: 'warning',
        expr: () => 'silentwatch_queue_paused == 1',
        for: 'queue_paused_for',
        summary: 'Queue {{ $labels.queue }} has been paused for a long time.',
        description: 'Queue {{ $labels.prefix }}:{{ $labels.queue }} on {{ $labels.instance }} has been paused for a long time: no job in it will run until it is resumed.',
        explain: 'queue paused',
        thresholds: ['queue_paused_for'],
      },
    ],
  },
  {
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
  },
  {
    file: 'llamaswap',
    name: 'silentwatch.llamaswap',
    alerts: [
      {
        alert: 'LlamaSwapHighErrorRate',
        severity: 'critical',
        expr: (t) => {
          const by = `sum by (${ON_INSTANCE}, server, model)`;
          const w = t.llamaswap_error_window;
          return (
            `(\n  ${by} (rate(silentwatch_llamaswap_requests_total{code=~"5.."}[${w}]))\n  /\n  ${by} (rate(silentwatch_llamaswap_requests_total[${w}]))\n) > ${t.llamaswap_error_ratio}\n` +
            `and ${by} (increase(silentwatch_llamaswap_requests_total[${w}])) >= ${t.llamaswap_min_requests}`
          );
        },
        for: 'llamaswap_error_for',
        summary: 'llama-swap {{ $labels.server }} fails {{ $value | humanizePercentage }} of requests to {{ $labels.model }}.',
        description:
          'llama-swap {{ $labels.server }} on {{ $labels.instance }} answered 5xx to {{ $value | humanizePercentage }} of the requests for model {{ $labels.model }}. ' +
          'Usually the model cannot load (CUDA out of memory on a shared GPU: see GpuFreeVramLow) while llama-swap itself stays healthy.',
        explain: '5xx share of a model\'s requests above the ratio, with a minimum number of requests',
        thresholds: ['llamaswap_error_ratio', 'llamaswap_min_requests', 'llamaswap_error_window', 'llamaswap_error_for'],
      },
      {
        alert: 'LlamaSwapModelLoadFailing',
        severity: 'warning',
        expr: (t) => `increase(silentwatch_llamaswap_model_load_failures_total[${t.llamaswap_load_failure_window}]) > 0`,
        summary: 'llama-swap {{ $labels.server }} fails to load model {{ $labels.model }}.',
        description: `llama-swap {{ $labels.server }} on {{ $labels.instance }} failed to load model {{ $labels.model }} in the last %WINDOW% (counter increase ≈ {{ $value | humanize }}).`,
        explain: 'model load failures increased',
        thresholds: ['llamaswap_load_failure_window'],
      },
      {
        alert: 'LlamaSwapDown',
        severity: 'critical',
        expr: () => 'silentwatch_llamaswap_up == 0',
        for: 'llamaswap_down_for',
        summary: 'llama-swap {{ $labels.server }} is unreachable.',
        description: 'silentwatch on {{ $labels.instance }} cannot reach llama-swap {{ $labels.server }}.',
        explain: 'llama-swap API unreachable',
        thresholds: ['llamaswap_down_for'],
      },
    ],
  },
  {
    file: 'probes',
    name: 'silentwatch.probes',
    alerts: [
      {
        alert: 'MlBackendDown',
        severity: 'warning',
        expr: () => `silentwatch_probe_success == 0\nunless on(${ON_INSTANCE}, group) max by (${ON_INSTANCE}, group) (silentwatch_probe_success) == 0`,
        for: 'probe_backend_down_for',
        summary: 'ML backend {{ $labels.target }} of {{ $labels.group }} is down.',
        description:
          'The probe of {{ $labels.target }} in group {{ $labels.group }} (from {{ $labels.instance }}) fails while other targets of the group answer: the balancer hides it, capacity is reduced.',
        explain: 'one target of a group fails its probe (not all of them)',
        thresholds: ['probe_backend_down_for'],
      },
      {
        alert: 'MlBackendsAllDown',
        severity: 'critical',
        expr: () => `max by (${ON_INSTANCE}, group) (silentwatch_probe_success) == 0`,
        for: 'probe_all_down_for',
        summary: 'Every ML backend of {{ $labels.group }} is down.',
        description: 'Every probed target of group {{ $labels.group }} (from {{ $labels.instance }}) fails: machine learning requests (smart search, faces, OCR) fail with "fetch failed".',
        explain: 'every target of a group fails its probe',
        thresholds: ['probe_all_down_for'],
      },
      {
        alert: 'MountMissing',
        severity: 'critical',
        expr: () => 'silentwatch_mount_present == 0',
        for: 'mount_missing_for',
        summary: 'Mount {{ $labels.path }} is missing.',
        description: 'Nothing is mounted at {{ $labels.path }} on {{ $labels.instance }}: applications now write into the bare directory underneath, or fail.',
        explain: 'a configured mount point has nothing mounted',
        thresholds: ['mount_missing_for'],
      },
      {
        alert: 'MountUnresponsive',
        severity: 'critical',
        expr: () => `silentwatch_mount_responsive == 0\nunless on(${ON_INSTANCE}, path) silentwatch_mount_present == 0`,
        for: 'mount_unresponsive_for',
        summary: 'Mount {{ $labels.path }} does not respond.',
        description: 'A stat of {{ $labels.path }} on {{ $labels.instance }} does not complete in time: processes touching it hang (a hard NFS mount whose server is gone).',
        explain: 'a mount is present but its probe times out',
        thresholds: ['mount_unresponsive_for'],
      },
    ],
  },
  {
    file: 'silentwatch',
    name: 'silentwatch.self',
    alerts: [
      {
        alert: 'SilentwatchCollectorFailing',
        severity: 'warning',
        expr: () => 'silentwatch_collector_success == 0',
        for: 'collector_failing_for',
        summary: 'silentwatch collector {{ $labels.collector }} is failing.',
        description: 'Collector {{ $labels.collector }} of silentwatch on {{ $labels.instance }} has reported success 0 for a while: the alerts that depend on it are blind. Its last error is on the landing page and in the log.',
        explain: 'a collector reports success 0',
        thresholds: ['collector_failing_for'],
      },
      {
        alert: 'SilentwatchDown',
        severity: 'critical',
        expr: (t) => `up{job="${t.silentwatch_job}"} == 0 or absent(up{job="${t.silentwatch_job}"})`,
        for: 'silentwatch_down_for',
        summary: 'silentwatch is down or not scraped.',
        description: 'Prometheus cannot scrape silentwatch ({{ with $labels.instance }}{{ . }}{{ else }}no target of the job at all{{ end }}): every silent-failure alert is blind.',
        explain: 'the exporter target is down or absent',
        thresholds: ['silentwatch_down_for'],
      },
    ],
  },
];

export const ALL_ALERTS: readonly AlertDef[] = GROUPS.flatMap((g) => g.alerts);

/**
 * Rendering options (tests only: the shipped files use the thresholds). `forOverride` replaces every `for:`,
 * or, as a function, decides per alert (given the alert name and its normal duration).
 */
export interface RenderOptions {
  readonly forOverride?: string | ((alert: string, normal: string) => string);
}

export interface RenderedRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

/** The rule-file objects, keyed by file name (`containers.yml` …). */
export function renderGroups(t: Thresholds, opts: RenderOptions = {}): Map<string, { groups: Array<{ name: string; rules: RenderedRule[] }> }> {
  const files = new Map<string, { groups: Array<{ name: string; rules: RenderedRule[] }> }>();
  for (const g of GROUPS) {
    const rules = g.alerts.map((a): RenderedRule => {
      const window = a.thresholds.map((k) => t[k]).find((v): v is string => typeof v === 'string' && DURATION.test(v)) ?? '';
      const normal = a.for ? String(t[a.for]) : undefined;
      const o = opts.forOverride;
      const forValue = normal === undefined ? undefined : o === undefined ? normal : typeof o === 'string' ? o : o(a.alert, normal);
      return {
        alert: a.alert,
        expr: a.expr(t),
        ...(forValue ? { for: forValue } : {}),
        labels: { severity: a.severity },
        annotations: {
          summary: a.summary,
          description: a.description.replaceAll('%WINDOW%', window),
          runbook_url: `${t.runbook_base_url}/${a.alert}.md`,
        },
      };
    });
    files.set(`${g.file}.yml`, { groups: [{ name: g.name, rules }] });
  }
  return files;
}
