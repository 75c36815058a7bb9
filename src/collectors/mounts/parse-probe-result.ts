/**
 * Pure parser for what the mount probe child prints: one JSON object,
 * `{"ok":true,"seconds":0.0012}` or `{"ok":false,"code":"EIO","seconds":15.2}`.
 * Anything else (empty, truncated, garbage) is an error, never a guess.
 */

export type ProbeResult = { readonly ok: true; readonly seconds: number } | { readonly ok: false; readonly code: string; readonly seconds: number };

export function parseProbeResult(text: string): ProbeResult {
  let v: unknown;
  try {
    v = JSON.parse(text.trim());
  } catch {
    throw new Error(`mount probe printed no valid result: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof v !== 'object' || v === null) throw new Error('mount probe result is not an object');
  const r = v as Record<string, unknown>;
  const seconds = r.seconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) throw new Error('mount probe result has no valid duration');
  if (r.ok === true) return { ok: true, seconds };
  if (r.ok === false) {
    const code = typeof r.code === 'string' && /^[A-Z0-9_]{1,32}$/.test(r.code) ? r.code : 'UNKNOWN';
    return { ok: false, code, seconds };
  }
  throw new Error('mount probe result has no ok field');
}
