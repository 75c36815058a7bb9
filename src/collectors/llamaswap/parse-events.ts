/**
 * Pure handling of llama-swap's Server-Sent Events stream `GET /api/events`, without I/O.
 *
 * Every message is one `data:` line holding `{"type":…,"data":"<JSON string>"}` (JSON inside JSON;
 * internal/server/apigroup.go handleAPIEvents at v250, proxy/proxymanager_api.go apiSendEvents at v217).
 * On connect llama-swap first replays its log history (two logData messages), then sends modelStatus,
 * then in-flight requests; after that one message per change. Used here:
 *   modelStatus  the list of configured models with their process state (a whole list per change);
 *   inflight     v192–v217 `{"total":N}`; v218–v239 `{"requests":[…]}` (the whole list);
 *                v240+ `{"operation":"snapshot"|"upsert"|"remove",…}` (internal/server/inflight.go);
 *   logData      proxy log text after the replay: request lines counted per status class.
 * Nothing of the replayed history is kept: log text before the first modelStatus is dropped unread,
 * and a line longer than the cap is skipped without being buffered.
 */
import { MODEL_STATES, type ModelState } from './parse-api.js';
import { isInferenceRequest, LineSplitter, parseRequestLogLine } from './parse-log.js';

/** Longest SSE line kept (a modelStatus of ~2000 models); longer ones (log history) are skipped unread. */
export const MAX_SSE_LINE = 512 * 1024;
/** Most in-flight requests tracked per server (llama-swap queues far fewer). */
export const MAX_IN_FLIGHT = 10_000;

/** Splits streamed text into lines with a hard cap: a longer line is dropped while it streams, never held. */
export class BoundedLines {
  private tail = '';
  private skipping = false;
  /** Lines dropped for length. */
  dropped = 0;
  /** Longest text held between chunks (for the memory measurement). */
  highWater = 0;

  constructor(private readonly maxLine = MAX_SSE_LINE) {}

  push(chunk: string): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = chunk.slice(start, nl < 0 ? undefined : nl);
      if (!this.skipping && this.tail.length + piece.length > this.maxLine) {
        this.tail = '';
        this.skipping = true;
        this.dropped += 1;
      }
      if (nl < 0) {
        if (!this.skipping) this.tail += piece;
        this.highWater = Math.max(this.highWater, this.tail.length);
        return out;
      }
      if (!this.skipping) out.push((this.tail + piece).replace(/\r$/, ''));
      this.tail = '';
      this.skipping = false;
      start = nl + 1;
    }
  }

  /** Forgets a line cut by a disconnect. */
  reset(): void {
    this.tail = '';
    this.skipping = false;
  }
}

export interface Envelope {
  readonly type: string;
  readonly data: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One SSE line → its message, or undefined (not a data line, not JSON, or not the envelope). */
export function parseEventLine(line: string): Envelope | undefined {
  if (!line.startsWith('data:')) return undefined;
  try {
    const outer = JSON.parse(line.slice(5)) as unknown;
    if (!isObject(outer) || typeof outer.type !== 'string' || typeof outer.data !== 'string') return undefined;
    // logData is parsed only when wanted (it can be large): keep the raw string.
    return { type: outer.type, data: outer.type === 'logData' ? outer.data : (JSON.parse(outer.data) as unknown) };
  } catch {
    return undefined;
  }
}

function toState(s: unknown): ModelState | undefined {
  if (s === 'shutdown') return 'stopping';
  return typeof s === 'string' && (MODEL_STATES as readonly string[]).includes(s) ? (s as ModelState) : undefined;
}

interface InFlightEntry {
  readonly model: string;
  /** Local clock (ms) when the request began. */
  readonly startMs: number;
}

const bump = <K>(m: Map<K, number>, k: K, n = 1): void => void m.set(k, (m.get(k) ?? 0) + n);

/** What the stream says about one server: in-flight requests now, and counters since silentwatch watched. */
export class LiveState {
  readonly transitions = new Map<string, Map<ModelState, number>>();
  readonly failedLoads = new Map<string, number>();
  readonly logClasses = new Map<string, number>();
  swaps = 0;
  malformed = 0;
  private readonly models = new Map<string, ModelState>();
  private readonly inflight = new Map<string, InFlightEntry>();
  /** v192–v217 send only a total. */
  private total: number | undefined;
  /** The first modelStatus of a connection is a baseline (what happened while disconnected is unknown). */
  private baselined = false;
  /** Log text before the first modelStatus is the replayed history: dropped. */
  private pastHistory = false;
  private readonly logLines = new LineSplitter(16 * 1024);
  /** A ready model was stopped since the last load began: the next load is a swap. */
  private evicted = false;

  constructor(
    private readonly maxModels: number,
    /** llama-swap's clock minus ours (ms), from the Date header of the stream's answer. */
    private clockSkewMs = 0,
  ) {}

  /** A new connection: in-flight and the state baseline start again. */
  connected(clockSkewMs: number): void {
    this.clockSkewMs = clockSkewMs;
    this.disconnected();
  }

  disconnected(): void {
    this.inflight.clear();
    this.total = undefined;
    this.baselined = false;
    this.pastHistory = false;
    this.evicted = false;
    this.logLines.takeTail();
  }

  apply(msg: Envelope, nowMs = Date.now()): void {
    switch (msg.type) {
      case 'modelStatus':
        return this.modelStatus(msg.data);
      case 'inflight':
        return this.inFlight(msg.data, nowMs);
      case 'logData':
        return this.logData(msg.data);
      default:
        return;
    }
  }

  private label(model: string): string {
    return this.transitions.has(model) || this.transitions.size < this.maxModels ? model : 'other';
  }

  private modelStatus(data: unknown): void {
    if (!Array.isArray(data)) return void (this.malformed += 1);
    this.pastHistory = true;
    for (const m of data as unknown[]) {
      if (!isObject(m) || typeof m.id !== 'string' || m.id === '') continue;
      if (typeof m.peerID === 'string' && m.peerID !== '') continue; // remote: no process here
      const state = toState(m.state);
      if (!state) continue;
      const prev = this.models.get(m.id);
      if (prev === undefined && this.models.size >= 10_000) continue;
      this.models.set(m.id, state);
      if (!this.baselined || prev === state || prev === undefined) continue;
      const model = this.label(m.id);
      let byState = this.transitions.get(model);
      if (!byState) this.transitions.set(model, (byState = new Map()));
      bump(byState, state);
      if (prev === 'ready' && (state === 'stopping' || state === 'stopped')) this.evicted = true;
      if (state === 'starting' && this.evicted) {
        this.swaps += 1;
        this.evicted = false;
      }
      if (prev === 'starting' && (state === 'stopping' || state === 'stopped')) bump(this.failedLoads, model);
    }
    this.baselined = true;
  }

  private entry(raw: unknown, nowMs: number): [string, InFlightEntry] | undefined {
    if (!isObject(raw) || typeof raw.id !== 'string') return undefined;
    const known = this.inflight.get(raw.id);
    if (known) return [raw.id, known];
    const ts = typeof raw.timestamp === 'string' ? Date.parse(raw.timestamp) : NaN;
    const startMs = Number.isFinite(ts) ? Math.min(nowMs, ts - this.clockSkewMs) : nowMs;
    return [raw.id, { model: typeof raw.model === 'string' && raw.model !== '' ? raw.model : 'unknown', startMs }];
  }

  private replace(list: unknown, nowMs: number): void {
    if (!Array.isArray(list)) return void (this.malformed += 1);
    const next = new Map<string, InFlightEntry>();
    for (const r of list as unknown[]) {
      const e = this.entry(r, nowMs);
      if (e && next.size < MAX_IN_FLIGHT) next.set(...e);
    }
    this.inflight.clear();
    for (const [k, v] of next) this.inflight.set(k, v);
  }

  private inFlight(data: unknown, nowMs: number): void {
    if (!isObject(data)) return void (this.malformed += 1);
    if (typeof data.total === 'number') {
      this.total = Math.max(0, Math.floor(data.total));
      this.inflight.clear();
      return;
    }
    this.total = undefined;
    switch (data.operation) {
      case undefined:
      case 'snapshot':
        return this.replace(data.requests ?? [], nowMs);
      case 'upsert': {
        const e = this.entry(data.request, nowMs);
        if (!e) return void (this.malformed += 1);
        if (this.inflight.has(e[0]) || this.inflight.size < MAX_IN_FLIGHT) this.inflight.set(...e);
        return;
      }
      case 'remove':
        if (typeof data.id === 'string') this.inflight.delete(data.id);
        return;
      default:
        this.malformed += 1;
    }
  }

  private logData(data: unknown): void {
    if (!this.pastHistory || typeof data !== 'string') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data) as unknown;
    } catch {
      return void (this.malformed += 1);
    }
    if (!isObject(parsed) || parsed.source !== 'proxy' || typeof parsed.data !== 'string') return;
    for (const line of this.logLines.push(parsed.data)) {
      if (!line.includes('] Request ')) continue;
      const req = parseRequestLogLine(line);
      if (req && isInferenceRequest(req)) bump(this.logClasses, `${Math.floor(req.status / 100)}xx`);
    }
  }

  /** Per model: requests in flight and the age (s) of the oldest; "unknown" when only a total is sent. */
  inFlightByModel(nowMs = Date.now()): Map<string, { count: number; oldestSeconds: number | undefined }> {
    const out = new Map<string, { count: number; oldestSeconds: number | undefined }>();
    for (const m of this.models.keys()) out.set(this.label(m), { count: 0, oldestSeconds: 0 });
    if (this.total !== undefined) {
      out.set('unknown', { count: this.total, oldestSeconds: undefined });
      return out;
    }
    for (const e of this.inflight.values()) {
      const model = this.label(e.model);
      const cur = out.get(model) ?? { count: 0, oldestSeconds: 0 };
      const age = Math.max(0, (nowMs - e.startMs) / 1000);
      out.set(model, { count: cur.count + 1, oldestSeconds: Math.max(cur.oldestSeconds ?? 0, age) });
    }
    return out;
  }

  get trackedInFlight(): number {
    return this.inflight.size;
  }
}
