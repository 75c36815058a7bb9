/**
 * What the DRM scan remembers between scrapes so that it does not read the link of every open file of every
 * process each time (500 processes × 50 fds are 25,000 readlinks).
 *
 * - A process whose last look found no DRM file ("quiet") is not looked at again until its revisit, every
 *   `revisitEvery` scrapes, staggered by PID so that the revisits spread evenly over the scrapes. A revisit
 *   lists its fds; if fds were only opened since the last look it reads the links of the new numbers, if
 *   some were closed too (or another process now has this PID) it reads all of them, and if the list is the
 *   same it reads none; every `FULL_EVERY`th revisit reads all of them (an fd number closed and reused for a
 *   GPU between two looks leaves the list unchanged).
 * - A process that holds DRM files has its fd list read on every scrape, and its known DRM fds are read
 *   again (their fdinfo changes every scrape) without the links of the others while the list is unchanged; an
 *   fdinfo that no longer reads as DRM (the number was reused) makes it looked at in full next time.
 * - A new PID is looked at in full. Entries of PIDs no longer in /proc are dropped after each scan, so the
 *   memory follows the process table.
 *
 * Bound for a process that opens a GPU after it was last looked at (or a PID reused by one that holds a GPU):
 * seen within `revisitEvery` scrapes when its fd list changed (the usual case), within
 * `revisitEvery × FULL_EVERY` scrapes when the list is exactly the same as at the last look.
 */

export interface KnownDrmFd {
  readonly fd: number;
  readonly node: string;
}

interface Look {
  /** The fd names of the last look, joined with ','. */
  readonly fds: string;
  /** The DRM fds it found (none: a quiet process). */
  readonly drm: readonly KnownDrmFd[];
}

/** One revisit in this many reads every link, not only the new fd numbers. */
export const FULL_EVERY = 10;

export class ScanMemory {
  private scans = 0;
  private known = new Map<number, Look>();

  constructor(readonly revisitEvery: number) {}

  /** Starts a scan (call once per scrape). */
  begin(): void {
    this.scans++;
  }

  /** A quiet process whose revisit is not due: not even its fd list is read this scan. */
  skip(pid: number): boolean {
    const l = this.known.get(pid);
    return l !== undefined && l.drm.length === 0 && (this.scans + pid) % this.revisitEvery !== 0;
  }

  /**
   * What to look at for `pid`, given its fd names: `check`, the names whose links to read (all of them for a
   * new process or a full revisit, else only the new ones), and `drm`, the DRM fds known from before that are
   * still open under the same numbers.
   */
  plan(pid: number, names: readonly string[]): { readonly check: readonly string[]; readonly drm: readonly KnownDrmFd[] } {
    const l = this.known.get(pid);
    if (l === undefined || (this.scans + pid) % (this.revisitEvery * FULL_EVERY) === 0) return { check: names, drm: [] };
    const key = names.join(',');
    if (key === l.fds) return { check: [], drm: l.drm };
    // Only opened since: read the new numbers. Some closed too (or another process under this PID): read all.
    const before = new Set(l.fds.split(','));
    const added = names.filter((n) => !before.has(n));
    if (names.length - added.length !== before.size) return { check: names, drm: [] };
    return { check: added, drm: l.drm };
  }

  /** The outcome of looking at `pid`: its fd names and every DRM fd it holds (known and newly found). */
  looked(pid: number, names: readonly string[], drm: readonly KnownDrmFd[]): void {
    this.known.set(pid, { fds: names.join(','), drm });
  }

  /** A remembered DRM fd read as something else (its number was reused): look at the process in full next time. */
  forget(pid: number): void {
    this.known.delete(pid);
  }

  /** Drops processes that are gone. */
  prune(live: ReadonlySet<number>): void {
    for (const pid of this.known.keys()) if (!live.has(pid)) this.known.delete(pid);
  }

  /** Processes remembered. */
  get size(): number {
    return this.known.size;
  }
}
