/** Extracts every PromQL expression of the generated dashboards (panel targets, annotations, variables) and analyses it. */
import { parser } from '@prometheus-io/lezer-promql';

/** lezer's SyntaxNode, taken from the parser's own types (no direct dependency on @lezer/common). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  annotations?: { list?: AnnotationJson[] };
  [k: string]: unknown;
}
export interface PanelJson {
  id?: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps: Array<{ value: number | null; color: string }> } } };
  targets?: Array<{ expr?: string; refId?: string; datasource?: { type?: string; uid?: string } }>;
  panels?: PanelJson[];
}
export interface VariableJson {
  name: string;
  type: string;
  query?: string;
  includeAll?: boolean;
  /** What Grafana sends for "All" when set. */
  allValue?: string;
  datasource?: { type?: string; uid?: string };
}
export interface AnnotationJson {
  name: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardQuery {
  /** Stable key: "<uid> / <panel title> / <refId>", "<uid> / annotation <name>" or "<uid> / variable <name>". */
  readonly key: string;
  readonly uid: string;
  /** Grafana expression, with $variables. */
  readonly expr: string;
  readonly panel?: PanelJson;
}

/** All panels, including those nested in collapsed rows. */
export function allPanels(d: DashboardJson): PanelJson[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** label_values(selector, label) → a PromQL query returning one series per value. */
export function labelValuesToPromQL(q: string): string {
  const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(q.trim());
  if (!m) throw new Error(`unsupported variable query: ${q}`);
  return `count by (${m[2]}) (${m[1]})`;
}

export function dashboardQueries(d: DashboardJson): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      if (t.expr !== undefined) out.push({ key: `${d.uid} / ${p.title} / ${t.refId ?? '?'}`, uid: d.uid, expr: t.expr, panel: p });
    }
  }
  for (const a of d.annotations?.list ?? []) if (a.expr) out.push({ key: `${d.uid} / annotation ${a.name}`, uid: d.uid, expr: a.expr });
  for (const v of d.templating.list) {
    if (v.type === 'query' && v.query) out.push({ key: `${d.uid} / variable ${v.name}`, uid: d.uid, expr: labelValuesToPromQL(v.query) });
  }
  return out;
}

/** Grafana's built-in interval variables, replaced by plausible durations. */
const BUILTINS: Record<string, string> = { __rate_interval: '1m', __interval: '30s', __range: '1h' };

/** Substitutes $var / ${var} (and Grafana's interval variables); throws on a variable with no value. */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    const v = BUILTINS[name] ?? values[name];
    if (v === undefined) throw new Error(`no value for $${name} in ${expr}`);
    return v;
  });
}

export interface Analysis {
  /** Text of each error node, empty when the expression parses. */
  readonly errors: string[];
  /** Series names selected (VectorSelector identifiers). */
  readonly metrics: string[];
  /** [series, label] pairs used in selector matchers. */
  readonly matchers: Array<[string, string]>;
  /** Labels in by/without/on/ignoring/group_left/group_right clauses. */
  readonly grouping: string[];
}

export function analyse(expr: string): Analysis {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics: string[] = [];
  const matchers: Array<[string, string]> = [];
  const grouping: string[] = [];
  const text = (n: SyntaxNode): string => expr.slice(n.from, n.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) errors.push(`at ${ref.from}: "${expr.slice(Math.max(0, ref.from - 20), ref.to + 20)}"`);
      const n = ref.node;
      if (ref.name === 'VectorSelector') {
        const id = n.getChild('Identifier');
        const name = id ? text(id) : '';
        metrics.push(name);
        const ms = n.getChild('LabelMatchers');
        for (const m of ms ? ms.getChildren('UnquotedLabelMatcher') : []) {
          const l = m.getChild('LabelName');
          if (l) matchers.push([name, text(l)]);
        }
      }
      if (ref.name === 'GroupingLabels') for (const l of n.getChildren('LabelName')) grouping.push(text(l));
    },
  });
  return { errors, metrics, matchers, grouping };
}
