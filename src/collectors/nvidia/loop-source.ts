/**
 * Loop mode of the nvidia collector: two long-lived nvidia-smi, one sampling the GPUs and one the compute
 * processes (one process cannot do both: nvidia-smi 580 answers "Only one --query-* switch can be used at a
 * time."). A steady-state scrape starts no process and reads the newest complete sample of each.
 *
 * What a scrape concludes:
 * - GPUs: the newest sample if it is at most `freshMs` old; else it waits for one until the deadline, and if
 *   none comes the GPU loop is hung (a wedged driver): both processes are killed, the scrape fails, and the
 *   next scrape starts them again (never beside one that has not exited yet).
 * - Processes: nvidia-smi prints nothing for a sample without compute processes, so silence from a running
 *   process loop means "none" once it has run long enough to have printed one (twice the GPU loop's
 *   start-up time plus 100 ms) and no sample came within `freshMs` before the GPU loop's newest sample. A process loop that hangs alone looks
 *   like an idle GPU; a wedged driver stops the GPU loop as well, which is caught above.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GPU_QUERY_FIELDS } from './parse-nvidia-smi.js';
import { SmiLoop } from './smi-loop.js';

export type AppsRead = { readonly text: string } | { readonly error: string };

export interface LoopRead {
  readonly gpuText: string;
  readonly apps: AppsRead;
}

export class NvidiaLoops {
  readonly gpu: SmiLoop;
  readonly apps: SmiLoop;
  /** How old a sample may be and still count as the current one. */
  readonly freshMs: number;
  private gpuInitMs: number | undefined;
  private readonly now: () => number;

  constructor(binary: string, gpuArgs: readonly string[], appsArgs: readonly string[], intervalMs: number, opts: { env?: NodeJS.ProcessEnv; now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    // A GPU line's uuid appears once per sample.
    const uuidAt = GPU_QUERY_FIELDS.indexOf('uuid');
    this.gpu = new SmiLoop({ binary, args: gpuArgs, intervalMs, ...opts, key: (line) => line.split(', ', uuidAt + 1)[uuidAt] ?? line });
    this.apps = new SmiLoop({ binary, args: appsArgs, intervalMs, ...opts });
    this.freshMs = intervalMs + Math.max(250, intervalMs / 2);
  }

  /** Process starts so far, both loops together. */
  get starts(): number {
    return this.gpu.starts + this.apps.starts;
  }

  close(): void {
    this.gpu.close();
    this.apps.close();
  }

  async read(deadline: number, signal: AbortSignal): Promise<LoopRead> {
    const busy = this.gpu.ensure();
    if (busy !== undefined) throw new Error(busy);
    const appsBusy = this.apps.ensure();

    const gpuFrame = await this.until(deadline, signal, () => {
      const f = this.gpu.latest();
      if (f !== undefined && f.lastAt >= this.now() - this.freshMs) return f;
      return this.gpu.running ? undefined : null;
    });
    if (gpuFrame === null) throw new Error(this.gpu.error ?? 'nvidia-smi: ended');
    if (gpuFrame === undefined) {
      if (signal.aborted) throw new Error('nvidia-smi: scrape aborted while waiting for a sample');
      const last = this.gpu.latest();
      const why = `nvidia-smi: no sample for ${Math.round(this.now() - (last?.lastAt ?? this.gpu.since ?? this.now()))} ms (hung in the driver?): killed, restarted at the next scrape`;
      this.gpu.kill(why);
      this.apps.kill(why);
      throw new Error(why);
    }
    const since = this.gpu.since;
    if (this.gpuInitMs === undefined && since !== undefined) this.gpuInitMs = Math.max(0, gpuFrame.firstAt - since);
    if (appsBusy !== undefined) return { gpuText: gpuFrame.text, apps: { error: appsBusy } };

    const quietMs = 2 * (this.gpuInitMs ?? 0) + 100;
    const apps = await this.until<AppsRead>(deadline, signal, () => {
      // Measured against the GPU loop's newest sample, not the clock: whatever made us read the GPU pipe late
      // (a busy event loop) made us read this one late too, and must not turn a list into silence.
      const ref = Math.max(gpuFrame.lastAt, this.gpu.latest()?.lastAt ?? 0);
      const f = this.apps.latest();
      if (f !== undefined && f.lastAt >= ref - this.freshMs) return { text: f.text };
      if (!this.apps.running) return { error: this.apps.error ?? 'nvidia-smi: ended' };
      const runs = this.apps.since;
      return runs !== undefined && ref - runs >= quietMs && !this.apps.receiving ? { text: '' } : undefined;
    });
    return { gpuText: gpuFrame.text, apps: apps ?? { error: 'nvidia-smi --query-compute-apps: no sample before the time-out' } };
  }

  /** Polls `f` every 10 ms until it returns something other than undefined, or the deadline. */
  private async until<T>(deadline: number, signal: AbortSignal, f: () => T | undefined): Promise<T | undefined> {
    for (;;) {
      const r = f();
      if (r !== undefined) return r;
      const left = deadline - this.now();
      if (left <= 0 || signal.aborted) return undefined;
      await sleep(Math.min(10, left));
    }
  }
}
