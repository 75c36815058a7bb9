/**
 * A stand-in llama-swap (node:http) for tests, written from llama-swap's source (see
 * test/fixtures/llamaswap/README.md): the real routes and JSON shapes per version range, a capped
 * in-memory activity store whose ids restart with the process, the request log stream, and a model whose
 * load fails (500 `unspecific error: upstream command exited prematurely` from v218, 502 `unable to start
 * process: …` before). It records every request it receives, so tests can prove nothing touched /upstream.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** v250: /api/metrics/activity · v230: /api/metrics with error_msg · v215: /api/metrics, 502, no error_msg · v150: log only. */
export type Era = 'v250' | 'v230' | 'v215' | 'v150';

export interface StandInOptions {
  readonly era: Era;
  readonly models: readonly string[];
  /** Models whose process exits while loading (cudaMalloc OOM): every request fails. */
  readonly failing?: readonly string[];
  /** metricsMaxInMemory (default 1000). */
  readonly maxInMemory?: number;
  readonly apiKey?: string;
}

type Row = Record<string, unknown> & { id: number };

const SORTS = new Set(['id', 'time', 'model', 'req_path', 'resp_status_code', 'resp_content_type', 'cached', 'prompt', 'generated', 'drafted', 'prompt_speed', 'gen_speed', 'duration']);

/** Go's time.Time JSON: RFC3339 with nanoseconds. */
function goTimestamp(): string {
  const ns = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return new Date().toISOString().replace('Z', `${ns}Z`);
}

export class LlamaSwapStandIn {
  /** "METHOD path?query" of every request received. */
  readonly received: string[] = [];
  readonly running = new Map<string, 'starting' | 'ready' | 'stopping'>();
  /** When set, /api/metrics/activity answers this many bytes of garbage. */
  garbageActivityBytes = 0;
  private rows: Row[] = [];
  private nextId = 1;
  private readonly logClients = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  url = '';

  private constructor(readonly opts: StandInOptions) {}

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

  get logStreamClients(): number {
    return this.logClients.size;
  }

  get storedRows(): number {
    return this.rows.length;
  }

  /** llama-swap restarted: empty in-memory store, ids from 1, nothing running, log streams closed. */
  restart(): void {
    this.rows = [];
    this.nextId = 1;
    this.running.clear();
    for (const c of this.logClients) c.destroy();
    this.logClients.clear();
  }

  /** Drops every log stream connection after writing `partial` (a line cut mid-way). */
  cutLogStreams(partial: string): void {
    for (const c of this.logClients) {
      c.write(partial);
      // Let the partial chunk reach the client before the connection dies.
      setTimeout(() => c.socket?.destroy(), 50);
    }
    this.logClients.clear();
  }

  /** Stores a row that is not what llama-swap would write (a broken proxy, a future format); takes an id. */
  injectRawRow(fields: Record<string, unknown>): void {
    this.store({ id: this.nextId++, ...fields });
  }

  async close(): Promise<void> {
    for (const c of this.logClients) c.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private store(row: Row): void {
    this.rows.push(row);
    const max = this.opts.maxInMemory ?? 1000;
    if (this.rows.length > max) this.rows.splice(0, this.rows.length - max);
  }

  private log(line: string): void {
    for (const c of this.logClients) c.write(`${line}\n`);
  }

  private authorised(req: IncomingMessage): boolean {
    const key = this.opts.apiKey;
    if (!key) return true;
    return req.headers.authorization === `Bearer ${key}` || req.headers['x-api-key'] === key;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const u = new URL(req.url ?? '/', 'http://x');
    this.received.push(`${req.method} ${u.pathname}${u.search}`);
    const era = this.opts.era;
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
      if (!this.opts.models.includes(model)) {
        // Not recorded as activity: the model cannot be resolved (metrics middleware returns early).
        json(404, { error: { code: 404, message: 'no local server found for requested model', type: 'not_found_error' } });
        return logRequest(404, 0);
      }
      let status: number;
      let out: string;
      let errorMsg: string | undefined;
      if (this.opts.failing?.includes(model)) {
        this.running.delete(model);
        if (era === 'v250' || era === 'v230') {
          status = 500;
          errorMsg = 'unspecific error: upstream command exited prematurely';
          out = JSON.stringify({ error: { code: 500, message: errorMsg, type: 'server_error' } });
          res.writeHead(status, { 'content-type': 'application/json' });
        } else {
          status = 502;
          out = 'unable to start process: upstream command exited unexpectedly: exit status 1';
          res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
        }
      } else {
        this.running.set(model, 'ready');
        status = 200;
        out = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });
        res.writeHead(status, { 'content-type': 'application/json' });
      }
      res.end(out);
      if (era !== 'v150') {
        const row: Row = {
          id: this.nextId++,
          timestamp: goTimestamp(),
          model,
          req_path: u.pathname,
          resp_content_type: status === 200 ? 'application/json' : res.getHeader('content-type'),
          resp_status_code: status,
          tokens: { cache_tokens: 0, draft_tokens: 0, draft_acc_tokens: 0, input_tokens: 5, output_tokens: 1, prompt_per_second: 500, tokens_per_second: 40 },
          duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
          has_capture: false,
        };
        if (status !== 200 && era === 'v250') row.error_msg = errorMsg;
        if (status !== 200 && era === 'v230') row.error_msg = errorMsg;
        this.store(row);
      }
      return logRequest(status, out.length);
    }

    if (req.method !== 'GET') return text(405, 'Method Not Allowed\n');
    switch (u.pathname) {
      case '/api/version':
        if (era === 'v150') return notFound();
        return json(200, { version: era, commit: 'standin', build_date: '2026-11-20T10:00:00Z' });
      case '/running':
        return json(200, {
          running: [...this.running].sort().map(([model, state]) => ({ model, state, cmd: 'llama-server --port ${PORT}', proxy: 'http://127.0.0.1:${PORT}', ttl: 0, name: '', description: '' })),
        });
      case '/v1/models':
        return json(200, {
          object: 'list',
          data: this.opts.models.map((id) => ({ id, object: 'model', created: 1780401000, owned_by: 'llama-swap', status: { value: this.running.has(id) ? 'loaded' : 'unloaded' }, meta: { llamaswap: { type: 'model' } } })),
        });
      case '/api/metrics/activity':
        if (era !== 'v250') return notFound();
        return this.activity(u, res, json);
      case '/api/metrics':
        if (era !== 'v230' && era !== 'v215') return notFound();
        return json(200, this.rows.length ? this.rows : null);
      case '/logs/stream': {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff', 'x-accel-buffering': 'no' });
        if (!u.searchParams.has('no-history')) res.write('[INFO] history line\n');
        res.flushHeaders();
        this.logClients.add(res);
        res.on('close', () => this.logClients.delete(res));
        return;
      }
      default:
        return notFound();
    }
  }

  /** handleAPIActivity + parseActivityQuery + store.ListActivity. */
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
    const bad = (m: string): void => json(400, { error: { code: 400, message: m, type: 'invalid_request_error' } });
    let limit = 25;
    if (q.has('limit')) {
      limit = Number(q.get('limit'));
      if (!Number.isInteger(limit) || limit < 1 || limit > 999) return bad('limit must be between 1 and 999');
    }
    const minId = q.has('min_id') ? Number(q.get('min_id')) : 0;
    if (q.has('min_id') && (!Number.isInteger(minId) || minId < 1)) return bad('min_id must be >= 1');
    const page = q.has('page') ? Number(q.get('page')) : 1;
    if (!Number.isInteger(page) || page < 1) return bad('page must be >= 1');
    const sort = q.get('sort') ?? 'id';
    if (!SORTS.has(sort)) return bad('invalid sort column');
    if (sort !== 'id') return bad('stand-in sorts by id only');
    const order = (q.get('order') ?? 'desc').toLowerCase();
    if (order !== 'asc' && order !== 'desc') return bad('order must be asc or desc');
    const matching = this.rows.filter((r) => r.id >= minId).sort((a, b) => (order === 'asc' ? a.id - b.id : b.id - a.id));
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
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'triage this email' }] }),
      });
      await res.arrayBuffer();
      codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return codes;
}
