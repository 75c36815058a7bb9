/**
 * Pure parser for llama-swap's request log line, the only per-request source of versions before v209:
 *   [<timestamp> ][[<prefix>] ][INFO] Request <ip> "<METHOD> <path> <proto>" <status> <size> "<ua>" <duration>
 * The duration is Go's time.Duration text ("1.5s", "350.2ms", "12µs", "1m2.5s"). The line has no model.
 */

export interface RequestLogLine {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationSeconds: number | undefined;
}

const LINE = /\[INFO\] Request \S+ "([A-Z]+) (\S+) [^"]*" (\d{3}) (\d+) "(?:[^"\\]|\\.)*" (\S+)\s*$/;

const UNIT: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, μs: 1e-6, ns: 1e-9 };

/** Go time.Duration.String() → seconds; undefined when it is not one. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0s' || s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  return consumed > 0 && consumed === s.length && Number.isFinite(total) ? total : undefined;
}

export function parseRequestLogLine(line: string): RequestLogLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const status = Number(m[3]);
  if (status < 100 || status > 599) return undefined;
  return { method: m[1] as string, path: m[2] as string, status, durationSeconds: parseGoDuration(m[5] as string) };
}

/**
 * Whether a logged request is one llama-swap would have recorded as activity: a POST to a model route.
 * Its own API (`/api/…`) and log routes are not inference requests.
 */
export function isInferenceRequest(l: RequestLogLine): boolean {
  return l.method === 'POST' && !l.path.startsWith('/api/') && !l.path.startsWith('/logs');
}

/** Splits streamed text into complete lines, keeping the unfinished tail (bounded) for the next chunk. */
export class LineSplitter {
  private tail = '';
  constructor(private readonly maxLine = 64 * 1024) {}

  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const parts = text.split('\n');
    this.tail = parts.pop() ?? '';
    if (this.tail.length > this.maxLine) this.tail = '';
    return parts.map((p) => p.replace(/\r$/, ''));
  }

  /** The unfinished line when the stream ended (cut mid-line), then forgets it. */
  takeTail(): string {
    const t = this.tail;
    this.tail = '';
    return t;
  }
}
