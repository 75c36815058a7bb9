/**
 * A real FUSE filesystem that answers the kernel's INIT and then reads every request without ever
 * answering it. A process that stats it and is then SIGKILLed stays in uninterruptible sleep (the
 * request already reached "userspace", so the kernel waits for the answer with wait_event): the
 * unkillable D-state process a dead hard NFS server leaves behind. Stopping the server closes /dev/fuse,
 * which aborts the connection and releases every stuck process (ENOTCONN).
 *
 * The server runs in its own Node process (blocking reads of /dev/fuse are fine there), speaking the
 * FUSE kernel protocol directly (include/uapi/linux/fuse.h): no libfuse needed.
 */
import { spawnSync } from 'node:child_process';
import { startDaemon, waitFor, type Daemon } from './daemon.js';

const SERVER = `
const fs = require('fs');
const { spawnSync } = require('child_process');
const mnt = process.argv[process.argv.length - 1];
const fd = fs.openSync('/dev/fuse', 'r+');
const r = spawnSync('mount', ['-i', '-t', 'fuse.silentwatch-swallow', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'silentwatch-swallow', mnt], { stdio: ['ignore', 'inherit', 'inherit', fd] });
if (r.status !== 0) { console.log('mount failed'); process.exit(1); }
console.log('mounted');
const buf = Buffer.alloc(1024 * 1024 + 8192);
for (;;) {
  let n;
  try { n = fs.readSync(fd, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EINTR' || e.code === 'EAGAIN') continue; console.log('read ' + e.code); process.exit(0); }
  if (n < 40) continue;
  const opcode = buf.readUInt32LE(4);
  const unique = buf.readBigUInt64LE(8);
  if (opcode === 26) { // FUSE_INIT: answer protocol 7.31, then never answer anything again
    const out = Buffer.alloc(16 + 64);
    out.writeUInt32LE(out.length, 0); out.writeInt32LE(0, 4); out.writeBigUInt64LE(unique, 8);
    out.writeUInt32LE(7, 16); out.writeUInt32LE(31, 20); out.writeUInt32LE(4096, 40); out.writeUInt32LE(1, 44);
    fs.writeSync(fd, out);
    console.log('init');
  } else {
    console.log('swallowed opcode ' + opcode);
  }
}
`;

export interface SwallowingFuse {
  readonly daemon: Daemon;
  /** Stops the server: the connection aborts, stuck processes get ENOTCONN and exit. Then unmounts. */
  stop(): Promise<void>;
}

export async function mountSwallowingFuse(mountPoint: string): Promise<SwallowingFuse> {
  const daemon = startDaemon(process.execPath, ['-e', SERVER, '--', mountPoint]);
  await waitFor(() => {
    if (daemon.exited()) throw new Error(`FUSE server exited: ${daemon.output()}`);
    return daemon.output().includes('mounted');
  }, 'FUSE server to mount', 10_000);
  return {
    daemon,
    async stop() {
      await daemon.stop(1000);
      spawnSync('umount', ['-l', mountPoint]);
    },
  };
}
