/**
 * The one place that knows every collector. Adding a collector = a folder under src/collectors/ and one
 * line here; flags, env vars, the landing page and docs/metrics.md follow from its definition.
 */
import { hostCollector } from './host/index.js';
import { mountsCollector } from './mounts/index.js';
import { probesCollector } from './probes/index.js';
import type { AnyCollector } from './types.js';

export const ALL_COLLECTORS: readonly AnyCollector[] = [
  hostCollector,
  probesCollector,
  mountsCollector,
];
