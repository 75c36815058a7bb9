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

/** Parses flat-keyed files (`key value` per line: memory.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of completeLines(text)) {
    const m = /^([a-z][a-z0-9_]*) (\d+)$/.exec(line.trim());
    if (!m) continue;
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
}

/** Raw texts of the four memory files of one cgroup; undefined = could not be read. */
export interface MemoryFiles {
  readonly usage?: string;
  readonly limit?: string;
  readonly stat?: string;
  /** v1 memory.oom_control, v2 memory.events. */
  readonly events?: string;
}

function workingSet(usage: number | undefined, inactiveFile: number | undefined): number | undefined {
  if (usage === undefined || inactiveFile === undefined) return undefined;
  return Math.max(0, usage - inactiveFile);
}

function prune(m: Record<string, number | MemoryLimit | undefined>): ContainerMemory {
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
  });
}

/** cgroup v2: memory.current, memory.max, memory.stat (`anon`, `file`, `inactive_file`), memory.events. */
export function memoryFromV2(f: MemoryFiles): ContainerMemory {
  const usage = parseSingleValue(f.usage);
  const stat = parseFlatKeyed(f.stat ?? '');
  const events = parseFlatKeyed(f.events ?? '');
  return prune({
    usage,
    workingSet: workingSet(usage, stat.get('inactive_file')),
    rss: stat.get('anon'),
    cache: stat.get('file'),
    limit: parseMemoryLimit(f.limit),
    oomKills: events.get('oom_kill'),
    oomEvents: events.get('oom'),
  });
}

/** The file names that feed memoryFromV1/V2, in MemoryFiles order. */
export const MEMORY_FILES: Readonly<Record<1 | 2, { usage: string; limit: string; stat: string; events: string }>> = {
  1: { usage: 'memory.usage_in_bytes', limit: 'memory.limit_in_bytes', stat: 'memory.stat', events: 'memory.oom_control' },
  2: { usage: 'memory.current', limit: 'memory.max', stat: 'memory.stat', events: 'memory.events' },
};
