/**
 * Runs external commands (nvidia-smi, mount probes) without ever blocking the event loop or piling up:
 * a hard time-out that kills the whole process group, bounded output, and a per-key guard so a command
 * that hangs in the kernel (a wedged GPU, a dead NFS server) is never started a second time beside it.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  readonly timeoutMs: number;
  /** Output beyond this is an error (a runaway command must not eat the exporter's memory). */
  readonly maxOutputBytes?: number;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Runs with the same key never overlap: a second call fails at once while the first is alive. */
  readonly singleInstanceKey?: string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export class SubprocessError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'exit' | 'spawn' | 'busy' | 'output' | 'aborted',
    readonly stderr = '',
    /** What the command had printed before it was killed at its time-out (a partial answer). */
    readonly stdout = '',
  ) {
    super(message);
    this.name = 'SubprocessError';
  }
}

const alive = new Map<string, Promise<unknown>>();

export function runCommand(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const key = opts.singleInstanceKey;
  if (key !== undefined && alive.has(key)) {
    return Promise.reject(new SubprocessError(`${file}: previous run still in progress (hung?), not starting another`, 'busy'));
  }
  const { promise, exited } = start(file, args, opts);
  if (key !== undefined) {
    // The guard holds until the process has really exited, not merely until we stopped waiting for it.
    alive.set(key, exited);
    void exited.finally(() => alive.delete(key));
  }
  return promise;
}

function start(file: string, args: readonly string[], opts: RunOptions): { promise: Promise<RunResult>; exited: Promise<void> } {
  const max = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  let resolveExit!: () => void;
  const exited = new Promise<void>((r) => (resolveExit = r));
  const promise = new Promise<RunResult>((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolveExit();
      reject(new SubprocessError(`${file}: aborted before start`, 'aborted'));
      return;
    }
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      // Own process group, so a time-out kills grandchildren too (a shell wrapper and what it started).
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish(() => reject(new SubprocessError(`${file}: timed out after ${opts.timeoutMs} ms`, 'timeout', Buffer.concat(err).toString(), Buffer.concat(out).toString())));
    }, opts.timeoutMs);
    const onAbort = (): void => {
      kill();
      finish(() => reject(new SubprocessError(`${file}: aborted`, 'aborted')));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > max) {
        kill();
        finish(() => reject(new SubprocessError(`${file}: output larger than ${max} bytes`, 'output')));
        return;
      }
      out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 64) err.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      resolveExit();
      finish(() => reject(new SubprocessError(`${file}: ${e.code === 'ENOENT' ? 'not found' : e.message}`, 'spawn')));
    });
    child.on('close', (code, sig) => {
      resolveExit();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) finish(() => resolve({ stdout, stderr, code }));
      else {
        const why = sig ? `killed by ${sig}` : `exited with code ${code}`;
        const detail = stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
        finish(() => reject(new SubprocessError(`${file}: ${why}${detail ? `: ${detail}` : ''}`, 'exit', stderr)));
      }
    });
  });
  return { promise, exited };
}
