/** Small layer over the Grafana Foundation SDK so every panel gets the project's conventions by construction:
 *  the `${datasource}` variable, a unit, a description, explicit ids and a left-to-right grid layout. */
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  BarGaugeDisplayMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import { TAGS, UIDS } from './constants.js';

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** Units used by the dashboards (Grafana unit ids). */
export type Unit = 'bytes' | 's' | 'percentunit' | 'short' | 'reqps' | 'bool';

export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** Instant query (tables, stats of the current state). */
  readonly instant?: boolean;
}

export interface Threshold {
  /** Value from which the colour applies. */
  readonly value: number;
  readonly color: 'red' | 'orange' | 'yellow' | 'green';
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: Unit;
  readonly queries: readonly Query[];
  readonly kind?: 'timeseries' | 'stat' | 'table' | 'bargauge';
  /** Width in grid units (24 = full width); height 8 unless given. */
  readonly w?: number;
  readonly h?: number;
  /** Colour steps above the base colour; also drawn as a dashed line on time series. */
  readonly thresholds?: readonly Threshold[];
  /** Base colour below the first threshold (default green). */
  readonly baseColor?: Threshold['color'];
  readonly min?: number;
  readonly max?: number;
  /** 0/1 → DOWN/UP style value mappings. */
  readonly mapping?: 'updown' | 'noyes';
  /** Text shown when the query returns nothing (e.g. "none" for "no OOM kills"). */
  readonly noValue?: string;
}

const VALUE_MAPPINGS: Record<NonNullable<PanelSpec['mapping']>, ValueMapping[]> = {
  updown: [{ type: MappingType.ValueToText, options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } } }],
  noyes: [{ type: MappingType.ValueToText, options: { '0': { text: 'no', color: 'green', index: 0 }, '1': { text: 'YES', color: 'red', index: 1 } } }],
};

function thresholdsOf(spec: PanelSpec): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    // Grafana's base step has value null ("from -Infinity").
    { value: null as unknown as number, color: spec.baseColor ?? 'green' },
    ...(spec.thresholds ?? []).map((t) => ({ value: t.value, color: t.color })),
  ]);
}

function targets(spec: PanelSpec): DataqueryBuilder[] {
  return spec.queries.map((q, i) => {
    const t = new DataqueryBuilder().datasource(DATASOURCE).refId(String.fromCharCode(65 + i)).expr(q.expr);
    if (q.legend !== undefined) t.legendFormat(q.legend);
    if (q.instant) t.instant().format(PromQueryFormat.Table);
    else t.range();
    return t;
  });
}

type AnyPanelBuilder = timeseries.PanelBuilder | stat.PanelBuilder | table.PanelBuilder | bargauge.PanelBuilder;

function panelOf(spec: PanelSpec, id: number, grid: { x: number; y: number; w: number; h: number }): AnyPanelBuilder {
  const kind = spec.kind ?? 'timeseries';
  let p: AnyPanelBuilder;
  if (kind === 'timeseries') {
    const ts = new timeseries.PanelBuilder()
      .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
      .fillOpacity(10)
      .lineWidth(1);
    if (spec.thresholds?.length) ts.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
    p = ts;
  } else if (kind === 'stat') {
    p = new stat.PanelBuilder()
      .colorMode(BigValueColorMode.Background)
      .graphMode(BigValueGraphMode.None)
      .textMode(BigValueTextMode.ValueAndName)
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  } else if (kind === 'bargauge') {
    p = new bargauge.PanelBuilder()
      .displayMode(BarGaugeDisplayMode.Basic)
      .orientation(VizOrientation.Horizontal)
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  } else {
    p = new table.PanelBuilder();
  }
  p.id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .thresholds(thresholdsOf(spec))
    .gridPos(grid);
  for (const t of targets(spec)) p.withTarget(t);
  if (spec.min !== undefined) p.min(spec.min);
  if (spec.max !== undefined) p.max(spec.max);
  if (spec.mapping) p.mappings(VALUE_MAPPINGS[spec.mapping]);
  if (spec.noValue !== undefined) p.noValue(spec.noValue);
  return p;
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

export type VariableName = 'instance' | 'container' | 'queue' | 'gpu' | 'model';

export interface VariableSpec {
  readonly name: VariableName;
  readonly label: string;
  readonly description: string;
  /** Grafana's label_values(metric{…}, label). */
  readonly query: string;
}

export interface AnnotationSpec {
  readonly name: string;
  readonly expr: string;
  readonly color: string;
  readonly title: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly VariableSpec[];
  readonly annotations?: readonly AnnotationSpec[];
  readonly rows: readonly RowSpec[];
}

export const INSTANCE_VARIABLE: VariableSpec = {
  name: 'instance',
  label: 'Exporter',
  description: 'silentwatch exporter instance(s) (Prometheus target).',
  query: 'label_values(silentwatch_build_info, instance)',
};

/** Builds the Grafana dashboard model (JSON-serialisable) from a spec. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(TAGS)
    .editable()
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .link(
      new DashboardLinkBuilder('silentwatch')
        .type(DashboardLinkType.Dashboards)
        .tags(TAGS)
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true)
        .icon('external link')
        .tooltip('Other silentwatch dashboards')
        .targetBlank(false),
    )
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  for (const v of spec.variables) {
    d.withVariable(
      new QueryVariableBuilder(v.name)
        .label(v.label)
        .description(v.description)
        .datasource(DATASOURCE)
        .query(v.query)
        .definition(v.query)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        // ".*" also matches the empty label value (iGPUs have gpu="", host processes container="").
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    );
  }
  for (const a of spec.annotations ?? []) {
    d.annotation(
      new AnnotationQueryBuilder()
        .name(a.name)
        .datasource(DATASOURCE)
        .expr(a.expr)
        .iconColor(a.color)
        .enable(true)
        .hide(false)
        .titleFormat(a.title)
        .step('1m'),
    );
  }
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    d.withRow(new RowBuilder(row.title).id(id++).gridPos({ x: 0, y, w: 24, h: 1 }));
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      d.withPanel(panelOf(p, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  const built = d.build();
  // The SDK defaults annotations and links to placement "inControlsMenu" (Grafana 12), which tucks the OOM/restart
  // annotation toggles away in a menu; leave Grafana's own default (shown above the panels) instead.
  for (const a of built.annotations?.list ?? []) delete (a as { placement?: unknown }).placement;
  for (const l of built.links ?? []) delete (l as { placement?: unknown }).placement;
  return built;
}

/** Filter every selector by the chosen exporter instance(s). */
export const I = 'instance=~"$instance"';

export { UIDS };
