/**
 * The one place that knows every collector. Adding a collector = a folder under src/collectors/ and one
 * line here; flags, env vars, the landing page and docs/metrics.md follow from its definition.
 */
import { containersCollector } from './containers/index.js';
import { drmCollector } from './drm/index.js';
import { hostCollector } from './host/index.js';
import { llamaswapCollector } from './llamaswap/index.js';
import { nvidiaCollector } from './nvidia/index.js';
import { queuesCollector } from './queues/index.js';
import { mountsCollector } from './mounts/index.js';
import { probesCollector } from './probes/index.js';
import type { AnyCollector } from './types.js';

export const ALL_COLLECTORS: readonly AnyCollector[] = [
  hostCollector,
  nvidiaCollector,
  containersCollector,
  queuesCollector,
  llamaswapCollector,
  drmCollector,
  probesCollector,
  mountsCollector,
];
