/**
 * The catalogue (src/docs/catalogue.ts, from which docs/metrics.md is generated: test/golden/generated.test.ts)
 * follows Prometheus naming, and what the real exporter emits is exactly what it lists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_COLLECTORS } from '../src/collectors/index.js';
import { catalogue, metricContract, processMetricNames } from '../src/docs/catalogue.js';
import { startExporter, type RunningExporter } from './helpers/exporter.js';



describe('metric catalogue', () => {
  it('every declared metric follows Prometheus naming', () => {
    for (const { def } of catalogue(ALL_COLLECTORS)) {
      expect(def.name).toMatch(/^silentwatch_[a-z][a-z0-9_]*$/);
      if (def.type === 'counter') expect(def.name).toMatch(/_total$/);
      else expect(def.name).not.toMatch(/_total$/);
      expect(def.name).not.toMatch(/_(milliseconds|ms|kilobytes|megabytes|mib|percent)(_|$)/);
      expect(def.help.length).toBeGreaterThan(15);
      for (const l of def.labels) expect(l).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });
});

describe('what the exporter really emits is what the catalogue lists', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await startExporter();
  });
  afterAll(async () => {
    await exporter?.stop();
  });

  it('every emitted family is documented, with the documented type', async () => {
    const m = await exporter.metrics();
    const contract = metricContract(ALL_COLLECTORS);
    const types = new Map(catalogue(ALL_COLLECTORS).map((e) => [e.def.name, e.def.type]));
    for (const fam of m.families()) {
      expect([...contract.keys()], `${fam} is emitted but not in the catalogue`).toContain(fam);
      if (types.has(fam)) expect(m.types.get(fam)).toBe(types.get(fam));
    }
  });

  it('the exporter and host families in the catalogue are all emitted on a zero-config start', async () => {
    const emitted = (await exporter.metrics()).families();
    const always = catalogue(ALL_COLLECTORS).filter((e) => e.source === 'exporter' || e.source === 'host').map((e) => e.def.name);
    // The GC histogram has samples only once a garbage collection has happened.
    const process = processMetricNames().filter((n) => n !== 'silentwatch_nodejs_gc_duration_seconds');
    for (const name of [...always, ...process]) expect(emitted, `${name} documented but not emitted`).toContain(name);
  });
});
