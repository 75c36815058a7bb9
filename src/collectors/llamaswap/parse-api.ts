/**
 * Pure parsers for llama-swap's small JSON endpoints: `/api/version`, `/running`, `/v1/models`.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function json(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface VersionInfo {
  /** As reported, e.g. "v250"; '' when absent. */
  readonly raw: string;
  /** The release number (250 for "v250"), or undefined for dev builds ("0", "local", a commit). */
  readonly number: number | undefined;
}

/** `GET /api/version` → `{"version":"v250","commit":…,"build_date":…}`. */
export function parseVersion(text: string): VersionInfo | undefined {
  const doc = json(text);
  if (!isObject(doc) || typeof doc.version !== 'string') return undefined;
  const raw = doc.version.trim().slice(0, 64);
  const m = /^v?(\d{1,5})(?:[.\-+].*)?$/.exec(raw);
  const n = m ? Number(m[1]) : undefined;
  return { raw, number: n !== undefined && n > 0 ? n : undefined };
}

export const MODEL_STATES = ['starting', 'ready', 'stopping', 'stopped'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface RunningModel {
  readonly model: string;
  readonly state: ModelState;
}

/** llama-swap process states: stopped, starting, ready, stopping, shutdown (shutdown = being torn down for good). */
function toState(s: unknown): ModelState | undefined {
  switch (s) {
    case 'starting':
    case 'ready':
    case 'stopping':
    case 'stopped':
      return s;
    case 'shutdown':
      return 'stopping';
    default:
      return undefined;
  }
}

/** `GET /running` → `{"running":[{"model":"qwen3-8b","state":"ready",…}]}`; undefined when not that shape. */
export function parseRunning(text: string): RunningModel[] | undefined {
  const doc = json(text);
  if (!isObject(doc) || !Array.isArray(doc.running)) return undefined;
  const out: RunningModel[] = [];
  for (const r of doc.running as unknown[]) {
    if (!isObject(r) || typeof r.model !== 'string' || r.model === '') continue;
    const state = toState(r.state);
    if (state) out.push({ model: r.model, state });
  }
  return out;
}

/**
 * `GET /v1/models` (OpenAI list) → the configured model ids. Aliases and peer models (listed with
 * `meta.llamaswap.type` "alias"/"peer") are left out: they are not processes with a state of their own.
 */
export function parseModelList(text: string): string[] | undefined {
  const doc = json(text);
  if (!isObject(doc) || !Array.isArray(doc.data)) return undefined;
  const ids = new Set<string>();
  for (const m of doc.data as unknown[]) {
    if (!isObject(m) || typeof m.id !== 'string' || m.id === '') continue;
    const meta = isObject(m.meta) && isObject(m.meta.llamaswap) ? m.meta.llamaswap : undefined;
    if (meta && (meta.type === 'alias' || meta.type === 'peer')) continue;
    ids.add(m.id);
  }
  return [...ids];
}
