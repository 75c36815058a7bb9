/** Metric names a PromQL expression selects, from the real PromQL grammar (@prometheus-io/lezer-promql). */
import { parser } from '@prometheus-io/lezer-promql';

export interface SelectedMetrics {
  readonly names: Set<string>;
  /** Selectors whose metric name cannot be known statically (no name, or a regex on __name__). */
  readonly unnamed: string[];
  /** Syntax errors the parser recovered from (⚠ nodes). */
  readonly errors: string[];
}

export function selectedMetrics(expr: string): SelectedMetrics {
  const names = new Set<string>();
  const unnamed: string[] = [];
  const errors: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 10), node.to + 10))}`);
      if (node.name !== 'VectorSelector') return;
      const id = node.node.getChild('Identifier');
      if (id) {
        names.add(expr.slice(id.from, id.to));
        return;
      }
      // {__name__="x"}: an exact name matcher
      let found = false;
      for (const m of node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (label && op && value && expr.slice(label.from, label.to) === '__name__' && expr.slice(op.from, op.to) === '=') {
          names.add(JSON.parse(expr.slice(value.from, value.to)) as string);
          found = true;
        }
      }
      if (!found) unnamed.push(expr.slice(node.from, node.to));
    },
  });
  return { names, unnamed, errors };
}
