/** The shape of one overridable threshold. */
export interface ThresholdDef {
  readonly default: number | string;
  readonly help: string;
  readonly kind: 'number' | 'duration' | 'string';
}

/** A Prometheus duration (`90s`, `10m`, `1h30m`). */
export const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
