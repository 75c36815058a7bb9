/**
 * The `servers` option: a YAML list of `{name, url, api_key?}`, or for flags and environment variables a
 * compact `name=url,name2=url2` string (a bare URL takes its host:port as name). Pure; never echoes keys.
 */

export interface ServerSpec {
  readonly name: string;
  /** Base URL without trailing slash. */
  readonly url: string;
  readonly apiKey?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function normaliseUrl(url: string): string | undefined {
  try {
    const u = new URL(url.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    if (u.search || u.hash || u.username || u.password) return undefined;
    return u.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** Parses one `name=url` or bare `url` entry; an error string names the problem without the value's secrets. */
export function parseServerEntry(entry: string): ServerSpec | string {
  const s = entry.trim();
  const eq = s.indexOf('=');
  const looksNamed = eq > 0 && !s.slice(0, eq).includes('://');
  const rawUrl = looksNamed ? s.slice(eq + 1) : s;
  const url = normaliseUrl(rawUrl);
  if (!url) return `server entry ${looksNamed ? JSON.stringify(s.slice(0, eq).slice(0, 64)) : "(bare URL)"}: expected an http(s) URL without credentials or query string (API keys go in api_key)`;
  const name = looksNamed ? s.slice(0, eq).trim() : new URL(url).host;
  if (!NAME.test(name)) return `server name ${JSON.stringify(name.slice(0, 64))}: expected letters, digits, _ . : - (at most 64)`;
  return { name, url };
}

export function validateServers(list: readonly ServerSpec[]): string | undefined {
  const seen = new Set<string>();
  for (const s of list) {
    if (!NAME.test(s.name)) return `server name ${JSON.stringify(s.name.slice(0, 64))}: expected letters, digits, _ . : - (at most 64)`;
    if (seen.has(s.name)) return `server name ${JSON.stringify(s.name)} is used twice`;
    seen.add(s.name);
  }
  return undefined;
}
