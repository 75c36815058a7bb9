/**
 * A fault that keeps happening while a test scrapes (cgroups or processes coming and going, containers started
 * and removed): step(i) runs again and again in the background from start() until stop(). stop() waits for the
 * step in progress and the cleanup, and rethrows what a step threw, so a broken loop fails the test instead of
 * becoming an unhandled rejection.
 */
import { sleep } from './daemon.js';

export interface BackgroundLoop {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Steps started so far. */
  readonly cycles: number;
}

export function backgroundLoop(step: (i: number) => void | Promise<void>, opts: { everyMs?: number; cleanup?: () => void | Promise<void> } = {}): BackgroundLoop {
  let running = false;
  let cycles = 0;
  let failure: { error: unknown } | undefined;
  let loop: Promise<void> = Promise.resolve();
  return {
    async start() {
      running = true;
      loop = (async () => {
        try {
          while (running) {
            await step(cycles++);
            if (opts.everyMs) await sleep(opts.everyMs);
          }
        } catch (error) {
          failure = { error };
        } finally {
          running = false;
          await opts.cleanup?.();
        }
      })().catch((error: unknown) => {
        failure ??= { error };
      });
    },
    async stop() {
      running = false;
      await loop;
      if (failure) throw failure.error;
    },
    get cycles() {
      return cycles;
    },
  };
}
