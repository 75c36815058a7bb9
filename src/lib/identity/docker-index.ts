/**
 * Docker's container list, shared by every collector that needs names for container ids, kept current from
 * Docker's event stream instead of being listed on every scrape.
 *
 * - Not watching (or the stream is down): one `GET /containers/json?all=1` serves a whole scrape however many
 *   collectors ask (cached for `ttlMs`, concurrent callers share the request in flight).
 * - Watching (`watch()`): after one full list, `GET /events?filters={"type":["container"]}` streams changes; a
 *   changed container is re-listed alone (`filters={"id":[…]}`) on the next call, a destroyed one dropped, and
 *   the full list is taken again every `resyncMs` in the background, whatever the stream says. A stream that
 *   ends or errors is reopened (1 s, doubling to 30 s) with `since` = the last event seen, so Docker replays
 *   what happened meanwhile, and a full resync follows: no container is lost across a dropped stream.
 * - `oom` followed by `die` with exit code 137 counts an OOM exit of that container (its main process was
 *   OOM-killed): the restart that follows gets a fresh cgroup, whose own counter no longer shows the kill.
 *
 * Read-only: only GET requests are ever made.
 */
import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import { errorMessage } from '../async.js';
import { changesListing, parseContainerEvent } from './docker-event.js';

export interface DockerContainerInfo {
  readonly id: string;
  /** Name without Docker's leading slash. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Docker's `State`: running, exited, paused, restarting, created, dead, removing. */
  readonly state: string;
  /** Docker's human `Status`, e.g. "Up 5 minutes (unhealthy)", as of listedAt. */
  readonly status: string;
  readonly created: number;
  /** When this entry was listed (ms): `status`' relative time is as of then. */
  readonly listedAt: number;
  /** Events seen for this container while watching (start, die, oom, health_status, …): a change means "inspect again". */
  readonly changes: number;
}

const RECONNECT_MIN_MS = 1000, RECONNECT_MAX_MS = 30_000;

export interface WatchStatus {
  readonly watching: boolean;
  readonly streaming: boolean;
  readonly reconnects: number;
  readonly events: number;
  readonly lastError?: string;
}

export class DockerIndex {
  private cached: { at: number; byId: Map<string, DockerContainerInfo> } | undefined;
  private inFlight: Promise<Map<string, DockerContainerInfo>> | undefined;
  private readonly dirty = new Set<string>();
  private readonly oomPending = new Set<string>();
  private readonly oomExitCounts = new Map<string, number>();
  private readonly changeCounts = new Map<string, number>();
  /** Events at the last second seen, so a replay from `since` does not count one twice. */
  private lastEvent: { sec: number; keys: Set<string> } = { sec: 0, keys: new Set() };
  private watchers = 0;
  private stream: IncomingMessage | undefined;
  private streaming = false;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private reconnects = 0;
  private events = 0;
  private lastError: string | undefined;

  constructor(
    private readonly client: () => Docker,
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
    private readonly resyncMs = 60_000,
    private readonly refreshWaitMs = 250,
  ) {}

  /** Running and stopped containers by full id; rejects when Docker cannot be reached. */
  async containers(): Promise<Map<string, DockerContainerInfo>> {
    const c = this.cached;
    if (c && this.streaming) {
      if (this.dirty.size === 0) return c.byId;
      this.inFlight ??= this.refreshDirty(c.byId).finally(() => {
        this.inFlight = undefined;
      });
      // A slow re-list of the containers events named does not hold the scrape: after refreshWaitMs the cached
      // list answers (the changed containers as they were), and the refresh lands for the next caller.
      return this.settledWithin(this.inFlight, c.byId);
    }
    if (c && this.now() - c.at < this.ttlMs) return c.byId;
    this.inFlight ??= this.fetchAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private settledWithin(p: Promise<Map<string, DockerContainerInfo>>, fallback: Map<string, DockerContainerInfo>): Promise<Map<string, DockerContainerInfo>> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(fallback), this.refreshWaitMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        () => {
          clearTimeout(timer);
          resolve(fallback);
        },
      );
    });
  }

  /** Like containers(), but an unreachable Docker yields undefined instead of an error (for optional enrichment). */
  async containersIfReachable(): Promise<Map<string, DockerContainerInfo> | undefined> {
    try {
      return await this.containers();
    } catch {
      return undefined;
    }
  }

  /** OOM exits seen per container id since watching began (only while watching). */
  oomExits(): ReadonlyMap<string, number> {
    return this.oomExitCounts;
  }

  status(): WatchStatus {
    return { watching: this.watchers > 0, streaming: this.streaming, reconnects: this.reconnects, events: this.events, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Starts following Docker's event stream (counted: every watch() has its unwatch()). Never throws. */
  watch(): void {
    if (this.watchers++ > 0) return;
    this.resyncTimer = setInterval(() => void this.resync(), this.resyncMs);
    this.resyncTimer.unref();
    void this.open(undefined);
  }

  unwatch(): void {
    if (this.watchers === 0 || --this.watchers > 0) return;
    clearInterval(this.resyncTimer);
    clearTimeout(this.reconnectTimer);
    this.streaming = false;
    this.stream?.destroy();
    this.stream = undefined;
  }

  /** Full list now (background resync, and after the stream reopens); failures only noted. */
  private async resync(): Promise<void> {
    this.inFlight ??= this.fetchAll().finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight.catch((e: unknown) => {
      this.lastError = `list: ${errorMessage(e)}`;
    });
  }

  private async open(since: number | undefined): Promise<void> {
    if (this.watchers === 0) return;
    let stream: IncomingMessage;
    try {
      const filters = JSON.stringify({ type: ['container'] });
      stream = (await this.client().getEvents({ filters, ...(since !== undefined ? { since } : {}) })) as unknown as IncomingMessage;
    } catch (e) {
      this.lastError = `events: ${errorMessage(e)}`;
      this.scheduleReopen();
      return;
    }
    if (this.watchers === 0) {
      stream.destroy();
      return;
    }
    // the client's request time-out must not cut an idle stream; nor may the stream keep the process alive
    stream.socket?.setTimeout(0);
    stream.socket?.unref();
    this.stream = stream;
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) this.onEvent(line);
      }
    });
    const ended = (why: string): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.streaming = false;
      this.lastError = `events: ${why}`;
      this.scheduleReopen();
    };
    stream.on('error', (e) => ended(errorMessage(e)));
    stream.on('end', () => ended('stream ended'));
    stream.on('close', () => ended('stream closed'));
    // what happened before the stream opened is in this list; later changes come as events
    await this.resync();
    if (this.stream === stream && this.cached) {
      this.streaming = true;
      this.reconnectMs = RECONNECT_MIN_MS;
    }
  }

  private scheduleReopen(): void {
    if (this.watchers === 0 || this.reconnectTimer) return;
    const since = this.lastEvent.sec > 0 ? this.lastEvent.sec : Math.floor(this.now() / 1000) - 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.reconnects++;
      void this.open(since);
    }, this.reconnectMs);
    this.reconnectTimer.unref();
    this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2);
  }

  private onEvent(line: string): void {
    const e = parseContainerEvent(line);
    if (!e) return;
    const { id, action, sec, key } = e;
    // a replay from `since` repeats the events of that second: count each once
    if (sec < this.lastEvent.sec || (sec === this.lastEvent.sec && this.lastEvent.keys.has(key))) return;
    if (sec > this.lastEvent.sec) this.lastEvent = { sec, keys: new Set() };
    this.lastEvent.keys.add(key);
    this.events++;
    if (action === 'oom') this.oomPending.add(id);
    // a start, or a kill by Docker itself (docker stop/restart/kill), is no OOM death
    else if (action === 'start' || action === 'kill') this.oomPending.delete(id);
    else if (action === 'die') {
      if (this.oomPending.delete(id) && e.exitCode === '137') this.oomExitCounts.set(id, (this.oomExitCounts.get(id) ?? 0) + 1);
    }
    if (action === 'destroy') {
      this.cached?.byId.delete(id);
      this.dirty.delete(id);
      this.oomPending.delete(id);
      this.oomExitCounts.delete(id);
      this.changeCounts.delete(id);
      return;
    }
    if (changesListing(action)) {
      this.dirty.add(id);
      this.changeCounts.set(id, (this.changeCounts.get(id) ?? 0) + 1);
    }
  }

  private toInfo(c: Docker.ContainerInfo, at: number): DockerContainerInfo {
    return {
      id: c.Id,
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      image: c.Image ?? '',
      labels: c.Labels ?? {},
      state: c.State ?? '',
      status: c.Status ?? '',
      created: c.Created ?? 0,
      listedAt: at,
      changes: this.changeCounts.get(c.Id) ?? 0,
    };
  }

  private async fetchAll(): Promise<Map<string, DockerContainerInfo>> {
    // marks taken now are answered by this list; events arriving meanwhile mark again
    const asked = [...this.dirty];
    this.dirty.clear();
    let list: Docker.ContainerInfo[];
    try {
      list = await this.client().listContainers({ all: true });
    } catch (e) {
      for (const id of asked) this.dirty.add(id);
      throw e;
    }
    const at = this.now();
    const byId = new Map<string, DockerContainerInfo>();
    for (const c of list) byId.set(c.Id, this.toInfo(c, at));
    for (const id of this.oomExitCounts.keys()) if (!byId.has(id)) this.oomExitCounts.delete(id);
    this.cached = { at, byId };
    return byId;
  }

  /** Re-lists only the containers events named since the last call, into the cached map. */
  private async refreshDirty(byId: Map<string, DockerContainerInfo>): Promise<Map<string, DockerContainerInfo>> {
    const ids = [...this.dirty];
    this.dirty.clear();
    let list: Docker.ContainerInfo[];
    try {
      list = await this.client().listContainers({ all: true, filters: JSON.stringify({ id: ids }) });
    } catch (e) {
      for (const id of ids) this.dirty.add(id);
      throw e;
    }
    const at = this.now();
    const seen = new Set<string>();
    for (const c of list) {
      // the id filter matches prefixes: keep only the asked ones
      if (!ids.includes(c.Id)) continue;
      seen.add(c.Id);
      byId.set(c.Id, this.toInfo(c, at));
    }
    for (const id of ids) if (!seen.has(id)) byId.delete(id);
    return byId;
  }
}
