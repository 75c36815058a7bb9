/**
 * A collection's time budget: the signal that aborts it and the moment its time-out expires. The runner makes one
 * per collection; collectors size their inner time-outs from what is left instead of recomputing it from the
 * configured time-out.
 */
export interface TimeBudget {
  /** Aborted when the time-out expires (reason: a TimeoutError) or the exporter shuts down. Pass it to every I/O call that takes one. */
  readonly signal: AbortSignal;
  /** When the time-out expires, on the `Date.now()` clock (milliseconds). */
  readonly deadline: number;
  /**
   * Milliseconds left until the deadline, times `share` (0..1, default 1), and never below `floorMs` (default 0):
   * `run.remainingMs(0.6, 200)` leaves 40 % of what is left for the work after an inner call.
   */
  remainingMs(share?: number, floorMs?: number): number;
}

export function timeBudget(signal: AbortSignal, deadline: number, now: () => number = Date.now): TimeBudget {
  return {
    signal,
    deadline,
    remainingMs: (share = 1, floorMs = 0) => Math.max(floorMs, Math.floor(Math.max(0, deadline - now()) * share)),
  };
}

/** A budget of `seconds` from now, aborted when they have passed (for tests, benchmarks and one-off runs). */
export function budgetFor(seconds: number): TimeBudget {
  return timeBudget(AbortSignal.timeout(seconds * 1000), Date.now() + seconds * 1000);
}
