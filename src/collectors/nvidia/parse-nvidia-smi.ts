/**
 * Pure parsers for `nvidia-smi --query-gpu=… / --query-compute-apps=… --format=csv[,noheader][,nounits]`.
 *
 * The CSV has no quoting: fields are separated by ", ". A Windows process name can itself contain ", ",
 * so one "free" field (process_name) may swallow the extra separators: the others are taken from both
 * ends. Values are looked up by the field names we asked for, never by guessed positions. Sentinels
 * (`[N/A]`, `N/A`, `[Not Supported]`, `[Insufficient Permissions]`, `[Unknown Error]`, …) skip that value:
 * it is never reported as 0 or NaN. A line that does not fit (truncated, garbage, an error message in the
 * middle of the output when a GPU falls off the bus) is skipped and named in `problems`.
 */

/** The fields the collector asks for, in this order (all exist since long before MIG; none is vendor-new). */
export const GPU_QUERY_FIELDS = ['index', 'uuid', 'name', 'driver_version', 'memory.total', 'memory.used', 'memory.free', 'utilization.gpu'] as const;
export const APP_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

const MIB = 1024 * 1024;

/** Header spellings nvidia-smi prints for the names we ask (`used_memory` → `used_gpu_memory [MiB]`). */
const ALIASES: Readonly<Record<string, string>> = {
  used_gpu_memory: 'used_memory',
  gpu_uuid: 'uuid',
  gpu_name: 'name',
};

/** Canonical field name: without a ` [unit]` suffix, aliases folded. */
export function canonicalField(name: string): string {
  const bare = name.trim().replace(/\s*\[[^\]]*\]$/, '');
  return ALIASES[bare] ?? bare;
}

/** Sentinels that are expected and harmless (a field the device does not have). */
const BENIGN_SENTINELS = new Set(['[N/A]', 'N/A', '[Not Supported]', '[Requested functionality has been deprecated]', '[Function Not Found]']);

export type Cell =
  | { readonly kind: 'value'; readonly text: string }
  | { readonly kind: 'sentinel'; readonly text: string; readonly benign: boolean };

export function classifyCell(raw: string): Cell {
  const text = raw.trim();
  if (BENIGN_SENTINELS.has(text)) return { kind: 'sentinel', text, benign: true };
  if (/^\[[^\]]*\]$/.test(text)) return { kind: 'sentinel', text, benign: false };
  return { kind: 'value', text };
}

export interface CsvTable {
  /** One record per well-formed data line, keyed by canonical field name. */
  readonly records: ReadonlyArray<Readonly<Record<string, string>>>;
  readonly problems: string[];
}

export interface CsvOptions {
  /** The output starts with a header line (format without `noheader`); its names are used instead of `fields`. */
  readonly header?: boolean;
  /** The one field that may contain ", " itself. */
  readonly freeField?: string;
}

/**
 * Splits nvidia-smi CSV into records. `fields` are the names asked for (used for `noheader` output and
 * as the set of fields to keep). Never throws.
 */
export function parseCsv(text: string, fields: readonly string[], opts: CsvOptions = {}): CsvTable {
  const problems: string[] = [];
  const records: Array<Record<string, string>> = [];
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  let i = 0;
  let columns = fields.map(canonicalField);
  if (opts.header) {
    while (i < lines.length && lines[i] === '') i++;
    if (i >= lines.length) return { records, problems };
    columns = (lines[i] as string).split(',').map(canonicalField);
    i++;
  }
  const wanted = new Set(fields.map(canonicalField));
  const free = opts.freeField === undefined ? -1 : columns.indexOf(canonicalField(opts.freeField));
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const parts = splitRow(line, columns.length, free);
    if (!parts) {
      problems.push(`skipped a line with ${line.split(', ').length} of ${columns.length} fields: ${JSON.stringify(line.slice(0, 120))}`);
      continue;
    }
    const rec: Record<string, string> = {};
    columns.forEach((c, k) => {
      if (wanted.has(c)) rec[c] = parts[k] as string;
    });
    records.push(rec);
  }
  return { records, problems };
}

function splitRow(line: string, n: number, free: number): string[] | undefined {
  const parts = line.split(', ');
  // A line ending in "," (an empty last value) keeps its comma after trim: nvidia-smi never prints that.
  if (parts.length === n) return parts.map((p) => p.trim());
  if (parts.length > n && free >= 0) {
    const head = parts.slice(0, free);
    const tail = parts.slice(parts.length - (n - free - 1));
    const middle = parts.slice(free, parts.length - (n - free - 1)).join(', ');
    return [...head, middle, ...tail].map((p) => p.trim());
  }
  return undefined;
}

/**
 * A number from a cell: bare (`nounits`) or with the unit nvidia-smi prints (`8192 MiB`, `7 %`).
 * Sentinel → undefined (and a problem unless benign); anything else non-numeric → undefined and a problem.
 */
export function numberCell(raw: string | undefined, what: string, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const c = classifyCell(raw);
  if (c.kind === 'sentinel') {
    if (!c.benign) problems.push(`${what}: ${c.text}`);
    return undefined;
  }
  const m = /^(\d+(?:\.\d+)?)(?: ?(?:MiB|%))?$/.exec(c.text);
  if (!m) {
    problems.push(`${what}: not a number: ${JSON.stringify(c.text.slice(0, 60))}`);
    return undefined;
  }
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : undefined;
}

function textCell(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const c = classifyCell(raw);
  return c.kind === 'value' && c.text !== '' ? c.text : undefined;
}

export interface GpuRow {
  /** nvidia-smi's index, as printed ("0", "1", …). */
  readonly index: string;
  readonly uuid: string;
  readonly name: string;
  readonly driverVersion: string;
  readonly memoryTotalBytes?: number;
  readonly memoryUsedBytes?: number;
  readonly memoryFreeBytes?: number;
  /** 0..1 */
  readonly utilizationRatio?: number;
}

export interface Parsed<T> {
  readonly rows: T[];
  /** Skipped lines and non-benign sentinels: partial data the operator should know about. */
  readonly problems: string[];
}

const mib = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.round(n * MIB));

/** `--query-gpu=GPU_QUERY_FIELDS` output (noheader by default). */
export function parseGpuQuery(text: string, opts: { header?: boolean } = {}): Parsed<GpuRow> {
  const t = parseCsv(text, GPU_QUERY_FIELDS, { header: opts.header ?? false, freeField: 'name' });
  const problems = [...t.problems];
  const rows: GpuRow[] = [];
  const seen = new Set<string>();
  for (const r of t.records) {
    const index = textCell(r['index']);
    const uuid = textCell(r['uuid']);
    if (index === undefined || !/^\d+$/.test(index) || uuid === undefined) {
      problems.push(`skipped a GPU without a usable index/uuid: ${JSON.stringify(`${r['index'] ?? ''}, ${r['uuid'] ?? ''}`)}`);
      continue;
    }
    if (seen.has(uuid)) {
      problems.push(`skipped a second line for GPU ${uuid}`);
      continue;
    }
    seen.add(uuid);
    const what = (f: string): string => `GPU ${index} ${f}`;
    const util = numberCell(r['utilization.gpu'], what('utilization.gpu'), problems);
    rows.push({
      index,
      uuid,
      name: textCell(r['name']) ?? '',
      driverVersion: textCell(r['driver_version']) ?? '',
      ...opt('memoryTotalBytes', mib(numberCell(r['memory.total'], what('memory.total'), problems))),
      ...opt('memoryUsedBytes', mib(numberCell(r['memory.used'], what('memory.used'), problems))),
      ...opt('memoryFreeBytes', mib(numberCell(r['memory.free'], what('memory.free'), problems))),
      ...opt('utilizationRatio', util === undefined || util > 100 ? undefined : util / 100),
    });
  }
  return { rows, problems };
}

export interface AppRow {
  /** The GPU the process runs on; on MIG this is the parent GPU's uuid. */
  readonly gpuUuid: string;
  readonly pid: number;
  /** process_name as printed (a full path on Linux, a Windows path under WDDM); '' when unknown. */
  readonly processName: string;
  /** undefined when nvidia-smi cannot say (WDDM, MIG without permissions). */
  readonly usedBytes?: number;
}

/** `--query-compute-apps=APP_QUERY_FIELDS` output (noheader by default). An idle GPU prints nothing. */
export function parseComputeApps(text: string, opts: { header?: boolean } = {}): Parsed<AppRow> {
  const t = parseCsv(text, APP_QUERY_FIELDS, { header: opts.header ?? false, freeField: 'process_name' });
  const problems = [...t.problems];
  const rows: AppRow[] = [];
  for (const r of t.records) {
    const uuid = textCell(r['uuid']);
    const pidText = textCell(r['pid']);
    const pid = pidText !== undefined && /^\d+$/.test(pidText) ? Number(pidText) : undefined;
    if (uuid === undefined || pid === undefined || pid <= 0 || !Number.isSafeInteger(pid)) {
      const sentinel = [r['uuid'], r['pid']].map((v) => classifyCell(v ?? '')).find((c) => c.kind === 'sentinel');
      problems.push(`skipped a process line without a usable gpu_uuid/pid${sentinel ? `: ${sentinel.text}` : `: ${JSON.stringify(`${r['uuid'] ?? ''}, ${r['pid'] ?? ''}`)}`}`);
      continue;
    }
    const used = numberCell(r['used_memory'], `pid ${pid} used_memory`, problems);
    rows.push({ gpuUuid: uuid, pid, processName: textCell(r['process_name']) ?? '', ...opt('usedBytes', mib(used)) });
  }
  return { rows, problems };
}

/** The process label: basename of a Linux or Windows path ("/usr/bin/python3" → "python3"). */
export function processLabel(processName: string): string {
  const base = processName.split(/[/\\]/).pop() ?? '';
  return base.trim();
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}
