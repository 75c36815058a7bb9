/** The shape of an alert definition and the label sets the rule expressions share. */
import type { ThresholdKey, Thresholds } from '../../src/thresholds/index.js';

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertDef {
  readonly alert: string;
  readonly severity: Severity;
  /** PromQL; may use the thresholds. */
  readonly expr: (t: Thresholds) => string;
  readonly for?: ThresholdKey;
  readonly summary: string;
  readonly description: string;
  /** One line for docs/alerts.md. */
  readonly explain: string;
  /** Threshold keys shown in docs/alerts.md. */
  readonly thresholds: readonly ThresholdKey[];
}

export interface GroupDef {
  /** File name under rules/ (without .yml) and group name suffix. */
  readonly file: string;
  readonly name: string;
  readonly alerts: readonly AlertDef[];
}

/** Identity labels to show in descriptions: container name, falling back to pod or id. */
export const WHO = '{{ with $labels.container }}{{ . }}{{ else }}{{ with $labels.pod }}{{ $labels.namespace }}/{{ . }}{{ else }}{{ $labels.id }}{{ end }}{{ end }}';
export const ON_INSTANCE = 'instance, job';
export const Q = `${ON_INSTANCE}, prefix, queue`;
