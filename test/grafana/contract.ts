/**
 * The metric contract the dashboards may use: name → type and labels, as agreed for all collectors.
 * The collectors are written in parallel; after they merge this list is to be replaced by docs/metrics.md
 * (see test/catalogue.test.ts `documentedMetrics()`), so that a metric or label typo in a panel fails here.
 */
import { IDENTITY_LABELS } from '../../src/lib/identity/process-identity.js';

export type MetricType = 'gauge' | 'counter' | 'histogram';
export interface ContractMetric {
  readonly type: MetricType;
  readonly labels: readonly string[];
}

const ID = IDENTITY_LABELS;
const GPU = ['vendor', 'gpu', 'uuid'];

export const CONTRACT: Readonly<Record<string, ContractMetric>> = {
  // runner and build info
  silentwatch_collector_success: { type: 'gauge', labels: ['collector'] },
  silentwatch_collector_duration_seconds: { type: 'gauge', labels: ['collector'] },
  silentwatch_collector_enabled: { type: 'gauge', labels: ['collector'] },
  silentwatch_collector_failures_total: { type: 'counter', labels: ['collector'] },
  silentwatch_build_info: { type: 'gauge', labels: ['version', 'node_version'] },
  // process metrics (prom-client defaults, prefixed) used by the dashboards
  silentwatch_process_resident_memory_bytes: { type: 'gauge', labels: [] },
  silentwatch_nodejs_eventloop_lag_p99_seconds: { type: 'gauge', labels: [] },
  // host
  silentwatch_host_memory_total_bytes: { type: 'gauge', labels: [] },
  silentwatch_host_memory_available_bytes: { type: 'gauge', labels: [] },
  silentwatch_host_oom_kills_total: { type: 'counter', labels: [] },
  // containers
  silentwatch_container_memory_usage_bytes: { type: 'gauge', labels: ID },
  silentwatch_container_memory_working_set_bytes: { type: 'gauge', labels: ID },
  silentwatch_container_memory_rss_bytes: { type: 'gauge', labels: ID },
  silentwatch_container_memory_cache_bytes: { type: 'gauge', labels: ID },
  silentwatch_container_memory_limit_bytes: { type: 'gauge', labels: ID },
  silentwatch_container_memory_limited: { type: 'gauge', labels: ID },
  silentwatch_container_oom_kills_total: { type: 'counter', labels: ID },
  silentwatch_container_oom_events_total: { type: 'counter', labels: ID },
  silentwatch_container_state: { type: 'gauge', labels: [...ID, 'state'] },
  silentwatch_container_health_status: { type: 'gauge', labels: [...ID, 'status'] },
  silentwatch_container_restarts_total: { type: 'counter', labels: ID },
  silentwatch_container_oom_killed: { type: 'gauge', labels: ID },
  silentwatch_container_started_time_seconds: { type: 'gauge', labels: ID },
  // nvidia
  silentwatch_gpu_info: { type: 'gauge', labels: [...GPU, 'name', 'driver_version'] },
  silentwatch_gpu_memory_total_bytes: { type: 'gauge', labels: GPU },
  silentwatch_gpu_memory_used_bytes: { type: 'gauge', labels: GPU },
  silentwatch_gpu_memory_free_bytes: { type: 'gauge', labels: GPU },
  silentwatch_gpu_utilization_ratio: { type: 'gauge', labels: GPU },
  silentwatch_gpu_memory_unattributed_bytes: { type: 'gauge', labels: GPU },
  // shared per-process GPU memory (nvidia + drm)
  silentwatch_gpu_process_memory_bytes: { type: 'gauge', labels: ['vendor', 'driver', 'gpu', 'uuid', 'device', 'region', 'pid', 'process', ...ID] },
  // drm
  silentwatch_gpu_process_engine_busy_seconds_total: { type: 'counter', labels: ['vendor', 'driver', 'device', 'engine', 'pid', 'process', ...ID] },
  silentwatch_gpu_drm_memory_resident_bytes: { type: 'gauge', labels: ['vendor', 'driver', 'device', 'region'] },
  silentwatch_gpu_drm_clients: { type: 'gauge', labels: ['vendor', 'driver', 'device'] },
  // queues
  silentwatch_queue_jobs: { type: 'gauge', labels: ['prefix', 'queue', 'state'] },
  silentwatch_queue_paused: { type: 'gauge', labels: ['prefix', 'queue'] },
  silentwatch_queue_oldest_waiting_job_age_seconds: { type: 'gauge', labels: ['prefix', 'queue'] },
  silentwatch_queue_workers: { type: 'gauge', labels: ['prefix', 'queue'] },
  // llama-swap
  silentwatch_llamaswap_up: { type: 'gauge', labels: ['server'] },
  silentwatch_llamaswap_requests_total: { type: 'counter', labels: ['server', 'model', 'code'] },
  silentwatch_llamaswap_request_duration_seconds: { type: 'histogram', labels: ['server', 'model'] },
  silentwatch_llamaswap_model_state: { type: 'gauge', labels: ['server', 'model', 'state'] },
  silentwatch_llamaswap_model_load_failures_total: { type: 'counter', labels: ['server', 'model'] },
  silentwatch_llamaswap_activity_rows_missed_total: { type: 'counter', labels: ['server'] },
  // probes
  silentwatch_probe_success: { type: 'gauge', labels: ['group', 'target'] },
  silentwatch_probe_duration_seconds: { type: 'gauge', labels: ['group', 'target'] },
  silentwatch_probe_http_status_code: { type: 'gauge', labels: ['group', 'target'] },
  // mounts
  silentwatch_mount_present: { type: 'gauge', labels: ['path'] },
  silentwatch_mount_responsive: { type: 'gauge', labels: ['path'] },
  silentwatch_mount_probe_duration_seconds: { type: 'gauge', labels: ['path'] },
  silentwatch_mount_info: { type: 'gauge', labels: ['path', 'fstype', 'mode'] },
};

/** Labels Prometheus attaches to every scraped series (target labels). */
export const TARGET_LABELS = ['instance', 'job'] as const;

/** Series Prometheus itself produces that a dashboard may use; `null` labels = any label (ALERTS carries the alert's labels). */
export const PROMETHEUS_BUILTINS: Readonly<Record<string, readonly string[] | null>> = {
  ALERTS: null,
  ALERTS_FOR_STATE: null,
  up: ['instance', 'job'],
};

/**
 * Resolves a series name used in PromQL to its contract family: histogram series `_bucket` (with `le`), `_sum`, `_count`.
 * Returns the allowed labels (null = any) or undefined when the name is not in the contract.
 */
export function allowedLabels(series: string): readonly string[] | null | undefined {
  if (series in PROMETHEUS_BUILTINS) return PROMETHEUS_BUILTINS[series];
  const direct = CONTRACT[series];
  if (direct && direct.type !== 'histogram') return [...direct.labels, ...TARGET_LABELS];
  for (const [suffix, extra] of [['_bucket', ['le']], ['_sum', []], ['_count', []]] as const) {
    if (!series.endsWith(suffix)) continue;
    const fam = CONTRACT[series.slice(0, -suffix.length)];
    if (fam?.type === 'histogram') return [...fam.labels, ...extra, ...TARGET_LABELS];
  }
  return undefined;
}
