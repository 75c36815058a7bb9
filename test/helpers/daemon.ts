/**
 * Start and stop real daemons (redis-server, dockerd, prometheus, the exporter itself) for tests:
 * free ports, temp dirs, captured logs, and a stop that always escalates to SIGKILL.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `silentwatch-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Whether an executable is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export interface Daemon {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code (null if killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
  exited(): boolean;
}

/** Credentials to run a child under (root only; see `unprivileged()`). */
export interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Who to run a daemon as so that file permissions apply to it: nobody (65534:65534) when the tests run as root
 * (root ignores chmod 000), nothing when they already run unprivileged (the chmod applies as it is).
 */
export function unprivileged(): RunAs {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
}

/** Makes a test-owned directory (mkdtemp creates it 0700) traversable and readable by an unprivileged daemon. */
export function shareDir(dir: string): void {
  chmodSync(dir, 0o755);
}

export function startDaemon(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } & RunAs = {}): Daemon {
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, uid: opts.uid, gid: opts.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (b: Buffer): void => {
    out += b.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
    child.once('error', (e) => {
      out += `spawn error: ${e.message}\n`;
      exitCode = -1;
      resolve(-1);
    });
  });
  return {
    child,
    output: () => out,
    exited: () => exitCode !== undefined,
    async stop(graceMs = 5000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
