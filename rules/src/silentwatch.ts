/** Alert rules rendered into rules/silentwatch.yml. */
import { type GroupDef } from './define.js';

export const silentwatchGroup: GroupDef = {
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
};
