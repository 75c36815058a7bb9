/**
 * The metric names a rule may use. Today: what docs/metrics.md documents, plus the metric contract the
 * collectors being written in parallel have agreed to (their families reach docs/metrics.md once merged).
 * After the merge, the lead can drop CONTRACT_METRICS and check against docs/metrics.md alone
 * (set USE_CONTRACT to false): a renamed metric then fails test/rules/rules.test.ts instead of silently
 * breaking an alert.
 */
import { readFileSync } from 'node:fs';

export const USE_CONTRACT = true;

/** Series Prometheus itself makes, not the exporter. */
export const PROMETHEUS_OWN = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** The metric contract of the brief (families of collectors not merged yet). */
export const CONTRACT_METRICS: readonly string[] = [
  // runner
  'silentwatch_collector_success',
  'silentwatch_collector_duration_seconds',
  'silentwatch_collector_enabled',
  'silentwatch_collector_failures_total',
  'silentwatch_build_info',
  // host
  'silentwatch_host_memory_total_bytes',
  'silentwatch_host_memory_available_bytes',
  'silentwatch_host_oom_kills_total',
  // containers
  'silentwatch_container_memory_usage_bytes',
  'silentwatch_container_memory_working_set_bytes',
  'silentwatch_container_memory_rss_bytes',
  'silentwatch_container_memory_cache_bytes',
  'silentwatch_container_memory_limit_bytes',
  'silentwatch_container_memory_limited',
  'silentwatch_container_oom_kills_total',
  'silentwatch_container_oom_events_total',
  'silentwatch_container_state',
  'silentwatch_container_health_status',
  'silentwatch_container_restarts_total',
  'silentwatch_container_oom_killed',
  'silentwatch_container_started_time_seconds',
  // nvidia
  'silentwatch_gpu_info',
  'silentwatch_gpu_memory_total_bytes',
  'silentwatch_gpu_memory_used_bytes',
  'silentwatch_gpu_memory_free_bytes',
  'silentwatch_gpu_utilization_ratio',
  'silentwatch_gpu_memory_unattributed_bytes',
  'silentwatch_gpu_process_memory_bytes',
  // drm
  'silentwatch_gpu_process_engine_busy_seconds_total',
  'silentwatch_gpu_drm_memory_resident_bytes',
  'silentwatch_gpu_drm_clients',
  // queues
  'silentwatch_queue_jobs',
  'silentwatch_queue_paused',
  'silentwatch_queue_oldest_waiting_job_age_seconds',
  'silentwatch_queue_workers',
  // llamaswap
  'silentwatch_llamaswap_up',
  'silentwatch_llamaswap_requests_total',
  'silentwatch_llamaswap_request_duration_seconds',
  'silentwatch_llamaswap_model_state',
  'silentwatch_llamaswap_model_load_failures_total',
  'silentwatch_llamaswap_activity_rows_missed_total',
  // probes
  'silentwatch_probe_success',
  'silentwatch_probe_duration_seconds',
  'silentwatch_probe_http_status_code',
  // mounts
  'silentwatch_mount_present',
  'silentwatch_mount_responsive',
  'silentwatch_mount_probe_duration_seconds',
  'silentwatch_mount_info',
];

/** Metric names documented in docs/metrics.md (generated from the collectors' declarations). */
export function documentedMetrics(): Set<string> {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  return new Set([...doc.matchAll(/`(silentwatch_[a-z0-9_]+)`/g)].map((m) => m[1] as string));
}

/** Every name a rule may select. Histogram families also allow their _bucket/_sum/_count series. */
export function knownMetrics(): Set<string> {
  const base = new Set([...documentedMetrics(), ...(USE_CONTRACT ? CONTRACT_METRICS : [])]);
  const out = new Set([...base, ...PROMETHEUS_OWN]);
  for (const n of base) for (const s of ['_bucket', '_sum', '_count']) out.add(n + s);
  return out;
}
