/**
 * Host facts: memory total/available (systeminformation) and the kernel's host-wide OOM kill counter
 * (/proc/vmstat `oom_kill`). The counter is the kernel's own number, so it survives exporter restarts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import si from 'systeminformation';
import { z } from 'zod';
import { raceSignal } from '../../lib/async.js';
import { defineMetric } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { oomKillsFromVmstat } from './parse-vmstat.js';

const memoryTotal = defineMetric({
  name: 'silentwatch_host_memory_total_bytes',
  type: 'gauge',
  help: 'Total usable physical memory of the host, in bytes.',
});
const memoryAvailable = defineMetric({
  name: 'silentwatch_host_memory_available_bytes',
  type: 'gauge',
  help: 'Memory available for new work without swapping (MemAvailable), in bytes.',
});
const oomKills = defineMetric({
  name: 'silentwatch_host_oom_kills_total',
  type: 'counter',
  help: "Processes killed by the kernel's OOM killer on this host since boot (/proc/vmstat oom_kill), in any cgroup.",
});

export const hostCollector = defineCollector({
  name: 'host',
  description: 'Host memory and the host-wide OOM kill counter.',
  defaultEnabled: true,
  options: z.object({}),
  metrics: [memoryTotal, memoryAvailable, oomKills],
  create(ctx) {
    let oomNote = 'not read yet';
    return {
      async collect(sink, run) {
        const [mem, vmstat] = await Promise.all([
          // systeminformation takes no signal: the race lets the collection end at its deadline all the same
          raceSignal(si.mem(), run.signal),
          readFile(join(ctx.paths.procfs, 'vmstat'), { encoding: 'utf8', signal: run.signal }),
        ]);
        if (mem.total > 0) sink.set(memoryTotal, {}, mem.total);
        if (mem.available > 0) sink.set(memoryAvailable, {}, mem.available);
        const kills = oomKillsFromVmstat(vmstat);
        if (kills === undefined) {
          oomNote = 'no oom_kill line in vmstat (kernel older than 4.13?)';
          sink.degraded(oomNote);
        } else {
          oomNote = 'from vmstat';
          sink.set(oomKills, {}, kills);
        }
      },
      describe: () => ({ 'OOM kills': oomNote }),
    };
  },
});
