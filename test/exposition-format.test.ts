/**
 * silentwatch writes its own families without prom-client's Registry; prom-client's Registry is the oracle
 * here: the same families, formatted by both, must be the same bytes in both formats.
 */
import fc from 'fast-check';
import { Registry, type Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { formatFamily, joinFamilies, type Format } from '../src/exposition-format.js';
import { defineMetric, type MetricDef, type Sample } from '../src/metrics.js';

const gauge = defineMetric({ name: 'silentwatch_t_value_bytes', type: 'gauge', help: 'a gauge \\ with a backslash\nand a newline', labels: ['a', 'b'] });
const counter = defineMetric({ name: 'silentwatch_t_events_total', type: 'counter', help: 'a counter', labels: ['event'] });
const bare = defineMetric({ name: 'silentwatch_t_up', type: 'gauge', help: 'no labels' });
const histo = defineMetric({ name: 'silentwatch_t_age_seconds', type: 'histogram', help: 'a histogram', labels: ['queue'] });

/** The formatting silentwatch used before: fresh prom-client families in a fresh Registry. */
async function oracle(families: ReadonlyArray<[MetricDef, Sample[]]>, format: Format): Promise<string> {
  const Ctor = Registry as unknown as new (ct: string) => Registry;
  const reg = new Ctor(format === 'text' ? Registry.PROMETHEUS_CONTENT_TYPE : Registry.OPENMETRICS_CONTENT_TYPE);
  for (const [def, samples] of families) {
    const values = samples.flatMap((s) => {
      if (typeof s.value === 'number') return [{ labels: { ...s.labels }, value: s.value }];
      const h = s.value;
      return [
        ...h.buckets.map(([le, count]) => ({ metricName: `${def.name}_bucket`, labels: { ...s.labels, le: le === Infinity ? '+Inf' : String(le) }, value: count })),
        { metricName: `${def.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: h.count },
        { metricName: `${def.name}_sum`, labels: { ...s.labels }, value: h.sum },
        { metricName: `${def.name}_count`, labels: { ...s.labels }, value: h.count },
      ];
    });
    const family = { name: def.name, help: def.help, type: def.type, get: () => Promise.resolve({ name: family.name, help: def.help, type: def.type, values, aggregator: 'sum' }) };
    reg.registerMetric(family as unknown as Metric);
  }
  return reg.metrics();
}

const mine = (families: ReadonlyArray<[MetricDef, Sample[]]>, format: Format): string =>
  joinFamilies(
    families.map(([def, samples]) => formatFamily(def, samples, format)),
    format,
  );

const FAMILIES: Array<[MetricDef, Sample[]]> = [
  [
    gauge,
    [
      { def: gauge, labels: { a: 'plain', b: '' }, value: 1.5 },
      { def: gauge, labels: { a: 'quote " back \\ nl \n end', b: 'ünïcødé 🚀' }, value: -0 },
      { def: gauge, labels: { a: 'big', b: 'x' }, value: 1e21 },
      { def: gauge, labels: { a: 'small', b: 'x' }, value: 1.23e-7 },
    ],
  ],
  [counter, [{ def: counter, labels: { event: 'completed' }, value: 42 }]],
  [bare, [{ def: bare, labels: {}, value: 0 }]],
  [
    histo,
    [
      { def: histo, labels: { queue: 'q"1' }, value: { buckets: [[0.5, 1], [10, 3], [Infinity, 4]], sum: 12.25, count: 4 } },
      { def: histo, labels: { queue: 'q2' }, value: { buckets: [], sum: 0, count: 0 } },
    ],
  ],
];

describe('exposition formatter', () => {
  for (const format of ['text', 'openmetrics'] as const) {
    it(`writes the same bytes as prom-client's Registry (${format}): escapes, counters, no labels, histograms`, async () => {
      expect(mine(FAMILIES, format)).toBe(await oracle(FAMILIES, format));
    });
  }

  it('same bytes as prom-client for any label values and finite values (500 cases per format)', async () => {
    const label = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('"', '\\', '\n', '\\n', '}', '{a="b"}', ''));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(label, label, fc.double({ noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 8 }), fc.constantFrom<Format>('text', 'openmetrics'), async (items, format) => {
        const samples: Sample[] = items.map(([a, b, v], i) => ({ def: gauge, labels: { a: `${i}${a}`, b }, value: v }));
        const counters: Sample[] = items.map(([a], i) => ({ def: counter, labels: { event: `${i}${a}` }, value: i }));
        const fams: Array<[MetricDef, Sample[]]> = [
          [gauge, samples],
          [counter, counters],
        ];
        expect(mine(fams, format)).toBe(await oracle(fams, format));
      }),
      { numRuns: 1000 },
    );
  });
});
