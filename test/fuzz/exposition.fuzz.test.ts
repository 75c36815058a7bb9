/**
 * Whatever a collector hands the sink, the exposition never carries NaN, ±Infinity or a negative counter,
 * label values come out as valid UTF-8 and escaped, and the text parses back to the same values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Exposition } from '../../src/exposition.js';
import { defineMetric, SampleSink, sanitizeLabelValue } from '../../src/metrics.js';
import { parseExposition } from '../helpers/metrics-text.js';

const gauge = defineMetric({ name: 'silentwatch_fuzz_value_bytes', type: 'gauge', help: 'fuzzed gauge value', labels: ['a', 'b'] });
const counter = defineMetric({ name: 'silentwatch_fuzz_events_total', type: 'counter', help: 'fuzzed counter value', labels: ['a'] });
const exposition = new Exposition(false);

const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, Number.MAX_VALUE));
const anyLabel = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom('"', '\\', '\n', '\uD800', '}', '{a="b"}', 'x\u0000y'));

describe('sink + exposition', () => {
  it('no NaN/Inf/negative counter ever reaches the text; labels round-trip sanitized (2,000 scrapes of 1-20 samples)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), anyLabel, anyLabel, anyNumber), { minLength: 1, maxLength: 20 }), async (items) => {
        const sink = new SampleSink(new Set([gauge, counter]));
        for (const [isCounter, a, b, v] of items) {
          if (isCounter) sink.set(counter, { a }, v);
          else sink.set(gauge, { a, b }, v);
        }
        const text = await exposition.render({ samples: sink.samples, families: [gauge, counter] }, 'text');
        const parsed = parseExposition(text);
        for (const smp of parsed.samples.filter((x) => x.name.startsWith('silentwatch_fuzz'))) {
          expect(Number.isFinite(smp.value)).toBe(true);
          if (smp.name.endsWith('_total')) expect(smp.value).toBeGreaterThanOrEqual(0);
          for (const l of Object.values(smp.labels)) {
            expect(l.isWellFormed()).toBe(true);
            expect(l).toBe(sanitizeLabelValue(l));
          }
        }
        // every accepted sample is in the text with its sanitized labels
        for (const s of sink.samples) {
          const found = parsed.get(s.def.name, s.labels as Record<string, string>);
          expect(found.length).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
