/**
 * Pure parsers for llama-swap's per-request activity rows: the paged `/api/metrics/activity` answer (v236+)
 * and the plain array of `/api/metrics` (v209–v235, a ring buffer whose ids start at 0). Both carry the same row shape
 * `{id, timestamp, model, req_path, resp_status_code, duration_ms, error_msg?, tokens}`. A malformed row is
 * skipped and counted, never turned into NaN or a wrong number.
 */

export interface ActivityRow {
  readonly id: number;
  /** As llama-swap serialised it; compared verbatim to recognise the watermark row after a restart. */
  readonly timestamp: string;
  readonly model: string;
  /** HTTP status code (100..599), or undefined when the row has none (pre-v209 rows never had one). */
  readonly status: number | undefined;
  readonly durationSeconds: number | undefined;
  readonly errorMsg: string;
}

export interface ParsedRows {
  /** Valid rows sorted by ascending id. */
  readonly rows: ActivityRow[];
  /** Rows skipped because they had no usable id or model (duplicates included). */
  readonly malformed: number;
  /** The ids of the skipped rows that had one, so a re-read page does not report them again. */
  readonly malformedIds: readonly number[];
}

export interface ParsedActivityPage extends ParsedRows {
  readonly total: number | undefined;
}

export class ActivityFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActivityFormatError';
  }
}

function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') throw new ActivityFormatError(`${what}: empty body`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ActivityFormatError(`${what}: not JSON (${(e as Error).message.slice(0, 80)})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One row, or undefined when it lacks what counting needs (an integer id >= 0 — the ring buffer of v140–v235 numbers rows from 0 — and a model name). */
export function parseRow(raw: unknown): ActivityRow | undefined {
  if (!isObject(raw)) return undefined;
  const { id, model } = raw;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return undefined;
  if (typeof model !== 'string' || model === '') return undefined;
  const code = raw.resp_status_code;
  let status: number | undefined;
  if (code !== undefined) {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) return undefined;
    status = code;
  }
  const ms = raw.duration_ms;
  const durationSeconds = typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
  const timestamp = typeof raw.timestamp === 'string' ? raw.timestamp : '';
  const errorMsg = typeof raw.error_msg === 'string' ? raw.error_msg : '';
  return { id, timestamp, model, status, durationSeconds, errorMsg };
}

function parseRows(list: readonly unknown[]): ParsedRows {
  const rows: ActivityRow[] = [];
  const malformedIds: number[] = [];
  let malformed = 0;
  for (const r of list) {
    const row = parseRow(r);
    if (row) rows.push(row);
    else {
      malformed++;
      const id = isObject(r) ? r.id : undefined;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) malformedIds.push(id);
    }
  }
  rows.sort((a, b) => a.id - b.id);
  // Duplicate ids cannot come from one store; keep the first so nothing is counted twice.
  const unique = rows.filter((r, i) => {
    const dup = i > 0 && r.id === (rows[i - 1] as ActivityRow).id;
    if (dup) malformedIds.push(r.id);
    return !dup;
  });
  return { rows: unique, malformed: malformed + rows.length - unique.length, malformedIds };
}

/** `GET /api/metrics/activity` (v236+): `{data: [...], page, limit, total, total_pages}`. */
export function parseActivityPage(text: string): ParsedActivityPage {
  const doc = parseJson(text, '/api/metrics/activity');
  if (!isObject(doc) || !Array.isArray(doc.data)) throw new ActivityFormatError('/api/metrics/activity: expected an object with a data array');
  const total = typeof doc.total === 'number' && Number.isSafeInteger(doc.total) && doc.total >= 0 ? doc.total : undefined;
  return { ...parseRows(doc.data as unknown[]), total };
}

/** `GET /api/metrics` (v209–v235): a JSON array of rows (`null` when the store is empty in some builds). */
export function parseLegacyMetrics(text: string): ParsedRows {
  const doc = parseJson(text, '/api/metrics');
  if (doc === null) return { rows: [], malformed: 0, malformedIds: [] };
  if (!Array.isArray(doc)) throw new ActivityFormatError('/api/metrics: expected a JSON array of rows');
  return parseRows(doc);
}

/** Error texts of a model that could not be loaded (current, legacy, and health-check time-out). */
const LOAD_FAILURE = /upstream command exited prematurely|unable to start process|health check timed out|failed to start command/i;

/** A 5xx whose error says the upstream process exited, failed to start, or never passed its health check. */
export function isLoadFailure(status: number | undefined, errorMsg: string): boolean {
  return status !== undefined && status >= 500 && status <= 599 && LOAD_FAILURE.test(errorMsg);
}
