/**
 * Regenerates every generated file (docs/metrics.md, docs/configuration.md, rules/*.yml, docs/alerts.md, the
 * Kubernetes PrometheusRule, grafana/dashboards/*.json) from its source.
 *
 *   npm run generate              write the files that changed, remove the ones no longer generated
 *   npm run generate -- --check   write nothing; list the stale files and exit 1 if there is any (the suite runs this)
 */
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles, staleFiles } from './lib/generated.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');

async function main(): Promise<number> {
  const wanted = generatedFiles();
  const { write, remove } = await staleFiles(root, wanted);
  const stale = [...remove.map((p) => `${p} (no longer generated)`), ...write];
  if (check) {
    if (stale.length === 0) return 0;
    console.error(`stale generated files (run \`npm run generate\`):\n${stale.map((s) => `  ${s}`).join('\n')}`);
    return 1;
  }
  for (const path of remove) await unlink(join(root, path));
  for (const path of write) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), wanted.get(path) as string);
  }
  console.log(stale.length ? `updated:\n${stale.map((s) => `  ${s}`).join('\n')}` : `all ${wanted.size} generated files are up to date`);
  return 0;
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(`generate: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
});
