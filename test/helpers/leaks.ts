/**
 * Resource snapshot of a running exporter process, for "no fd / child process / timer leak" checks:
 * open fds and live child processes from /proc, pending timers from the exporter's own
 * silentwatch_nodejs_active_resources{type="Timeout"} gauge.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { RunningExporter } from './exporter.js';

export interface ResourceSnapshot {
  readonly fds: number;
  readonly children: number;
  readonly timers: number;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      // thread exited
    }
  }
  return out;
}

export async function snapshot(e: RunningExporter): Promise<ResourceSnapshot> {
  const pid = e.daemon.child.pid as number;
  const m = await e.metrics();
  return {
    fds: readdirSync(`/proc/${pid}/fd`).length,
    children: childrenOf(pid).length,
    timers: m.value('silentwatch_nodejs_active_resources', { type: 'Timeout' }) ?? 0,
  };
}

/**
 * Asserts nothing grew beyond a small slack between two snapshots taken around many scrapes.
 * (A few fds and timers come and go with keep-alive sockets and in-flight requests.)
 */
export function leakDelta(before: ResourceSnapshot, after: ResourceSnapshot): ResourceSnapshot {
  return { fds: after.fds - before.fds, children: after.children - before.children, timers: after.timers - before.timers };
}
