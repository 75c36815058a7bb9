/**
 * Pure helpers for Bull/BullMQ key names: which keys mark a queue, how to split them into prefix and queue
 * name, and how to tell the two libraries apart from what discovery read. No I/O.
 *
 * Key layout (both libraries): `<prefix>:<queue>:<suffix>`. The prefix may itself contain colons
 * (`{bull}`, `myapp:bull`); queue names may not (BullMQ refuses them), so the queue is the segment before
 * the suffix and the prefix is everything before that — the same split BullMQ itself uses.
 */

export type QueueLibrary = 'bullmq' | 'bull';

export interface QueueRef {
  readonly prefix: string;
  readonly queue: string;
}

/** Suffixes whose presence marks a queue: BullMQ's `meta` hash (written when a Queue is created), both libraries' `id` counter, Bull's `meta-paused`. */
export const MARKER_SUFFIXES = ['meta', 'id', 'meta-paused'] as const;

/** A glob for SCAN MATCH that keeps most job hashes (`<prefix>:<queue>:<number>`) out of the replies. */
export function scanPattern(prefix?: string): string {
  const p = prefix === undefined ? '*' : escapeGlob(prefix);
  return `${p}:*:[im][de]*`;
}

export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The queue a marker key belongs to, or undefined for any other key (a job hash, a lock, garbage). */
export function queueFromKey(key: string): QueueRef | undefined {
  const last = key.lastIndexOf(':');
  if (last <= 0) return undefined;
  const suffix = key.slice(last + 1);
  if (!(MARKER_SUFFIXES as readonly string[]).includes(suffix)) return undefined;
  const prev = key.lastIndexOf(':', last - 1);
  if (prev <= 0) return undefined;
  const prefix = key.slice(0, prev);
  const queue = key.slice(prev + 1, last);
  if (queue === '' || prefix === '') return undefined;
  return { prefix, queue };
}

/** Unique queues from a list of scanned keys, in a stable order. */
export function queuesFromKeys(keys: Iterable<string>): QueueRef[] {
  const seen = new Map<string, QueueRef>();
  for (const k of keys) {
    const ref = queueFromKey(k);
    if (ref) seen.set(refKey(ref), ref);
  }
  return [...seen.values()].sort((a, b) => (a.prefix === b.prefix ? cmp(a.queue, b.queue) : cmp(a.prefix, b.prefix)));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function refKey(ref: QueueRef): string {
  return `${ref.prefix}\u0000${ref.queue}`;
}

export interface Classification {
  readonly library: QueueLibrary;
  /** The library version BullMQ records in `meta.version` (`bullmq:5.81.5` → `5.81.5`); '' when unknown. */
  readonly version: string;
}

/**
 * Tells BullMQ from Bull by what discovery read: BullMQ writes `meta.version = "bullmq:<ver>"` and keeps its
 * events in a stream; Bull 3/4 has neither (it publishes events and writes `meta` only as a pause flag).
 */
export function classify(metaVersion: string | null | undefined, eventsType: string | null | undefined): Classification {
  if (typeof metaVersion === 'string' && metaVersion.startsWith('bullmq')) {
    const v = metaVersion.slice('bullmq'.length).replace(/^:/, '');
    return { library: 'bullmq', version: /^[0-9A-Za-z.+-]{1,32}$/.test(v) ? v : '' };
  }
  if (eventsType === 'stream') return { library: 'bullmq', version: '' };
  return { library: 'bull', version: '' };
}

/** Major version number of a classification, or undefined when the version is unknown. */
export function majorVersion(c: Classification): number | undefined {
  const m = /^(\d+)\./.exec(c.version);
  return m ? Number(m[1]) : undefined;
}

/** Queue selection from the options: exact prefixes (empty = all), include/exclude regexes on the queue name. */
export interface QueueFilter {
  readonly prefixes: readonly string[];
  readonly include: readonly RegExp[];
  readonly exclude: readonly RegExp[];
}

export function selectQueue(ref: QueueRef, f: QueueFilter): boolean {
  if (f.prefixes.length > 0 && !f.prefixes.includes(ref.prefix)) return false;
  if (f.include.length > 0 && !f.include.some((r) => r.test(ref.queue))) return false;
  return !f.exclude.some((r) => r.test(ref.queue));
}

/** Compiles an anchored pattern list; throws with the offending pattern when one is not a valid regex. */
export function compilePatterns(patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(`^(?:${p})$`);
    } catch (e) {
      throw new Error(`invalid queue pattern ${JSON.stringify(p)}: ${(e as Error).message}`);
    }
  });
}
