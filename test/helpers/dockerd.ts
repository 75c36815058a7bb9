/**
 * A real dockerd for one test file: own socket, data-root and exec-root in a temp dir, no iptables, no
 * bridge. Images cannot be pulled here, so a tiny busybox image is made with `docker import` from the
 * host's busybox-static binary.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { hasCommand, removeDir, startDaemon, tempDir, waitFor, type Daemon } from './daemon.js';

const run = promisify(execFile);

export const BUSYBOX_IMAGE = 'silentwatch-test/busybox:latest';
const BUSYBOX_APPLETS = ['sh', 'dd', 'sleep', 'cat', 'echo', 'head', 'ls', 'true', 'tail', 'yes'];

export interface RunningDockerd {
  readonly socket: string;
  readonly host: string;
  readonly client: Docker;
  /** The running dockerd process (a new one after down() and up()). */
  readonly daemon: Daemon;
  /** Stops dockerd (its containers stop with it; those with a restart policy come back on up()). */
  down(): Promise<void>;
  /** Starts dockerd again on the same socket and data-root, as after a host's daemon restart. */
  up(): Promise<void>;
  /** Runs the docker CLI against this daemon. */
  cli(args: readonly string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** docker run -d --network none <args> busybox <cmd>; returns the full container id. */
  runContainer(args: readonly string[], cmd?: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Why dockerd cannot run here, or undefined when it can. */
export function dockerUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  if (!hasCommand('dockerd') || !hasCommand('docker')) return 'docker.io is not installed (scripts/test.sh installs it)';
  if (!existsSync('/bin/busybox')) return 'busybox-static is not installed (scripts/test.sh installs it)';
  return undefined;
}

/** dockerd can leave mounts (netns, overlay) under its roots: lazily unmount them so the dir can go. */
async function unmountUnder(dir: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
}

export async function startDockerd(): Promise<RunningDockerd> {
  const dir = tempDir('dockerd');
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const args = [
    '--iptables=false',
    '--bridge=none',
    '--ip-forward=false',
    '--storage-driver=vfs',
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
    `--host=${host}`,
    '--shutdown-timeout=1',
  ];
  const cli = async (args: readonly string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> =>
    run('docker', ['-H', host, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  const launch = async (): Promise<Daemon> => {
    const d = startDaemon('dockerd', args);
    await waitFor(
      async () => {
        if (d.exited()) throw new Error(`dockerd exited: ${d.output().slice(-2000)}`);
        await cli(['version', '--format', '{{.Server.Version}}'], 2000);
        return true;
      },
      'dockerd',
      30_000,
      100,
    );
    return d;
  };
  let daemon = await launch();
  // busybox image from the host's static binary
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const a of BUSYBOX_APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  await run('sh', ['-c', `tar -C '${root}' -c . | docker -H '${host}' import - ${BUSYBOX_IMAGE}`]);

  const client = new Docker({ socketPath: socket });
  return {
    socket,
    host,
    client,
    get daemon() {
      return daemon;
    },
    async down() {
      await daemon.stop(15_000);
    },
    async up() {
      if (!daemon.exited()) return;
      daemon = await launch();
    },
    cli,
    async runContainer(args, cmd = ['sleep', '3600']) {
      const { stdout } = await cli(['run', '-d', '--network', 'none', ...args, BUSYBOX_IMAGE, ...cmd]);
      return stdout.trim();
    },
    async stop() {
      try {
        const { stdout } = await cli(['ps', '-aq'], 10_000);
        const ids = stdout.split('\n').filter(Boolean);
        if (ids.length) await cli(['rm', '-f', ...ids], 60_000);
      } catch {
        // the daemon may already be gone; stopping it below is what matters
      }
      await daemon.stop(10_000);
      await unmountUnder(dir);
      removeDir(dir);
    },
  };
}
