/**
 * Progress counters from BullMQ's event stream `<prefix>:<queue>:events`, read incrementally. Pure: the
 * pipeline sends `eventCommand()` for each BullMQ queue in its single round trip and hands the reply to
 * `readEvents()`, which updates the queue's cursor and counters.
 *
 * What BullMQ writes there (bullmq 6.7.0 and 5.81.5, dist/cjs/commands/*.lua): every entry has a field
 * `event`; `moveToFinished-14.lua` adds `completed` or `failed` (one per attempt that ends) and
 * `retries-exhausted` once a job has no attempts left; `includes/prepareJobForProcessing.lua` adds `active`;
 * `moveStalledJobsToWait-9.lua` adds `stalled`; `includes/storeJob.lua` adds `added`. The stream is capped
 * with `XADD … MAXLEN ~ <streams.events.maxLen>` (10,000 by default, `classes/queue.js`) and
 * `includes/trimEvents.lua`, so entries the exporter has not read yet can be trimmed away.
 *
 * Reading: the first scrape asks `XINFO STREAM` for the last id and the stream's `entries-added` (Redis 7),
 * and counts nothing before it (counters start at 0 on exporter start, as Prometheus expects). Every later
 * scrape asks `XRANGE <key> <last id> + COUNT <max+1>`: the range includes the last id read, so when the
 * first entry returned is not that id, the stream was trimmed past it; how many entries were lost is then
 * `index(first entry) - index(last id) - 1`, with indexes taken from `entries-added` (one `XINFO STREAM` in a
 * second round trip, only when this happens). At most `max` new entries are read per scrape; the rest are
 * read by the next scrapes.
 */
import type { Command, Reply } from './parse-counts.js';

/** Events exported as counters (a fixed set: bounded series). */
export const COUNTED_EVENTS = ['added', 'active', 'completed', 'failed', 'stalled', 'retries-exhausted'] as const;
export type CountedEvent = (typeof COUNTED_EVENTS)[number];

const NO_ID = '0-0';

export interface StreamState {
  /** Id of the last entry read ('0-0': the stream did not exist); undefined until the first scrape positioned it. */
  lastId: string | undefined;
  /** entries-added index of lastId (1-based; 0 = before the first entry); undefined when Redis does not say (Redis < 7). */
  index: number | undefined;
  readonly counts: Map<CountedEvent, number>;
  lost: number;
}

export function newStreamState(): StreamState {
  return { lastId: undefined, index: undefined, counts: new Map(COUNTED_EVENTS.map((e) => [e, 0])), lost: 0 };
}

export function eventCommand(key: string, s: StreamState, max: number): Command {
  if (s.lastId === undefined) return ['xinfo', 'stream', key];
  return ['xrange', key, s.lastId, '+', 'COUNT', String(max + 1)];
}

/** XINFO STREAM's reply (a flat field/value array) as a map; undefined for an error (no such key) or garbage. */
export function streamInfo(r: Reply | undefined): { lastId: string; added: number | undefined; length: number } | undefined {
  if (!r || r[0] || !Array.isArray(r[1])) return undefined;
  const a = r[1] as unknown[];
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < a.length; i += 2) if (typeof a[i] === 'string') m.set(a[i] as string, a[i + 1]);
  const lastId = m.get('last-generated-id');
  const length = m.get('length');
  const added = m.get('entries-added');
  if (typeof lastId !== 'string' || typeof length !== 'number') return undefined;
  return { lastId, length, added: typeof added === 'number' ? added : undefined };
}

const isNoSuchKey = (r: Reply | undefined): boolean => !!r?.[0] && /no such key/i.test(r[0].message);

/** The `event` field of one stream entry's field/value array. */
function eventOf(fields: unknown): string | undefined {
  if (!Array.isArray(fields)) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'event') return typeof fields[i + 1] === 'string' ? (fields[i + 1] as string) : undefined;
  return undefined;
}

export interface ReadResult {
  /** The stream was trimmed past the last id read: ask `XINFO STREAM` (second round trip) and call `settleGap`. */
  readonly gap: boolean;
  /** Entries left for the next scrape (the per-scrape cap was reached). */
  readonly more: boolean;
  /** New entries read. */
  readonly fresh: number;
  /** Index of the last id read before this read (for settleGap). */
  readonly previousIndex: number | undefined;
}

/**
 * Applies one queue's reply to its state. Throws (naming the key) on a reply that is neither a stream nor
 * "no such key" (a key of another type): the queue's other metrics are still served by the caller.
 */
export function readEvents(key: string, s: StreamState, r: Reply | undefined, max: number): ReadResult {
  if (s.lastId === undefined) {
    // First scrape: position at the end, count nothing.
    if (isNoSuchKey(r)) {
      s.lastId = NO_ID;
      s.index = 0;
      return { gap: false, more: false, fresh: 0, previousIndex: undefined };
    }
    const info = streamInfo(r);
    if (!info) throw new Error(`${key} XINFO STREAM: ${r?.[0]?.message ?? 'unexpected reply'}`);
    s.lastId = info.lastId;
    s.index = info.added;
    return { gap: false, more: false, fresh: 0, previousIndex: undefined };
  }
  if (!r) throw new Error(`${key} XRANGE: no reply`);
  if (r[0]) throw new Error(`${key} XRANGE: ${r[0].message}`);
  if (!Array.isArray(r[1])) throw new Error(`${key} XRANGE: unexpected reply`);
  const entries = r[1] as Array<[string, unknown]>;
  const previousIndex = s.index;
  if (entries.length === 0) {
    // Deleted (obliterated) or not yet created: keep the cursor; a new stream's ids sort after it.
    return { gap: false, more: false, fresh: 0, previousIndex };
  }
  let start = 0;
  let gap = false;
  if (entries[0]?.[0] === s.lastId) start = 1;
  else if (s.lastId !== NO_ID) gap = true;
  const fresh = entries.length - start;
  for (let i = start; i < entries.length; i++) {
    const ev = eventOf(entries[i]?.[1]) as CountedEvent | undefined;
    if (ev !== undefined && s.counts.has(ev)) s.counts.set(ev, (s.counts.get(ev) as number) + 1);
  }
  const more = entries.length >= max + 1 || (start === 0 && entries.length >= max);
  s.lastId = (entries[entries.length - 1] as [string, unknown])[0];
  // After a gap the index of the new last id is settled by settleGap() from XINFO STREAM.
  s.index = gap || s.index === undefined ? undefined : s.index + fresh;
  return { gap, more, fresh, previousIndex };
}

/**
 * After a gap: `XINFO STREAM` tells `entries-added` and `length`, so the first entry still in the stream has
 * index `added - length + 1`; the entries between the last id read before and that one are lost. Without
 * `entries-added` (Redis < 7) at least one entry was lost, and the index stays unknown.
 */
export function settleGap(s: StreamState, previousIndex: number | undefined, r: Reply | undefined, readAfterGap: number): void {
  const info = streamInfo(r);
  if (!info || info.added === undefined || previousIndex === undefined) {
    s.lost += 1;
    s.index = undefined;
    return;
  }
  const firstIndex = info.added - info.length + 1;
  s.lost += Math.max(1, firstIndex - previousIndex - 1);
  s.index = firstIndex + readAfterGap - 1;
}
