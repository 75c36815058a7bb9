/**
 * llama-swap: requests per model and status code, request durations, model states and load failures from
 * llama-swap's own API, and live state (requests in flight and their age, state transitions, failed
 * loads, swaps, the request log) from its event stream. Read-only: it never requests `/upstream/…`
 * (which would start models and refresh their TTL) and never sends anything but GETs.
 *
 * Files: options.ts, metrics.ts (definitions), poller.ts (per-server state machine), activity-reader.ts
 * and accounting.ts (per-request counts), parse-events.ts + stream.ts (GET /api/events), parsers.
 */
import { raceSignal } from '../../lib/async.js';
import { httpGet, redactUrl, type HttpResponse } from '../../lib/http.js';
import type { SampleSink } from '../../metrics.js';
import { defineCollector } from '../types.js';
import { DURATION_BUCKETS } from './accounting.js';
import * as M from './metrics.js';
import { options, type Options } from './options.js';
import { MODEL_STATES, parseModelList, parseRunning } from './parse-api.js';
import { normaliseUrl, type ServerSpec } from './parse-servers.js';
import { MAX_BODY, ServerPoller } from './poller.js';

function serversOf(o: Options): ServerSpec[] {
  if (o.servers.length > 0) return o.servers;
  const url = o.default_url ? normaliseUrl(o.default_url) : undefined;
  return url ? [{ name: 'local', url }] : [];
}

function emitCounts(p: ServerPoller, sink: SampleSink): void {
  const server = p.spec.name;
  const t = p.tally;
  for (const [model, byCode] of t.requests) for (const [code, n] of byCode) sink.set(M.requests, { server, model, code }, n);
  for (const [model, h] of t.durations) {
    sink.histogram(M.requestDuration, { server, model }, { buckets: DURATION_BUCKETS.map((le, i) => [le, h.counts[i] as number] as const), sum: h.sum, count: h.count });
  }
  for (const [model, n] of t.loadFailures) sink.set(M.loadFailures, { server, model }, n);
  if (p.source !== undefined) {
    sink.set(M.rowsMissed, { server }, t.missed);
    sink.set(M.modelsFolded, { server }, t.folded);
    if (p.source !== 'log') sink.set(M.restarts, { server }, t.restarts);
  }
}

function emitLive(p: ServerPoller, sink: SampleSink): void {
  const server = p.spec.name;
  const live = p.live;
  if (p.events.connected) {
    for (const [model, v] of live.inFlightByModel()) {
      sink.set(M.inFlight, { server, model }, v.count);
      if (v.oldestSeconds !== undefined) sink.set(M.oldestInFlight, { server, model }, v.oldestSeconds);
    }
  }
  if (!p.opts.events) return;
  for (const [model, byState] of live.transitions) for (const [to, n] of byState) sink.set(M.transitions, { server, model, to }, n);
  for (const [model, n] of live.failedLoads) sink.set(M.failedLoads, { server, model }, n);
  sink.set(M.swaps, { server }, live.swaps);
  for (const [cls, n] of live.logClasses) sink.set(M.logRequests, { server, class: cls }, n);
}

async function scrapeServer(p: ServerPoller, sink: SampleSink, signal: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  const server = p.spec.name;
  const ok = (r: PromiseSettledResult<HttpResponse>): HttpResponse | undefined => (r.status === 'fulfilled' && r.value.status === 200 ? r.value : undefined);
  const [health, running, models] = await Promise.allSettled([p.get('/health', signal), p.get('/running', signal), p.get('/v1/models', signal)]);
  const isUp = ok(health) !== undefined;
  sink.set(M.up, { server }, isUp ? 1 : 0);
  // Fresh counts: wait for the poll in flight (or start one), within this scrape's time-out.
  if (isUp) await raceSignal(p.poll(), signal);

  if (p.version !== undefined || p.source !== undefined) sink.set(M.info, { server, version: p.version?.raw ?? '', source: p.source ?? '', live: p.liveSource }, 1);
  emitCounts(p, sink);
  emitLive(p, sink);
  if (!isUp) return problems;

  const runningOk = ok(running);
  const modelsOk = ok(models);
  const runningList = runningOk ? parseRunning(runningOk.body) : undefined;
  const configured = modelsOk ? parseModelList(modelsOk.body) : undefined;
  if (!runningList) problems.push(`${server}: GET /running gave no running list`);
  const states = new Map<string, string>();
  for (const m of configured ?? []) states.set(m, 'stopped');
  for (const r of runningList ?? []) states.set(r.model, r.state);
  // Without /running nothing can be said about states (a configured model may well be running).
  if (runningList) {
    let n = 0;
    for (const [model, state] of states) {
      if (n++ >= 1000) break;
      for (const s of MODEL_STATES) sink.set(M.modelState, { server, model, state: s }, s === state ? 1 : 0);
    }
  }
  if (p.lastError) problems.push(`${server}: ${p.lastError}`);
  const grace = 2 * p.opts.request_timeout * 1000;
  if (p.source === 'log' && p.opts.log_stream && ServerPoller.downFor(p.logStream) > grace) problems.push(`${server}: request log stream not connected`);
  // The event stream is not a failure of the collector when it is down: silentwatch_llamaswap_info{live}
  // and the landing page say "polling", and the counts above do not depend on it.
  const bad = p.takeMalformed();
  if (bad > 0) problems.push(`${server}: ${bad} malformed activity rows or events skipped`);
  return problems;
}

export const llamaswapCollector = defineCollector({
  name: 'llamaswap',
  description: 'llama-swap requests per model and status code, durations, model states, load failures, requests in flight, transitions and swaps (read-only; never touches /upstream).',
  defaultEnabled: 'auto',
  options,
  metrics: M.ALL_METRICS,
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
          const live = !p.opts.events
            ? 'event stream off'
            : p.events.connected
              ? 'live state from GET /api/events'
              : p.events.missing
                ? 'no GET /api/events in this version: no requests in flight, transitions or swaps (model states from GET /running only)'
                : 'GET /api/events not connected (reconnecting)';
          d[`server ${p.spec.name}`] = `${redactUrl(p.spec.url)}, ${p.version?.raw || 'version unknown'}, counts from ${p.source ?? 'not detected yet'}${p.minIdHonoured ? ' (min_id)' : ''}; ${live}`;
        }
        return d;
      },
    };
  },
});
