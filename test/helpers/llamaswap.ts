/**
 * A stand-in llama-swap (node:http) for tests, rebuilt from llama-swap's public source at the released
 * tags (github.com/mostlygeek/llama-swap, read with git at each tag; facts only, no code copied). One mode
 * per released behaviour, named after the tag it was read from:
 *
 * | behaviour | v150 (before v209) | v217 (≤ v217) | v235 (v218–v235) | v250 (v236–v250) | head (after v250) |
 * |---|---|---|---|---|---|
 * | `/api/version` | 404 | `v217` | `v235` | `v250` | `"0"` (a build without a release tag) |
 * | per-request records | none (request log only) | `GET /api/metrics`: whole ring buffer, ids from 0 (`proxy/metrics_monitor.go` @v217) | the same (`internal/server/metrics.go` `queueMetrics` @v235) | `GET /api/metrics/activity`: SQLite, ids from 1, `limit` 1..999, `page`, `sort`, `order` only (`internal/server/apigroup.go` `parseActivityQuery`, `internal/store/store.go` @v250) | the same plus `min_id`/`max_id` (`internal/server/apigroup.go` `parseActivityID` @HEAD, PR #1020) |
 * | store cap | — | ring of `metricsMaxInMemory` (1000) | same | in-memory store pruned to 1000 (`PruneActivity` @v250); a file store is not pruned and keeps its ids across restarts | same |
 * | failed load | 502 text `unable to start process: …` (`proxy/process.go` @v217) | same, no `error_msg` | 500 `{"src":"llama-swap","error":"unspecific error: upstream command exited prematurely"}` + `error_msg` (`internal/shared/http.go` `SendError`/`SendResponse`, `internal/process/process_command.go` @v235) | same (`internal/swaputil/http.go` @v250) | 500 in an OpenAI-style envelope `{"error":{"code":500,"message":…,"type":…}}` (`SendResponse`/`NewErrorEnvelope` @HEAD) |
 * | unknown model | 400 `could not find suitable inference handler for …`, not recorded (`proxy/proxymanager.go` @v217) | same | 404 **recorded** with the name the client sent (`FetchContext` keeps it, `internal/server/metrics_middleware.go` records it) | same (@v250) | same |
 * | no model in the request | 400 `missing or invalid 'model' key`, log only (`proxy/proxymanager.go` @v217) | same | 404 `no model id could be identified`, log only (`SendError` @v235) | same | same |
 * | `/api/events` message | `event:message` + `data:{"type","data":"<JSON>"}` (`proxy/proxymanager_api.go` `apiSendEvents`, gin `SSEvent`) | same | same (`internal/server/apigroup.go` `handleAPIEvents` @v235) | same (@v250) | same |
 * | initial payload | log history, modelStatus | log history, modelStatus, `metrics` (every stored row again), inflight | log history, modelStatus, inflight | same plus uiConfig | same |
 * | `inflight` | none | `{"total":N}` (`InFlightRequestsEvent{Total}`, `proxy/events.go` @v217) | `{"requests":[…]}`, the whole list (`internal/shared/events.go` @v235) | `{"operation":"snapshot"|"upsert"|"remove",…}` (`internal/server/inflight.go`, from v240) | same |
 * | `modelStatus` | the whole model list `[{id,name,description,state,unlisted,peerID}]`, sent on every process state change (`sendModels` on `ProcessStateChangeEvent`) | same | same | same | same |
 * | request log line | `[INFO] Request <ip> "<METHOD> <path> <proto>" <status> <size> "<ua>" <duration>` (`proxy/proxymanager.go` @v217, `internal/server/log.go` @v250) | same | same | same | same |
 *
 * Models swap one at a time (llama-swap's default group; `swap: false` keeps them loaded together): loading a model stops the ready one
 * (ready → stopping → stopped), then the new one goes stopped → starting → ready, or starting → stopped
 * when its process exits (a failed load). Models in `hanging` accept a request and never answer until
 * `releaseHung()`. It records every request it receives, so tests can prove nothing touched /upstream.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Mode = 'v150' | 'v217' | 'v235' | 'v250' | 'head';
/** The released behaviours every collector test runs against (v150 only where the request log is the subject). */
export const RELEASED_MODES: readonly Mode[] = ['v217', 'v235', 'v250', 'head'];

export interface StandInOptions {
  readonly mode: Mode;
  readonly models: readonly string[];
  /** Models whose process exits while loading (cudaMalloc OOM): every request fails. */
  readonly failing?: readonly string[];
  /** Models whose requests are accepted and never answered (a hung generation) until releaseHung(). */
  readonly hanging?: readonly string[];
  /** metricsMaxInMemory (default 1000). */
  readonly maxInMemory?: number;
  /** v250/head: a file-backed store (not pruned; ids survive restarts). */
  readonly fileStore?: boolean;
  readonly apiKey?: string;
  /** Bytes of proxy log history replayed to each new /api/events client (default 4 KiB). */
  readonly historyBytes?: number;
  /** false: no /api/events route (llama-swap before v140). */
  readonly events?: boolean;
  /** false: the models share a group with `swap: false` (loaded together, nothing evicted). Default true. */
  readonly swap?: boolean;
}

type Row = Record<string, unknown> & { id: number };
type State = 'stopped' | 'starting' | 'ready' | 'stopping';

const SORTS = new Set(['id', 'time', 'model', 'req_path', 'resp_status_code', 'resp_content_type', 'cached', 'prompt', 'generated', 'drafted', 'prompt_speed', 'gen_speed', 'duration']);

/** Go's time.Time JSON: RFC3339 with nanoseconds. */
function goTimestamp(): string {
  const ns = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return new Date().toISOString().replace('Z', `${ns}Z`);
}

interface InFlight {
  readonly id: string;
  readonly timestamp: string;
  readonly model: string;
  readonly path: string;
}

export class LlamaSwapStandIn {
  /** "METHOD path?query" of every request received. */
  readonly received: string[] = [];
  readonly states = new Map<string, State>();
  /** When set, /api/metrics/activity answers this many bytes of garbage. */
  garbageActivityBytes = 0;
  /** Models whose loads fail now (starts as opts.failing; a test frees the GPU by emptying it). */
  readonly failing: Set<string>;
  private rows: Row[] = [];
  private nextId: number;
  private nextInflight = 1;
  private readonly inflight = new Map<string, InFlight>();
  private readonly hung = new Set<() => void>();
  private readonly logClients = new Set<ServerResponse>();
  private readonly eventClients = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private history = '';
  private server!: Server;
  url = '';

  private constructor(readonly opts: StandInOptions) {
    this.nextId = this.firstId;
    this.failing = new Set(opts.failing ?? []);
    for (const m of opts.models) this.states.set(m, 'stopped');
    const hist = opts.historyBytes ?? 4096;
    const line = '[INFO] history: an earlier log line replayed to each new /api/events client\n';
    this.history = line.repeat(Math.ceil(hist / line.length)).slice(0, hist);
  }

  static async start(opts: StandInOptions): Promise<LlamaSwapStandIn> {
    const s = new LlamaSwapStandIn(opts);
    s.server = createServer((req, res) => {
      s.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    s.server.keepAliveTimeout = 60_000;
    s.server.on('connection', (sock) => {
      s.sockets.add(sock);
      sock.on('close', () => s.sockets.delete(sock));
    });
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  private get ring(): boolean {
    return this.opts.mode === 'v217' || this.opts.mode === 'v235';
  }

  private get sqlite(): boolean {
    return this.opts.mode === 'v250' || this.opts.mode === 'head';
  }

  /** The ring buffer starts at nextID's zero value; SQLite AUTOINCREMENT at 1. */
  private get firstId(): number {
    return this.ring ? 0 : 1;
  }

  get logStreamClients(): number {
    return this.logClients.size;
  }

  get eventStreamClients(): number {
    return this.eventClients.size;
  }

  get storedRows(): number {
    return this.rows.length;
  }

  /** Requests served so far (every one llama-swap records, evicted or not). */
  get recordedTotal(): number {
    return this.nextId - this.firstId + this.lostToRestarts;
  }

  private lostToRestarts = 0;

  /** llama-swap restarted: an in-memory store starts again (a file store keeps its rows and ids); streams closed. */
  restart(): void {
    if (!this.opts.fileStore) {
      this.lostToRestarts += this.nextId - this.firstId;
      this.rows = [];
      this.nextId = this.firstId;
    }
    for (const m of this.opts.models) this.states.set(m, 'stopped');
    this.inflight.clear();
    for (const c of [...this.logClients, ...this.eventClients]) c.destroy();
    this.logClients.clear();
    this.eventClients.clear();
  }

  /** Answers every hung request (with 200) so the stand-in can close. */
  releaseHung(): void {
    for (const done of this.hung) done();
    this.hung.clear();
  }

  /** Drops every log stream connection after writing `partial` (a line cut mid-way). */
  cutLogStreams(partial: string): void {
    this.cut(this.logClients, partial);
  }

  /** Drops every /api/events connection after writing `partial` (a message cut mid-way). */
  cutEventStreams(partial: string): void {
    this.cut(this.eventClients, partial);
  }

  private cut(clients: Set<ServerResponse>, partial: string): void {
    for (const c of clients) {
      c.write(partial);
      // Let the partial chunk reach the client before the connection dies.
      setTimeout(() => c.socket?.destroy(), 50);
    }
    clients.clear();
  }

  /** Writes `bytes` of events to every /api/events client: proxy log chunks, and one line longer than any cap. */
  async floodEvents(bytes: number, hugeLineBytes = 0): Promise<void> {
    const chunk = `[INFO] upstream noise ${'x'.repeat(900)}\n`;
    let left = bytes;
    while (left > 0) {
      for (const c of this.eventClients) {
        if (!c.write(this.sse('logData', JSON.stringify({ source: 'upstream', data: chunk.repeat(16) })))) await new Promise((r) => c.once('drain', r));
      }
      left -= chunk.length * 16;
    }
    if (hugeLineBytes > 0) {
      const big = JSON.stringify({ source: 'proxy', data: 'y'.repeat(hugeLineBytes) });
      for (const c of this.eventClients) if (!c.write(this.sse('logData', big))) await new Promise((r) => c.once('drain', r));
    }
  }

  /** Stores a row that is not what llama-swap would write (a broken proxy, a future format); takes an id. */
  injectRawRow(fields: Record<string, unknown>): void {
    this.store({ id: this.nextId++, ...fields });
  }

  async close(): Promise<void> {
    this.releaseHung();
    for (const c of [...this.logClients, ...this.eventClients]) c.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private store(row: Row): void {
    this.rows.push(row);
    if (this.opts.fileStore && this.sqlite) return;
    const max = this.opts.maxInMemory ?? 1000;
    if (this.rows.length > max) this.rows.splice(0, this.rows.length - max);
  }

  private sse(type: string, data: string): string {
    return `event:message\ndata:${JSON.stringify({ type, data })}\n\n`;
  }

  private emit(type: string, data: unknown): void {
    const msg = this.sse(type, typeof data === 'string' ? data : JSON.stringify(data));
    for (const c of this.eventClients) c.write(msg);
  }

  private modelStatus(): Array<Record<string, unknown>> {
    return [...this.opts.models].sort().map((id) => ({ id, name: '', description: '', state: this.states.get(id) ?? 'stopped', unlisted: false, peerID: '' }));
  }

  private setState(model: string, state: State): void {
    this.states.set(model, state);
    this.emit('modelStatus', this.modelStatus());
  }

  private inflightEntry(r: InFlight): Record<string, unknown> {
    return { id: r.id, timestamp: r.timestamp, model: r.model, req_path: r.path, method: 'POST' };
  }

  private inflightSnapshot(): unknown {
    switch (this.opts.mode) {
      case 'v150':
        return undefined;
      case 'v217':
        return { total: this.inflight.size };
      case 'v235':
        return { requests: [...this.inflight.values()].map((r) => this.inflightEntry(r)) };
      default:
        return { operation: 'snapshot', requests: [...this.inflight.values()].map((r) => this.inflightEntry(r)) };
    }
  }

  private inflightChanged(r: InFlight, added: boolean): void {
    if (this.opts.mode === 'v250' || this.opts.mode === 'head') {
      this.emit('inflight', added ? { operation: 'upsert', request: this.inflightEntry(r) } : { operation: 'remove', id: r.id });
    } else if (this.opts.mode !== 'v150') this.emit('inflight', this.inflightSnapshot());
  }

  private log(line: string): void {
    for (const c of this.logClients) c.write(`${line}\n`);
    this.emit('logData', JSON.stringify({ source: 'proxy', data: `${line}\n` }));
  }

  private authorised(req: IncomingMessage): boolean {
    const key = this.opts.apiKey;
    if (!key) return true;
    return req.headers.authorization === `Bearer ${key}` || req.headers['x-api-key'] === key;
  }

  /** Loads `model` (swapping out the ready one); resolves whether it became ready. */
  private load(model: string): boolean {
    if (this.states.get(model) === 'ready') return true;
    for (const [other, st] of this.opts.swap === false ? [] : this.states) {
      if (other !== model && st === 'ready') {
        this.setState(other, 'stopping');
        this.setState(other, 'stopped');
      }
    }
    this.setState(model, 'starting');
    if (this.failing.has(model)) {
      this.setState(model, 'stopped');
      return false;
    }
    this.setState(model, 'ready');
    return true;
  }

  private failure(res: ServerResponse): { status: number; body: string; errorMsg: string | undefined } {
    const mode = this.opts.mode;
    if (mode === 'v150' || mode === 'v217') {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      return { status: 502, body: 'unable to start process: upstream command exited unexpectedly: exit status 1', errorMsg: undefined };
    }
    const message = 'unspecific error: upstream command exited prematurely';
    res.writeHead(500, { 'content-type': 'application/json' });
    const body = mode === 'head' ? { error: { code: 500, message, type: 'server_error' } } : { src: 'llama-swap', error: message };
    return { status: 500, body: JSON.stringify(body), errorMsg: message };
  }

  private record(model: string, path: string, status: number, contentType: unknown, startedNs: bigint, errorMsg: string | undefined): void {
    if (this.opts.mode === 'v150') return;
    const row: Row = {
      id: this.nextId++,
      timestamp: goTimestamp(),
      model,
      req_path: path,
      resp_content_type: contentType,
      resp_status_code: status,
      tokens: { cache_tokens: 0, draft_tokens: 0, draft_acc_tokens: 0, input_tokens: 5, output_tokens: 1, prompt_per_second: 500, tokens_per_second: 40 },
      duration_ms: Math.round(Number(process.hrtime.bigint() - startedNs) / 1e6),
      has_capture: false,
    };
    if (errorMsg !== undefined) row.error_msg = errorMsg;
    this.store(row);
    if (this.opts.mode === 'v217') this.emit('metrics', [row]);
    else if (this.sqlite) this.emit('activity', { id: row.id });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const u = new URL(req.url ?? '/', 'http://x');
    this.received.push(`${req.method} ${u.pathname}${u.search}`);
    const mode = this.opts.mode;
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    const notFound = (): void => text(404, '404 page not found\n');
    const logRequest = (status: number, size: number): void => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      this.log(`[INFO] Request 127.0.0.1 "${req.method} ${u.pathname} HTTP/1.1" ${status} ${size} "${req.headers['user-agent'] ?? ''}" ${ms.toFixed(3)}ms`);
    };

    if (req.method === 'GET' && u.pathname === '/health') return text(200, 'OK');
    if (!this.authorised(req)) return json(401, { error: { code: 401, message: 'unauthorized: invalid API key', type: 'authentication_error' } });

    if (req.method === 'POST' && ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'].includes(u.pathname)) {
      const body = await new Promise<string>((resolve) => {
        let b = '';
        req.on('data', (c: Buffer) => (b += c.toString()));
        req.on('end', () => resolve(b));
      });
      let model = '';
      try {
        model = String((JSON.parse(body) as { model?: unknown }).model ?? '');
      } catch {
        // no model
      }
      const old = mode === 'v150' || mode === 'v217';
      if (model === '') {
        // Rejected before routing: never an activity row, only the request log line.
        if (old) json(400, { error: "missing or invalid 'model' key" });
        else json(404, { src: 'llama-swap', error: 'no model id could be identified' });
        return logRequest(old ? 400 : 404, 0);
      }
      if (!this.opts.models.includes(model)) {
        if (old) {
          // Rejected by the proxy handler before any record (proxy/proxymanager.go @v217).
          json(400, { error: `could not find suitable inference handler for ${model}` });
          return logRequest(400, 0);
        }
        const out = JSON.stringify({ src: 'llama-swap', error: 'no local server found for requested model' });
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(out);
        // From v218 the metrics middleware records it with the name the client sent.
        this.record(model, u.pathname, 404, 'application/json', started, 'no local server found for requested model');
        return logRequest(404, out.length);
      }
      const flight: InFlight = { id: String(this.nextInflight++), timestamp: new Date().toISOString(), model, path: u.pathname };
      this.inflight.set(flight.id, flight);
      this.inflightChanged(flight, true);
      const finish = (status: number, out: string, errorMsg: string | undefined): void => {
        res.end(out);
        this.inflight.delete(flight.id);
        this.inflightChanged(flight, false);
        this.record(model, u.pathname, status, res.getHeader('content-type'), started, errorMsg);
        logRequest(status, out.length);
      };
      if (!this.load(model)) {
        const f = this.failure(res);
        return finish(f.status, f.body, f.errorMsg);
      }
      const ok = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });
      if (this.opts.hanging?.includes(model)) {
        await new Promise<void>((resolve) => this.hung.add(resolve));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return finish(200, ok, undefined);
    }

    if (req.method !== 'GET') return text(405, 'Method Not Allowed\n');
    switch (u.pathname) {
      case '/api/version':
        if (mode === 'v150') return notFound();
        return json(200, { version: mode === 'head' ? '0' : mode, commit: 'standin', build_date: '2026-11-20T10:00:00Z' });
      case '/running':
        return json(200, {
          running: [...this.states]
            .filter(([, st]) => st !== 'stopped')
            .sort()
            .map(([model, state]) => ({ model, state, cmd: 'llama-server --port ${PORT}', proxy: 'http://127.0.0.1:${PORT}', ttl: 0, name: '', description: '' })),
        });
      case '/v1/models':
        return json(200, {
          object: 'list',
          data: this.opts.models.map((id) => ({ id, object: 'model', created: 1780401000, owned_by: 'llama-swap', status: { value: this.states.get(id) === 'ready' ? 'loaded' : 'unloaded' }, meta: { llamaswap: { type: 'model' } } })),
        });
      case '/api/metrics/activity':
        if (!this.sqlite) return notFound();
        return this.activity(u, res, json);
      case '/api/metrics':
        if (!this.ring) return notFound();
        return json(200, this.rows.length ? this.rows : null);
      case '/api/events':
        return this.opts.events === false ? notFound() : this.events(res);
      case '/logs/stream': {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff', 'x-accel-buffering': 'no' });
        if (!u.searchParams.has('no-history')) res.write(this.history);
        res.flushHeaders();
        this.logClients.add(res);
        res.on('close', () => this.logClients.delete(res));
        return;
      }
      default:
        return notFound();
    }
  }

  private events(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'x-accel-buffering': 'no' });
    res.on('error', () => undefined);
    res.write(this.sse('logData', JSON.stringify({ source: 'proxy', data: this.history })));
    res.write(this.sse('logData', JSON.stringify({ source: 'upstream', data: '' })));
    res.write(this.sse('modelStatus', JSON.stringify(this.modelStatus())));
    if (this.opts.mode === 'v217') res.write(this.sse('metrics', JSON.stringify(this.rows)));
    const snap = this.inflightSnapshot();
    if (snap !== undefined) res.write(this.sse('inflight', JSON.stringify(snap)));
    this.eventClients.add(res);
    res.on('close', () => this.eventClients.delete(res));
  }

  /** handleAPIActivity + parseActivityQuery + store.ListActivity (min_id/max_id only in head). */
  private activity(u: URL, res: ServerResponse, json: (s: number, b: unknown) => void): void {
    if (this.garbageActivityBytes > 0) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let left = this.garbageActivityBytes;
      const pump = (): void => {
        while (left > 0) {
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      return pump();
    }
    const q = u.searchParams;
    const bad = (m: string): void => json(400, { src: 'llama-swap', error: m });
    let limit = 25;
    if (q.has('limit')) {
      limit = Number(q.get('limit'));
      if (!Number.isInteger(limit) || limit < 1 || limit > 999) return bad('limit must be between 1 and 999');
    }
    let minId = 0;
    let maxId = 0;
    if (this.opts.mode === 'head') {
      for (const [k, set] of [['min_id', (v: number) => (minId = v)], ['max_id', (v: number) => (maxId = v)]] as const) {
        if (!q.has(k)) continue;
        const v = Number(q.get(k));
        if (!Number.isInteger(v) || v < 1) return bad(`${k} must be >= 1`);
        set(v);
      }
    }
    const page = q.has('page') ? Number(q.get('page')) : 1;
    if (!Number.isInteger(page) || page < 1) return bad('page must be >= 1');
    const sort = q.get('sort') ?? 'id';
    if (!SORTS.has(sort)) return bad('invalid sort column');
    if (sort !== 'id') return bad('stand-in sorts by id only');
    const order = (q.get('order') ?? 'desc').toLowerCase();
    if (order !== 'asc' && order !== 'desc') return bad('order must be asc or desc');
    const matching = this.rows.filter((r) => r.id >= minId && (maxId === 0 || r.id <= maxId)).sort((a, b) => (order === 'asc' ? a.id - b.id : b.id - a.id));
    json(200, { data: matching.slice((page - 1) * limit, page * limit), page, limit, total: matching.length, total_pages: Math.ceil(matching.length / limit) });
  }
}

/** Sends `n` chat completions for `model`, `concurrency` at a time; returns the status codes seen. */
export async function chat(url: string, model: string, n: number, concurrency = 8, headers: Record<string, string> = {}): Promise<Map<number, number>> {
  const codes = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'recruiter-responder/1.0', ...headers },
        body: JSON.stringify(model === '' ? { messages: [] } : { model, messages: [{ role: 'user', content: 'triage this email' }] }),
      });
      await res.arrayBuffer();
      codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return codes;
}
