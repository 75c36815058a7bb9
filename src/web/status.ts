/**
 * What the status page and GET /api/v1/findings show: the doctor's checks evaluated on the exporter's own
 * latest collection. Every /metrics scrape passes through here, so with Prometheus scraping, a page view
 * probes nothing: it reuses the last collection, and the findings are computed once per collection.
 * Without any scrape (a fresh install, no Prometheus yet), a page view may start one collection, shared with
 * every concurrent caller and at most one per `maxAgeMs`. Docker inspect and the mount table, which the
 * checks also read, are looked at again at most once per `factsTtlMs`.
 */
import { diagnoseCollection, type HostFacts } from '../doctor/index.js';
import type { DoctorReport } from '../doctor/findings.js';
import { errorMessage } from '../lib/async.js';
import type { Logger } from '../logger.js';
import type { CollectorRunner, CollectorState, ScrapeResult } from '../runner.js';
import { History, type HistoryOptions } from './history.js';

export interface StatusOptions {
  /** Docker inspect, mount table, PID namespace; absent: the checks that need them are skipped. */
  readonly hostFacts?: () => Promise<HostFacts>;
  /** A page view older than this starts a collection (default 30 s). */
  readonly maxAgeMs?: number;
  /** Host facts are refreshed at most this often (default 60 s). */
  readonly factsTtlMs?: number;
  readonly history?: HistoryOptions;
  readonly now?: () => number;
}

export interface StatusSnapshot {
  readonly report: DoctorReport;
  readonly states: readonly CollectorState[];
  /** When the collection the findings come from finished (ms since the epoch); undefined before the first. */
  readonly collectedAt: number | undefined;
  readonly history: History;
}

const NO_FACTS: HostFacts = { containers: undefined, mounts: undefined, hostPidNamespace: undefined };

export class StatusSource {
  readonly history: History;
  private latest: { result: ScrapeResult; at: number; seq: number } | undefined;
  private facts: { value: HostFacts; at: number } | undefined;
  private factsInFlight: Promise<void> | undefined;
  private report: { forCollection: number; forFacts: number; value: DoctorReport } | undefined;
  private readonly maxAgeMs: number;
  private readonly factsTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly runner: CollectorRunner,
    private readonly log: Logger,
    private readonly opts: StatusOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
    this.factsTtlMs = opts.factsTtlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.history = new History(opts.history);
  }

  /** The collection for /metrics: the runner's, remembered for the page. */
  async collect(): Promise<ScrapeResult> {
    const result = await this.runner.collect();
    this.observe(result);
    return result;
  }

  /** The findings of the latest collection; starts one only when none is recent (see the header). */
  async snapshot(): Promise<StatusSnapshot> {
    const now = this.now();
    if (!this.latest || now - this.latest.at >= this.maxAgeMs) {
      try {
        await this.collect();
      } catch (e) {
        this.log.warn({ err: errorMessage(e) }, 'status page collection failed');
      }
    }
    if (this.opts.hostFacts && (!this.facts || this.now() - this.facts.at >= this.factsTtlMs)) await this.refreshFacts();
    return { report: this.currentReport(), states: this.runner.states(), collectedAt: this.latest?.at, history: this.history };
  }

  private observe(result: ScrapeResult): void {
    const at = this.now();
    // Concurrent scrapes share one collection: record it once.
    if (this.latest?.result === result) return;
    this.latest = { result, at, seq: (this.latest?.seq ?? 0) + 1 };
    this.history.record(result.samples, at);
  }

  private refreshFacts(): Promise<void> {
    const gather = this.opts.hostFacts;
    if (!gather) return Promise.resolve();
    this.factsInFlight ??= gather()
      .then(
        (value) => {
          this.facts = { value, at: this.now() };
        },
        (e: unknown) => {
          this.log.warn({ err: errorMessage(e) }, 'status page: host facts failed');
          this.facts = { value: NO_FACTS, at: this.now() };
        },
      )
      .finally(() => {
        this.factsInFlight = undefined;
      });
    return this.factsInFlight;
  }

  private currentReport(): DoctorReport {
    const forCollection = this.latest?.seq ?? 0;
    const forFacts = this.facts?.at ?? 0;
    if (this.report && this.report.forCollection === forCollection && this.report.forFacts === forFacts) return this.report.value;
    const value = diagnoseCollection(this.latest?.result.samples ?? [], this.runner.states(), this.facts?.value ?? NO_FACTS);
    this.report = { forCollection, forFacts, value };
    return value;
  }
}
