/**
 * The one place that knows every collector. Adding a collector = a folder under src/collectors/ and one
 * line here; flags, env vars, the landing page and docs/metrics.md follow from its definition.
 */
import { drmCollector } from './drm/index.js';
import { hostCollector } from './host/index.js';
import type { AnyCollector } from './types.js';

export const ALL_COLLECTORS: readonly AnyCollector[] = [
  hostCollector,
  drmCollector,
];
