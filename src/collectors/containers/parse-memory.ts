/**
 * Pure parsers for the cgroup memory files of one container (v1 and v2). Text in, typed values out, no I/O.
 * A missing, empty, truncated or malformed value yields `undefined` (the value is skipped), never 0, NaN or a
 * guess: "no data" must not look like "no memory used" or "no OOM kill".
 */

/**
 * The complete lines of a kernel file. cgroup files always end with a newline, so text after the last one
 * is a line cut short by a truncated read and is dropped rather than read as a smaller number.
 */
function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

const FLAT_LINE = /^([a-z][a-z0-9_]*) (\d+)$/;

/**
 * Parses flat-keyed files (`key value` per line: memory.stat, memory.events, memory.oom_control). With
 * `wanted`, only those keys are kept, and a line whose key is plainly another one is skipped unparsed
 * (memory.stat has ~40 lines, of which a scrape needs 3).
 */
export function parseFlatKeyed(text: string, wanted?: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  // Complete lines only (see completeLines): text after the last newline is a line cut short.
  for (let start = 0, nl = text.indexOf('\n'); nl !== -1; start = nl + 1, nl = text.indexOf('\n', start)) {
    if (wanted) {
      const first = text.charCodeAt(start);
      const sp = text.indexOf(' ', start);
      // Starts with a key character (nothing to trim) and its key, up to the first space, is not wanted.
      if (first >= 97 && first <= 122 && sp !== -1 && sp < nl && !wanted.has(text.slice(start, sp))) continue;
    }
    const m = FLAT_LINE.exec(text.slice(start, nl).trim());
    if (!m || (wanted && !wanted.has(m[1] as string))) continue;
    const v = Number(m[2]);
    if (Number.isSafeInteger(v)) out.set(m[1] as string, v);
  }
  return out;
}

/** A file holding one non-negative integer and its newline (memory.usage_in_bytes, memory.current); undefined otherwise. */
export function parseSingleValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const lines = completeLines(text);
  if (lines.length !== 1) return undefined;
  const s = (lines[0] as string).trim();
  if (!/^\d{1,20}$/.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

export type MemoryLimit = { readonly limited: false } | { readonly limited: true; readonly bytes: number };

/**
 * Anything at or above 2^62 bytes is "no limit". cgroup v1 reports an unset limit as PAGE_COUNTER_MAX
 * rounded to pages (9223372036854771712 with 4 KiB pages, slightly less with 16/64 KiB pages); no machine
 * has 4 EiB of memory, so a real limit is always far below.
 */
export const UNLIMITED_THRESHOLD_BYTES = 2 ** 62;

/** Parses memory.limit_in_bytes (v1) or memory.max (v2, `max` = unlimited). Undefined when unreadable. */
export function parseMemoryLimit(text: string | undefined): MemoryLimit | undefined {
  if (text === undefined) return undefined;
  if (text === 'max\n') return { limited: false };
  const v = parseSingleValue(text);
  if (v === undefined) return undefined;
  return v >= UNLIMITED_THRESHOLD_BYTES ? { limited: false } : { limited: true, bytes: v };
}

export interface ContainerMemory {
  /** Total charged memory (v1 usage_in_bytes, v2 memory.current), page cache included. */
  readonly usage?: number;
  /** usage − inactive_file, floored at 0 (cAdvisor's and `docker stats`' working set). */
  readonly workingSet?: number;
  /** Anonymous memory (v1 total_rss, v2 anon). */
  readonly rss?: number;
  /** Page cache (v1 total_cache, v2 file). */
  readonly cache?: number;
  readonly limit?: MemoryLimit;
  /** Processes in the cgroup (or below it) killed by the OOM killer, the kernel's own counter. */
  readonly oomKills?: number;
  /** Times the cgroup hit OOM (v2 memory.events `oom`); v1 has no such counter. */
  readonly oomEvents?: number;
  /** Times the whole cgroup was OOM-killed as a unit (v2 `oom_group_kill`, Linux ≥ 5.17). */
  readonly oomGroupKills?: number;
  /**
   * Reclaim and throttling events (v2 memory.events `low`, `high`, `max`); v1 has only `max`, as memory.failcnt
   * (times usage hit the limit).
   */
  readonly events?: Readonly<Partial<Record<MemoryEvent, number>>>;
  /** Highest usage seen (v2 memory.peak, Linux ≥ 5.19; v1 memory.max_usage_in_bytes). */
  readonly peak?: number;
  /** Seconds some (`some`) or all (`full`) tasks of the cgroup were stalled on memory (v2 memory.pressure totals). */
  readonly pressure?: Readonly<Partial<Record<'some' | 'full', number>>>;
  /** v2 memory.oom.group: an OOM kills the whole cgroup (Kubernetes ≥ 1.28 sets it on containers). */
  readonly oomGroup?: boolean;
}

/** The memory.events counters other than oom and oom_kill. */
export const MEMORY_EVENTS = ['low', 'high', 'max'] as const;
export type MemoryEvent = (typeof MEMORY_EVENTS)[number];

/**
 * Parses a PSI file (memory.pressure): `some avg10=0.00 avg60=0.00 avg300=0.00 total=123` and the same for
 * `full`; total is in microseconds, returned in seconds. A line without a valid total is skipped.
 */
export function parsePressure(text: string | undefined): Partial<Record<'some' | 'full', number>> | undefined {
  if (text === undefined) return undefined;
  const out: Partial<Record<'some' | 'full', number>> = {};
  for (const line of completeLines(text)) {
    const m = /^(some|full) avg10=\d+\.\d+ avg60=\d+\.\d+ avg300=\d+\.\d+ total=(\d{1,20})$/.exec(line.trim());
    if (!m) continue;
    const us = Number(m[2]);
    if (Number.isSafeInteger(us)) out[m[1] as 'some' | 'full'] = us / 1e6;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** memory.oom.group: `0` or `1`. */
function parseFlag(text: string | undefined): boolean | undefined {
  const v = parseSingleValue(text);
  return v === 0 ? false : v === 1 ? true : undefined;
}

function nonEmpty<T extends object>(o: T): T | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}

/** Raw texts of the memory files of one cgroup; undefined = could not be read (or absent on this kernel). */
export interface MemoryFiles {
  readonly usage?: string;
  readonly limit?: string;
  readonly stat?: string;
  /** v1 memory.oom_control, v2 memory.events. */
  readonly events?: string;
  /** v1 memory.max_usage_in_bytes, v2 memory.peak. */
  readonly peak?: string;
  /** v1 memory.failcnt. */
  readonly failcnt?: string;
  /** v2 memory.pressure. */
  readonly pressure?: string;
  /** v2 memory.oom.group. */
  readonly oomGroup?: string;
}
export type MemoryFileRole = keyof MemoryFiles;

function workingSet(usage: number | undefined, inactiveFile: number | undefined): number | undefined {
  if (usage === undefined || inactiveFile === undefined) return undefined;
  return Math.max(0, usage - inactiveFile);
}

function prune(m: Record<string, ContainerMemory[keyof ContainerMemory]>): ContainerMemory {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as ContainerMemory;
}

/**
 * cgroup v1: memory.usage_in_bytes, memory.limit_in_bytes, memory.stat (the hierarchical `total_*` keys,
 * which include child cgroups, falling back to the local keys) and memory.oom_control (`oom_kill`, Linux ≥ 4.13).
 */
export function memoryFromV1(f: MemoryFiles): ContainerMemory {
  const usage = parseSingleValue(f.usage);
  const stat = parseFlatKeyed(f.stat ?? '');
  const pick = (k: string): number | undefined => stat.get(`total_${k}`) ?? stat.get(k);
  const oom = parseFlatKeyed(f.events ?? '');
  return prune({
    usage,
    workingSet: workingSet(usage, pick('inactive_file')),
    rss: pick('rss'),
    cache: pick('cache'),
    limit: parseMemoryLimit(f.limit),
    oomKills: oom.get('oom_kill'),
    oomEvents: undefined,
    events: nonEmpty({ ...(parseSingleValue(f.failcnt) !== undefined ? { max: parseSingleValue(f.failcnt) } : {}) }),
    peak: parseSingleValue(f.peak),
  });
}

/** cgroup v2: memory.current, memory.max, memory.stat (`anon`, `file`, `inactive_file`), memory.events. */
const V2_STAT_KEYS: ReadonlySet<string> = new Set(['inactive_file', 'anon', 'file']);

export function memoryFromV2(f: MemoryFiles): ContainerMemory {
  const usage = parseSingleValue(f.usage);
  const stat = parseFlatKeyed(f.stat ?? '', V2_STAT_KEYS);
  const events = parseFlatKeyed(f.events ?? '');
  return prune({
    usage,
    workingSet: workingSet(usage, stat.get('inactive_file')),
    rss: stat.get('anon'),
    cache: stat.get('file'),
    limit: parseMemoryLimit(f.limit),
    oomKills: events.get('oom_kill'),
    oomEvents: events.get('oom'),
    oomGroupKills: events.get('oom_group_kill'),
    events: nonEmpty(Object.fromEntries(MEMORY_EVENTS.filter((e) => events.has(e)).map((e) => [e, events.get(e) as number]))),
    peak: parseSingleValue(f.peak),
    pressure: parsePressure(f.pressure),
    oomGroup: parseFlag(f.oomGroup),
  });
}

/** The file names that feed memoryFromV1/V2, by role. */
export const MEMORY_FILES: Readonly<Record<1 | 2, Readonly<Partial<Record<MemoryFileRole, string>>>>> = {
  1: {
    usage: 'memory.usage_in_bytes',
    limit: 'memory.limit_in_bytes',
    stat: 'memory.stat',
    events: 'memory.oom_control',
    peak: 'memory.max_usage_in_bytes',
    failcnt: 'memory.failcnt',
  },
  2: {
    usage: 'memory.current',
    limit: 'memory.max',
    stat: 'memory.stat',
    events: 'memory.events',
    peak: 'memory.peak',
    pressure: 'memory.pressure',
    oomGroup: 'memory.oom.group',
  },
};

/** The OOM-kill counter of a pod's cgroup (hierarchical on v2: every container of the pod, past ones included). */
export function podOomKills(version: 1 | 2, eventsText: string | undefined): number | undefined {
  void version;
  return parseFlatKeyed(eventsText ?? '').get('oom_kill');
}
