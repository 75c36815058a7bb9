/**
 * The performance targets in one place: every "met"/"missed" line the other benches wrote into
 * bench/results/*.md, gathered (not re-measured) into bench/results/targets.md, with the file each comes
 * from. Run after the benches (`npm run bench` runs it last, alphabetically after the others it reads).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const SOURCES = ['nvidia', 'drm', 'load', 'soak', 'exporter', 'memory'];
const lines = ['# performance targets: met or missed', '', 'Gathered from the sections below (each figure is measured there, beside its anchor).', ''];
for (const s of SOURCES) {
  const f = new URL(`./results/${s}.md`, import.meta.url);
  if (!existsSync(f)) {
    lines.push(`- ${s}: not run`);
    continue;
  }
  const found = readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => /\*\*(met|missed|not measured)\*\*/.test(l));
  for (const l of found) lines.push(`- ${s}: ${l.replace(/^[-\s]+/, '')}`);
}
lines.push('');
writeFileSync(new URL('./results/targets.md', import.meta.url), lines.join('\n'));
console.log(lines.join('\n'));
