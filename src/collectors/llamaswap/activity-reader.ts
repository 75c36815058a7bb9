/**
 * Reads llama-swap's per-request records and counts them once each (see accounting.ts for the rules).
 *
 *   activity  GET /api/metrics/activity (v236+, SQLite store, ids from 1): paged from the newest row back
 *             to the watermark with sort=id&order=desc, at most MAX_PAGES pages per poll. v236–v250 ignore
 *             min_id (internal/server/apigroup.go parseActivityQuery at v250 parses only model, limit, page,
 *             sort, order), so min_id is added only where a probe showed the server honours it, and only
 *             narrows what the same algorithm reads.
 *   metrics   GET /api/metrics (v209–v235): the whole ring buffer (ids from 0), read in one request.
 */
import type { HttpResponse } from '../../lib/http.js';
import type { Logger } from '../../logger.js';
import { EMPTY_WATERMARK, reconcile, type Tally, type Watermark } from './accounting.js';
import { parseActivityPage, parseLegacyMetrics, type ActivityRow, type ParsedRows } from './parse-activity.js';

export type Get = (path: string) => Promise<HttpResponse>;
export type ActivitySource = 'activity' | 'metrics';

/** llama-swap accepts limit 1..999 (parseActivityLimit, internal/server/apigroup.go at v250). */
export const PAGE_LIMIT = 999;
/** At most this many pages per poll (~20k rows), so one poll stays bounded; rows beyond count as missed. */
export const MAX_PAGES = 20;

export interface ReaderOptions {
  /** The server honours min_id (probed). */
  readonly minId: boolean;
  readonly server: string;
  readonly log: Logger;
  readonly closed: () => boolean;
  /** Page limit (tests use small pages to exercise the bound). */
  readonly pageLimit?: number;
  readonly maxPages?: number;
}

export class ActivityReader {
  private wm: Watermark = EMPTY_WATERMARK;
  private baselined = false;

  constructor(
    private readonly get: Get,
    readonly source: ActivitySource,
    private readonly tally: Tally,
    private readonly opts: ReaderOptions,
  ) {}

  /** One poll: the first only sets the baseline (rows from before silentwatch watched are not counted). */
  async poll(): Promise<void> {
    const rows = this.source === 'activity' ? await this.readActivity() : await this.readLegacy();
    if (!this.baselined) {
      const newest = rows.reduce<ActivityRow | undefined>((a, r) => (!a || r.id > a.id ? r : a), undefined);
      this.wm = newest ? { id: newest.id, timestamp: newest.timestamp } : EMPTY_WATERMARK;
      this.baselined = true;
      return;
    }
    const plan = reconcile(this.wm, rows, this.source === 'activity' ? 1 : 0);
    if (plan.restart) {
      this.tally.restarts += 1;
      this.opts.log.info({ server: this.opts.server }, 'llama-swap activity store began again (restart): counting its rows from the first');
    }
    this.tally.countRows(plan.fresh);
    this.tally.missed += plan.missed;
    this.wm = plan.next;
  }

  private async page(query: string): Promise<ActivityRow[]> {
    const res = await this.get(`/api/metrics/activity?${query}`);
    if (res.status !== 200) throw new Error(`GET /api/metrics/activity answered ${res.status}`);
    const page = parseActivityPage(res.body);
    this.countMalformed(page);
    return page.rows;
  }

  /**
   * Reports malformed rows once: pages are re-read around the watermark, so only those above it count
   * (rows without an id: when every valid row of the page is new).
   */
  private countMalformed(p: ParsedRows): void {
    if (!this.baselined) return;
    const wm = this.wm.id;
    const withId = p.malformedIds.filter((id) => id > wm).length;
    const withoutId = p.rows.every((r) => r.id > wm) ? p.malformed - p.malformedIds.length : 0;
    this.tally.malformed += withId + withoutId;
  }

  private async readActivity(): Promise<ActivityRow[]> {
    const limit = this.opts.pageLimit ?? PAGE_LIMIT;
    if (!this.baselined) return this.page('limit=1&page=1&sort=id&order=desc');
    const wm = this.wm;
    let filter = this.opts.minId && wm.id >= 1 ? `&min_id=${wm.id}` : '';
    const all: ActivityRow[] = [];
    let newestId = -1;
    for (let p = 1; p <= (this.opts.maxPages ?? MAX_PAGES) && !this.opts.closed(); p++) {
      // parseRows sorts ascending; the server's order only decides which rows a page holds.
      const rows = await this.page(`limit=${limit}&page=${p}&sort=id&order=desc${filter}`);
      if (filter && p === 1 && rows.length === 0) {
        // The watermark row is gone (restart or eviction): read without the filter to tell which.
        filter = '';
        p = 0;
        continue;
      }
      all.push(...rows);
      for (const r of rows) newestId = Math.max(newestId, r.id);
      if (rows.length < limit) break; // the oldest stored row was read
      if (wm.id < 0) continue;
      const at = rows.find((r) => r.id === wm.id);
      const restart = newestId < wm.id || (at !== undefined && at.timestamp !== wm.timestamp);
      // Stop at the watermark unless the store began again (then read to its first row, bounded).
      if (!restart && (at !== undefined || rows.some((r) => r.id < wm.id))) break;
    }
    return all;
  }

  private async readLegacy(): Promise<ActivityRow[]> {
    const res = await this.get('/api/metrics');
    if (res.status !== 200) throw new Error(`GET /api/metrics answered ${res.status}`);
    const parsed = parseLegacyMetrics(res.body);
    this.countMalformed(parsed);
    return parsed.rows;
  }
}
