/**
 * A short-lived cache of Docker's container list, shared by every collector that needs names for container
 * ids. One `GET /containers/json` serves a whole scrape however many collectors ask, and concurrent callers
 * share the request in flight. Read-only: only GET requests are ever made.
 */
import type Docker from 'dockerode';

export interface DockerContainerInfo {
  readonly id: string;
  /** Name without Docker's leading slash. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Docker's `State`: running, exited, paused, restarting, created, dead, removing. */
  readonly state: string;
  /** Docker's human `Status`, e.g. "Up 5 minutes (unhealthy)". */
  readonly status: string;
  readonly created: number;
}

export class DockerIndex {
  private cached: { at: number; byId: Map<string, DockerContainerInfo> } | undefined;
  private inFlight: Promise<Map<string, DockerContainerInfo>> | undefined;

  constructor(
    private readonly client: () => Docker,
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Running and stopped containers by full id; rejects when Docker cannot be reached. */
  async containers(): Promise<Map<string, DockerContainerInfo>> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.byId;
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Like containers(), but an unreachable Docker yields undefined instead of an error (for optional enrichment). */
  async containersIfReachable(): Promise<Map<string, DockerContainerInfo> | undefined> {
    try {
      return await this.containers();
    } catch {
      return undefined;
    }
  }

  private async fetch(): Promise<Map<string, DockerContainerInfo>> {
    const list = await this.client().listContainers({ all: true });
    const byId = new Map<string, DockerContainerInfo>();
    for (const c of list) {
      byId.set(c.Id, {
        id: c.Id,
        name: (c.Names?.[0] ?? '').replace(/^\//, ''),
        image: c.Image ?? '',
        labels: c.Labels ?? {},
        state: c.State ?? '',
        status: c.Status ?? '',
        created: c.Created ?? 0,
      });
    }
    this.cached = { at: this.now(), byId };
    return byId;
  }
}
