/**
 * The collector runner: on each scrape, runs every active collector concurrently, each under its own
 * time-out, validates what it returned, and adds the runner's own health series. One collector failing,
 * hanging or returning garbage costs only its own series: it is reported as success 0 with one log line,
 * and the rest of the scrape is served. Concurrent scrapes share one collection (singleflight), and a
 * collector still hung from an earlier scrape is not started again beside itself.
 */
import type { AnyCollector, CollectorContext, CollectorInstance } from './collectors/types.js';
import type { Enablement } from './lib/config-values.js';
import type { Logger } from './logger.js';
import { defineMetric, SampleSink, type MetricDef, type Sample } from './metrics.js';
import { errorMessage, TimeoutError, withTimeout } from './lib/async.js';
import { timeBudget } from './lib/time-budget.js';
import { familyCatalogue, type FamilyCatalogue } from './runner-families.js';

export const collectorSuccess = defineMetric({
  name: 'silentwatch_collector_success',
  type: 'gauge',
  help: 'Whether the collector succeeded in this scrape (1) or failed, timed out, returned invalid data or served only part of its data (0).',
  labels: ['collector'],
});
const collectorDuration = defineMetric({
  name: 'silentwatch_collector_duration_seconds',
  type: 'gauge',
  help: 'How long the collector took in this scrape, in seconds (its time-out when it timed out).',
  labels: ['collector'],
});
const collectorEnabled = defineMetric({
  name: 'silentwatch_collector_enabled',
  type: 'gauge',
  help: 'Whether the collector is active (1) or disabled by configuration or not detected on this host (0).',
  labels: ['collector'],
});
const collectorFailures = defineMetric({
  name: 'silentwatch_collector_failures_total',
  type: 'counter',
  help: 'Scrapes in which the collector reported success 0, since the exporter started.',
  labels: ['collector'],
});
export const RUNNER_METRICS: readonly MetricDef[] = [collectorSuccess, collectorDuration, collectorEnabled, collectorFailures];

export interface CollectorEntry {
  readonly collector: AnyCollector;
  readonly enabled: Enablement;
  readonly context: CollectorContext<unknown>;
}

export type CollectorStatus = 'active' | 'disabled' | 'not-detected' | 'detecting';

export interface CollectorState {
  readonly name: string;
  readonly description: string;
  status: CollectorStatus;
  reason: string;
  last?: { success: boolean; durationSeconds: number; error?: string; at: Date; samples: number };
  failures: number;
  details?: Readonly<Record<string, string>>;
}

interface Slot {
  readonly entry: CollectorEntry;
  readonly state: CollectorState;
  readonly allowed: ReadonlySet<MetricDef>;
  instance?: CollectorInstance;
  inFlight?: Promise<void>;
  lastDetectAt: number;
  detecting?: Promise<void>;
  lastLogged?: { message: string; at: number };
}

export interface RunnerOptions {
  readonly log: Logger;
  /** How often an `auto` collector that found nothing looks again. */
  readonly redetectIntervalMs?: number;
  /** A repeated identical failure is logged again at most this often. */
  readonly relogIntervalMs?: number;
}

export interface ScrapeResult {
  readonly samples: readonly Sample[];
  readonly families: readonly MetricDef[];
}

export class CollectorRunner {
  private readonly slots: Slot[];
  private readonly shutdown = new AbortController();
  private inFlight: Promise<ScrapeResult> | undefined;
  private readonly log: Logger;
  private readonly redetectMs: number;
  private readonly relogMs: number;
  private readonly catalogue: FamilyCatalogue;

  constructor(entries: readonly CollectorEntry[], opts: RunnerOptions) {
    this.log = opts.log;
    this.redetectMs = opts.redetectIntervalMs ?? 60_000;
    this.relogMs = opts.relogIntervalMs ?? 300_000;
    this.slots = entries.map((entry) => ({
      entry,
      allowed: new Set(entry.collector.metrics),
      lastDetectAt: 0,
      state: {
        name: entry.collector.name,
        description: entry.collector.description,
        status: entry.enabled === false ? 'disabled' : entry.enabled === 'auto' ? 'detecting' : 'active',
        reason: entry.enabled === false ? 'disabled by configuration' : entry.enabled === 'auto' ? 'detecting' : 'enabled by configuration',
        failures: 0,
      },
    }));
    this.catalogue = familyCatalogue(
      RUNNER_METRICS,
      this.slots.map((s) => s.entry.collector.metrics),
    );
  }

  /** Every family any registered collector (or the runner) may emit, whether active or not. */
  families(): MetricDef[] {
    return this.catalogue.all;
  }

  states(): readonly CollectorState[] {
    return this.slots.map((s) => s.state);
  }

  /** Runs detection for `auto` collectors once, so the first scrape already knows what is present. */
  async start(): Promise<void> {
    await Promise.all(this.slots.filter((s) => s.entry.enabled === 'auto').map((s) => this.detect(s)));
    for (const s of this.slots) {
      if (s.state.status === 'active') this.log.info({ collector: s.state.name, reason: s.state.reason }, 'collector active');
      else this.log.info({ collector: s.state.name, reason: s.state.reason }, 'collector inactive');
    }
  }

  /** One collection shared by every scrape that arrives while it runs. */
  collect(): Promise<ScrapeResult> {
    this.inFlight ??= this.collectAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    await Promise.all(
      this.slots.map(async (s) => {
        try {
          await s.instance?.close?.();
        } catch (e) {
          this.log.warn({ collector: s.state.name, err: errorMessage(e) }, 'collector close failed');
        }
      }),
    );
  }

  private async detect(slot: Slot): Promise<void> {
    const c = slot.entry.collector;
    slot.lastDetectAt = Date.now();
    if (!c.detect) {
      this.activate(slot, 'auto: always available');
      return;
    }
    slot.detecting ??= (async () => {
      try {
        const d = await withTimeout(c.detect!(slot.entry.context), slot.entry.context.timeoutSeconds);
        if (d.present) this.activate(slot, `auto: ${d.reason}`);
        else {
          slot.state.status = 'not-detected';
          slot.state.reason = `auto: ${d.reason}`;
        }
      } catch (e) {
        slot.state.status = 'not-detected';
        slot.state.reason = `auto: detection failed: ${errorMessage(e)}`;
      } finally {
        slot.detecting = undefined;
      }
    })();
    return slot.detecting;
  }

  /** Instances are created lazily on the first collection, so activating is only a state change. */
  private activate(slot: Slot, reason: string): void {
    slot.state.status = 'active';
    slot.state.reason = reason;
  }

  private async collectAll(): Promise<ScrapeResult> {
    const now = Date.now();
    for (const s of this.slots) {
      // An auto collector that found nothing looks again now and then, without delaying this scrape.
      if (s.state.status === 'not-detected' && now - s.lastDetectAt >= this.redetectMs) {
        void this.detect(s).then(() => {
          if (s.state.status === 'active') this.log.info({ collector: s.state.name, reason: s.state.reason }, 'collector now active');
        });
      }
    }
    const active = this.slots.filter((s) => s.state.status === 'active');
    const results = await Promise.all(active.map((s) => this.collectOne(s)));

    const own = new SampleSink(new Set(RUNNER_METRICS));
    for (const s of this.slots) {
      own.set(collectorEnabled, { collector: s.state.name }, s.state.status === 'active' ? 1 : 0);
      if (s.state.status !== 'active' && s.state.last === undefined) continue;
      own.set(collectorFailures, { collector: s.state.name }, s.state.failures);
    }
    active.forEach((s) => {
      const last = s.state.last;
      if (!last) return;
      own.set(collectorSuccess, { collector: s.state.name }, last.success ? 1 : 0);
      own.set(collectorDuration, { collector: s.state.name }, last.durationSeconds);
    });

    // Merge, dropping a series another collector already emitted (shared families such as GPU processes; each
    // sink already refused duplicates within one collector, so only shared families need the check).
    const samples: Sample[] = [];
    const seen = new Set<string>();
    for (const sink of [...results, own]) {
      for (const smp of sink.samples) {
        if (this.catalogue.shared.has(smp.def.name)) {
          // The sink's series identity (name and label values in declared order) when it set one.
          const key = smp.series ?? smp.def.name + JSON.stringify(smp.labels);
          if (seen.has(key)) continue;
          seen.add(key);
        }
        samples.push(smp);
      }
    }
    return { samples, families: this.families() };
  }

  private async collectOne(slot: Slot): Promise<SampleSink> {
    const name = slot.state.name;
    const timeoutS = slot.entry.context.timeoutSeconds;
    const sink = new SampleSink(slot.allowed);
    const started = performance.now();
    let error: string | undefined;
    /** Thrown, timed out or refused: the sink may be half-written, so none of it is served. */
    let failedOutright = false;

    if (slot.inFlight) {
      failedOutright = true;
      error = `previous collection still running past its ${timeoutS}s time-out; not starting another`;
    } else {
      const ac = new AbortController();
      const onShutdown = (): void => ac.abort(new Error('exporter shutting down'));
      this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
      const run = (async () => {
        slot.instance ??= slot.entry.collector.create(slot.entry.context);
        await slot.instance.collect(sink, timeBudget(ac.signal, Date.now() + timeoutS * 1000));
      })();
      const tracked = run.then(
        () => undefined,
        () => undefined,
      );
      slot.inFlight = tracked;
      void tracked.finally(() => {
        slot.inFlight = undefined;
        this.shutdown.signal.removeEventListener('abort', onShutdown);
      });
      try {
        await withTimeout(run, timeoutS, { onTimeout: () => ac.abort(new TimeoutError(timeoutS)) });
      } catch (e) {
        error = errorMessage(e);
        failedOutright = true;
      }
    }

    const durationSeconds = Math.min((performance.now() - started) / 1000, timeoutS);
    // Invalid samples were already dropped by the sink; a degraded collector keeps what it could read.
    if (error === undefined && sink.problems.length > 0) error = `invalid data: ${sink.problems.join('; ')}`;
    if (error === undefined && sink.degradedReason !== undefined) error = `partial data: ${sink.degradedReason}`;
    const kept = failedOutright ? new SampleSink(slot.allowed) : sink;

    slot.state.last = { success: error === undefined, durationSeconds, error, at: new Date(), samples: kept.samples.length };
    slot.state.details = safeDescribe(slot.instance);
    if (error !== undefined) {
      slot.state.failures += 1;
      this.logFailure(slot, error);
    } else if (slot.lastLogged) {
      this.log.info({ collector: name }, 'collector recovered');
      slot.lastLogged = undefined;
    }
    return kept;
  }

  private logFailure(slot: Slot, message: string): void {
    const now = Date.now();
    const prev = slot.lastLogged;
    if (prev && prev.message === message && now - prev.at < this.relogMs) return;
    slot.lastLogged = { message, at: now };
    this.log.warn({ collector: slot.state.name, cause: message }, 'collector failed');
  }
}

function safeDescribe(instance: CollectorInstance | undefined): Readonly<Record<string, string>> | undefined {
  try {
    return instance?.describe?.();
  } catch {
    return undefined;
  }
}

