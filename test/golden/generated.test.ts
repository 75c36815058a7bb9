/**
 * Every generated file (docs/metrics.md, docs/configuration.md, rules/*.yml, docs/alerts.md, the Kubernetes
 * PrometheusRule, grafana/dashboards/*.json) equals what `npm run generate` makes from the code: the real command,
 * in its --check mode, which a stale or a leftover file makes exit 1 with the file's name.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
const check = (): Promise<unknown> => run('npx', ['tsx', 'scripts/generate.ts', '--check'], { cwd: REPO_ROOT, timeout: 60_000 });

describe('npm run generate -- --check', () => {
  it('finds every committed generated file current, and names a file the generator no longer makes', async () => {
    // One run: with a leftover planted, --check must exit 1 naming exactly that file and nothing else.
    const leftover = join(REPO_ROOT, 'grafana/dashboards/zz-generate-check-leftover.json');
    writeFileSync(leftover, '{}\n');
    try {
      const err = await check().then(
        () => ({ code: 0, stderr: '' }),
        (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }),
      );
      expect(err.code).toBe(1);
      const listed = err.stderr.split('\n').filter((l) => l.startsWith('  '));
      expect(listed, 'stale generated files: run `npm run generate`').toEqual(['  grafana/dashboards/zz-generate-check-leftover.json (no longer generated)']);
    } finally {
      rmSync(leftover, { force: true });
    }
  }, 120_000);
});
