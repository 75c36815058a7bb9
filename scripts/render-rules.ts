/**
 * Renders the alert rules (rules/*.yml) and docs/alerts.md from rules/src/.
 *
 *   npx tsx scripts/render-rules.ts                                    # rewrite rules/ and docs/alerts.md (defaults)
 *   npx tsx scripts/render-rules.ts --thresholds my.yml --out DIR      # your thresholds, rule files into DIR
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { resolveThresholds } from '../rules/src/index.js';
import { renderAlertsMarkdown, renderRuleFiles } from '../rules/src/render.js';

const root = new URL('..', import.meta.url).pathname;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { thresholds: { type: 'string' }, out: { type: 'string' } } });
  const overrides: unknown = values.thresholds ? parse(await readFile(values.thresholds, 'utf8')) : {};
  const t = resolveThresholds(overrides ?? {});
  const out = values.out ?? join(root, 'rules');
  await mkdir(out, { recursive: true });
  for (const [file, text] of renderRuleFiles(t)) await writeFile(join(out, file), text);
  if (!values.out) await writeFile(join(root, 'docs/alerts.md'), renderAlertsMarkdown(t));
  console.log(`wrote ${[...renderRuleFiles(t).keys()].join(', ')} to ${out}${values.out ? '' : ' and docs/alerts.md'}`);
}

main().catch((e: unknown) => {
  console.error(`render-rules: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
