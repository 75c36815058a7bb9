/**
 * Pure helpers for probe configuration and results: the IMML_BACKENDS-style backend list of an Immich ML
 * balancer (`host[:port]`, comma-separated, default port 3003), the compact `name=url,…` target form of
 * flags and env vars, label-safe target names, and the success rule of one probe.
 */

export const IMMICH_ML_PORT = 3003;

export interface Backend {
  readonly host: string;
  readonly port: number;
}

/** Parses one `host[:port]` entry (IPv6 as `[::1]:3003` or bare `::1`); undefined when malformed. */
export function parseBackend(entry: string, defaultPort = IMMICH_ML_PORT): Backend | undefined {
  const s = entry.trim();
  if (s === '' || /[\s/@?#]/.test(s)) return undefined;
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = `[${v6[1]}]`;
    portText = v6[2];
  } else if ((s.match(/:/g) ?? []).length > 1) {
    if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
    host = `[${s}]`;
  } else {
    const [h, p] = s.split(':');
    host = h ?? '';
    portText = p;
    if (portText === '') return undefined;
  }
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)$/.test(host)) return undefined;
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** An IMML_BACKENDS value (or a list of entries) to backends; malformed entries are reported, not guessed. */
export function parseBackendList(value: string | readonly string[], defaultPort = IMMICH_ML_PORT): { backends: Backend[]; invalid: string[] } {
  const entries = (typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(','))).map((e) => e.trim()).filter((e) => e !== '');
  const backends: Backend[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const b = parseBackend(e, defaultPort);
    if (!b) invalid.push(e);
    else if (!seen.has(`${b.host}:${b.port}`)) {
      seen.add(`${b.host}:${b.port}`);
      backends.push(b);
    }
  }
  return { backends, invalid };
}

/** `host:port` of a URL (port always explicit), for use as a label: never the path, query or credentials. */
export function hostPortOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/** `name=url,name2=url2` (or bare URLs, named by host:port) from a flag or env var. */
export function parseCompactTargets(value: string): Array<{ name: string; url: string }> {
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => {
      const eq = e.indexOf('=');
      const beforeScheme = eq >= 0 && !e.slice(0, eq).includes('://');
      const name = beforeScheme ? e.slice(0, eq).trim() : '';
      const url = beforeScheme ? e.slice(eq + 1).trim() : e;
      return { name: name || (hostPortOf(url) ?? url), url };
    });
}

export interface Expectation {
  /** Accepted status codes; empty = any 2xx. */
  readonly status: readonly number[];
  /** Substring the body must contain (after trimming); undefined = body not checked. */
  readonly body?: string;
}

/** Why a response does not meet the expectation, or undefined when it does. */
export function checkResponse(status: number, body: string, expect: Expectation): string | undefined {
  const statusOk = expect.status.length === 0 ? status >= 200 && status <= 299 : expect.status.includes(status);
  if (!statusOk) return `status ${status}, expected ${expect.status.length === 0 ? '2xx' : expect.status.join('|')}`;
  if (expect.body !== undefined && !body.trim().includes(expect.body)) return `body does not contain ${JSON.stringify(expect.body)}`;
  return undefined;
}
