/**
 * One llama-swap server: detects its version once (GET /api/version, probing the routes where a dev build
 * reports no release), then runs
 *   - the background activity poll (activity-reader.ts) or, before v209, the request log stream;
 *   - the event stream (GET /api/events, every version here) for live state (parse-events.ts).
 * Read-only: GETs only, never /upstream/.
 */
import { errorMessage } from '../../lib/async.js';
import { httpGet, redactUrl, type HttpResponse } from '../../lib/http.js';
import type { Logger } from '../../logger.js';
import { Tally } from './accounting.js';
import { ActivityReader, type ActivitySource } from './activity-reader.js';
import type { Options } from './options.js';
import { parseActivityPage, parseLegacyMetrics } from './parse-activity.js';
import { parseVersion, type VersionInfo } from './parse-api.js';
import { BoundedLines, LiveState, parseEventLine } from './parse-events.js';
import { isInferenceRequest, LineSplitter, parseRequestLogLine } from './parse-log.js';
import type { ServerSpec } from './parse-servers.js';
import { followStream, type StreamState } from './stream.js';

/** Bodies of the JSON API are small; a page of 999 activity rows is about 400 KB. */
export const MAX_BODY = 4 * 1024 * 1024;

export type Source = ActivitySource | 'log';

const newStreamState = (): StreamState => ({ connected: false, missing: false, lastError: undefined, downSince: undefined });

export class ServerPoller {
  readonly tally: Tally;
  readonly live: LiveState;
  readonly events = newStreamState();
  readonly logStream = newStreamState();
  readonly sse = new BoundedLines();
  version: VersionInfo | undefined;
  source: Source | undefined;
  minIdHonoured = false;
  lastError: string | undefined;
  private reader: ActivityReader | undefined;
  private polling: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly closeAc = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private streamStarted = false;
  private reportedMalformed = 0;

  constructor(
    readonly spec: ServerSpec,
    readonly opts: Options,
    private readonly log: Logger,
  ) {
    this.tally = new Tally(opts.max_models);
    this.live = new LiveState(opts.max_models);
  }

  headers(accept = 'application/json'): Record<string, string> {
    const key = this.spec.apiKey ?? (this.opts.api_key || undefined);
    return key ? { authorization: `Bearer ${key}`, accept } : { accept };
  }

  get(path: string, signal?: AbortSignal): Promise<HttpResponse> {
    return httpGet(this.spec.url + path, {
      timeoutMs: this.opts.request_timeout * 1000,
      headers: this.headers(),
      maxBytes: MAX_BODY,
      signal: AbortSignal.any([this.closeAc.signal, ...(signal ? [signal] : [])]),
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
    if (this.opts.events) this.loops.push(this.followEvents());
  }

  /** One poll at a time; callers arriving meanwhile share it. Never rejects. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce()
      .then(
        () => {
          this.lastError = undefined;
        },
        (e: unknown) => {
          const msg = errorMessage(e);
          if (msg !== this.lastError) this.log.warn({ server: this.spec.name, cause: msg }, 'llama-swap poll failed');
          this.lastError = msg;
        },
      )
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  /** Malformed rows and messages seen since the previous scrape (reported once). */
  takeMalformed(): number {
    const all = this.tally.malformed + this.live.malformed;
    const n = all - this.reportedMalformed;
    this.reportedMalformed = all;
    return n;
  }

  private async pollOnce(): Promise<void> {
    if (this.closed) return;
    if (!this.source) await this.detectSource();
    if (this.reader) return this.reader.poll();
    if (this.source === 'log' && this.opts.log_stream && !this.streamStarted) {
      this.streamStarted = true;
      this.loops.push(this.followLog());
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
      const a = await this.get('/api/metrics/activity?limit=1&sort=id&order=desc');
      if (a.status === 200 && tryParse(() => parseActivityPage(a.body))) source = 'activity';
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
    // min_id arrived after v250: trust it only when a probe shows it filters (a filter past the newest
    // row must return nothing; v236–v250 ignore it and return the newest row).
    if (source === 'activity' && (n === undefined || n > 250)) this.minIdHonoured = await this.probeMinId();
    this.source = source;
    if (source !== 'log') {
      this.reader = new ActivityReader((p) => this.get(p), source, this.tally, { minId: this.minIdHonoured, server: this.spec.name, log: this.log, closed: () => this.closed });
    }
    this.log.info({ server: this.spec.name, url: redactUrl(this.spec.url), version: this.version?.raw ?? 'unknown', source, minId: this.minIdHonoured }, 'llama-swap detected');
  }

  private async probeMinId(): Promise<boolean> {
    const first = await this.get('/api/metrics/activity?limit=1&sort=id&order=desc');
    const newest = first.status === 200 ? tryParse(() => parseActivityPage(first.body).rows.at(-1)) : undefined;
    if (!newest) return false; // empty store: cannot tell; the algorithm is correct without it
    const probe = await this.get(`/api/metrics/activity?limit=1&sort=id&order=desc&min_id=${newest.id + 1}`);
    const page = probe.status === 200 ? tryParse(() => parseActivityPage(probe.body)) : undefined;
    return page !== undefined && page.rows.length === 0;
  }

  /** GET /api/events: live state; the replayed history is dropped as it streams (parse-events.ts). */
  private followEvents(): Promise<void> {
    return followStream(
      `${this.spec.url}/api/events`,
      this.headers('text/event-stream'),
      this.opts.request_timeout * 1000,
      this.closeAc.signal,
      {
        onOpen: (res) => {
          const serverNow = Date.parse(res.headers.get('date') ?? '');
          this.sse.reset();
          this.live.connected(Number.isFinite(serverNow) ? serverNow - Date.now() : 0);
        },
        onText: (text) => {
          for (const line of this.sse.push(text)) {
            const msg = parseEventLine(line);
            if (msg) this.live.apply(msg);
          }
        },
        onClose: () => {
          this.sse.reset();
          this.live.disconnected();
        },
      },
      this.events,
    );
  }

  /** Before v209: count request lines of GET /logs/stream?no-history (model "unknown"). */
  private followLog(): Promise<void> {
    const splitter = new LineSplitter();
    return followStream(
      `${this.spec.url}/logs/stream?no-history`,
      this.headers('text/plain'),
      this.opts.request_timeout * 1000,
      this.closeAc.signal,
      {
        onOpen: () => undefined,
        onText: (text) => {
          for (const line of splitter.push(text)) this.countLogLine(line);
        },
        onClose: () => {
          // A line cut off by the disconnect: if it was a request line, that request is lost.
          if (splitter.takeTail().includes('] Request ')) this.tally.missed += 1;
        },
      },
      this.logStream,
    );
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

  /** Milliseconds a stream has been down (0 while connected). */
  static downFor(s: StreamState): number {
    return s.downSince === undefined ? 0 : Date.now() - s.downSince;
  }

  /** How live state is known: "events" while the stream is connected, else "polling". */
  get liveSource(): 'events' | 'polling' {
    return this.events.connected ? 'events' : 'polling';
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.closeAc.abort();
    await Promise.all([this.polling, ...this.loops]);
  }
}

function tryParse<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
