/**
 * zod building blocks for option values. Each accepts both the typed YAML form and the string form that
 * flags and environment variables deliver, so one schema validates every source.
 */
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses Go/Prometheus-style durations ("500ms", "5s", "1m30s") or a bare number of seconds. */
export function parseDuration(input: string): number | undefined {
  const s = input.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  return consumed === s.length && consumed > 0 ? total : undefined;
}

/** A duration in seconds: `5s`, `500ms`, `1m`, or a number of seconds. */
export const duration = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const secs = typeof v === 'number' ? v : parseDuration(v);
    if (secs === undefined || !Number.isFinite(secs) || secs <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected a positive duration such as 5s, 500ms or 1m, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return secs;
  });

/** A list of strings: a YAML list, or a comma-separated string from a flag or env var. */
export const stringList = () =>
  z.union([z.array(z.string()), z.string()]).transform((v) =>
    (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
  );

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A boolean that also accepts "true"/"false"/"1"/"0" strings. */
export const bool = () =>
  z.union([z.boolean(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got ${JSON.stringify(v)}` });
    return z.NEVER;
  });

/** Collector switch: on, off, or on only when what it watches is present. */
export type Enablement = boolean | 'auto';
export const enablement = () =>
  z.union([z.boolean(), z.string()]).transform((v, ctx): Enablement => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (s === 'auto') return 'auto';
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true, false or auto, got ${JSON.stringify(v)}` });
    return z.NEVER;
  });

/** An integer within bounds, from a number or a numeric string. */
export const integer = (min: number, max: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

/** A non-negative number, from a number or a numeric string. */
export const number = (min = 0) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n < min) {
      ctx.addIssue({ code: 'custom', message: `expected a number >= ${min}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses node_exporter-style listen addresses: `host:port`, `:port`, `[::1]:port`. Port 0 picks a free port. */
export function parseListenAddress(input: string): ListenAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(input.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

export const listenAddress = () =>
  z.string().transform((v, ctx) => {
    const a = parseListenAddress(v);
    if (!a) {
      ctx.addIssue({ code: 'custom', message: `expected host:port or :port with a port from 0 to 65535, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return a;
  });
