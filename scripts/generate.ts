/**
 * Regenerates every generated file (docs/metrics.md, docs/configuration.md, rules/*.yml, docs/alerts.md, the
 * Kubernetes PrometheusRule, grafana/dashboards/*.json) from its source.
 *
 *   npm run generate              write the files that changed, remove the ones no longer generated
 *   npm run generate -- --check   write nothing; list the stale files and exit 1 if there is any (the suite runs this)
 */
import { mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIRS, generatedFiles } from './lib/generated.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');

async function main(): Promise<number> {
  const wanted = generatedFiles();
  const stale: string[] = [];
  for (const { dir, ext } of GENERATED_DIRS) {
    for (const f of await readdir(join(root, dir)).catch(() => [])) {
      const path = `${dir}/${f}`;
      if (!f.endsWith(ext) || wanted.has(path)) continue;
      stale.push(`${path} (no longer generated)`);
      if (!check) await unlink(join(root, path));
    }
  }
  for (const [path, text] of wanted) {
    if ((await readFile(join(root, path), 'utf8').catch(() => undefined)) === text) continue;
    stale.push(path);
    if (check) continue;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  if (check) {
    if (stale.length === 0) return 0;
    console.error(`stale generated files (run \`npm run generate\`):\n${stale.map((s) => `  ${s}`).join('\n')}`);
    return 1;
  }
  console.log(stale.length ? `updated:\n${stale.map((s) => `  ${s}`).join('\n')}` : `all ${wanted.size} generated files are up to date`);
  return 0;
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(`generate: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
});
