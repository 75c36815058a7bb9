/**
 * Reading small kernel files (cgroup memory files) cheaply and safely: a kept-open descriptor per file so a
 * scrape costs one pread, and the paths the scrape was not allowed to read, reported rather than skipped.
 */
import { close, open, read } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { errnoCode, isPermissionDenied } from '../../lib/errno.js';

/**
 * Paths the scrape was not allowed to read, as "path: CODE". A vanished cgroup (ENOENT, ENODEV) is skipped
 * silently, but a permission error hides containers that are there, so it marks the scrape partial.
 */
export type Denied = string[];
export function noteDenied(denied: Denied, path: string, e: unknown): void {
  if (isPermissionDenied(e)) denied.push(`${path}: ${errnoCode(e) as string}`);
}

/** The whole file, or undefined when it cannot be read (an abort still rejects). */
export async function readText(path: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (e) {
    if (signal.aborted) throw e;
    return undefined;
  }
}

/** Largest cgroup memory file we expect (v1 memory.stat is ~1.5 KiB); a bigger one is read whole instead. */
const READ_BUFFER_BYTES = 16 * 1024;
/** Buffers kept for reuse (at most this many reads run at once in the usual case): 512 KiB at most. */
const SPARE_BUFFERS = 32;

const openP = (path: string): Promise<number> => new Promise((res, rej) => open(path, 'r', (e, fd) => (e ? rej(e) : res(fd))));
const closeQuietly = (fd: number): void => close(fd, () => undefined);
/** One pread at offset 0: kernfs regenerates a seq_file's content when it is read again from the start. */
const preadP = (fd: number, buf: Buffer): Promise<number> => new Promise((res, rej) => read(fd, buf, 0, buf.length, 0, (e, n) => (e ? rej(e) : res(n))));

/**
 * Reads small kernel files, keeping up to `maxOpen` of them open between scrapes so that a scrape costs one
 * pread per file (1 thread-pool hop instead of the 5 of readFile). Files not read in a scrape are closed at
 * its end (sweep), so a removed container's cgroup is let go within one scrape; a read error on a kept
 * descriptor (ENODEV once the cgroup is removed) closes it and retries once with a fresh open.
 */
export class KernelFileReader {
  private readonly fds = new Map<string, { fd: number; generation: number }>();
  private generation = 0;
  /** Read buffers handed back after use: a scrape reads ~4 files per container, each needed a fresh 16 KiB before. */
  private readonly spare: Buffer[] = [];

  constructor(private readonly maxOpen: number) {}

  async read(path: string, signal: AbortSignal, denied: Denied): Promise<string | undefined> {
    signal.throwIfAborted();
    const buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    try {
      return await this.readInto(path, buf, signal, denied);
    } finally {
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(buf);
    }
  }

  private async readInto(path: string, buf: Buffer, signal: AbortSignal, denied: Denied): Promise<string | undefined> {
    const kept = this.fds.get(path);
    if (kept) {
      try {
        const n = await preadP(kept.fd, buf);
        kept.generation = this.generation;
        return n < buf.length ? buf.toString('utf8', 0, n) : await readText(path, signal);
      } catch {
        this.fds.delete(path);
        closeQuietly(kept.fd);
      }
    }
    let fd: number;
    try {
      fd = await openP(path);
    } catch (e) {
      noteDenied(denied, path, e);
      return undefined;
    }
    try {
      const n = await preadP(fd, buf);
      const text = n < buf.length ? buf.toString('utf8', 0, n) : await readText(path, signal);
      if (this.fds.size < this.maxOpen && !this.fds.has(path)) {
        this.fds.set(path, { fd, generation: this.generation });
        return text;
      }
      closeQuietly(fd);
      return text;
    } catch {
      closeQuietly(fd);
      return undefined;
    }
  }

  /** Ends a scrape: closes what it did not read. */
  sweep(): void {
    for (const [path, kept] of this.fds) {
      if (kept.generation !== this.generation) {
        this.fds.delete(path);
        closeQuietly(kept.fd);
      }
    }
    this.generation++;
  }

  get open(): number {
    return this.fds.size;
  }

  closeAll(): void {
    for (const { fd } of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
  }
}
