/**
 * One Redis database watched by the queues collector: its connection, its cached discovery, and the scrape
 * pipeline. Cost per scrape in steady state: ONE pipelined round trip carrying CLIENT LIST and, per queue,
 * its fixed read-only commands (parse-counts.ts), the due-delayed count, one event-stream read (BullMQ,
 * events.ts) and the processedOn of the job active longest when it is the same job as last time. A second
 * round trip happens only when a queue's next waiting job or longest-active job changed (their job hashes
 * can be read only once their ids are known; enqueue timestamps are cached by job id, so an unchanged next
 * job costs nothing) or when an event stream was trimmed past the last id read.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { errorMessage, raceSignal } from '../../lib/async.js';
import type { Logger } from '../../logger.js';
import type { SampleSink } from '../../metrics.js';
import { Discovery, type KnownQueue } from './discovery.js';
import { eventCommand, newStreamState, readEvents, settleGap, type StreamState } from './events.js';
import { queueBacklog, queueEvents, queueEventsLost, queueInfo, queueJobs, queueOldest, queueOldestActive, queuePaused, queuesCapped, queuesDiscovered, queueWorkers } from './metrics.js';
import { clientOptions, newRedis, redisLabel, where, type Options } from './options.js';
import { clientNames, countWorkers } from './parse-client-list.js';
import { dueCommand, FIXED_COMMANDS, interpretCounts, jobKey, oldestAgeSeconds, parseTimestamp, QueueGone, queueKey, type Command, type QueueCounts, type Reply } from './parse-counts.js';
import type { QueueFilter } from './parse-keys.js';

/** Queues per pipeline chunk and per slice of reply handling between two turns of the event loop. */
const QUEUES_PER_CHUNK = 500;

/** Lets timers and I/O callbacks (the other collectors, their time-outs) run; stops here once the scrape is aborted. */
async function yieldToEventLoop(signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

/** Per-queue memory between scrapes. */
interface QueueMemory {
  /** Enqueue timestamps of the last waiting candidates, by job id (a job's `timestamp` never changes). */
  timestamps: Map<string, number>;
  /** The job active longest at the last scrape: its processedOn is asked in the first round trip. */
  activeId: string | undefined;
  readonly stream: StreamState;
}

export interface Cost {
  roundTrips: number;
  commands: number;
}

export class RedisTarget {
  private client: Redis | undefined;
  private lastError = '';
  private known: KnownQueue[] | undefined;
  private found = 0;
  private capped = false;
  private discoveredAt = 0;
  private discovering: Promise<void> | undefined;
  private discoveryNote = 'not yet';
  private memory = new Map<string, QueueMemory>();
  lastCost: Cost = { roundTrips: 0, commands: 0 };
  readonly label: string;
  readonly where: string;
  private readonly discovery: Discovery;

  constructor(
    private readonly url: string,
    private readonly o: Options,
    filter: QueueFilter,
    private readonly timeoutSeconds: number,
    log: Logger,
  ) {
    this.label = redisLabel(url, o);
    this.where = where(url, o);
    this.discovery = new Discovery(filter, o.max_queues, log, this.where);
  }

  private redis(): Redis {
    if (!this.client) {
      const c = newRedis(clientOptions(this.url, this.o, this.timeoutSeconds));
      // ioredis reports connection trouble as events; keep the latest for the error message (never the URL's password).
      c.on('error', (e: Error) => {
        this.lastError = e.message;
      });
      c.on('ready', () => {
        this.lastError = '';
      });
      this.client = c;
    }
    return this.client;
  }

  /** The client once it is ready; waits a bounded time for a (re)connection, then fails with the last error. */
  private async ready(signal: AbortSignal): Promise<Redis> {
    const c = this.redis();
    if (c.status === 'ready') return c;
    if (c.status === 'wait' || c.status === 'end') c.connect().catch(() => undefined);
    const waitMs = Math.min(1500, this.timeoutSeconds * 500);
    const ok = await raceSignal(
      new Promise<boolean>((resolve) => {
        const done = (v: boolean): void => {
          clearTimeout(timer);
          c.off('ready', onReady);
          resolve(v);
        };
        const onReady = (): void => done(true);
        const timer = setTimeout(() => done(c.status === 'ready'), waitMs);
        c.on('ready', onReady);
      }),
      signal,
    );
    if (!ok) throw new Error(`Redis at ${this.where} unavailable: ${this.lastError || `connection ${c.status}`}`);
    return c;
  }

  private startDiscovery(client: Redis, signal: AbortSignal): Promise<void> {
    return this.discovery.run(client, signal, (cmds) => this.run(client, cmds, signal)).then((r) => {
      const keep = new Set(r.queues.map((q) => q.key));
      for (const k of this.memory.keys()) if (!keep.has(k)) this.memory.delete(k);
      this.known = r.queues;
      this.found = r.found;
      this.capped = r.capped;
      this.discoveredAt = Date.now();
      this.discoveryNote = r.note;
    });
  }

  async collect(sink: SampleSink, signal: AbortSignal): Promise<void> {
    const client = await this.ready(signal);
    const now = Date.now();
    if (!this.known) {
      await this.startDiscovery(client, signal);
    } else if (now - this.discoveredAt >= this.o.discovery_interval * 1000 && !this.discovering) {
      // Refresh in the background: this scrape keeps the cached list and stays one round trip.
      this.discovering = this.startDiscovery(client, AbortSignal.timeout(30_000))
        .catch((e: unknown) => {
          this.discoveryNote = `refresh failed: ${errorMessage(e)}`;
        })
        .finally(() => {
          this.discovering = undefined;
        });
    }
    const redis = this.label;
    sink.set(queuesDiscovered, { redis }, this.found);
    sink.set(queuesCapped, { redis }, this.capped ? 1 : 0);
    const queues = this.known ?? [];
    const workers = this.o.workers;
    const maxEvents = this.o.events_per_scrape;
    if (queues.length === 0 && !workers) {
      this.lastCost = { roundTrips: 0, commands: 0 };
      return;
    }

    // The pipeline is built from each queue's precomputed commands, in chunks of QUEUES_PER_CHUNK queues:
    // each chunk is sent as soon as it is built, without waiting for the replies of the ones before (still
    // one round trip of latency), and the event loop gets a turn between chunks, so thousands of queues
    // never hold the exporter's only thread long enough to time out the other collectors of the scrape.
    const sent: Array<Promise<Reply[]>> = [];
    let pipe = client.pipeline();
    const send = (): void => {
      const p = this.exec(pipe, signal);
      p.catch(() => undefined); // awaited below with the others; never an unhandled rejection meanwhile
      sent.push(p);
      pipe = client.pipeline();
    };
    if (workers) pipe.call('client', 'list');
    let commands = workers ? 1 : 0;
    const starts: number[] = [];
    const mems: QueueMemory[] = [];
    for (const [i, q] of queues.entries()) {
      let mem = this.memory.get(q.key);
      if (!mem) this.memory.set(q.key, (mem = { timestamps: new Map(), activeId: undefined, stream: newStreamState() }));
      mems.push(mem);
      starts.push(commands);
      for (const [name, ...args] of q.fixed) pipe.call(name, ...args);
      const [dn, ...da] = dueCommand(q.ref, now);
      pipe.call(dn, ...da);
      commands += q.fixed.length + 1;
      if (q.cls.library === 'bullmq') {
        const [en, ...ea] = eventCommand(queueKey(q.ref, 'events'), mem.stream, maxEvents);
        pipe.call(en, ...ea);
        commands += 1;
      }
      if (mem.activeId !== undefined) {
        pipe.call('hget', jobKey(q.ref, mem.activeId), 'processedOn');
        commands += 1;
      }
      if ((i + 1) % QUEUES_PER_CHUNK === 0 && i + 1 < queues.length) {
        send();
        await yieldToEventLoop(signal);
      }
    }
    send();
    const replies = (await Promise.all(sent)).flat();
    let roundTrips = 1;

    const problems: string[] = [];
    let gone = false;
    let workerCounts: number[] | undefined;
    if (workers) {
      const r = replies[0];
      if (r && !r[0] && typeof r[1] === 'string') workerCounts = countWorkers(clientNames(r[1]), queues.map((q) => ({ ref: q.ref, library: q.cls.library })));
      else problems.push(`CLIENT LIST failed (${r?.[0]?.message ?? 'no reply'}): worker counts left out; allow +client|list or set workers=false`);
    }

    interface Result {
      counts: QueueCounts;
      /** processedOn read in this round trip for the cached active id. */
      activeStarted: number | undefined;
    }
    const results: Array<Result | undefined> = [];
    const gaps: Array<{ i: number; previousIndex: number | undefined; fresh: number }> = [];
    for (const [i, q] of queues.entries()) {
      if (i > 0 && i % QUEUES_PER_CHUNK === 0) await yieldToEventLoop(signal);
      const mem = mems[i] as QueueMemory;
      let at = starts[i] as number;
      const n = FIXED_COMMANDS[q.cls.library] + 1;
      const mine = replies.slice(at, at + n);
      at += n;
      try {
        const counts = interpretCounts({ ref: q.ref, library: q.cls.library }, mine);
        if (q.cls.library === 'bullmq') {
          try {
            const ev = readEvents(queueKey(q.ref, 'events'), mem.stream, replies[at], maxEvents);
            if (ev.gap) gaps.push({ i, previousIndex: ev.previousIndex, fresh: ev.fresh });
          } catch (e) {
            problems.push(errorMessage(e));
          }
          at += 1;
        }
        let activeStarted: number | undefined;
        if (mem.activeId !== undefined) {
          const r = replies[at];
          if (counts.activeCandidate === mem.activeId && r && !r[0]) activeStarted = parseTimestamp(r[1]);
        }
        results.push({ counts, activeStarted });
      } catch (e) {
        if (e instanceof QueueGone) gone = true;
        else problems.push(errorMessage(e));
        results.push(undefined);
      }
    }

    // Nothing readable at all (every command timed out, …): a failure, not partial data.
    if (queues.length > 0 && problems.length > 0 && results.every((r) => r === undefined)) {
      throw new Error(`Redis at ${this.where}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
    }

    // Second round trip only for what the first could not ask: timestamps of new next-in-line jobs, the
    // processedOn of a new longest-active job, and XINFO STREAM for a trimmed event stream.
    const follow: Command[] = [];
    const onReply: Array<(r: Reply | undefined) => void> = [];
    const fetchedActive = new Map<number, number>();
    results.forEach((r, i) => {
      if (!r) return;
      const q = queues[i] as KnownQueue;
      const mem = mems[i] as QueueMemory;
      for (const id of r.counts.waitingCandidates) {
        if (mem.timestamps.has(id)) continue;
        follow.push(['hget', jobKey(q.ref, id), 'timestamp']);
        onReply.push((x) => {
          const ts = x && !x[0] ? parseTimestamp(x[1]) : undefined;
          if (ts !== undefined) mem.timestamps.set(id, ts);
        });
      }
      const a = r.counts.activeCandidate;
      if (a !== undefined && r.activeStarted === undefined) {
        follow.push(['hget', jobKey(q.ref, a), 'processedOn']);
        onReply.push((x) => {
          const ts = x && !x[0] ? parseTimestamp(x[1]) : undefined;
          if (ts !== undefined) fetchedActive.set(i, ts);
        });
      }
    });
    for (const g of gaps) {
      const q = queues[g.i] as KnownQueue;
      const mem = mems[g.i] as QueueMemory;
      follow.push(['xinfo', 'stream', queueKey(q.ref, 'events')]);
      onReply.push((x) => settleGap(mem.stream, g.previousIndex, x, g.fresh));
    }
    if (follow.length > 0) {
      const more = await this.run(client, follow, signal);
      roundTrips += 1;
      commands += follow.length;
      onReply.forEach((f, k) => f(more[k]));
    }

    const nowMs = Date.now();
    for (const [i, r] of results.entries()) {
      if (i > 0 && i % QUEUES_PER_CHUNK === 0) await yieldToEventLoop(signal);
      const q = queues[i] as KnownQueue;
      const mem = mems[i] as QueueMemory;
      if (!r) continue;
      const labels = { redis, prefix: q.ref.prefix, queue: q.label };
      sink.set(queueInfo, { ...labels, library: q.cls.library, version: q.cls.version, name: q.renamed }, 1);
      for (const [state, n] of r.counts.states) sink.set(queueJobs, { ...labels, state }, n);
      sink.set(queueBacklog, labels, r.counts.backlog);
      sink.set(queuePaused, labels, r.counts.paused ? 1 : 0);
      const age = oldestAgeSeconds(r.counts.waitingCandidates, mem.timestamps, nowMs);
      if (age !== undefined) sink.set(queueOldest, labels, age);
      // Keep only the current candidates' timestamps: the cache stays as small as the queue list.
      for (const id of mem.timestamps.keys()) if (!r.counts.waitingCandidates.includes(id)) mem.timestamps.delete(id);
      const started = r.activeStarted ?? fetchedActive.get(i);
      if (started !== undefined) sink.set(queueOldestActive, labels, Math.max(0, (nowMs - started) / 1000));
      mem.activeId = r.counts.activeCandidate;
      if (workerCounts) sink.set(queueWorkers, labels, workerCounts[i] as number);
      if (q.cls.library === 'bullmq' && mem.stream.lastId !== undefined) {
        for (const [event, n] of mem.stream.counts) sink.set(queueEvents, { ...labels, event }, n);
        sink.set(queueEventsLost, labels, mem.stream.lost);
      }
    }
    this.lastCost = { roundTrips, commands };
    if (gone) this.discoveredAt = 0; // a queue vanished: rediscover on the next scrape
    if (problems.length > 0) sink.degraded(problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : ''));
  }

  private run(client: Redis, commands: readonly Command[], signal: AbortSignal): Promise<Reply[]> {
    const pipe = client.pipeline();
    for (const [name, ...args] of commands) pipe.call(name, ...args);
    return this.exec(pipe, signal);
  }

  private async exec(pipe: ChainableCommander, signal: AbortSignal): Promise<Reply[]> {
    try {
      return await raceSignal(
        pipe.exec().then((r) => (r ?? []).map(([e, v]) => [e, v] as Reply)),
        signal,
      );
    } catch (e) {
      throw new Error(`Redis at ${this.where}: ${errorMessage(e)}`);
    }
  }

  describe(): Record<string, string> {
    const libs = new Map<string, number>();
    for (const q of this.known ?? []) libs.set(q.cls.library, (libs.get(q.cls.library) ?? 0) + 1);
    return {
      redis: this.where,
      discovery: this.discoveryNote,
      queues: [...libs].map(([l, n]) => `${n} ${l}`).join(', ') || 'none',
      'last scrape': `${this.lastCost.roundTrips} round trip(s), ${this.lastCost.commands} commands`,
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    try {
      await raceSignal(c.quit(), AbortSignal.timeout(1000));
    } catch {
      c.disconnect();
    }
  }
}
