/**
 * A cgroup v2 tree of Docker containers under a fake sysfs, built from the recorded fixture files (no
 * dockerd needed), and the check that every active collector succeeded on a scrape body: a bench whose
 * fixture makes a collector fail measures the failure path, not the collector.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/containers/', import.meta.url));

/** A 64-hex container id that differs in its first 12 characters (the `id` label) for each `i`. */
export const fakeContainerId = (i: number): string => createHash('sha256').update(`bench-container-${i}`).digest('hex');

/** Adds containers `from` … `to - 1` under `<sysfs>/fs/cgroup/system.slice/`; returns `to`. */
export function addV2Containers(sysfs: string, from: number, to: number): number {
  const root = join(sysfs, 'fs', 'cgroup');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  for (let i = from; i < to; i++) {
    const dir = join(root, 'system.slice', `docker-${fakeContainerId(i)}.scope`);
    mkdirSync(dir, { recursive: true });
    for (const f of ['memory.current', 'memory.max', 'memory.stat', 'memory.events']) copyFileSync(join(FIXTURES, `v2-systemd-docker.${f}`), join(dir, f));
  }
  return to;
}

/** Throws unless every `silentwatch_collector_success` series in the exposition is 1. */
export function assertCollectorsSucceeded(body: string): void {
  const failed = [...body.matchAll(/^silentwatch_collector_success\{collector="([^"]+)"\} 0$/gm)].map((m) => m[1]);
  if (failed.length) throw new Error(`bench fixture broken: collector(s) failed: ${failed.join(', ')}`);
  if (!/^silentwatch_collector_success\{/m.test(body)) throw new Error('bench fixture broken: no collector_success series');
}
