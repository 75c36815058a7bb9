/**
 * The host collector against the real kernel: silentwatch_host_oom_kills_total equals /proc/vmstat, and
 * rises after a real OOM kill in a memory cgroup made by the test (cgroup v1 here; v2 where that is all).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { waitFor } from '../../helpers/daemon.js';

const run = promisify(execFile);
const vmstatOomKills = (): number => Number(/^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1]);

/** A writable memory cgroup (v1 controller dir or v2 unified root with the memory controller), or a reason. */
function memoryCgroupRoot(): { dir: string; version: 1 | 2 } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'creating a memory cgroup needs root' };
  if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') || existsSync('/sys/fs/cgroup/memory/cgroup.procs')) return { dir: '/sys/fs/cgroup/memory', version: 1 };
  if (existsSync('/sys/fs/cgroup/cgroup.controllers') && readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').includes('memory')) return { dir: '/sys/fs/cgroup', version: 2 };
  return { skip: 'no writable memory cgroup on this host' };
}

let exporter: RunningExporter;
beforeAll(async () => {
  exporter = await startExporter();
});
afterAll(async () => {
  await exporter?.stop();
});

describe('host collector', () => {
  it('reports the kernel oom_kill counter and host memory', async () => {
    const m = await exporter.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'host' })).toBe(1);
    expect(m.value('silentwatch_host_oom_kills_total')).toBe(vmstatOomKills());
    const total = m.value('silentwatch_host_memory_total_bytes') ?? 0;
    const meminfoTotal = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
    expect(total).toBe(meminfoTotal);
    const avail = m.value('silentwatch_host_memory_available_bytes') ?? 0;
    expect(avail).toBeGreaterThan(0);
    expect(avail).toBeLessThanOrEqual(total);
  });

  const cg = memoryCgroupRoot();
  it.skipIf('skip' in cg)(`rises after a real OOM kill in a memory cgroup${'skip' in cg ? ` (skipped: ${cg.skip})` : ''}`, async () => {
    if ('skip' in cg) return;
    const dir = join(cg.dir, `silentwatch-test-${process.pid}`);
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, cg.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'), String(32 * 1024 * 1024));
      if (cg.version === 1) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(32 * 1024 * 1024), { flag: 'w' });
    } catch {
      // memsw accounting may be off; the plain limit is enough
    }
    try {
      const before = (await exporter.metrics()).value('silentwatch_host_oom_kills_total') ?? -1;
      expect(before).toBe(vmstatOomKills());
      // The child joins the cgroup, then dd allocates a 128 MiB buffer and fills it: the kernel kills it.
      await run('sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec dd if=/dev/zero of=/dev/null bs=128M count=1`]).catch(() => undefined);
      const after = await waitFor(async () => {
        const v = (await exporter.metrics()).value('silentwatch_host_oom_kills_total') ?? 0;
        return v > before ? v : undefined;
      }, 'host OOM counter to rise', 10_000, 100);
      expect(after).toBeGreaterThanOrEqual(before + 1);
      expect(after).toBe(vmstatOomKills());
    } finally {
      rmdirSync(dir);
    }
  });
});
