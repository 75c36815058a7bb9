/**
 * Remembers the container identity of the PIDs holding VRAM between scrapes. A process does not change
 * container during its life, and GPU processes are long-lived (a model server holds its VRAM for hours),
 * so re-reading /proc/<pid>/cgroup and comm for every PID on every scrape is wasted work: with 100+ GPU
 * processes it is most of the collector's cost. An entry is reused only while the PID is still listed
 * with the same process_name, and for at most `maxAgeMs`; PIDs no longer listed are forgotten, so the
 * cache never holds more than the current process list.
 */
import type { ProcessIdentity, ProcessInfo } from '../../lib/identity/process-identity.js';

interface Entry {
  readonly processName: string;
  readonly info: ProcessInfo;
  readonly at: number;
}

export class IdentityCache {
  private entries = new Map<number, Entry>();

  constructor(
    private readonly identity: Pick<ProcessIdentity, 'resolve'>,
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Identity of each listed PID; only new, renamed or stale entries are resolved (with one Docker list). */
  async resolve(listed: ReadonlyArray<{ readonly pid: number; readonly processName: string }>): Promise<Map<number, ProcessInfo>> {
    const t = this.now();
    const names = new Map<number, string>();
    for (const p of listed) if (!names.has(p.pid)) names.set(p.pid, p.processName);
    const stale = [...names].filter(([pid, name]) => {
      const e = this.entries.get(pid);
      return !e || e.processName !== name || t - e.at >= this.maxAgeMs;
    });
    const fresh = stale.length > 0 ? await this.identity.resolve(stale.map(([pid]) => pid)) : new Map<number, ProcessInfo>();
    const next = new Map<number, Entry>();
    const out = new Map<number, ProcessInfo>();
    for (const [pid, name] of names) {
      const info = fresh.get(pid);
      const e = info ? { processName: name, info, at: t } : this.entries.get(pid);
      if (!e) continue;
      next.set(pid, e);
      out.set(pid, e.info);
    }
    this.entries = next;
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}
