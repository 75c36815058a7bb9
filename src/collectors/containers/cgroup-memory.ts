/** The memory files of one container cgroup, read through the KernelFileReader and parsed. */
import { join } from 'node:path';
import { type Denied, type KernelFileReader } from './kernel-files.js';
import { MEMORY_FILES, memoryFromV1, memoryFromV2, type ContainerMemory, type MemoryFiles } from './parse-memory.js';

/** The memory files of one cgroup; undefined when none could be read (the cgroup went away). */
export async function readMemory(reader: KernelFileReader, dir: string, version: 1 | 2, signal: AbortSignal, denied: Denied): Promise<ContainerMemory | undefined> {
  const names = MEMORY_FILES[version];
  const [usage, limit, stat, events] = await Promise.all([
    reader.read(join(dir, names.usage), signal, denied),
    reader.read(join(dir, names.limit), signal, denied),
    reader.read(join(dir, names.stat), signal, denied),
    reader.read(join(dir, names.events), signal, denied),
  ]);
  if (usage === undefined && limit === undefined && stat === undefined && events === undefined) return undefined;
  const files: MemoryFiles = { usage, limit, stat, events };
  return version === 1 ? memoryFromV1(files) : memoryFromV2(files);
}
