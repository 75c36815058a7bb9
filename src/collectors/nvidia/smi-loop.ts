/**
 * One long-lived `nvidia-smi <query> -lms <interval>`: the driver is initialised once, not per scrape, and a
 * scrape reads the newest complete sample (see frames.ts). The process runs in its own process group and
 * is killed with it (SIGKILL) when the collector finds it silent (hung in the driver) or closes; a new one
 * starts only after the old one has really exited, so a wedged nvidia-smi is never joined by a second.
 * Output and stderr are bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FrameAssembler, type Frame } from './frames.js';

export interface SmiLoopOptions {
  readonly binary: string;
  /** The query arguments, without `-lms`. */
  readonly args: readonly string[];
  readonly intervalMs: number;
  readonly maxFrameBytes?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Clock, for tests. */
  readonly now?: () => number;
  /** What appears once per sample in a line (see frames.ts); the whole line by default. */
  readonly key?: (line: string) => string;
}

const STDERR_KEEP = 4096;

export class SmiLoop {
  /** Processes started so far (a steady state starts none). */
  starts = 0;
  private child: ChildProcess | undefined;
  private exiting: Promise<void> | undefined;
  private frames: FrameAssembler;
  private startedAt = 0;
  private stderr = '';
  private lastError: string | undefined;
  private readonly now: () => number;
  readonly gapMs: number;

  constructor(private readonly o: SmiLoopOptions) {
    this.now = o.now ?? Date.now;
    // Samples are intervalMs apart and each is one burst: a quarter interval (at most 250 ms) separates them.
    this.gapMs = Math.max(20, Math.min(250, o.intervalMs / 4));
    this.frames = new FrameAssembler(this.gapMs, o.maxFrameBytes ?? 4 * 1024 * 1024, o.key);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Since when the current process runs (ms), or undefined. */
  get since(): number | undefined {
    return this.child === undefined ? undefined : this.startedAt;
  }

  /** Why the last process ended (exit code and the first line of its stderr), if it did. */
  get error(): string | undefined {
    return this.lastError;
  }

  get overflows(): number {
    return this.frames.overflows;
  }

  /** Starts the process unless it runs, or a killed one has not exited yet (then says so). */
  ensure(): string | undefined {
    if (this.child !== undefined) return undefined;
    if (this.exiting !== undefined) return `${this.o.binary}: the previous nvidia-smi has not exited since it was killed (wedged in the driver?), not starting another`;
    this.spawn();
    return undefined;
  }

  /** The newest complete sample, if any. */
  latest(): Frame | undefined {
    return this.frames.latest(this.now(), this.gapMs);
  }

  /** A sample is being received: latest() will have a newer one shortly. */
  get receiving(): boolean {
    return this.frames.receiving;
  }

  /** Kills the process group; `why` becomes the error reported until the next sample. */
  kill(why: string): void {
    const c = this.child;
    if (c === undefined) return;
    this.lastError = why;
    // Gone for us now; `exiting` holds a restart back until the kernel has really let it go.
    this.child = undefined;
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }

  close(): void {
    this.kill('closed');
  }

  private spawn(): void {
    this.starts++;
    this.startedAt = this.now();
    this.stderr = '';
    this.lastError = undefined;
    this.frames = new FrameAssembler(this.gapMs, this.o.maxFrameBytes ?? 4 * 1024 * 1024, this.o.key);
    const frames = this.frames;
    const child = spawn(this.o.binary, [...this.o.args, '-lms', String(Math.round(this.o.intervalMs))], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.o.env ?? process.env,
      detached: true,
    });
    this.child = child;
    let resolveExit!: () => void;
    this.exiting = new Promise<void>((r) => (resolveExit = r));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => frames.push(s, this.now()));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (this.stderr.length < STDERR_KEEP) this.stderr += s.slice(0, STDERR_KEEP - this.stderr.length);
    });
    const gone = (why: string): void => {
      if (this.child === child) this.child = undefined;
      this.lastError ??= why;
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      gone(`${this.o.binary}: ${e.code === 'ENOENT' ? 'not found' : e.message}`);
      this.exiting = undefined;
      resolveExit();
    });
    child.on('close', (code, sig) => {
      frames.end();
      const detail = this.stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
      gone(`${this.o.binary}: ${sig ? `killed by ${sig}` : `exited with code ${code}`}${detail ? `: ${detail}` : ''}`);
      this.exiting = undefined;
      resolveExit();
    });
  }
}
