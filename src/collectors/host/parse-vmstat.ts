/** Pure parser for /proc/vmstat: `name value` lines. Malformed lines are skipped, never guessed. */

export function parseVmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+) (\d+)$/.exec(line.trim());
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

/**
 * The kernel's count of OOM kills since boot (`oom_kill`, Linux >= 4.13), or undefined when the line is
 * missing: an old kernel or a truncated file must not read as "0 kills".
 */
export function oomKillsFromVmstat(text: string): number | undefined {
  const v = parseVmstat(text).get('oom_kill');
  return v !== undefined && Number.isSafeInteger(v) ? v : undefined;
}
