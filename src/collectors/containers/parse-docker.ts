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

/**
 * Docker's `Status` without its relative time ("Up 5 minutes (healthy)" → "Up (healthy)",
 * "Exited (137) 3 minutes ago" → "Exited (137)"): what changes when the container's situation changes,
 * not every second as the time does.
 */
export function statusWithoutTime(status: string): string {
  return status
    .replace(/^Up (?:Less than a second|About an? (?:minute|hour)|\d+ (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?))/, 'Up')
    .replace(/ (?:Less than a second|About an? (?:minute|hour)|\d+ (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)) ago$/, '')
    .trim();
}

const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 7 * 86400, month: 30 * 86400, year: 365 * 86400 };

/**
 * The longest uptime an "Up …" Status can stand for (Docker's HumanDuration rounds down to its unit), in
 * seconds; undefined when the container is not up. If a container has been up for less than the time since
 * the start we know of, it has restarted since.
 */
export function maxUptimeSeconds(status: string): number | undefined {
  const m = /^Up (Less than a second|About an? (minute|hour)|(\d+) (second|minute|hour|day|week|month|year)s?)\b/.exec(status);
  if (!m) return undefined;
  if (m[1] === 'Less than a second') return 1;
  if (m[2]) return m[2] === 'minute' ? 120 : 7200;
  const unit = UNIT_SECONDS[m[4] as string] as number;
  return (Number(m[3]) + 1) * unit;
}
