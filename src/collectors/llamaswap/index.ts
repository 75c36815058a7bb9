/**
 * llama-swap: requests per model and status code, request durations, model states and model load
 * failures, read from llama-swap's own API. Read-only: it never requests `/upstream/…` (which would start
 * models and refresh their TTL) and never sends anything but GETs.
 *
 * Per-request status codes come from, depending on the version (detected once per server):
 *   v236+      GET /api/metrics/activity, paged with a min_id watermark;
 *   v209–v235  GET /api/metrics (the whole in-memory array);
 *   older      the request log line of GET /logs/stream?no-history (status without model: model "unknown").
 * A background poller reads between scrapes so llama-swap's capped in-memory store (default 1000 rows)
 * does not evict rows before they are counted; rows evicted anyway are counted as missed.
 */
import { z } from 'zod';
import { bool, duration, integer } from '../../lib/config-values.js';
import { httpGet, redactUrl, type HttpResponse } from '../../lib/http.js';
import type { Logger } from '../../logger.js';
import { defineMetric, type SampleSink } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { DURATION_BUCKETS, EMPTY_WATERMARK, planBatch, Tally, type Watermark } from './accounting.js';
import { parseActivityPage, parseLegacyMetrics, type ActivityRow } from './parse-activity.js';
import { MODEL_STATES, parseModelList, parseRunning, parseVersion, type VersionInfo } from './parse-api.js';
import { isInferenceRequest, LineSplitter, parseRequestLogLine } from './parse-log.js';
import { normaliseUrl, parseServerEntry, validateServers, type ServerSpec } from './parse-servers.js';

const up = defineMetric({
  name: 'silentwatch_llamaswap_up',
  type: 'gauge',
  help: 'Whether the llama-swap server answered GET /health with 200 in this scrape (1) or not (0).',
  labels: ['server'],
});
const requests = defineMetric({
  name: 'silentwatch_llamaswap_requests_total',
  type: 'counter',
  help: 'Inference requests llama-swap answered, per model and exact HTTP status code, counted since the exporter started watching (model "unknown" for versions before v209, whose only source is the request log).',
  labels: ['server', 'model', 'code'],
});
const requestDuration = defineMetric({
  name: 'silentwatch_llamaswap_request_duration_seconds',
  type: 'histogram',
  help: 'Duration of inference requests as llama-swap recorded them (including model loading), per model, in seconds.',
  labels: ['server', 'model'],
});
const modelState = defineMetric({
  name: 'silentwatch_llamaswap_model_state',
  type: 'gauge',
  help: 'State of each configured model (1 for the current state, 0 for the others): starting, ready, stopping from GET /running; stopped for configured models that are not running.',
  labels: ['server', 'model', 'state'],
});
const loadFailures = defineMetric({
  name: 'silentwatch_llamaswap_model_load_failures_total',
  type: 'counter',
  help: 'Requests answered 5xx because the model could not be loaded (upstream exited prematurely, unable to start process, health check timed out), per model, since the exporter started watching.',
  labels: ['server', 'model'],
});
const rowsMissed = defineMetric({
  name: 'silentwatch_llamaswap_activity_rows_missed_total',
  type: 'counter',
  help: "Requests llama-swap recorded but evicted from its capped in-memory store (or cut from the log stream) before silentwatch could read them; poll more often or raise metricsMaxInMemory when it grows.",
  labels: ['server'],
});
const info = defineMetric({
  name: 'silentwatch_llamaswap_info',
  type: 'gauge',
  help: 'Always 1 once the llama-swap version was detected: version as reported and source of the request counts (activity = /api/metrics/activity, metrics = /api/metrics, log = request log stream).',
  labels: ['server', 'version', 'source'],
});
const restarts = defineMetric({
  name: 'silentwatch_llamaswap_restarts_detected_total',
  type: 'counter',
  help: 'Times the activity ids of this llama-swap went backwards (it restarted and its in-memory store began again) while silentwatch watched it.',
  labels: ['server'],
});

interface ServerInput {
  name: string;
  url: string;
  api_key?: string | undefined;
}

const serversOption = () =>
  z
    .union([
      z.array(z.object({ name: z.string(), url: z.string(), api_key: z.string().optional() }).strict()),
      z.string(),
    ])
    .transform((v, ctx): ServerSpec[] => {
      const out: ServerSpec[] = [];
      const entries: Array<string | ServerInput> = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
      for (const e of entries) {
        if (typeof e === 'string') {
          const parsed = parseServerEntry(e);
          if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
          else out.push(parsed);
          continue;
        }
        const url = normaliseUrl(e.url);
        if (!url) ctx.addIssue({ code: 'custom', message: `server ${JSON.stringify(e.name.slice(0, 64))}: expected an http(s) URL without credentials or query string (API keys go in api_key)` });
        else out.push({ name: e.name, url, ...(e.api_key ? { apiKey: e.api_key } : {}) });
      }
      const problem = validateServers(out);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      return out;
    });

const options = z.object({
  servers: serversOption()
    .prefault('')
    .describe(
      'llama-swap servers to watch: a YAML list of {name, url, api_key}, or name=url pairs separated by commas (a bare URL is named by its host:port). The name becomes the label server.',
    ),
  api_key: z
    .string()
    .default('')
    .describe('API key sent as "Authorization: Bearer" to servers without their own api_key (llama-swap apiKeys). Never logged or shown.'),
  default_url: z
    .string()
    .default('http://127.0.0.1:8080')
    .describe('With no servers configured, auto-detection looks for a llama-swap here (GET /health = OK and GET /running) and watches it as server "local". Empty: no probing.'),
  poll_interval: duration()
    .prefault('5s')
    .describe("How often the background poller reads new activity between scrapes, so llama-swap's capped in-memory store (metricsMaxInMemory, default 1000 rows) does not evict requests before they are counted."),
  request_timeout: duration().prefault('2s').describe('Time-out of one request to llama-swap.'),
  max_models: integer(1, 10000).prefault(100).describe('Most distinct model label values per server; requests for further models are counted as model "other".'),
  log_stream: bool()
    .prefault(true)
    .describe('For llama-swap before v209 (no per-request API), count requests from GET /logs/stream?no-history (model "unknown"). false: only up and model states for those.'),
});

type Options = z.output<typeof options>;

/** Bodies of the JSON API are small; a page of 999 activity rows is about 400 KB. */
const MAX_BODY = 4 * 1024 * 1024;
const PAGE_LIMIT = 999;
/** At most this many pages per poll (~20k rows), so one poll stays bounded; the rest is read next time. */
const MAX_PAGES = 20;

type Source = 'activity' | 'metrics' | 'log';

class ServerPoller {
  readonly tally: Tally;
  version: VersionInfo | undefined;
  source: Source | undefined;
  lastError: string | undefined;
  /** When the log stream was last seen disconnected (undefined while connected or not used). */
  private streamDownSince: number | undefined;
  private wm: Watermark = EMPTY_WATERMARK;
  private baselined = false;
  private polling: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly closeAc = new AbortController();
  private streamLoop: Promise<void> | undefined;
  private reportedMalformed = 0;

  constructor(
    readonly spec: ServerSpec,
    readonly opts: Options,
    private readonly log: Logger,
  ) {
    this.tally = new Tally(opts.max_models);
  }

  private headers(): Record<string, string> {
    const key = this.spec.apiKey ?? (this.opts.api_key || undefined);
    return key ? { authorization: `Bearer ${key}`, accept: 'application/json' } : { accept: 'application/json' };
  }

  get(path: string, signal?: AbortSignal): Promise<HttpResponse> {
    const signals = [this.closeAc.signal, ...(signal ? [signal] : [])];
    return httpGet(this.spec.url + path, {
      timeoutMs: this.opts.request_timeout * 1000,
      headers: this.headers(),
      maxBytes: MAX_BODY,
      signal: AbortSignal.any(signals),
    });
  }

  start(): void {
    const tick = (): void => {
      this.timer = undefined;
      if (this.closed) return;
      void this.poll().finally(() => {
        if (!this.closed) this.timer = setTimeout(tick, this.opts.poll_interval * 1000);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** One poll at a time; callers arriving meanwhile share it. Never rejects. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce()
      .then(
        () => {
          this.lastError = undefined;
        },
        (e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (msg !== this.lastError) this.log.warn({ server: this.spec.name, cause: msg }, 'llama-swap poll failed');
          this.lastError = msg;
        },
      )
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  /** Malformed rows seen since the previous scrape (reported once). */
  takeMalformed(): number {
    const n = this.tally.malformed - this.reportedMalformed;
    this.reportedMalformed = this.tally.malformed;
    return n;
  }

  private async pollOnce(): Promise<void> {
    if (this.closed) return;
    if (!this.source) await this.detectSource();
    switch (this.source) {
      case 'activity':
        return this.pollActivity();
      case 'metrics':
        return this.pollLegacy();
      case 'log':
        if (this.opts.log_stream) this.streamLoop ??= this.runStream();
        return;
      default:
        return;
    }
  }

  private async detectSource(): Promise<void> {
    const v = await this.get('/api/version');
    if (v.status === 401 || v.status === 403) throw new Error(`GET /api/version answered ${v.status}: set api_key for server ${this.spec.name}`);
    this.version = v.status === 200 ? parseVersion(v.body) : undefined;
    const n = this.version?.number;
    let source: Source | undefined;
    if (n !== undefined) source = n >= 236 ? 'activity' : n >= 209 ? 'metrics' : 'log';
    else {
      // Dev build or no /api/version: probe what exists.
      const a = await this.get('/api/metrics/activity?limit=1');
      if (a.status === 200 && isParsable(() => parseActivityPage(a.body))) source = 'activity';
      else {
        const m = await this.get('/api/metrics');
        const rows = m.status === 200 ? tryParse(() => parseLegacyMetrics(m.body).rows) : undefined;
        if (rows && rows.every((r) => r.status !== undefined)) source = 'metrics';
        else {
          const h = await this.get('/health');
          if (h.status !== 200) throw new Error(`GET /health answered ${h.status}; cannot tell the llama-swap version yet`);
          source = 'log';
        }
      }
    }
    this.source = source;
    this.log.info({ server: this.spec.name, url: redactUrl(this.spec.url), version: this.version?.raw ?? 'unknown', source }, 'llama-swap detected');
  }

  private count(plan: ReturnType<typeof planBatch>): boolean {
    if (plan.restart) return false;
    this.tally.countRows(plan.fresh);
    this.tally.missed += plan.missed;
    this.wm = plan.next;
    return true;
  }

  private restarted(): void {
    this.tally.restarts += 1;
    this.wm = EMPTY_WATERMARK;
    this.log.info({ server: this.spec.name }, 'llama-swap activity ids went backwards: it restarted; re-reading from its first row');
  }

  private async activityPage(query: string): Promise<{ rows: ActivityRow[] }> {
    const res = await this.get(`/api/metrics/activity?${query}`);
    if (res.status !== 200) throw new Error(`GET /api/metrics/activity answered ${res.status}`);
    const page = parseActivityPage(res.body);
    this.tally.malformed += page.malformed;
    return page;
  }

  private async pollActivity(): Promise<void> {
    if (!this.baselined) {
      // Start from the newest row: what happened before silentwatch watched is not counted (an exporter
      // restart must not count the same rows again).
      const { rows } = await this.activityPage('limit=1&sort=id&order=desc');
      const newest = rows.at(-1);
      this.wm = newest ? { id: newest.id, timestamp: newest.timestamp } : EMPTY_WATERMARK;
      this.baselined = true;
      return;
    }
    let restartHandled = false;
    for (let page = 0; page < MAX_PAGES && !this.closed; page++) {
      const q = `${this.wm.id > 0 ? `min_id=${this.wm.id}&` : ''}limit=${PAGE_LIMIT}&sort=id&order=asc`;
      const { rows } = await this.activityPage(q);
      const plan = planBatch(this.wm, rows);
      if (!this.count(plan)) {
        if (restartHandled) throw new Error('activity ids inconsistent twice in one poll');
        restartHandled = true;
        this.restarted();
        page--;
        continue;
      }
      if (rows.length < PAGE_LIMIT) return;
    }
  }

  private async pollLegacy(): Promise<void> {
    const res = await this.get('/api/metrics');
    if (res.status !== 200) throw new Error(`GET /api/metrics answered ${res.status}`);
    const parsed = parseLegacyMetrics(res.body);
    this.tally.malformed += parsed.malformed;
    if (!this.baselined) {
      const newest = parsed.rows.at(-1);
      this.wm = newest ? { id: newest.id, timestamp: newest.timestamp } : EMPTY_WATERMARK;
      this.baselined = true;
      return;
    }
    if (this.count(planBatch(this.wm, parsed.rows.filter((r) => r.id >= this.wm.id)))) return;
    this.restarted();
    this.count(planBatch(this.wm, parsed.rows));
  }

  /** Follows the request log, reconnecting with back-off; resolves when closed. Never rejects. */
  private async runStream(): Promise<void> {
    let backoffMs = 1000;
    this.streamDownSince = Date.now();
    while (!this.closed) {
      const splitter = new LineSplitter();
      let gotData = false;
      try {
        const connectAc = new AbortController();
        const timer = setTimeout(() => connectAc.abort(), this.opts.request_timeout * 1000);
        let res: Response;
        try {
          res = await fetch(`${this.spec.url}/logs/stream?no-history`, {
            headers: { ...this.headers(), accept: 'text/plain' },
            signal: AbortSignal.any([this.closeAc.signal, connectAc.signal]),
            redirect: 'manual',
          });
        } finally {
          clearTimeout(timer);
        }
        if (res.status !== 200 || !res.body) {
          await res.body?.cancel().catch(() => undefined);
          throw new Error(`GET /logs/stream answered ${res.status}`);
        }
        this.streamDownSince = undefined;
        backoffMs = 1000;
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          gotData = true;
          for (const line of splitter.push(decoder.decode(chunk, { stream: true }))) this.countLogLine(line);
          if (this.closed) break;
        }
        for (const line of splitter.push(decoder.decode())) this.countLogLine(line);
      } catch (e) {
        if (!this.closed) {
          const msg = e instanceof Error ? e.message : String(e);
          this.lastError = `log stream: ${msg}`;
        }
      }
      this.streamDownSince ??= Date.now();
      // A line cut off by the disconnect: if it was a request line, that request is lost.
      if (splitter.takeTail().includes('] Request ')) this.tally.missed += 1;
      if (this.closed) break;
      await sleepUnlessAborted(gotData ? 100 : backoffMs, this.closeAc.signal);
      if (!gotData) backoffMs = Math.min(backoffMs * 2, 30_000);
    }
  }

  /** Milliseconds the request log stream has been down (0 while connected). */
  streamDownFor(): number {
    return this.streamDownSince === undefined ? 0 : Date.now() - this.streamDownSince;
  }

  private countLogLine(line: string): void {
    if (!line.includes('] Request ')) return;
    const parsed = parseRequestLogLine(line);
    if (!parsed) {
      this.tally.malformed += 1;
      return;
    }
    if (isInferenceRequest(parsed)) this.tally.count('unknown', parsed.status, parsed.durationSeconds);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.closeAc.abort();
    await Promise.all([this.polling, this.streamLoop]);
  }
}

function tryParse<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
const isParsable = (f: () => unknown): boolean => tryParse(f) !== undefined;

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves with the promise's outcome, or rejects when `signal` aborts first. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function serversOf(o: Options): ServerSpec[] {
  if (o.servers.length > 0) return o.servers;
  const url = o.default_url ? normaliseUrl(o.default_url) : undefined;
  return url ? [{ name: 'local', url }] : [];
}

async function scrapeServer(p: ServerPoller, sink: SampleSink, signal: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  const server = p.spec.name;
  const ok = (r: PromiseSettledResult<HttpResponse>): HttpResponse | undefined => (r.status === 'fulfilled' && r.value.status === 200 ? r.value : undefined);
  const [health, running, models] = await Promise.allSettled([p.get('/health', signal), p.get('/running', signal), p.get('/v1/models', signal)]);
  const isUp = ok(health) !== undefined;
  sink.set(up, { server }, isUp ? 1 : 0);
  // Fresh counts: wait for the poll in flight (or start one), within this scrape's time-out.
  if (isUp) await untilAborted(p.poll(), signal);

  if (p.version !== undefined || p.source !== undefined) sink.set(info, { server, version: p.version?.raw ?? '', source: p.source ?? '' }, 1);
  const t = p.tally;
  for (const [model, byCode] of t.requests) for (const [code, n] of byCode) sink.set(requests, { server, model, code }, n);
  for (const [model, h] of t.durations) {
    sink.histogram(requestDuration, { server, model }, { buckets: DURATION_BUCKETS.map((le, i) => [le, h.counts[i] as number] as const), sum: h.sum, count: h.count });
  }
  for (const [model, n] of t.loadFailures) sink.set(loadFailures, { server, model }, n);
  if (p.source !== undefined) {
    sink.set(rowsMissed, { server }, t.missed);
    if (p.source !== 'log') sink.set(restarts, { server }, t.restarts);
  }

  if (isUp) {
    const runningList = ok(running) ? parseRunning((ok(running) as HttpResponse).body) : undefined;
    const configured = ok(models) ? parseModelList((ok(models) as HttpResponse).body) : undefined;
    if (!runningList) problems.push(`${server}: GET /running gave no running list`);
    const states = new Map<string, string>();
    for (const m of configured ?? []) states.set(m, 'stopped');
    for (const r of runningList ?? []) states.set(r.model, r.state);
    // Without /running nothing can be said about states (a configured model may well be running).
    if (runningList) {
      let n = 0;
      for (const [model, state] of states) {
        if (n++ >= 1000) break;
        for (const s of MODEL_STATES) sink.set(modelState, { server, model, state: s }, s === state ? 1 : 0);
      }
    }
    if (p.lastError) problems.push(`${server}: ${p.lastError}`);
    if (p.source === 'log' && p.opts.log_stream && p.streamDownFor() > 2 * p.opts.request_timeout * 1000) problems.push(`${server}: request log stream not connected`);
    const bad = p.takeMalformed();
    if (bad > 0) problems.push(`${server}: ${bad} malformed activity rows skipped`);
  }
  return problems;
}

export const llamaswapCollector = defineCollector({
  name: 'llamaswap',
  description: 'llama-swap requests per model and status code, durations, model states and load failures (read-only; never touches /upstream).',
  defaultEnabled: 'auto',
  options,
  metrics: [up, requests, requestDuration, modelState, loadFailures, rowsMissed, info, restarts],
  async detect(ctx) {
    if (ctx.options.servers.length > 0) return { present: true, reason: `${ctx.options.servers.length} llama-swap server(s) configured` };
    const url = ctx.options.default_url ? normaliseUrl(ctx.options.default_url) : undefined;
    if (!url) return { present: false, reason: 'no llama-swap servers configured' };
    const timeoutMs = Math.min(ctx.options.request_timeout, ctx.timeoutSeconds) * 1000;
    try {
      const h = await httpGet(`${url}/health`, { timeoutMs, maxBytes: 1024 });
      const r = h.status === 200 && h.body.trim() === 'OK' ? await httpGet(`${url}/running`, { timeoutMs, maxBytes: MAX_BODY }) : undefined;
      if (r && (r.status === 401 || (r.status === 200 && parseRunning(r.body)))) return { present: true, reason: `llama-swap answering at ${redactUrl(url)}` };
    } catch {
      // nothing there
    }
    return { present: false, reason: `no llama-swap servers configured and none answering at ${redactUrl(url)}` };
  },
  create(ctx) {
    const pollers = serversOf(ctx.options).map((s) => new ServerPoller(s, ctx.options, ctx.log));
    for (const p of pollers) p.start();
    return {
      async collect(sink, run) {
        if (pollers.length === 0) throw new Error('no llama-swap servers configured');
        const results = await Promise.allSettled(pollers.map((p) => scrapeServer(p, sink, run.signal)));
        const problems = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [r.reason instanceof Error ? r.reason.message : String(r.reason)]));
        if (run.signal.aborted) throw new Error('aborted');
        if (problems.length > 0) sink.degraded(problems.join('; '));
      },
      async close() {
        await Promise.all(pollers.map((p) => p.close()));
      },
      describe() {
        const d: Record<string, string> = {};
        for (const p of pollers) {
          d[`server ${p.spec.name}`] = `${redactUrl(p.spec.url)}, ${p.version?.raw || 'version unknown'}, counts from ${p.source ?? 'not detected yet'}`;
        }
        return d;
      },
    };
  },
});
