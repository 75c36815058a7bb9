/**
 * Pure parsers for what the mount probe child prints, one JSON object a line:
 *   1. where the configured path resolves (symlinks followed): `{"real":"/mnt/nas"}`, or why it does not:
 *      `{"real":null,"code":"ENOENT"}`;
 *   2. the probe of the real path: `{"ok":true,"seconds":0.0012}` or `{"ok":false,"code":"EIO","seconds":15.2}`.
 * A child killed at its time-out may have printed only the first line. Anything else (empty, truncated,
 * garbage) is an error, never a guess.
 */

export type ProbeResult = { readonly ok: true; readonly seconds: number } | { readonly ok: false; readonly code: string; readonly seconds: number };
export type Resolution = { readonly real: string } | { readonly real: null; readonly code: string };

const errnoCode = (v: unknown): string => (typeof v === 'string' && /^[A-Z0-9_]{1,32}$/.test(v) ? v : 'UNKNOWN');

function parseObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text.trim());
  } catch {
    throw new Error(`mount probe printed no valid ${what}: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`mount probe ${what} is not an object`);
  return v as Record<string, unknown>;
}

export function parseProbeResult(text: string): ProbeResult {
  const r = parseObject(text, 'result');
  const seconds = r.seconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) throw new Error('mount probe result has no valid duration');
  if (r.ok === true) return { ok: true, seconds };
  if (r.ok === false) return { ok: false, code: errnoCode(r.code), seconds };
  throw new Error('mount probe result has no ok field');
}

export function parseResolution(text: string): Resolution {
  const r = parseObject(text, 'resolution');
  if (typeof r.real === 'string' && r.real.startsWith('/') && r.real.length <= 4096) return { real: r.real };
  if (r.real === null) return { real: null, code: errnoCode(r.code) };
  throw new Error('mount probe resolution has no valid path');
}

/** Both lines; either may be missing when the child was killed (a hung stat prints only the resolution). */
export function parseProbeOutput(text: string): { resolution?: Resolution; result?: ProbeResult } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 2) throw new Error(`mount probe printed ${lines.length} lines, expected at most 2`);
  const [first, second] = lines;
  return {
    ...(first !== undefined ? { resolution: parseResolution(first) } : {}),
    ...(second !== undefined ? { result: parseProbeResult(second) } : {}),
  };
}
