/**
 * The DRM scan with its memory between scrapes, on a small fake procfs in a temp dir: the same result as a
 * full walk, far fewer links read in steady state, and the stated bounds for a process that opens a GPU
 * later (new fd number: within revisit_every scans; reused fd number: within 10 × revisit_every), a
 * reused PID, a DRM fd number reused for another file, and memory that follows the process table.
 */
import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FULL_EVERY, ScanMemory } from '../../../src/collectors/drm/scan-memory.js';
import { scanDrmFds } from '../../../src/collectors/drm/scan.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { fdinfo } from '../../helpers/drm.js';

const PROCS = 40;
const FDS = 10;
const DRM_PIDS = [1001, 1002];
const NODE = '/dev/dri/renderD128';
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function setFd(root: string, pid: number, fd: number, target: string, client = pid): void {
  const d = join(root, String(pid));
  mkdirSync(join(d, 'fd'), { recursive: true });
  mkdirSync(join(d, 'fdinfo'), { recursive: true });
  rmSync(join(d, 'fd', String(fd)), { force: true });
  symlinkSync(target, join(d, 'fd', String(fd)));
  writeFileSync(join(d, 'fdinfo', String(fd)), target === NODE ? fdinfo('i915', '0000:00:02.0', client, { 'drm-resident-system0': '100 KiB' }, { render: 5 }) : 'pos:\t0\nflags:\t02\n');
}

function build(): string {
  const root = tempDir('drm-scan-memory');
  dirs.push(root);
  for (let p = 1001; p < 1001 + PROCS; p++) for (let f = 0; f < FDS; f++) setFd(root, p, f, DRM_PIDS.includes(p) && f === 7 ? NODE : f % 2 ? `socket:[${p}${f}]` : '/dev/null');
  return root;
}

const scan = (root: string, memory?: ScanMemory) => scanDrmFds(root, { concurrency: 4, maxFds: 1_000_000, memory });
const holders = (r: Awaited<ReturnType<typeof scan>>): number[] => [...new Set(r.fds.map((f) => f.pid))].sort();

/** Scans until `pid` shows up with a DRM fd; returns how many scans that took (or Infinity after `max`). */
async function scansUntilSeen(root: string, memory: ScanMemory, pid: number, max: number): Promise<number> {
  for (let i = 1; i <= max; i++) if (holders(await scan(root, memory)).includes(pid)) return i;
  return Infinity;
}

describe('DRM scan with memory between scrapes', () => {
  it('first scan: the same result as a full walk; steady state reads few links and finds the same fds', async () => {
    const root = build();
    const full = await scan(root);
    const memory = new ScanMemory(4);
    const first = await scan(root, memory);
    expect(holders(first)).toEqual(DRM_PIDS);
    expect(first.fdsScanned).toBe(full.fdsScanned);
    expect(memory.size).toBe(PROCS);
    let links = 0;
    for (let i = 0; i < 40; i++) {
      const r = await scan(root, memory);
      expect(holders(r)).toEqual(DRM_PIDS);
      expect(r.unreadableFdinfo).toBe(0);
      links += r.fdsScanned;
    }
    // Quiet processes: a revisit every 4 scans, new fd numbers only, a full read every 10th revisit.
    expect(links / 40).toBeLessThan(full.fdsScanned / 10);
  });

  it('a process that opens a GPU later: seen within revisit_every scans under a new fd number', async () => {
    const root = build();
    const memory = new ScanMemory(4);
    await scan(root, memory);
    await scan(root, memory);
    for (const pid of [1010, 1011, 1012, 1013]) setFd(root, pid, FDS + 3, NODE);
    for (const pid of [1010, 1011, 1012, 1013]) expect(await scansUntilSeen(root, memory, pid, 4)).toBeLessThanOrEqual(4);
  });

  it('under an fd number that was already open (closed and reused between two looks, same fd list): within 10 × revisit_every scans', async () => {
    const root = build();
    const memory = new ScanMemory(2);
    await scan(root, memory);
    setFd(root, 1020, 3, NODE); // fd 3 was a socket at the last look
    const n = await scansUntilSeen(root, memory, 1020, 2 * FULL_EVERY);
    expect(n).toBeLessThanOrEqual(2 * FULL_EVERY);
  });

  it('a reused PID holding a GPU is seen within revisit_every scans; a DRM fd number reused for a socket is no error', async () => {
    const root = build();
    const memory = new ScanMemory(3);
    await scan(root, memory);
    // PID 1030 exits and a new process under the same PID opens the GPU (fewer fds, one of them DRM).
    rmSync(join(root, '1030'), { recursive: true });
    for (let f = 0; f < 4; f++) setFd(root, 1030, f, f === 3 ? NODE : '/dev/null');
    expect(await scansUntilSeen(root, memory, 1030, 3)).toBeLessThanOrEqual(3);
    // A GPU holder closes its DRM fd and the number is reused for a socket: its fd list is unchanged.
    setFd(root, 1001, 7, 'socket:[99]');
    const r = await scan(root, memory);
    expect(holders(r)).not.toContain(1001);
    expect(r.unreadableFdinfo).toBe(0);
    const r2 = await scan(root, memory);
    expect(holders(r2)).not.toContain(1001);
  });

  it('memory follows the process table', async () => {
    const root = build();
    const memory = new ScanMemory(4);
    await scan(root, memory);
    for (let p = 1001 + PROCS - 10; p < 1001 + PROCS; p++) rmSync(join(root, String(p)), { recursive: true });
    await scan(root, memory);
    expect(memory.size).toBe(PROCS - 10);
    unlinkSync(join(root, '1005', 'fd', '0'));
  });
});
