/**
 * Writes grafana/dashboards/*.json from the typed dashboards in grafana/src/.
 *   npx tsx scripts/gen-dashboards.ts          write the files
 *   npx tsx scripts/gen-dashboards.ts --check  exit 1 when the committed files differ
 */
import { mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { renderDashboards } from '../grafana/src/index.js';

const dir = fileURLToPath(new URL('../grafana/dashboards/', import.meta.url));
const check = process.argv.includes('--check');
const wanted = renderDashboards();
await mkdir(dir, { recursive: true });
const existing = (await readdir(dir)).filter((f) => f.endsWith('.json'));
let stale = 0;
for (const f of existing) {
  if (wanted.has(f)) continue;
  stale++;
  if (check) console.error(`stale: grafana/dashboards/${f}`);
  else await unlink(join(dir, f));
}
for (const [file, text] of wanted) {
  const path = join(dir, file);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === text) continue;
  stale++;
  if (check) console.error(`differs from the generator: grafana/dashboards/${file}`);
  else {
    await writeFile(path, text);
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
if (check && stale > 0) process.exitCode = 1;
