/** "Silent failures": one row per area, current state first, so an operator sees at a glance whether anything quietly stopped. */
import { ALERT_WINDOW, ALERTNAME_REGEX, QUEUE_WAITING_STATES, T, pct, UIDS } from './constants.js';
import { I, INSTANCE_VARIABLE, type DashboardSpec } from './common.js';

export const overview: DashboardSpec = {
  uid: UIDS.overview,
  title: 'silentwatch / Silent failures',
  description: 'Is anything silently broken? OOM kills inside running containers, stalled queues, starved GPUs, failing models, dead backends and mounts, and whether silentwatch itself still sees everything.',
  variables: [INSTANCE_VARIABLE],
  rows: [
    {
      title: 'Alerts and collector health',
      panels: [
        {
          title: 'Firing silentwatch alerts',
          kind: 'table',
          w: 12,
          unit: 'short',
          description: `Alerts of the silentwatch rule files (rules/) firing now. Empty means no silentwatch alert fires.`,
          queries: [{ expr: `sum by (alertname, severity, container, queue, gpu, model, path) (ALERTS{alertstate="firing", alertname=~"${ALERTNAME_REGEX}"})`, instant: true }],
          noValue: 'no alert firing',
        },
        {
          title: 'Collector health',
          kind: 'stat',
          w: 12,
          unit: 'short',
          description: 'Per enabled collector: 1 (UP) when its last scrape succeeded, 0 (DOWN) when it failed, timed out or served partial data. A DOWN collector means silentwatch is blind in that area.',
          queries: [{ expr: `min by (collector) (silentwatch_collector_success{${I}} and on (instance, collector) silentwatch_collector_enabled{${I}} == 1)`, legend: '{{collector}}' }],
          mapping: 'updown',
          thresholds: [{ value: 1, color: 'green' }],
          baseColor: 'red',
        },
      ],
    },
    {
      title: 'Memory and OOM kills',
      panels: [
        {
          title: 'OOM kills in the last 24 h by container',
          kind: 'bargauge',
          w: 8,
          unit: 'short',
          description: 'Processes the kernel OOM killer killed inside each container cgroup in the last 24 h, even when the container kept running and Docker shows OOMKilled=false. Empty means no OOM kill.',
          queries: [{ expr: `sort_desc(sum by (container, compose_service) (increase(silentwatch_container_oom_kills_total{${I}}[24h])) > 0)`, legend: '{{container}}', instant: true }],
          thresholds: [{ value: 1, color: 'red' }],
          noValue: 'no OOM kill',
        },
        {
          title: 'Host OOM kills in the last 24 h',
          kind: 'stat',
          w: 4,
          unit: 'short',
          description: 'OOM kills on the whole host in the last 24 h (/proc/vmstat oom_kill), in any cgroup: catches kills outside containers too.',
          queries: [{ expr: `sum by (instance) (increase(silentwatch_host_oom_kills_total{${I}}[24h]))`, legend: '{{instance}}' }],
          thresholds: [{ value: 1, color: 'red' }],
        },
        {
          title: 'Containers near their memory limit',
          kind: 'bargauge',
          w: 8,
          unit: 'percentunit',
          description: `Working set / memory limit for the 10 fullest containers that have a limit. Red at ${pct(T.container_memory_near_limit_ratio)}% (the alert threshold): the next allocation spike gets a process OOM-killed.`,
          queries: [{ expr: `topk(10, max by (container, compose_service) (silentwatch_container_memory_working_set_bytes{${I}} / silentwatch_container_memory_limit_bytes{${I}}))`, legend: '{{container}}', instant: true }],
          min: 0,
          max: 1,
          thresholds: [{ value: T.container_memory_near_limit_ratio, color: 'red' }],
        },
        {
          title: 'Host memory available',
          kind: 'stat',
          w: 4,
          unit: 'percentunit',
          description: 'MemAvailable / MemTotal of the host. Low values precede host-wide OOM kills.',
          queries: [{ expr: `silentwatch_host_memory_available_bytes{${I}} / silentwatch_host_memory_total_bytes{${I}}`, legend: '{{instance}}' }],
          min: 0,
          max: 1,
          baseColor: 'red',
          thresholds: [{ value: 0.1, color: 'orange' }, { value: 0.2, color: 'green' }],
        },
      ],
    },
    {
      title: 'Job queues',
      panels: [
        {
          title: 'Oldest waiting job age',
          w: 12,
          unit: 's',
          description: `Age of the oldest job waiting in each queue. A queue whose oldest job keeps ageing past ${T.queue_stalled_oldest_age_seconds} s (the alert threshold) is stalled even when every container is healthy.`,
          queries: [{ expr: `max by (prefix, queue) (silentwatch_queue_oldest_waiting_job_age_seconds{${I}})`, legend: '{{prefix}}:{{queue}}' }],
          min: 0,
          thresholds: [{ value: T.queue_stalled_oldest_age_seconds, color: 'red' }],
        },
        {
          title: 'Stalled or growing queues',
          kind: 'table',
          w: 12,
          unit: 'short',
          description: `Queues with waiting jobs (states ${QUEUE_WAITING_STATES}) and either no worker connected, the queue paused, or the backlog growing over ${ALERT_WINDOW}. Empty means every queue with work has workers and is draining.`,
          queries: [
            {
              expr:
                `sum by (prefix, queue) (silentwatch_queue_jobs{${I}, state=~"${QUEUE_WAITING_STATES}"}) > 0` +
                ` and on (prefix, queue) (` +
                `sum by (prefix, queue) (silentwatch_queue_workers{${I}}) == 0` +
                ` or max by (prefix, queue) (silentwatch_queue_paused{${I}}) == 1` +
                ` or sum by (prefix, queue) (delta(silentwatch_queue_jobs{${I}, state=~"${QUEUE_WAITING_STATES}"}[${ALERT_WINDOW}])) > 0)`,
              instant: true,
            },
          ],
          noValue: 'no stalled queue',
        },
      ],
    },
    {
      title: 'GPUs',
      panels: [
        {
          title: 'GPU free VRAM',
          w: 12,
          unit: 'percentunit',
          description: `Free / total VRAM per GPU. Below ${pct(T.gpu_free_vram_min_ratio)}% (dashed line) and below ${T.gpu_free_vram_min_bytes / 2 ** 30} GiB free (the alert fires on both) the next model load fails with an out-of-memory error.`,
          queries: [{ expr: `silentwatch_gpu_memory_free_bytes{${I}} / silentwatch_gpu_memory_total_bytes{${I}}`, legend: '{{vendor}} {{gpu}} {{uuid}}' }],
          min: 0,
          max: 1,
          baseColor: 'red',
          thresholds: [{ value: T.gpu_free_vram_min_ratio, color: 'green' }],
        },
        {
          title: 'Top VRAM holders',
          kind: 'bargauge',
          w: 12,
          unit: 'bytes',
          description: 'The 10 processes holding the most GPU memory, NVIDIA VRAM and iGPU/DRM memory together, labelled by process and container: who squats the GPU.',
          queries: [
            {
              expr: `topk(10, sum by (vendor, device, gpu, process, container) (silentwatch_gpu_process_memory_bytes{${I}}))`,
              legend: '{{vendor}} {{gpu}}{{device}} {{process}} ({{container}})',
              instant: true,
            },
          ],
        },
      ],
    },
    {
      title: 'llama-swap',
      panels: [
        {
          title: 'llama-swap 5xx ratio per model',
          w: 16,
          unit: 'percentunit',
          description: `Share of requests answered with a 5xx per model over ${T.llamaswap_error_window} (model-load failures answer 500/502). Above ${pct(T.llamaswap_error_ratio)}% (the alert threshold) the model is effectively down although llama-swap is up.`,
          queries: [
            {
              expr:
                `sum by (server, model) (rate(silentwatch_llamaswap_requests_total{${I}, code=~"5.."}[${T.llamaswap_error_window}]))` +
                ` / sum by (server, model) (rate(silentwatch_llamaswap_requests_total{${I}}[${T.llamaswap_error_window}]))`,
              legend: '{{server}} {{model}}',
            },
          ],
          min: 0,
          max: 1,
          thresholds: [{ value: T.llamaswap_error_ratio, color: 'red' }],
        },
        {
          title: 'llama-swap reachable',
          kind: 'stat',
          w: 8,
          unit: 'short',
          description: 'Whether silentwatch could reach each configured llama-swap server in its last scrape.',
          queries: [{ expr: `max by (server) (silentwatch_llamaswap_up{${I}})`, legend: '{{server}}' }],
          mapping: 'updown',
          baseColor: 'red',
          thresholds: [{ value: 1, color: 'green' }],
        },
      ],
    },
    {
      title: 'ML backends and mounts',
      panels: [
        {
          title: 'ML backend probes',
          kind: 'stat',
          w: 12,
          unit: 'short',
          description: 'Whether each probed backend (and the balancer in front of them) answered its probe: a DOWN backend behind an UP balancer is lost capacity; a DOWN balancer loses every backend for its clients, like all backends down.',
          queries: [{ expr: `min by (group, target, role) (silentwatch_probe_success{${I}})`, legend: '{{group}} {{role}} {{target}}' }],
          mapping: 'updown',
          baseColor: 'red',
          thresholds: [{ value: 1, color: 'green' }],
        },
        {
          title: 'Mount health',
          kind: 'stat',
          w: 12,
          unit: 'short',
          description: 'Per watched path: UP when it is mounted and answers a stat within the time-out; DOWN when it is missing (files land on the root disk) or hangs (a dead NFS server).',
          queries: [{ expr: `min by (path) (silentwatch_mount_present{${I}} * on (instance, job, path) silentwatch_mount_responsive{${I}})`, legend: '{{path}}' }],
          mapping: 'updown',
          baseColor: 'red',
          thresholds: [{ value: 1, color: 'green' }],
        },
      ],
    },
    {
      title: 'silentwatch itself',
      panels: [
        {
          title: 'Collector failures in the last hour',
          kind: 'bargauge',
          w: 6,
          unit: 'short',
          description: 'Scrapes per collector that failed or served partial data in the last hour. Occasional failures point to a flaky dependency (Docker socket, Redis, nvidia-smi); constant ones to a permission or mount problem.',
          queries: [{ expr: `sum by (collector) (increase(silentwatch_collector_failures_total{${I}}[1h]))`, legend: '{{collector}}', instant: true }],
          min: 0,
          thresholds: [{ value: 1, color: 'orange' }],
        },
        {
          title: 'Collector duration',
          w: 6,
          unit: 's',
          description: 'How long each collector took per scrape. A collector creeping up towards its time-out (a wedged GPU, a hung NFS mount, a slow Redis) is about to start failing.',
          queries: [{ expr: `max by (collector) (silentwatch_collector_duration_seconds{${I}})`, legend: '{{collector}}' }],
          min: 0,
        },
        {
          title: 'Exporter event-loop lag p99',
          w: 6,
          unit: 's',
          description: "99th percentile event-loop lag of the silentwatch process: high values mean the exporter itself is starved of CPU or blocked, and its scrapes get slow.",
          queries: [{ expr: `max by (instance) (silentwatch_nodejs_eventloop_lag_p99_seconds{${I}})`, legend: '{{instance}}' }],
          min: 0,
        },
        {
          title: 'Exporter memory and version',
          kind: 'table',
          w: 6,
          unit: 'bytes',
          description: 'Resident memory of each silentwatch process, with its version and Node.js version (from silentwatch_build_info).',
          queries: [
            {
              expr: `max by (instance) (silentwatch_process_resident_memory_bytes{${I}}) * on (instance) group_left (version, node_version) max by (instance, version, node_version) (silentwatch_build_info{${I}})`,
              instant: true,
            },
          ],
        },
      ],
    },
  ],
};
