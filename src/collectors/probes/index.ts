/**
 * HTTP probes: configured targets, the Immich ML preset (`GET /ping` → `pong` on :3003) and balancers
 * whose backend list (an IMML_BACKENDS-style `host[:port],…` string) expands into one target per backend
 * plus the balancer itself, so "one backend gone" and "all gone" are different alerts. Each probe carries
 * its role (balancer, backend, target): the balancer is the one URL its clients know, so the balancer down
 * hurts them as much as every backend down, while one backend down only costs capacity. Every probe runs
 * concurrently under its own time-out (never beyond the collector's), through httpGet.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage } from '../../lib/async.js';
import { duration, stringList } from '../../lib/config-values.js';
import { httpGet, HttpError } from '../../lib/http.js';
import { VERSION } from '../../version.js';
import { defineCollector } from '../types.js';
import { probeDuration, statusCode, success } from './metrics.js';
import { checkResponse, hostPortOf, IMMICH_ML_PORT, parseBackendList, parseCompactTargets, type Expectation } from './parse-targets.js';

export const IMMICH_ML_GROUP = 'immich_ml';
/**
 * What a probe's target is to its users: `balancer` (the one URL clients use, in front of backends),
 * `backend` (one of several that can stand in for each other) or `target` (a plain URL on its own).
 */
export const PROBE_ROLES = ['balancer', 'backend', 'target'] as const;
export type ProbeRole = (typeof PROBE_ROLES)[number];
const IMMICH_PING = { path: '/ping', body: 'pong' } as const;

const httpUrl = z.string().refine((u) => hostPortOf(u) !== undefined, 'expected an http:// or https:// URL');
const statusList = z
  .union([z.number(), z.array(z.number())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.number().int().min(100).max(599)));
const labelName = z.string().regex(/^[A-Za-z0-9_.:@[\]-]{1,128}$/, 'expected a short name (letters, digits, _ . : - @ [ ])');

const targetSchema = z
  .object({
    name: labelName.optional(),
    url: httpUrl,
    expect_status: statusList.optional(),
    expect_body: z.string().optional(),
    group: labelName.optional(),
    role: z.enum(PROBE_ROLES).optional(),
  })
  .strict();
const balancerSchema = z
  .object({
    name: labelName,
    url: httpUrl,
    backends: z.union([z.string(), z.array(z.string())]),
    path: z.string().startsWith('/').default(IMMICH_PING.path),
    expect_body: z.string().default(IMMICH_PING.body),
    default_port: z.number().int().min(1).max(65535).default(IMMICH_ML_PORT),
  })
  .strict()
  .superRefine((b, ctx) => {
    const { backends, invalid } = parseBackendList(b.backends, b.default_port);
    if (invalid.length > 0) ctx.addIssue({ code: 'custom', message: `invalid backend(s) ${invalid.map((i) => JSON.stringify(i)).join(', ')}: expected host[:port]` });
    if (backends.length === 0 && invalid.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one backend' });
  });

/** A YAML/JSON list (typed in the file, or as a flow-style string from a flag or env var). */
function yamlString(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (v.trim() === '') return [];
  try {
    return parseYaml(v) as unknown;
  } catch {
    return v;
  }
}

export type TargetOption = z.output<typeof targetSchema>;
export type BalancerOption = z.output<typeof balancerSchema>;

export interface ProbeTarget {
  readonly group: string;
  readonly target: string;
  readonly role: ProbeRole;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expect: Expectation;
}

/** Moves user:password out of the URL (fetch refuses credentials in URLs) into a Basic header. */
function splitCredentials(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  const headers: Record<string, string> = { 'user-agent': `silentwatch/${VERSION}` };
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u.toString(), headers };
}

const backendUrl = (host: string, port: number, path: string): string => `http://${host}:${port}${path}`;
const joinPath = (base: string, path: string): string => {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/+$/, '') + path;
  return u.toString();
};

/** Every probe the options describe, de-duplicated on (group, target). */
export function expandTargets(o: { targets: readonly TargetOption[]; immich_ml: readonly string[]; balancers: readonly BalancerOption[] }): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  const seen = new Set<string>();
  const add = (group: string, target: string, role: ProbeRole, rawUrl: string, expect: Expectation): void => {
    const k = `${group}\u0000${target}`;
    if (seen.has(k)) return;
    seen.add(k);
    const { url, headers } = splitCredentials(rawUrl);
    out.push({ group, target, role, url, headers, expect });
  };
  for (const t of o.targets) {
    const name = t.name ?? (hostPortOf(t.url) as string);
    add(t.group ?? name, name, t.role ?? 'target', t.url, { status: t.expect_status ?? [], ...(t.expect_body !== undefined ? { body: t.expect_body } : {}) });
  }
  // Immich itself fails over between several machine-learning URLs: each is a backend of the group.
  for (const b of parseBackendList(o.immich_ml).backends) {
    add(IMMICH_ML_GROUP, `${b.host}:${b.port}`, 'backend', backendUrl(b.host, b.port, IMMICH_PING.path), { status: [], body: IMMICH_PING.body });
  }
  for (const bal of o.balancers) {
    const expect: Expectation = { status: [], body: bal.expect_body };
    add(bal.name, hostPortOf(bal.url) as string, 'balancer', joinPath(bal.url, bal.path), expect);
    for (const b of parseBackendList(bal.backends, bal.default_port).backends) add(bal.name, `${b.host}:${b.port}`, 'backend', backendUrl(b.host, b.port, bal.path), expect);
  }
  return out;
}

export const probesCollector = defineCollector({
  name: 'probes',
  description: 'HTTP probes of ML backends (Immich ML /ping presets, balancers expanded into one probe per backend) and other configured URLs.',
  defaultEnabled: 'auto',
  options: z.object({
    targets: z
      .preprocess(yamlString, z.union([z.array(targetSchema), z.string().transform((s): Array<z.input<typeof targetSchema>> => parseCompactTargets(s)).pipe(z.array(targetSchema))]))
      .prefault([])
      .describe('HTTP targets: a YAML list of {name, url, expect_status?, expect_body?, group?, role?}, or name=url,… on a flag or env var. Success = expected status (default any 2xx) and body containing expect_body. role is balancer, backend or target (default).'),
    immich_ml: stringList()
      .superRefine((list, ctx) => {
        const { invalid } = parseBackendList(list);
        if (invalid.length > 0) ctx.addIssue({ code: 'custom', message: `invalid backend(s) ${invalid.map((i) => JSON.stringify(i)).join(', ')}: expected host[:port]` });
      })
      .prefault([])
      .describe(`Immich ML backends, host[:port] comma-separated (port ${IMMICH_ML_PORT} by default): each is probed with GET /ping expecting "pong" (group ${IMMICH_ML_GROUP}).`),
    balancers: z
      .preprocess(yamlString, z.array(balancerSchema))
      .prefault([])
      .describe('Balancers: a YAML list of {name, url, backends} where backends is an IMML_BACKENDS-style host[:port],… string; one probe for the balancer and one per backend, all in group <name> (path /ping, body pong, port 3003 unless path, expect_body, default_port say otherwise).'),
    probe_timeout: duration().prefault('3s').describe('Time-out of one probe (kept below the collector time-out).'),
  }),
  metrics: [success, probeDuration, statusCode],
  detect(ctx) {
    const n = expandTargets(ctx.options).length;
    return Promise.resolve(n > 0 ? { present: true, reason: `${n} target(s) configured` } : { present: false, reason: 'no targets configured (--collector.probes.targets, .immich-ml, .balancers)' });
  },
  create(ctx) {
    const targets = expandTargets(ctx.options);
    const timeoutMs = Math.max(100, Math.min(ctx.options.probe_timeout * 1000, ctx.timeoutSeconds * 1000 - 250));
    const lastError = new Map<string, string>();
    return {
      async collect(sink, run) {
        await Promise.all(
          targets.map(async (t) => {
            const labels = { group: t.group, target: t.target, role: t.role };
            const started = performance.now();
            let ok = false;
            let code = 0;
            let why: string | undefined;
            try {
              const res = await httpGet(t.url, { timeoutMs, signal: run.signal, headers: t.headers, maxBytes: 1024 * 1024 });
              code = res.status;
              why = checkResponse(res.status, res.body, t.expect);
              ok = why === undefined;
            } catch (e) {
              // The status line may have arrived before the body stalled or broke off: report that code.
              if (e instanceof HttpError && e.status !== undefined) code = e.status;
              why = errorMessage(e);
            }
            const seconds = Math.min((performance.now() - started) / 1000, timeoutMs / 1000);
            sink.set(success, labels, ok ? 1 : 0);
            sink.set(probeDuration, labels, seconds);
            sink.set(statusCode, labels, code);
            const key = `${t.group}/${t.target}`;
            if (why === undefined) lastError.delete(key);
            else lastError.set(key, why);
          }),
        );
      },
      describe: () => {
        const d: Record<string, string> = { targets: String(targets.length), 'probe time-out': `${timeoutMs} ms` };
        for (const t of targets) d[`${t.group}/${t.target}`] = lastError.get(`${t.group}/${t.target}`) ?? 'ok';
        return d;
      },
    };
  },
});
