/** Alert rules rendered into rules/llamaswap.yml. */
import { type GroupDef, ON_INSTANCE } from './define.js';

export const llamaswapGroup: GroupDef = {
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
      expr: (t) => {
        const w = t.llamaswap_load_failure_window;
        return `increase(silentwatch_llamaswap_model_load_failures_total[${w}]) > 0\nor increase(silentwatch_llamaswap_model_failed_loads_total[${w}]) > 0`;
      },
      summary: 'llama-swap {{ $labels.server }} fails to load model {{ $labels.model }}.',
      description: `llama-swap {{ $labels.server }} on {{ $labels.instance }} failed to load model {{ $labels.model }} in the last %WINDOW% (≈ {{ $value | humanize }} failed loads).`,
      explain: 'model loads failed: 5xx with a load error, or starting → stopped without ready on the event stream (also when no request saw the error)',
      thresholds: ['llamaswap_load_failure_window'],
    },
    {
      alert: 'LlamaSwapRequestStuck',
      severity: 'warning',
      expr: (t) => `silentwatch_llamaswap_oldest_request_in_flight_seconds > ${t.llamaswap_request_stuck_seconds}`,
      for: 'llamaswap_request_stuck_for',
      summary: 'A request to {{ $labels.model }} on llama-swap {{ $labels.server }} has been running for {{ $value | humanizeDuration }}.',
      description:
        'llama-swap {{ $labels.server }} on {{ $labels.instance }} has had a request to model {{ $labels.model }} in flight for {{ $value | humanizeDuration }}. ' +
        'A hung generation never produces an activity row, so the request counts and error ratio stay quiet while clients wait.',
      explain: 'the oldest request in flight for a model is older than the threshold (a hung generation)',
      thresholds: ['llamaswap_request_stuck_seconds', 'llamaswap_request_stuck_for'],
    },
    {
      alert: 'LlamaSwapSwapStorm',
      severity: 'warning',
      expr: (t) => `increase(silentwatch_llamaswap_model_swaps_total[${t.llamaswap_swap_storm_window}]) > ${t.llamaswap_swap_storm_count}`,
      for: 'llamaswap_swap_storm_for',
      summary: 'llama-swap {{ $labels.server }} keeps swapping models.',
      description:
        'llama-swap {{ $labels.server }} on {{ $labels.instance }} swapped models {{ $value | humanize }} times in the last %WINDOW%: requests for different models keep evicting each other, ' +
        'so most of the time goes to loading weights. The GPU is too small for the models in use together.',
      explain: 'more model swaps (a load that evicted a ready model) than the threshold within the window (models thrashing)',
      thresholds: ['llamaswap_swap_storm_count', 'llamaswap_swap_storm_window', 'llamaswap_swap_storm_for'],
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
};
