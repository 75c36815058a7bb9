/**
 * The mount probe child: this Node binary with a tiny script, run through runCommand so a hung NFS call
 * blocks only the child, which is killed at the time-out — never the exporter's event loop or threadpool.
 *
 * It first resolves the configured path (symlinks followed, within the root filesystem the exporter
 * watches) by readlink(2) on each component, skipping mount points (a mount point is never a symlink, and
 * not touching it keeps a hung mount's root out of the resolution), and prints it. Then it stats the real
 * path and reads one directory entry, synchronously on its main thread: a probe stuck in the kernel keeps
 * its name (`sw-mount-probe` in /proc/<pid>/comm) and its argv readable, so a later exporter process can find
 * it (stuck-probes.ts). In `resolve` mode it stops after the resolution and names itself `sw-mount-resolv`.
 */
import { runCommand, SubprocessError } from '../../lib/subprocess.js';
import { parseProbeOutput, type ProbeResult, type Resolution } from './parse-probe-result.js';

/** /proc/<pid>/comm of a probe child (15 characters at most: the kernel's TASK_COMM_LEN). */
export const PROBE_COMM = 'sw-mount-probe';
const RESOLVE_COMM = 'sw-mount-resolv';
/** argv marker after `--`, followed by the mode, the mountinfo file, the root and the configured path. */
export const PROBE_MARKER = 'silentwatch-mount-probe';

const SCRIPT = `
const fs = require('fs');
const [mode, mountinfo, root, path] = process.argv.slice(-4);
try { fs.writeFileSync('/proc/self/comm', mode === 'resolve' ? '${RESOLVE_COMM}' : '${PROBE_COMM}'); } catch {}
const out = (o) => fs.writeSync(1, JSON.stringify(o) + '\\n');
const unescape = (s) => s.replace(/\\\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
const mountPoints = new Set();
try { for (const l of fs.readFileSync(mountinfo, 'utf8').split('\\n')) { const f = l.split(' ')[4]; if (f) mountPoints.add(unescape(f)); } } catch {}
const base = root === '/' ? '' : root.replace(/\\/+$/, '');
function resolve(p) {
  let parts = p.split('/').filter(Boolean);
  let cur = '';
  let links = 0;
  while (parts.length > 0) {
    const c = parts.shift();
    if (c === '.') continue;
    if (c === '..') { cur = cur.slice(0, cur.lastIndexOf('/')); continue; }
    const next = cur + '/' + c;
    if (mountPoints.has(base + next)) { cur = next; continue; }
    let link;
    try { link = fs.readlinkSync(base + next); } catch (e) { if (e.code === 'EINVAL') { cur = next; continue; } throw e; }
    if (++links > 40) throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
    if (link.startsWith('/')) cur = '';
    parts = link.split('/').filter(Boolean).concat(parts);
  }
  return cur || '/';
}
/** stat + one readdir entry of the real mount point: what hangs on a dead hard NFS mount. */
function probe(real) {
  const t0 = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  try {
    const target = base + real === '' ? '/' : base + real;
    fs.statSync(target);
    const d = fs.opendirSync(target);
    try { d.readSync(); } finally { d.closeSync(); }
    out({ ok: true, seconds: seconds() });
  } catch (e) {
    out({ ok: false, code: String(e.code || 'ERROR'), seconds: seconds() });
  }
}
let real;
try { real = resolve(path); out({ real }); } catch (e) { out({ real: null, code: String(e.code || 'ERROR') }); }
if (real !== undefined && mode !== 'resolve') probe(real);
`;

export interface ChildOptions {
  readonly mountinfo: string;
  readonly rootfs: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export type ChildOutcome =
  /** The child finished (or printed what it could before it was killed). */
  | { readonly kind: 'done' | 'timeout'; readonly resolution?: Resolution; readonly result?: ProbeResult }
  /** An earlier child for this path is still alive: none was started. */
  | { readonly kind: 'busy' }
  | { readonly kind: 'error'; readonly message: string };

/** The argv of a probe child for `path` (stuck-probes.ts matches it). */
export function probeArgs(mode: 'probe' | 'resolve', o: Pick<ChildOptions, 'mountinfo' | 'rootfs'>, path: string): string[] {
  return ['-e', SCRIPT, '--', PROBE_MARKER, mode, o.mountinfo, o.rootfs, path];
}

/** Runs one child for `path`; never more than one of each mode per path at a time. */
export async function runProbeChild(mode: 'probe' | 'resolve', path: string, o: ChildOptions): Promise<ChildOutcome> {
  try {
    const res = await runCommand(process.execPath, probeArgs(mode, o, path), {
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      maxOutputBytes: 16 * 1024,
      // No NODE_OPTIONS or other inherited settings in the probe child.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      singleInstanceKey: `mounts:${mode}:${path}`,
    });
    return { kind: 'done', ...parseProbeOutput(res.stdout) };
  } catch (e) {
    if (e instanceof SubprocessError && e.kind === 'busy') return { kind: 'busy' };
    if (e instanceof SubprocessError && e.kind === 'timeout') {
      try {
        return { kind: 'timeout', ...parseProbeOutput(e.stdout) };
      } catch {
        return { kind: 'timeout' };
      }
    }
    return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
  }
}
