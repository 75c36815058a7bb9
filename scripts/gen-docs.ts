/** Regenerates docs/metrics.md and docs/configuration.md (npm run docs). */
import { writeFileSync } from 'node:fs';
import { ALL_COLLECTORS } from '../src/collectors/index.js';
import { configurationMarkdown, metricsMarkdown } from '../src/docs/catalogue.js';

const root = new URL('..', import.meta.url);
writeFileSync(new URL('docs/metrics.md', root), metricsMarkdown(ALL_COLLECTORS));
writeFileSync(new URL('docs/configuration.md', root), configurationMarkdown(ALL_COLLECTORS));
console.log('wrote docs/metrics.md and docs/configuration.md');
