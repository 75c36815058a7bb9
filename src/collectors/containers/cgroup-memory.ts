/** The memory files of one container (or pod) cgroup, read through the KernelFileReader and parsed. */
import { join } from 'node:path';
import { type Denied, type KernelFileReader } from './kernel-files.js';
import { MEMORY_FILES, memoryFromV1, memoryFromV2, type ContainerMemory, type MemoryFileRole, type MemoryFiles } from './parse-memory.js';

/** Files every container cgroup has; the others depend on the kernel (memory.peak ≥ 5.19, PSI enabled). */
const CORE_ROLES: ReadonlySet<MemoryFileRole> = new Set(['usage', 'limit', 'stat', 'events']);

/**
 * Reads the memory files of container cgroups. A file the kernel does not provide (no memory.peak before 5.19,
 * no memory.pressure without PSI) is noted the first time a cgroup has its core files but not that one, and
 * not asked for again: no failed open per container per scrape.
 */
export class CgroupMemoryReader {
  private readonly unsupported = new Set<MemoryFileRole>();

  constructor(
    private readonly reader: KernelFileReader,
    private readonly version: 1 | 2,
  ) {}

  /** The memory of one cgroup; undefined when none of its files could be read (the cgroup went away). */
  async read(dir: string, signal: AbortSignal, denied: Denied): Promise<ContainerMemory | undefined> {
    const roles = Object.entries(MEMORY_FILES[this.version]).filter(([role]) => !this.unsupported.has(role as MemoryFileRole)) as Array<[MemoryFileRole, string]>;
    const texts = await Promise.all(roles.map(([, name]) => this.reader.read(join(dir, name), signal, denied)));
    const files: Partial<Record<MemoryFileRole, string>> = {};
    roles.forEach(([role], i) => {
      if (texts[i] !== undefined) files[role] = texts[i];
    });
    if (Object.keys(files).length === 0) return undefined;
    if ([...CORE_ROLES].every((r) => files[r] !== undefined)) for (const [role] of roles) if (files[role] === undefined) this.unsupported.add(role);
    return this.version === 1 ? memoryFromV1(files as MemoryFiles) : memoryFromV2(files as MemoryFiles);
  }

  /** The events file of a pod cgroup (v2 memory.events, v1 memory.oom_control). */
  async podEvents(dir: string, signal: AbortSignal, denied: Denied): Promise<string | undefined> {
    return this.reader.read(join(dir, MEMORY_FILES[this.version].events as string), signal, denied);
  }
}
