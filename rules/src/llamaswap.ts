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
};
