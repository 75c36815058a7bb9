/** Thresholds of the alerts (and dashboards and doctor checks) about llama-swap. */
import { type ThresholdDef } from './schema.js';

export const LLAMASWAP_THRESHOLDS = {
  llamaswap_error_ratio: { default: 0.2, kind: 'number', help: 'LlamaSwapHighErrorRate: 5xx share of a model\'s requests above this…' },
  llamaswap_min_requests: { default: 3, kind: 'number', help: 'LlamaSwapHighErrorRate: …when the model had at least this many requests in llamaswap_error_window.' },
  llamaswap_error_window: { default: '5m', kind: 'duration', help: 'LlamaSwapHighErrorRate: rate window.' },
  llamaswap_error_for: { default: '5m', kind: 'duration', help: 'LlamaSwapHighErrorRate: for how long.' },
  llamaswap_load_failure_window: { default: '15m', kind: 'duration', help: 'LlamaSwapModelLoadFailing: fire while load failures (5xx with a load error, or starting → stopped transitions) increased within this window.' },
  llamaswap_request_stuck_seconds: { default: 600, kind: 'number', help: 'LlamaSwapRequestStuck: the oldest request in flight for a model is older than this many seconds…' },
  llamaswap_request_stuck_for: { default: '2m', kind: 'duration', help: 'LlamaSwapRequestStuck: …for this long.' },
  llamaswap_swap_storm_count: { default: 10, kind: 'number', help: 'LlamaSwapSwapStorm: more than this many model swaps (a load that evicted a ready model) on one server…' },
  llamaswap_swap_storm_window: { default: '5m', kind: 'duration', help: 'LlamaSwapSwapStorm: …within this window…' },
  llamaswap_swap_storm_for: { default: '2m', kind: 'duration', help: 'LlamaSwapSwapStorm: …for this long.' },
  llamaswap_down_for: { default: '2m', kind: 'duration', help: 'LlamaSwapDown: unreachable for this long.' },
} as const satisfies Record<string, ThresholdDef>;
