/** Pure helpers for the Docker Engine API fields the containers collector turns into series. */

/** Docker's `State` values; silentwatch_container_state has one series per value. */
export const CONTAINER_STATES = ['running', 'paused', 'restarting', 'exited', 'created', 'dead', 'removing'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

export const HEALTH_STATUSES = ['healthy', 'unhealthy', 'starting', 'none'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** A Docker `State` string as one of the known states, or undefined for anything else. */
export function containerState(state: string): ContainerState | undefined {
  const s = state.trim().toLowerCase();
  return (CONTAINER_STATES as readonly string[]).includes(s) ? (s as ContainerState) : undefined;
}

/**
 * Health from Docker's human `Status` of the container list ("Up 5 minutes (unhealthy)",
 * "Up 3 seconds (health: starting)"), or from inspect's `State.Health.Status` when given. A container
 * without a HEALTHCHECK is `none`.
 */
export function healthStatus(status: string, inspectHealth?: string): HealthStatus {
  const h = inspectHealth?.trim().toLowerCase();
  if (h === 'healthy' || h === 'unhealthy' || h === 'starting') return h;
  if (/\(unhealthy\)/.test(status)) return 'unhealthy';
  if (/\(healthy\)/.test(status)) return 'healthy';
  if (/\(health: starting\)/.test(status)) return 'starting';
  return 'none';
}

/**
 * Unix seconds from an RFC 3339 timestamp with up to nanosecond precision ("2026-11-23T20:49:43.123456789Z").
 * Docker's zero time ("0001-01-01T00:00:00Z", a container never started) and anything unparseable give undefined.
 */
export function parseDockerTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s.trim());
  if (!m) return undefined;
  const whole = Date.parse(`${m[1] as string}${m[3] as string}`);
  if (!Number.isFinite(whole) || whole <= 0) return undefined;
  const frac = m[2] ? Number(`0.${m[2]}`) : 0;
  return whole / 1000 + frac;
}

/** The fields of `GET /containers/<id>/json` the collector keeps, validated; undefined when the shape is wrong. */
export interface InspectFacts {
  readonly restartCount: number;
  readonly oomKilled: boolean;
  readonly startedAt?: number;
  readonly health?: string;
}

export function inspectFacts(body: unknown): InspectFacts | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { RestartCount?: unknown; State?: { OOMKilled?: unknown; StartedAt?: unknown; Health?: { Status?: unknown } } };
  if (typeof b.State !== 'object' || b.State === null) return undefined;
  const restartCount = typeof b.RestartCount === 'number' && Number.isSafeInteger(b.RestartCount) && b.RestartCount >= 0 ? b.RestartCount : undefined;
  if (restartCount === undefined || typeof b.State.OOMKilled !== 'boolean') return undefined;
  const startedAt = typeof b.State.StartedAt === 'string' ? parseDockerTime(b.State.StartedAt) : undefined;
  const health = typeof b.State.Health?.Status === 'string' ? b.State.Health.Status : undefined;
  return { restartCount, oomKilled: b.State.OOMKilled, ...(startedAt !== undefined ? { startedAt } : {}), ...(health !== undefined ? { health } : {}) };
}
