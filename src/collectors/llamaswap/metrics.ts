/** Metric definitions of the llama-swap collector (one source of truth for code, rules, dashboards, doctor). */
import { defineMetric } from '../../metrics.js';

export const up = defineMetric({
  name: 'silentwatch_llamaswap_up',
  type: 'gauge',
  help: 'Whether the llama-swap server answered GET /health with 200 in this scrape (1) or not (0).',
  labels: ['server'],
});
export const requests = defineMetric({
  name: 'silentwatch_llamaswap_requests_total',
  type: 'counter',
  help: 'Inference requests llama-swap answered, per model and exact HTTP status code, counted since the exporter started watching (model "unknown" for versions before v209, whose only source is the request log).',
  labels: ['server', 'model', 'code'],
});
export const requestDuration = defineMetric({
  name: 'silentwatch_llamaswap_request_duration_seconds',
  type: 'histogram',
  help: 'Duration of inference requests as llama-swap recorded them (including model loading), per model, in seconds.',
  labels: ['server', 'model'],
});
export const modelState = defineMetric({
  name: 'silentwatch_llamaswap_model_state',
  type: 'gauge',
  help: 'State of each configured model (1 for the current state, 0 for the others): starting, ready, stopping from GET /running; stopped for configured models that are not running.',
  labels: ['server', 'model', 'state'],
});
export const loadFailures = defineMetric({
  name: 'silentwatch_llamaswap_model_load_failures_total',
  type: 'counter',
  help: 'Requests answered 5xx because the model could not be loaded (upstream exited prematurely, unable to start process, health check timed out), per model, since the exporter started watching.',
  labels: ['server', 'model'],
});
export const rowsMissed = defineMetric({
  name: 'silentwatch_llamaswap_activity_rows_missed_total',
  type: 'counter',
  help: "Requests llama-swap recorded but evicted from its capped store (or cut from the log stream, or beyond one poll's page bound) before silentwatch could read them; poll more often or raise metricsMaxInMemory when it grows.",
  labels: ['server'],
});
export const info = defineMetric({
  name: 'silentwatch_llamaswap_info',
  type: 'gauge',
  help: 'Always 1 once the llama-swap version was detected: version as reported, source of the request counts (activity = /api/metrics/activity, metrics = /api/metrics, log = request log stream) and of live state (events = GET /api/events connected, polling = fallback to GET /running: no in-flight requests, no transitions).',
  labels: ['server', 'version', 'source', 'live'],
});
export const restarts = defineMetric({
  name: 'silentwatch_llamaswap_restarts_detected_total',
  type: 'counter',
  help: 'Times the activity store of this llama-swap began again (its ids went back, or the watermark row changed) while silentwatch watched it.',
  labels: ['server'],
});
export const modelsFolded = defineMetric({
  name: 'silentwatch_llamaswap_model_label_folded_total',
  type: 'counter',
  help: 'Requests counted under model="other" because the server already had max_models distinct model labels (llama-swap records unknown model names as sent by clients).',
  labels: ['server'],
});
export const inFlight = defineMetric({
  name: 'silentwatch_llamaswap_requests_in_flight',
  type: 'gauge',
  help: 'Requests llama-swap is serving right now, per model, from GET /api/events (model "unknown" for versions that send only a total).',
  labels: ['server', 'model'],
});
export const oldestInFlight = defineMetric({
  name: 'silentwatch_llamaswap_oldest_request_in_flight_seconds',
  type: 'gauge',
  help: 'Age of the oldest request llama-swap is serving, per model, in seconds (0 when none); a hung generation makes it grow without an activity row ever appearing.',
  labels: ['server', 'model'],
});
export const transitions = defineMetric({
  name: 'silentwatch_llamaswap_model_transitions_total',
  type: 'counter',
  help: 'Model process state changes seen on GET /api/events, per model and new state (starting, ready, stopping, stopped).',
  labels: ['server', 'model', 'to'],
});
export const failedLoads = defineMetric({
  name: 'silentwatch_llamaswap_model_failed_loads_total',
  type: 'counter',
  help: 'Model loads that ended without the model becoming ready (starting followed by stopping/stopped), from GET /api/events; counts a failed load even when no request saw the error.',
  labels: ['server', 'model'],
});
export const swaps = defineMetric({
  name: 'silentwatch_llamaswap_model_swaps_total',
  type: 'counter',
  help: 'Model swaps seen on GET /api/events, per server: a model entering starting after a ready model was stopped (evicted) for it; many per minute = models thrashing on a GPU too small for them.',
  labels: ['server'],
});
export const logRequests = defineMetric({
  name: 'silentwatch_llamaswap_log_requests_total',
  type: 'counter',
  help: 'Inference requests in the request log of GET /api/events (v218+) per status class, including those rejected before a model was resolved (never in the activity store).',
  labels: ['server', 'class'],
});

export const ALL_METRICS = [up, requests, requestDuration, modelState, loadFailures, rowsMissed, info, restarts, modelsFolded, inFlight, oldestInFlight, transitions, failedLoads, swaps, logRequests];
