/**
 * A small in-memory history for the status page: a few host-wide figures (OOM kills, queue backlog, free
 * VRAM) taken from the collections the exporter makes anyway, one point per step at most, and a fixed
 * number of points. Memory is bounded whatever the scrape rate or the number of containers and queues.
 */
import { oomKills } from '../collectors/containers/index.js';
import { gpuMemoryFree } from '../collectors/nvidia/index.js';
import { queueJobs } from '../collectors/queues/metrics.js';
import type { Sample } from '../metrics.js';

/** Names of the families the history reads (test/web/history.test.ts checks the exporter emits each). */
export const HISTORY_FAMILIES = {
  oomKills: oomKills.name,
  queueJobs: queueJobs.name,
  gpuFree: gpuMemoryFree.name,
} as const;

export interface HistorySeries {
  readonly key: 'oom_kills' | 'queue_backlog' | 'gpu_free_vram';
  readonly title: string;
  readonly unit: 'count' | 'bytes';
  /** How to read it: a counter's rise is what matters, a gauge's lowest or highest point. */
  readonly kind: 'counter' | 'gauge';
  /** The figure from one collection, or undefined when the collection had no such data. */
  readonly extract: (samples: readonly Sample[]) => number | undefined;
}

function sum(samples: readonly Sample[], name: string, keep: (labels: Readonly<Record<string, string>>) => boolean = () => true): number | undefined {
  let total: number | undefined;
  for (const s of samples) if (s.def.name === name && typeof s.value === 'number' && keep(s.labels)) total = (total ?? 0) + s.value;
  return total;
}

function min(samples: readonly Sample[], name: string): number | undefined {
  let low: number | undefined;
  for (const s of samples) if (s.def.name === name && typeof s.value === 'number') low = low === undefined ? s.value : Math.min(low, s.value);
  return low;
}

/** The backlog as the queue alerts see it: jobs waiting plus jobs in a paused queue. */
const BACKLOG_STATES = new Set(['waiting', 'wait', 'paused']);

export const HISTORY_SERIES: readonly HistorySeries[] = [
  { key: 'oom_kills', title: 'OOM kills inside containers (all containers)', unit: 'count', kind: 'counter', extract: (s) => sum(s, HISTORY_FAMILIES.oomKills) },
  { key: 'queue_backlog', title: 'Queue backlog: waiting jobs (all queues)', unit: 'count', kind: 'gauge', extract: (s) => sum(s, HISTORY_FAMILIES.queueJobs, (l) => BACKLOG_STATES.has(l.state ?? '')) },
  { key: 'gpu_free_vram', title: 'Free VRAM (lowest GPU)', unit: 'bytes', kind: 'gauge', extract: (s) => min(s, HISTORY_FAMILIES.gpuFree) },
];

export interface HistoryPoint {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** One value per HISTORY_SERIES entry, null when that collection had none. */
  readonly values: ReadonlyArray<number | null>;
}

export interface HistoryOptions {
  /** At most one point per step (default 30 s). */
  readonly stepMs?: number;
  /** Points kept (default 120: one hour at 30 s). */
  readonly capacity?: number;
}

export class History {
  readonly stepMs: number;
  readonly capacity: number;
  private readonly ring: HistoryPoint[] = [];
  private next = 0;

  constructor(opts: HistoryOptions = {}) {
    this.stepMs = opts.stepMs ?? 30_000;
    this.capacity = Math.max(2, opts.capacity ?? 120);
  }

  /** Records one collection, unless the last point is younger than a step. */
  record(samples: readonly Sample[], at: number): void {
    const last = this.points().at(-1);
    if (last && at - last.at < this.stepMs) return;
    const point: HistoryPoint = { at, values: HISTORY_SERIES.map((h) => h.extract(samples) ?? null) };
    if (this.ring.length < this.capacity) this.ring.push(point);
    else this.ring[this.next] = point;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  points(): HistoryPoint[] {
    return this.ring.length < this.capacity ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  get size(): number {
    return this.ring.length;
  }
}
