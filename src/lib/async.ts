/**
 * Promise helpers shared by the runner and the collectors: time-outs, abort races and error messages.
 * Every race here removes its timer or listener when it settles and swallows the loser's later rejection,
 * so nothing is left pending and nothing goes unhandled.
 */

/** The text of an error for a log line or a landing-page field. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** A time-out that fired (`seconds` as given to withTimeout). */
export class TimeoutError extends Error {
  constructor(
    readonly seconds: number,
    message = `timed out after ${seconds}s`,
  ) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * Resolves with p, or rejects with a TimeoutError after `seconds` (its message is `what` followed by
 * "did not answer within Ns" when `what` is given). `onTimeout` runs once when the time-out wins.
 */
export function withTimeout<T>(p: Promise<T>, seconds: number, opts: { what?: string; onTimeout?: () => void } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      opts.onTimeout?.();
      p.catch(() => undefined);
      reject(new TimeoutError(seconds, opts.what ? `${opts.what} did not answer within ${seconds.toFixed(1)}s` : undefined));
    }, seconds * 1000);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(asError(e));
      },
    );
  });
}

/** Resolves with p, or rejects when the signal aborts first (with the signal's reason when it is an Error). */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  const reason = (): Error => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(reason());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(e));
      },
    );
  });
}
