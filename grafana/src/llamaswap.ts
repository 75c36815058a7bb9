/**
 * llama-swap drill-down: requests and status codes per model, 5xx ratio, latency, model states, load
 * failures; live state from the event stream (requests in flight and their age, swaps, failed loads,
 * requests rejected before routing).
 */
import { failedLoads, inFlight, info, logRequests, oldestInFlight, swaps } from '../../src/collectors/llamaswap/metrics.js';
import { T, pct, UIDS } from './constants.js';
import { I, INSTANCE_VARIABLE, type DashboardSpec } from './common.js';

const M = `${I}, model=~"$model"`;

export const llamaswap: DashboardSpec = {
  uid: UIDS.llamaswap,
  title: 'silentwatch / llama-swap',
  description: 'llama-swap model servers: per-model status codes (model-load failures answer 5xx while llama-swap itself stays healthy), latency, model state and load failures.',
  variables: [
    INSTANCE_VARIABLE,
    {
      name: 'model',
      label: 'Model',
      description: 'Model name(s) as configured in llama-swap.',
      query: 'label_values(silentwatch_llamaswap_model_state{instance=~"$instance"}, model)',
    },
  ],
  rows: [
    {
      title: 'Errors',
      panels: [
        {
          title: '5xx ratio per model',
          w: 12,
          unit: 'percentunit',
          description: `Share of requests answered with a 5xx per model over ${T.llamaswap_error_window}. Above ${pct(T.llamaswap_error_ratio)}% (dashed line, the alert threshold) the model is failing to load or crashing.`,
          queries: [
            {
              expr:
                `sum by (server, model) (rate(silentwatch_llamaswap_requests_total{${M}, code=~"5.."}[${T.llamaswap_error_window}]))` +
                ` / sum by (server, model) (rate(silentwatch_llamaswap_requests_total{${M}}[${T.llamaswap_error_window}]))`,
              legend: '{{server}} {{model}}',
            },
          ],
          min: 0,
          max: 1,
          thresholds: [{ value: T.llamaswap_error_ratio, color: 'red' }],
        },
        {
          title: 'Requests by status code',
          w: 12,
          unit: 'reqps',
          description: 'Requests per second per model and HTTP status code, from llama-swap\'s activity log.',
          queries: [{ expr: `sum by (model, code) (rate(silentwatch_llamaswap_requests_total{${M}}[$__rate_interval]))`, legend: '{{model}} {{code}}' }],
          min: 0,
        },
        {
          title: 'Model load failures',
          w: 12,
          unit: 'short',
          description: 'Model starts that failed per interval (llama-server exited before becoming ready, e.g. cudaMalloc out of memory).',
          queries: [{ expr: `sum by (server, model) (increase(silentwatch_llamaswap_model_load_failures_total{${M}}[$__rate_interval]))`, legend: '{{server}} {{model}}' }],
          min: 0,
          thresholds: [{ value: 1, color: 'red' }],
        },
        {
          title: 'Activity rows missed',
          w: 12,
          unit: 'short',
          description: "Activity rows silentwatch could not read before llama-swap's in-memory log rotated them out, per interval: the request counts undercount by this much.",
          queries: [{ expr: `sum by (server) (increase(silentwatch_llamaswap_activity_rows_missed_total{${I}}[$__rate_interval]))`, legend: '{{server}}' }],
          min: 0,
        },
      ],
    },
    {
      title: 'Live (llama-swap event stream)',
      panels: [
        {
          title: 'Oldest request in flight',
          w: 12,
          unit: 's',
          description: `Age of the oldest request each model is serving. A hung generation never writes an activity row, so it shows only here; above ${T.llamaswap_request_stuck_seconds} s (dashed line) for ${T.llamaswap_request_stuck_for} LlamaSwapRequestStuck fires.`,
          queries: [{ expr: `max by (server, model) (${oldestInFlight.name}{${M}})`, legend: '{{server}} {{model}}' }],
          min: 0,
          thresholds: [{ value: T.llamaswap_request_stuck_seconds, color: 'red' }],
        },
        {
          title: 'Requests in flight',
          w: 12,
          unit: 'short',
          description: 'Requests each model is serving now (model "unknown": llama-swap before v218 sends only a total).',
          queries: [{ expr: `sum by (server, model) (${inFlight.name}{${I}})`, legend: '{{server}} {{model}}' }],
          min: 0,
        },
        {
          title: `Model swaps per ${T.llamaswap_swap_storm_window}`,
          w: 8,
          unit: 'short',
          description: `Loads that evicted a ready model, per server, over ${T.llamaswap_swap_storm_window}. Above ${T.llamaswap_swap_storm_count} (dashed line) for ${T.llamaswap_swap_storm_for} LlamaSwapSwapStorm fires: models keep evicting each other.`,
          queries: [{ expr: `sum by (server) (increase(${swaps.name}{${I}}[${T.llamaswap_swap_storm_window}]))`, legend: '{{server}}' }],
          min: 0,
          thresholds: [{ value: T.llamaswap_swap_storm_count, color: 'red' }],
        },
        {
          title: 'Failed loads (transitions)',
          w: 8,
          unit: 'short',
          description: 'Loads that went starting → stopping/stopped without becoming ready, per interval; counted even when no request saw the error.',
          queries: [{ expr: `sum by (server, model) (increase(${failedLoads.name}{${M}}[$__rate_interval]))`, legend: '{{server}} {{model}}' }],
          min: 0,
          thresholds: [{ value: 1, color: 'red' }],
        },
        {
          title: 'Request log by status class',
          w: 8,
          unit: 'reqps',
          description: 'Inference requests in llama-swap\'s request log per status class, including those rejected before a model was resolved (no model in the request), which never reach the per-model counts.',
          queries: [{ expr: `sum by (server, class) (rate(${logRequests.name}{${I}}[$__rate_interval]))`, legend: '{{server}} {{class}}' }],
          min: 0,
        },
        {
          title: 'Live state source',
          kind: 'table',
          w: 24,
          unit: 'short',
          description: 'Per server: the llama-swap version, where request counts come from, and whether the event stream is connected (live="events") or silentwatch has fallen back to polling (no requests in flight, transitions or swaps).',
          queries: [{ expr: `max by (server, version, source, live) (${info.name}{${I}})`, instant: true }],
        },
      ],
    },
    {
      title: 'Latency and state',
      panels: [
        {
          title: 'Request duration p95',
          w: 12,
          unit: 's',
          description: '95th percentile request duration per model (includes model load time when a request triggers a swap).',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (le, model) (rate(silentwatch_llamaswap_request_duration_seconds_bucket{${M}}[$__rate_interval])))`,
              legend: '{{model}}',
            },
          ],
          min: 0,
        },
        {
          title: 'Model state',
          kind: 'table',
          w: 6,
          unit: 'short',
          description: 'Current state of each model process (starting, ready, stopping, stopped). A model stuck in starting is failing to load.',
          queries: [{ expr: `max by (server, model, state) (silentwatch_llamaswap_model_state{${M}}) == 1`, instant: true }],
        },
        {
          title: 'llama-swap reachable',
          kind: 'stat',
          w: 6,
          unit: 'short',
          description: 'Whether silentwatch reached each llama-swap server in its last scrape.',
          queries: [{ expr: `max by (server) (silentwatch_llamaswap_up{${I}})`, legend: '{{server}}' }],
          mapping: 'updown',
          baseColor: 'red',
          thresholds: [{ value: 1, color: 'green' }],
        },
      ],
    },
  ],
};
