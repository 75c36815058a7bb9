/** A small parser for the Prometheus text format, so tests assert on values rather than on substrings. */

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface ParsedExposition {
  readonly samples: ParsedSample[];
  readonly help: Map<string, string>;
  readonly types: Map<string, string>;
  /** Samples of one metric whose labels include all of `match`. */
  get(name: string, match?: Record<string, string>): ParsedSample[];
  /** The single value of a series, or undefined if absent; throws when several series match. */
  value(name: string, match?: Record<string, string>): number | undefined;
  /** Family names (from TYPE lines) that have at least one sample. */
  families(): Set<string>;
}

function parseLabels(s: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

export function parseExposition(text: string): ParsedExposition {
  const samples: ParsedSample[] = [];
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2] as string, meta[3] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    samples.push({ name: m[1] as string, labels: m[2] ? parseLabels(m[2]) : {}, value: parseValue(m[3] as string) });
  }
  const matches = (s: ParsedSample, match: Record<string, string>): boolean => Object.entries(match).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    help,
    types,
    get: (name, match = {}) => samples.filter((s) => s.name === name && matches(s, match)),
    value(name, match = {}) {
      const found = samples.filter((s) => s.name === name && matches(s, match));
      if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(match)}`);
      return found[0]?.value;
    },
    families() {
      const names = new Set<string>();
      for (const fam of types.keys()) {
        const t = types.get(fam);
        const suffixes = t === 'histogram' ? ['_bucket', '_sum', '_count'] : t === 'summary' ? ['', '_sum', '_count'] : [''];
        if (samples.some((s) => suffixes.some((suf) => s.name === fam + suf))) names.add(fam);
      }
      return names;
    },
  };
}
