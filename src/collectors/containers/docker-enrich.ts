/**
 * Docker's view of the containers (state, health, restarts, OOMKilled, start time), off the cgroup hot path:
 * the shared container list plus `inspect` (read-only) only for containers whose State/Status changed since
 * they were last inspected.
 */
import { errorMessage, withTimeout } from '../../lib/async.js';
import type { DockerContainerInfo } from '../../lib/identity/docker-index.js';
import { identityLabels } from '../../lib/identity/process-identity.js';
import type { SampleSink } from '../../metrics.js';
import type { CollectorContext } from '../types.js';
import { healthMetric, oomExits, oomKilledFlag, restarts, startedTime, stateMetric } from './metrics.js';
import type { ContainersOptions } from './options.js';
import { CONTAINER_STATES, HEALTH_STATUSES, containerState, healthStatus, inspectFacts, maxUptimeSeconds, statusWithoutTime, type InspectFacts } from './parse-docker.js';

/** Most concurrent `inspect` requests. */
const INSPECT_CONCURRENCY = 8;
/** Re-inspect every container at least this often, spread by a random share of it so it never comes all at once. */
const INSPECT_MAX_AGE_MS = 5 * 60_000;

export const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

interface InspectCacheEntry {
  /** State + Status (without its relative time) at the inspect; a change triggers a new inspect. */
  key: string;
  facts: InspectFacts | undefined;
  /** Inspected again after this (ms), whatever happens: a restart hidden within Status' rounding is caught late, never missed. */
  refreshAt: number;
}

/** What must stay the same for a cached inspect to stand: state, Status without its time, and no Docker event since. */
const inspectKey = (c: DockerContainerInfo): string => `${c.state}|${statusWithoutTime(c.status)}|${c.changes}`;

/** Whether the cached inspect no longer describes the listed container. */
function inspectStale(c: DockerContainerInfo, cached: InspectCacheEntry | undefined, now: number): boolean {
  if (!cached || cached.key !== inspectKey(c) || now >= cached.refreshAt) return true;
  // up for less time (as of the listing) than since the start we know of: restarted in between
  const upAtMost = maxUptimeSeconds(c.status);
  const started = cached.facts?.startedAt;
  return upAtMost !== undefined && started !== undefined && upAtMost + 5 < c.listedAt / 1000 - started;
}

/** A request that died with its connection before any answer (socket hang up, ECONNRESET, EPIPE). */
function isConnectionReset(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || (e instanceof Error && e.message === 'socket hang up');
}

/** Runs fn over items with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface DockerView {
  readonly list?: ReadonlyMap<string, DockerContainerInfo>;
  readonly error?: string;
}

export class DockerEnrichment {
  private readonly inspectCache = new Map<string, InspectCacheEntry>();
  inspects = 0;
  /** Docker's part gets at most this share of the collector time-out, so the cgroup part is always served. */
  private readonly budgetMs: number;

  constructor(private readonly ctx: CollectorContext<ContainersOptions>) {
    this.budgetMs = Math.max(200, ctx.timeoutSeconds * 1000 * 0.6);
    if (ctx.options.docker !== false) ctx.shared.dockerIndex.watch();
  }

  /** Facts for the landing page. */
  describe(): Record<string, string> {
    const s = this.ctx.shared.dockerIndex.status();
    if (!s.watching) return {};
    return {
      'Docker event stream': `${s.streaming ? 'open' : 'down'}, ${s.events} event(s), ${s.reconnects} reconnect(s)${s.lastError ? ` (last error: ${s.lastError})` : ''}`,
      'Docker inspects since start': String(this.inspects),
    };
  }

  close(): void {
    if (this.ctx.options.docker !== false) this.ctx.shared.dockerIndex.unwatch();
  }

  /** This scrape's container list with fresh inspects of what changed; never rejects. */
  async view(signal: AbortSignal): Promise<DockerView> {
    const { ctx } = this;
    if (ctx.options.docker === false) return {};
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.budgetMs)]);
    let list: Map<string, DockerContainerInfo>;
    try {
      list = await withTimeout(ctx.shared.dockerIndex.containers(), this.budgetMs / 1000, { what: 'Docker API' });
    } catch (e) {
      return { error: `Docker API: ${errorMessage(e)}` };
    }
    // inspect (read-only) only what changed since the last inspect; forget what is gone
    for (const id of this.inspectCache.keys()) if (!list.has(id)) this.inspectCache.delete(id);
    const wanted = [...list.values()].filter((c) => ctx.options.include_stopped || ACTIVE_STATES.has(c.state));
    const now = Date.now();
    const stale = wanted.filter((c) => inspectStale(c, this.inspectCache.get(c.id), now));
    const failures: string[] = [];
    await eachLimited(stale, INSPECT_CONCURRENCY, async (c) => {
      if (deadline.aborted) return;
      try {
        this.inspects++;
        const inspect = (): Promise<unknown> => ctx.shared.docker().getContainer(c.id).inspect({ abortSignal: deadline });
        // a kept-alive connection closed by the other end just as it was reused (a socket proxy's idle time-out)
        // fails a GET that never reached Docker: it is asked once more
        const body: unknown = await inspect().catch((e: unknown) => {
          if (deadline.aborted || !isConnectionReset(e)) throw e;
          return inspect();
        });
        this.inspectCache.set(c.id, { key: inspectKey(c), facts: inspectFacts(body), refreshAt: Date.now() + INSPECT_MAX_AGE_MS * (1 + Math.random()) });
      } catch (e) {
        const status = (e as { statusCode?: unknown }).statusCode;
        if (status === 404) this.inspectCache.delete(c.id); // removed since the list: skipped silently
        else failures.push(deadline.aborted ? 'time budget exhausted' : errorMessage(e));
      }
    });
    if (failures.length > 0) return { list, error: `Docker inspect failed for ${failures.length} container(s): ${failures[0] as string}` };
    return { list };
  }

  /** Docker's series of one listed container. */
  emit(sink: SampleSink, info: DockerContainerInfo): void {
    const labels = identityLabels({ runtime: 'docker', id: info.id }, info);
    const st = containerState(info.state);
    for (const s of CONTAINER_STATES) sink.set(stateMetric, { ...labels, state: s }, s === st ? 1 : 0);
    const facts = this.inspectCache.get(info.id)?.facts;
    const health = healthStatus(info.status, facts?.health);
    for (const h of HEALTH_STATUSES) sink.set(healthMetric, { ...labels, status: h }, h === health ? 1 : 0);
    const { watching } = this.ctx.shared.dockerIndex.status();
    if (watching) sink.set(oomExits, labels, this.ctx.shared.dockerIndex.oomExits().get(info.id) ?? 0);
    if (facts) {
      sink.set(restarts, labels, facts.restartCount);
      sink.set(oomKilledFlag, labels, facts.oomKilled ? 1 : 0);
      if (facts.startedAt !== undefined) sink.set(startedTime, labels, facts.startedAt);
    }
  }
}
