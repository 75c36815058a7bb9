import { defineConfig } from 'vitest/config';

/**
 * Two groups, so the suite fits its 15-minute budget on 2 cores without timing-sensitive tests sharing the CPU:
 *  - group 0, "static" (2 files at a time): tests that measure no latency — the Docker image build, tsc/eslint,
 *    fuzzing, pure parsers on fixtures, promtool rule checks, generated-file checks;
 *  - group 1, "system" (1 file at a time, after group 0): everything that starts the real exporter and real
 *    daemons and asserts scrape times, time-outs or alert timing.
 */
const STATIC = [
  'test/deploy/**/*.test.ts',
  'test/lint.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/catalogue.test.ts',
  'test/config.test.ts',
  'test/lib/config-values.test.ts',
  'test/collectors/*/parse*.test.ts',
  'test/collectors/nvidia/{detect,frames,identity-cache,shared-samples,write-samples}.test.ts',
  'test/collectors/drm/scan-memory.test.ts',
  'test/doctor/findings.test.ts',
  'test/doctor/checks-*.test.ts',
  'test/grafana/dashboards.test.ts',
  'test/grafana/thresholds.test.ts',
  'test/golden/generated.test.ts',
  'test/rules/rules.test.ts',
  'test/reliability/doc.test.ts',
  'test/rules/culprits.test.ts',
  'test/web/{history,page,status}.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    // Tests start real daemons (dockerd, redis-server, prometheus): generous but bounded.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Fail loudly on any unhandled rejection, which the exporter must never produce.
    dangerouslyIgnoreUnhandledErrors: false,
    projects: [
      { extends: true, test: { name: 'static', include: STATIC, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'system', include: ['test/**/*.test.ts'], exclude: STATIC, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
