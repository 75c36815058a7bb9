/**
 * Pure parser for /proc/<pid>/mountinfo (proc(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent maj:min root mount-point mount-options [optional fields…] - fstype source super-options
 * Paths are octal-escaped by the kernel (space = \040, tab = \011, newline = \012, backslash = \134).
 * Malformed lines are skipped, never guessed.
 */

export interface MountEntry {
  readonly mountId: number;
  readonly parentId: number;
  readonly mountPoint: string;
  readonly mountOptions: readonly string[];
  readonly fstype: string;
  readonly source: string;
  readonly superOptions: readonly string[];
}

export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfoLine(line: string): MountEntry | undefined {
  const fields = line.trim().split(' ');
  const sep = fields.indexOf('-', 6);
  if (sep < 0 || fields.length < sep + 4) return undefined;
  const [id, parent, devno, root, mountPoint, options] = fields;
  if (!/^\d+$/.test(id ?? '') || !/^\d+$/.test(parent ?? '') || !/^\d+:\d+$/.test(devno ?? '')) return undefined;
  // root is a path, or e.g. net:[4026531833] for nsfs bind mounts.
  if (!root || !mountPoint?.startsWith('/') || options === undefined) return undefined;
  const fstype = fields[sep + 1] as string;
  if (fstype === '') return undefined;
  return {
    mountId: Number(id),
    parentId: Number(parent),
    mountPoint: unescapeMountPath(mountPoint),
    mountOptions: options.split(','),
    fstype,
    source: unescapeMountPath(fields[sep + 2] as string),
    superOptions: (fields[sep + 3] as string).split(','),
  };
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const e = parseMountinfoLine(line);
    if (e) out.push(e);
  }
  return out;
}

/** Removes trailing slashes (but keeps "/") so "/mnt/photos/" and "/mnt/photos" are the same mount point. */
export function normalizeMountPath(p: string): string {
  const s = p.replace(/\/+/g, '/');
  return s.length > 1 ? s.replace(/\/$/, '') : s;
}

/**
 * The mount visible at exactly `path`: when several are stacked on the same mount point the kernel lists
 * the later (upper) one after the one it covers, so the last match is what a lookup of `path` reaches.
 */
export function findMount(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  const want = normalizeMountPath(path);
  let found: MountEntry | undefined;
  for (const e of entries) if (normalizeMountPath(e.mountPoint) === want) found = e;
  return found;
}

/** fstype patterns: exact names, `prefix.*` globs (fuse.*), or `*` for any. */
export function fstypeMatches(fstype: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === '*' || p === fstype || (p.endsWith('.*') && fstype.startsWith(p.slice(0, -1))));
}

/**
 * NFS recovery mode: `soft` (or `softerr`) makes calls fail after timeo×retrans; otherwise the mount is
 * hard (kernels since 5.x print `hard` explicitly; older ones print nothing, and hard is the default).
 * '' for anything that is not NFS.
 */
export function nfsMode(entry: Pick<MountEntry, 'fstype' | 'superOptions'>): 'hard' | 'soft' | '' {
  if (entry.fstype !== 'nfs' && entry.fstype !== 'nfs4') return '';
  return entry.superOptions.some((o) => o === 'soft' || o === 'softerr') ? 'soft' : 'hard';
}
