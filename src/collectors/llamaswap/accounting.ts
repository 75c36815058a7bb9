/**
 * Honest counting of llama-swap activity rows, without I/O. The watermark is the newest row already
 * counted (id and timestamp). Each fetch asks for rows with id >= watermark, so the watermark row itself
 * comes back first and proves the store is the same one:
 *   - first row == watermark (same id and timestamp): everything after it is new;
 *   - first row id > watermark: the rows in between were evicted (store cap) before we read them: missed;
 *   - nothing at all, or the watermark id with another timestamp: llama-swap restarted and its ids began
 *     again; the caller re-reads from the start so nothing is counted twice and nothing new is skipped.
 */
import { isLoadFailure, type ActivityRow } from './parse-activity.js';

export interface Watermark {
  /** 0 = nothing counted yet from this store (count from id 1). */
  readonly id: number;
  readonly timestamp: string;
}

export const EMPTY_WATERMARK: Watermark = { id: 0, timestamp: '' };

export type BatchPlan =
  | { readonly restart: true }
  | { readonly restart: false; readonly fresh: readonly ActivityRow[]; readonly missed: number; readonly next: Watermark };

/** `rows`: sorted ascending, every id >= wm.id (what a `min_id=wm.id` query returns). */
export function planBatch(wm: Watermark, rows: readonly ActivityRow[]): BatchPlan {
  const first = rows[0];
  if (wm.id === 0) {
    if (!first) return { restart: false, fresh: [], missed: 0, next: wm };
    const last = rows.at(-1) as ActivityRow;
    return { restart: false, fresh: rows, missed: first.id - 1, next: { id: last.id, timestamp: last.timestamp } };
  }
  if (!first || first.id < wm.id) return { restart: true };
  if (first.id === wm.id) {
    if (first.timestamp !== wm.timestamp) return { restart: true };
    const last = rows.at(-1) as ActivityRow;
    return { restart: false, fresh: rows.slice(1), missed: 0, next: { id: last.id, timestamp: last.timestamp } };
  }
  const last = rows.at(-1) as ActivityRow;
  return { restart: false, fresh: rows, missed: first.id - wm.id - 1, next: { id: last.id, timestamp: last.timestamp } };
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

  constructor(private readonly maxModels: number) {}

  /** Bounded model label: past `maxModels` distinct names, the rest are counted as "other". */
  private modelLabel(model: string): string {
    if (this.requests.has(model) || this.requests.size < this.maxModels) return model;
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
