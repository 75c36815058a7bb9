/** Thresholds of the alerts (and dashboards and doctor checks) about llama-swap. */
import { type ThresholdDef } from './schema.js';

export const LLAMASWAP_THRESHOLDS = {
  llamaswap_error_ratio: { default: 0.2, kind: 'number', help: 'LlamaSwapHighErrorRate: 5xx share of a model\'s requests above this…' },
  llamaswap_min_requests: { default: 3, kind: 'number', help: 'LlamaSwapHighErrorRate: …when the model had at least this many requests in llamaswap_error_window.' },
  llamaswap_error_window: { default: '5m', kind: 'duration', help: 'LlamaSwapHighErrorRate: rate window.' },
  llamaswap_error_for: { default: '5m', kind: 'duration', help: 'LlamaSwapHighErrorRate: for how long.' },
  llamaswap_load_failure_window: { default: '15m', kind: 'duration', help: 'LlamaSwapModelLoadFailing: fire while load failures increased within this window.' },
  llamaswap_down_for: { default: '2m', kind: 'duration', help: 'LlamaSwapDown: unreachable for this long.' },
} as const satisfies Record<string, ThresholdDef>;
