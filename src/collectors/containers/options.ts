/** Options of the containers collector (flags --collector.containers.*, env, config file). */
import { z } from 'zod';
import { bool, enablement, integer } from '../../lib/config-values.js';

export const containersOptions = z.object({
  docker: enablement()
    .prefault('auto')
    .describe(
      'Enrich containers from the Docker API (names, image, compose labels, state, health, restarts, OOMKilled): true, false, or auto (use it when reachable; report a failure only when Docker containers exist in the cgroup tree but the API does not answer).',
    ),
  include_stopped: bool()
    .prefault('true')
    .describe('Also export Docker state, restarts and OOMKilled for containers that are not running (exited, created, dead).'),
  open_files: integer(0, 100_000)
    .prefault('512')
    .describe(
      'Cgroup memory files kept open between scrapes (4 per container) so a scrape costs one read per file; 0 opens and closes every file each scrape. Keep it well below the process file-descriptor limit.',
    ),
  max_cgroups: integer(10, 1_000_000)
    .prefault('20000')
    .describe('Most cgroup directories walked per scrape when looking for containers; beyond it the scrape is reported partial.'),
});

export type ContainersOptions = z.infer<typeof containersOptions>;
