/**
 * Every generated file (docs/metrics.md, docs/configuration.md, rules/*.yml, docs/alerts.md, the Kubernetes
 * PrometheusRule, grafana/dashboards/*.json) equals what `npm run generate` makes from the code: the real command,
 * in its --check mode; and the comparison behind it names a changed file and a leftover, on a copy.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generatedFiles, staleFiles } from '../../scripts/lib/generated.js';
import { removeDir, tempDir } from '../helpers/daemon.js';

const REPO_ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
const check = (): Promise<unknown> => run('npx', ['tsx', 'scripts/generate.ts', '--check'], { cwd: REPO_ROOT, timeout: 60_000 });

describe('npm run generate -- --check', () => {
  it('finds every committed generated file current (the real command)', async () => {
    const r = await check().then(
      () => ({ code: 0, stderr: '' }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }),
    );
    expect(r.code, `run \`npm run generate\`: ${r.stderr}`).toBe(0);
  }, 120_000);

  it('names a changed file and a leftover the generator no longer makes (in a copy, not in the repository)', async () => {
    const wanted = generatedFiles();
    const root = tempDir('generate-check');
    try {
      for (const [path, text] of wanted) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      expect(await staleFiles(root, wanted)).toEqual({ write: [], remove: [] });
      writeFileSync(join(root, 'docs/alerts.md'), 'edited by hand\n');
      writeFileSync(join(root, 'grafana/dashboards/old.json'), '{}\n');
      writeFileSync(join(root, 'grafana/dashboards/README.txt'), 'not a dashboard\n');
      expect(await staleFiles(root, wanted)).toEqual({ write: ['docs/alerts.md'], remove: ['grafana/dashboards/old.json'] });
    } finally {
      removeDir(root);
    }
  });
});
