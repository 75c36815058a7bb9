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
const check = (): Promise<{ stdout: string; stderr: string }> => run('npx', ['tsx', 'scripts/generate.ts', '--check'], { cwd: REPO_ROOT, timeout: 60_000 });

describe('npm run generate -- --check', () => {
  it('passes on the committed files, and names a file the generator no longer makes', async () => {
    await expect(check(), 'stale generated files: run `npm run generate`').resolves.toBeDefined();
    const leftover = join(REPO_ROOT, 'grafana/dashboards/zz-generate-check-leftover.json');
    writeFileSync(leftover, '{}\n');
    try {
      await expect(check()).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('grafana/dashboards/zz-generate-check-leftover.json (no longer generated)') as unknown });
    } finally {
      rmSync(leftover, { force: true });
    }
  }, 120_000);
});
