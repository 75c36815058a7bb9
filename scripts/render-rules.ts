/**
 * Renders the alert rules with your own thresholds into a folder of your choice (the shipped rules/ and
 * docs/alerts.md are rewritten by `npm run generate`).
 *
 *   npx tsx scripts/render-rules.ts --thresholds my.yml --out DIR
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_THRESHOLDS } from '../rules/src/index.js';
import { renderRuleFiles } from '../rules/src/render.js';
import { loadThresholdsFile } from '../src/thresholds/index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { thresholds: { type: 'string' }, out: { type: 'string' } } });
  if (!values.out) throw new Error('--out DIR is required (the shipped rules/ are written by `npm run generate`)');
  const files = renderRuleFiles(values.thresholds ? loadThresholdsFile(values.thresholds) : DEFAULT_THRESHOLDS);
  await mkdir(values.out, { recursive: true });
  for (const [file, text] of files) await writeFile(join(values.out, file), text);
  console.log(`wrote ${[...files.keys()].join(', ')} to ${values.out}`);
}

main().catch((e: unknown) => {
  console.error(`render-rules: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
