/** Regenerates deploy/kubernetes/prometheusrule.yaml from rules/ (npm run gen:k8s). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { prometheusRuleYaml } from './lib/prometheusrule.js';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}deploy/kubernetes/prometheusrule.yaml`, prometheusRuleYaml(`${root}rules`));
console.log('wrote deploy/kubernetes/prometheusrule.yaml');
