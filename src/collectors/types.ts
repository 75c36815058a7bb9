/**
 * The collector contract. A collector lives in `src/collectors/<name>/`: `index.ts` with its metric
 * definitions, options schema and I/O; pure `parse*.ts` modules beside it (and, once `index.ts` passes ~300
 * lines, `metrics.ts`, `options.ts` and one file per data source). Adding one = one folder plus one line in
 * `src/collectors/index.ts`; CONTRIBUTING.md walks through it.
 *
 * Time: the runner gives every collection a time budget (`CollectRun`): an AbortSignal that fires when the
 * collector's time-out (`--collector.timeout`) expires or the exporter shuts down, and the deadline itself.
 * A collector passes `run.signal` to every I/O call that takes one and sizes inner time-outs with
 * `run.remainingMs()`; whatever it has not finished by the deadline is abandoned and reported as
 * `silentwatch_collector_success 0`, never as a failed scrape.
 */
import type { z } from 'zod';
import type { Enablement } from '../lib/config-values.js';
import type { DockerIndex } from '../lib/identity/docker-index.js';
import type { ProcessIdentity } from '../lib/identity/process-identity.js';
import type { Logger } from '../logger.js';
import type { MetricDef, SampleSink } from '../metrics.js';
import type Docker from 'dockerode';
import type { HostPaths } from '../lib/host-paths.js';
import type { TimeBudget } from '../lib/time-budget.js';

export type { HostPaths };

/** Long-lived clients shared between collectors, created lazily on first use. */
export interface SharedServices {
  /** Docker Engine API client (read-only use: GET requests only). */
  docker(): Docker;
  /** Cached container list, one Docker request per scrape whoever asks. */
  readonly dockerIndex: DockerIndex;
  /** PID -> container/pod identity labels. */
  readonly identity: ProcessIdentity;
}

export interface CollectorContext<O> {
  readonly name: string;
  readonly options: O;
  readonly paths: HostPaths;
  readonly log: Logger;
  readonly shared: SharedServices;
  /** The collector's configured time-out in seconds (detect() is bounded by it; collect() gets a CollectRun). */
  readonly timeoutSeconds: number;
}

/** One collection's time budget: `signal` (aborted at the deadline or on shutdown), `deadline`, `remainingMs()`. */
export type CollectRun = TimeBudget;

export interface CollectorInstance {
  /** Writes this scrape's samples into the sink. Throw (or reject) to report success 0 with the message. */
  collect(sink: SampleSink, run: CollectRun): Promise<void>;
  /** Releases connections and timers on shutdown. */
  close?(): Promise<void> | void;
  /** Key facts for the landing page (never secrets), e.g. what was detected. */
  describe?(): Readonly<Record<string, string>>;
}

export interface Detection {
  readonly present: boolean;
  /** Why: shown on the landing page and logged once. */
  readonly reason: string;
}

export interface Collector<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  /** One line for --help and the landing page. */
  readonly description: string;
  /** `auto` = enabled when detect() finds what it watches. */
  readonly defaultEnabled: Enablement;
  /** Collector-specific options (flags `--collector.<name>.<option>`, env `SILENTWATCH_COLLECTOR_<NAME>_<OPTION>`). */
  readonly options: S;
  /** Every family this collector may emit. */
  readonly metrics: readonly MetricDef[];
  /** Only consulted when enabled is `auto`. Must not throw; bounded by the collector time-out. */
  detect?(ctx: CollectorContext<z.output<S>>): Promise<Detection>;
  create(ctx: CollectorContext<z.output<S>>): CollectorInstance;
}

/** Identity helper that keeps the options type flowing into detect/create. */
export function defineCollector<S extends z.ZodObject>(c: Collector<S>): Collector<S> {
  return c;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCollector = Collector<any>;
