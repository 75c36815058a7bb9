/**
 * Honest counting of llama-swap activity rows, without I/O. The watermark is the newest row already
 * counted (id and timestamp as llama-swap serialised them). Each poll reads from the newest row back to
 * the watermark (or to the oldest stored row, or to the per-poll bound) and `reconcile` decides, from ids
 * and the watermark row only, never from the order rows arrived in:
 *   - the watermark row comes back unchanged: the same store; rows above it are new;
 *   - the watermark row comes back with another timestamp, or the newest id is below the watermark, or the
 *     store is empty: llama-swap restarted (in-memory store, ids began again at 0 or 1); every row read is
 *     new and the ids below the oldest row read were evicted unread (missed);
 *   - the watermark row is gone and every row read is above it: the rows in between were evicted (store
 *     cap) or lie beyond this poll's bound: missed, never invented;
 *   - the watermark row is gone but older rows are there (sparse ids of a file-backed store): the same store.
 * So counted + missed = served, whatever the version and however full the store.
 */
import { isLoadFailure, type ActivityRow } from './parse-activity.js';

export interface Watermark {
  /** -1 = nothing seen from this store yet (every row counts; ids below the first one read are missed). */
  readonly id: number;
  readonly timestamp: string;
}

export const EMPTY_WATERMARK: Watermark = { id: -1, timestamp: '' };

export interface BatchPlan {
  readonly restart: boolean;
  readonly fresh: readonly ActivityRow[];
  readonly missed: number;
  readonly next: Watermark;
}

/**
 * `rows`: what one poll read, any order (sorted and de-duplicated here). `firstId`: the id a fresh store
 * begins with (0 for the ring buffer of /api/metrics, 1 for the SQLite store of /api/metrics/activity).
 */
export function reconcile(wm: Watermark, input: readonly ActivityRow[], firstId: number): BatchPlan {
  const rows = sortUnique(input);
  const oldest = rows[0];
  const newest = rows.at(-1);
  if (!oldest || !newest) return wm.id < 0 ? { restart: false, fresh: [], missed: 0, next: wm } : { restart: true, fresh: [], missed: 0, next: EMPTY_WATERMARK };
  const next = { id: newest.id, timestamp: newest.timestamp };
  if (wm.id < 0) return { restart: false, fresh: rows, missed: Math.max(0, oldest.id - firstId), next };
  const at = rows.find((r) => r.id === wm.id);
  if (newest.id < wm.id || (at && at.timestamp !== wm.timestamp)) {
    return { restart: true, fresh: rows, missed: Math.max(0, oldest.id - firstId), next };
  }
  const fresh = rows.filter((r) => r.id > wm.id);
  const lowestFresh = fresh[0];
  const missed = !at && oldest.id > wm.id && lowestFresh ? lowestFresh.id - wm.id - 1 : 0;
  return { restart: false, fresh, missed, next };
}

function sortUnique(rows: readonly ActivityRow[]): ActivityRow[] {
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  return sorted.filter((r, i) => i === 0 || r.id !== (sorted[i - 1] as ActivityRow).id);
}

/** Upper bounds (seconds) of the request duration histogram: from a cached answer to a slow model load. */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

export interface ModelHistogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Cumulative per-server counters since the exporter started watching. */
export class Tally {
  /** model -> code -> count */
  readonly requests = new Map<string, Map<string, number>>();
  readonly durations = new Map<string, ModelHistogram>();
  readonly loadFailures = new Map<string, number>();
  missed = 0;
  malformed = 0;
  restarts = 0;
  /** Requests counted as model "other" because the label cap was reached. */
  folded = 0;

  constructor(private readonly maxModels: number) {}

  /** Bounded model label: past `maxModels` distinct names, the rest are counted as "other". */
  private modelLabel(model: string): string {
    if (this.requests.has(model) || this.requests.size < this.maxModels) return model;
    this.folded += 1;
    return 'other';
  }

  count(model: string, status: number | undefined, durationSeconds: number | undefined, errorMsg = ''): void {
    const m = this.modelLabel(model);
    let byCode = this.requests.get(m);
    if (!byCode) this.requests.set(m, (byCode = new Map()));
    const code = status === undefined ? 'unknown' : String(status);
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    if (durationSeconds !== undefined) {
      let h = this.durations.get(m);
      if (!h) this.durations.set(m, (h = { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
      DURATION_BUCKETS.forEach((le, i) => {
        if (durationSeconds <= le) h.counts[i] = (h.counts[i] as number) + 1;
      });
      h.sum += durationSeconds;
      h.count += 1;
    }
    if (isLoadFailure(status, errorMsg)) this.loadFailures.set(m, (this.loadFailures.get(m) ?? 0) + 1);
  }

  countRows(rows: readonly ActivityRow[]): void {
    for (const r of rows) this.count(r.model, r.status, r.durationSeconds, r.errorMsg);
  }

  totalRequests(): number {
    let n = 0;
    for (const byCode of this.requests.values()) for (const c of byCode.values()) n += c;
    return n;
  }
}
