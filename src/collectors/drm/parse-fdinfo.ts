/**
 * Pure parser for the DRM usage stats a kernel DRM driver prints in /proc/<pid>/fdinfo/<fd>
 * (Documentation/gpu/drm-usage-stats.rst). Text in, typed values out, no I/O.
 *
 * Lines are `key:<whitespace>value`; the docs show spaces, drivers print a tab, amdgpu's legacy keys print
 * a space then a tab: split on the first ':' and trim. Values are an integer with an optional unit.
 */

export interface DrmClientStats {
  /** `drm-driver` (mandatory: a file without it is not a DRM fdinfo). */
  readonly driver: string;
  /** `drm-pdev`, normalised to lower-case `dddd:bb:dd.f`; undefined for drivers that print none (msm, panfrost…). */
  readonly pdev: string | undefined;
  /** `drm-client-id`: the same id seen through several fds or processes is one client. */
  readonly clientId: string | undefined;
  /** Resident bytes per memory region: `drm-resident-<region>`, or the deprecated `drm-memory-<region>` alias when no resident key exists for that region. */
  readonly resident: ReadonlyMap<string, number>;
  /** Busy time per engine in nanoseconds (`drm-engine-<engine>: <n> ns`). */
  readonly engineNs: ReadonlyMap<string, number>;
  /** Lines or values that were skipped (malformed line, unknown unit, non-integer value). */
  readonly skipped: number;
}

const MEMORY_UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** `<integer>[ <unit>]`; anything else (trailing text, a sign, a fraction) is not a value we trust. */
const VALUE_RE = /^(\d+)(?:[ \t]+([A-Za-z]+))?$/;

/** Normalises a PCI address to `dddd:bb:dd.f` lower-case (nvidia-smi prints an 8-digit domain, `00000000:0C:00.0`). */
export function normalisePciAddress(s: string): string | undefined {
  const m = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(s.trim());
  if (!m) return undefined;
  const domain = (m[1] ?? '0000').slice(-4).padStart(4, '0');
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

/** Parses a memory value to bytes, or undefined for a malformed value or an unknown unit (never guessed). */
export function parseMemoryValue(v: string): number | undefined {
  const m = VALUE_RE.exec(v);
  if (!m) return undefined;
  const mult = MEMORY_UNITS[m[2] ?? ''];
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isFinite(n) ? n : undefined;
}

/** Parses an engine busy value (`<n> ns`) to nanoseconds; any other unit or form is undefined. */
export function parseEngineValue(v: string): number | undefined {
  const m = VALUE_RE.exec(v);
  if (!m || m[2] !== 'ns') return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parses one fdinfo file. Returns undefined when the file is not a DRM fd (no `drm-driver` line), which
 * includes empty and most truncated files. Unknown keys are ignored; bad values are skipped and counted.
 */
export function parseDrmFdinfo(text: string): DrmClientStats | undefined {
  let driver: string | undefined;
  let pdev: string | undefined;
  let clientId: string | undefined;
  const resident = new Map<string, number>();
  const legacy = new Map<string, number>();
  const engineNs = new Map<string, number>();
  let skipped = 0;

  for (const raw of text.split('\n')) {
    const colon = raw.indexOf(':');
    if (colon <= 0) {
      if (raw.trim() !== '') skipped++;
      continue;
    }
    const key = raw.slice(0, colon).trim();
    if (!key.startsWith('drm-')) continue; // pos, flags, mnt_id, amd-*, pasid…: not ours
    const value = raw.slice(colon + 1).trim();
    if (key === 'drm-driver') {
      if (/^[\w.-]+$/.test(value)) driver = value;
      else skipped++;
    } else if (key === 'drm-pdev') {
      pdev = normalisePciAddress(value);
      if (pdev === undefined) skipped++;
    } else if (key === 'drm-client-id') {
      if (/^\d+$/.test(value)) clientId = value;
      else skipped++;
    } else if (key.startsWith('drm-resident-') || key.startsWith('drm-memory-')) {
      const isResident = key.startsWith('drm-resident-');
      const region = key.slice(isResident ? 'drm-resident-'.length : 'drm-memory-'.length);
      const bytes = parseMemoryValue(value);
      if (region === '' || !/^[\w.-]+$/.test(region) || bytes === undefined) {
        skipped++;
        continue;
      }
      (isResident ? resident : legacy).set(region, bytes);
    } else if (key.startsWith('drm-engine-') && !key.startsWith('drm-engine-capacity-')) {
      const engine = key.slice('drm-engine-'.length);
      const ns = parseEngineValue(value);
      if (engine === '' || !/^[\w.-]+$/.test(engine) || ns === undefined) {
        skipped++;
        continue;
      }
      engineNs.set(engine, ns);
    }
  }
  if (driver === undefined) return undefined;
  // amdgpu prints both drm-resident-<r> and the deprecated drm-memory-<r> for the same memory: never add
  // them; the alias only fills regions with no resident key (older kernels print only the alias).
  for (const [region, bytes] of legacy) if (!resident.has(region)) resident.set(region, bytes);
  return { driver, pdev, clientId, resident, engineNs, skipped };
}

/** A DRM (or compute-accel, which shares the fdinfo format) device node path as seen in a /proc/<pid>/fd link. */
export function isDrmNodePath(link: string): boolean {
  return /^\/dev\/(?:dri\/(?:card|renderD|controlD)\d+|accel\/accel\d+)$/.test(link);
}

/** The Linux major number of a dev_t as node's fs.Stats gives it (glibc encoding). */
export function devMajor(rdev: number): number {
  const big = BigInt(rdev);
  return Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
}

/** The vendor label for a PCI vendor id from sysfs (`0x8086`), or undefined when unknown. */
export function vendorName(pciVendorId: string): string | undefined {
  switch (pciVendorId.trim().toLowerCase()) {
    case '0x8086':
      return 'intel';
    case '0x1002':
      return 'amd';
    case '0x10de':
      return 'nvidia';
    case '0x5143':
      return 'qualcomm';
    case '0x1af4':
      return 'virtio';
    default:
      return undefined;
  }
}
