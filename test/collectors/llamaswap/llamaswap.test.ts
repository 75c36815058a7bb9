/**
 * The real exporter process against stand-in llama-swap servers (one per version range): failing model
 * loads (500 current / 502 legacy), a restart that resets ids, more than 1000 requests between two polls,
 * a log stream cut mid-line, malformed rows, a 10k burst counted exactly, API keys, a 10 MB garbage body.
 * Every stand-in must end the test without having received a request to /upstream/ or anything but GETs
 * from the exporter.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.js';
import { cleanEnv, CLI, startExporter, type RunningExporter } from '../../helpers/exporter.js';
import { leakDelta, snapshot } from '../../helpers/leaks.js';
import type { ParsedExposition } from '../../helpers/metrics-text.js';
import { chat, LlamaSwapStandIn, type StandInOptions } from '../../helpers/llamaswap.js';

const run = promisify(execFile);
const standIns: LlamaSwapStandIn[] = [];
const exporters: RunningExporter[] = [];

async function standIn(opts: StandInOptions): Promise<LlamaSwapStandIn> {
  const s = await LlamaSwapStandIn.start(opts);
  standIns.push(s);
  return s;
}

async function exporter(args: string[], env: Record<string, string> = {}): Promise<RunningExporter> {
  const e = await startExporter(['--no-collector.host', ...args], env);
  exporters.push(e);
  return e;
}

/** The exporter's requests: only GETs, never /upstream/ (which would start models and refresh their TTL). */
function expectReadOnly(s: LlamaSwapStandIn): void {
  const own = s.received.filter((r) => !r.startsWith('POST /v1/'));
  expect(own.length).toBeGreaterThan(0);
  expect(own.filter((r) => !r.startsWith('GET '))).toEqual([]);
  expect(s.received.filter((r) => r.includes('/upstream'))).toEqual([]);
}

afterEach(async () => {
  while (exporters.length) {
    const e = exporters.pop() as RunningExporter;
    expect(await e.stop()).toBe(0);
    expect(e.daemon.output()).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
  }
  for (const s of standIns) expectReadOnly(s);
  while (standIns.length) await (standIns.pop() as LlamaSwapStandIn).close();
});
afterAll(async () => {
  for (const e of exporters) await e.stop();
  for (const s of standIns) await s.close();
});

const total = (m: ParsedExposition, name: string, match: Record<string, string> = {}): number => m.get(name, match).reduce((a, s) => a + s.value, 0);

/** Scrapes until `check` holds (the first poll after start only sets the baseline). */
async function scrapeUntil(e: RunningExporter, check: (m: ParsedExposition) => boolean, what: string, ms = 20_000): Promise<ParsedExposition> {
  return waitFor(async () => {
    const m = await e.metrics();
    return check(m) ? m : undefined;
  }, what, ms, 100);
}

const ready = (server: string, source: string) => (m: ParsedExposition): boolean =>
  m.value('silentwatch_llamaswap_up', { server }) === 1 && m.get('silentwatch_llamaswap_info', { server, source }).length === 1;

describe('llamaswap collector, v236+ (/api/metrics/activity)', () => {
  it('counts a model whose load fails: 500 per request, load failures, model stopped; earlier rows are not counted', async () => {
    const s = await standIn({ mode: 'v250', models: ['qwen3-8b', 'qwen3vl-4b', 'bge-m3'], failing: ['qwen3-8b'] });
    await chat(s.url, 'qwen3vl-4b', 5); // before the exporter watches: not counted
    const e = await exporter([`--collector.llamaswap.servers=triage=${s.url}`, '--collector.llamaswap.poll-interval=200ms']);
    await scrapeUntil(e, ready('triage', 'activity'), 'llama-swap detected');

    const failed = await chat(s.url, 'qwen3-8b', 44);
    const ok = await chat(s.url, 'qwen3vl-4b', 20);
    expect([failed.get(500), ok.get(200)]).toEqual([44, 20]);

    const m = await e.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'triage', model: 'qwen3-8b', code: '500' })).toBe(44);
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'triage', model: 'qwen3vl-4b', code: '200' })).toBe(20);
    expect(total(m, 'silentwatch_llamaswap_requests_total')).toBe(64);
    expect(m.value('silentwatch_llamaswap_model_load_failures_total', { server: 'triage', model: 'qwen3-8b' })).toBe(44);
    expect(m.get('silentwatch_llamaswap_model_load_failures_total', { model: 'qwen3vl-4b' })).toEqual([]);
    expect(m.value('silentwatch_llamaswap_request_duration_seconds_count', { server: 'triage', model: 'qwen3-8b' })).toBe(44);
    expect(m.value('silentwatch_llamaswap_request_duration_seconds_bucket', { server: 'triage', model: 'qwen3vl-4b', le: '+Inf' })).toBe(20);
    expect(m.value('silentwatch_llamaswap_activity_rows_missed_total', { server: 'triage' })).toBe(0);
    expect(m.value('silentwatch_llamaswap_info', { server: 'triage', version: 'v250', source: 'activity' })).toBe(1);
    // Model states: the failing model is stopped, the one that answered is ready, the idle one stopped.
    expect(m.value('silentwatch_llamaswap_model_state', { server: 'triage', model: 'qwen3-8b', state: 'stopped' })).toBe(1);
    expect(m.value('silentwatch_llamaswap_model_state', { server: 'triage', model: 'qwen3vl-4b', state: 'ready' })).toBe(1);
    expect(m.value('silentwatch_llamaswap_model_state', { server: 'triage', model: 'qwen3vl-4b', state: 'stopped' })).toBe(0);
    expect(m.value('silentwatch_llamaswap_model_state', { server: 'triage', model: 'bge-m3', state: 'stopped' })).toBe(1);
    expect(m.get('silentwatch_llamaswap_model_state', { model: 'bge-m3' })).toHaveLength(4);
    expect(m.get('silentwatch_llamaswap_up')).toHaveLength(1);
  });

  it('a restart that resets ids is re-baselined without double counting, even when new ids pass the old watermark', async () => {
    const s = await standIn({ mode: 'v250', models: ['m'] });
    // Polls only at scrapes, so the ids can overtake the watermark between two reads.
    const e = await exporter([`--collector.llamaswap.servers=a=${s.url}`, '--collector.llamaswap.poll-interval=1h']);
    await scrapeUntil(e, ready('a', 'activity'), 'llama-swap detected');
    await chat(s.url, 'm', 30);
    let m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(30);

    s.restart(); // ids start again at 1
    await chat(s.url, 'm', 12);
    m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(42);
    expect(m.value('silentwatch_llamaswap_restarts_detected_total', { server: 'a' })).toBe(1);

    s.restart();
    await chat(s.url, 'm', 50); // ids 1..50: past the watermark 12, whose row is now a different request
    m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(92);
    expect(m.value('silentwatch_llamaswap_restarts_detected_total', { server: 'a' })).toBe(2);
    expect(m.value('silentwatch_llamaswap_activity_rows_missed_total', { server: 'a' })).toBe(0);
  });

  it('more than 1000 requests between two polls: the evicted ones are counted as missed', async () => {
    const s = await standIn({ mode: 'v250', models: ['m'] });
    const e = await exporter([`--collector.llamaswap.servers=a=${s.url}`, '--collector.llamaswap.poll-interval=1h']);
    await scrapeUntil(e, ready('a', 'activity'), 'llama-swap detected');
    await chat(s.url, 'm', 3);
    expect((await e.metrics()).value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(3);
    await chat(s.url, 'm', 1500, 16);
    expect(s.storedRows).toBe(1000);
    const m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(1003);
    expect(m.value('silentwatch_llamaswap_activity_rows_missed_total', { server: 'a' })).toBe(500);
  }, 120_000);

  it('a burst of 10k requests is counted exactly by the background poller', async () => {
    const s = await standIn({ mode: 'v250', models: ['good', 'bad'], failing: ['bad'] });
    const e = await exporter([`--collector.llamaswap.servers=a=${s.url}`, '--collector.llamaswap.poll-interval=100ms']);
    await scrapeUntil(e, ready('a', 'activity'), 'llama-swap detected');
    const [good, bad] = await Promise.all([chat(s.url, 'good', 9000, 6), chat(s.url, 'bad', 1000, 2)]);
    expect([good.get(200), bad.get(500)]).toEqual([9000, 1000]);
    const m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_activity_rows_missed_total', { server: 'a' })).toBe(0);
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'good', code: '200' })).toBe(9000);
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'bad', code: '500' })).toBe(1000);
    expect(m.value('silentwatch_llamaswap_model_load_failures_total', { server: 'a', model: 'bad' })).toBe(1000);
    expect(total(m, 'silentwatch_llamaswap_request_duration_seconds_count')).toBe(10_000);
  }, 240_000); // 10k real HTTP requests on 2 shared cores

  it('malformed rows are skipped and reported once (success 0), the valid rows still count exactly', async () => {
    const s = await standIn({ mode: 'v250', models: ['m'] });
    const e = await exporter([`--collector.llamaswap.servers=a=${s.url}`, '--collector.llamaswap.poll-interval=1h']);
    await scrapeUntil(e, ready('a', 'activity'), 'llama-swap detected');
    await chat(s.url, 'm', 2);
    s.injectRawRow({ timestamp: 'x', model: '', resp_status_code: 200 });
    s.injectRawRow({ timestamp: 'x', model: 'm', resp_status_code: 'five hundred' });
    await chat(s.url, 'm', 3);
    let m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(5);
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(0);
    expect(m.value('silentwatch_llamaswap_activity_rows_missed_total', { server: 'a' })).toBe(0);
    m = await e.metrics();
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(5);
    expect(e.logs().some((l) => String(l.cause ?? '').includes('2 malformed activity rows'))).toBe(true);
  });

  it('a 10 MB garbage body is cut off, not buffered: success 0, the exporter keeps answering', async () => {
    const s = await standIn({ mode: 'v250', models: ['m'] });
    const e = await exporter([`--collector.llamaswap.servers=a=${s.url}`, '--collector.llamaswap.poll-interval=1h']);
    await scrapeUntil(e, ready('a', 'activity'), 'llama-swap detected');
    s.garbageActivityBytes = 10 * 1024 * 1024;
    const m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_up', { server: 'a' })).toBe(1);
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(0);
    expect(e.logs().some((l) => /body larger than/.test(String(l.cause ?? '')))).toBe(true);
    s.garbageActivityBytes = 0;
    await chat(s.url, 'm', 4);
    const after = await e.metrics();
    expect(after.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
    expect(after.value('silentwatch_llamaswap_requests_total', { server: 'a', model: 'm', code: '200' })).toBe(4);
  });

  it('API key from the environment is sent and never shown; without it the failure says so; a server going away is up 0', async () => {
    const key = 'sk-very-secret-7f3a';
    const s = await standIn({ mode: 'v250', models: ['m'], apiKey: key });
    const s2 = await standIn({ mode: 'v250', models: ['m'], apiKey: key });
    const e = await exporter([`--collector.llamaswap.servers=keyed=${s.url},nokey=${s2.url}`, '--collector.llamaswap.poll-interval=1h', '--log.level=debug'], {});
    await waitFor(async () => (await e.metrics()).value('silentwatch_llamaswap_up', { server: 'nokey' }) === 1, 'nokey up');
    const m0 = await e.metrics();
    expect(m0.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(0);
    expect(e.logs().some((l) => /set api_key/.test(String(l.cause ?? '')))).toBe(true);
    await e.stop();
    exporters.pop();

    const e2 = await exporter(
      [`--collector.llamaswap.servers=keyed=${s.url}`, '--collector.llamaswap.poll-interval=1h', '--log.level=debug'],
      { SILENTWATCH_COLLECTOR_LLAMASWAP_API_KEY: key },
    );
    await scrapeUntil(e2, ready('keyed', 'activity'), 'keyed server detected');
    expect((await chat(s.url, 'm', 2, 2, { authorization: `Bearer ${key}` })).get(200)).toBe(2);
    let m = await e2.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'keyed', model: 'm', code: '200' })).toBe(2);
    const landing = await (await fetch(e2.url + '/')).text();
    expect(landing).toContain('keyed');
    expect(landing + e2.daemon.output() + (await e2.scrape())).not.toContain(key);

    await s.close();
    standIns.splice(standIns.indexOf(s), 1);
    m = await e2.metrics();
    expect(m.value('silentwatch_llamaswap_up', { server: 'keyed' })).toBe(0);
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'keyed', model: 'm', code: '200' })).toBe(2);
    expect(s.received.filter((r) => r.includes('/upstream'))).toEqual([]);
  });
});

describe('llamaswap configuration from a YAML file', () => {
  it('a list of servers, each with its own API key', async () => {
    const a = await standIn({ mode: 'v250', models: ['m'], apiKey: 'key-a' });
    const b = await standIn({ mode: 'v235', models: ['m'], apiKey: 'key-b' });
    const dir = tempDir('llamaswap');
    try {
      const file = join(dir, 'silentwatch.yml');
      writeFileSync(
        file,
        ['collectors:', '  llamaswap:', '    poll_interval: 1h', '    servers:', `      - {name: gpu-a, url: "${a.url}/", api_key: key-a}`, `      - {name: gpu-b, url: "${b.url}", api_key: key-b}`, ''].join('\n'),
      );
      const e = await exporter([`--config=${file}`]);
      await scrapeUntil(e, (m) => ready('gpu-a', 'activity')(m) && ready('gpu-b', 'metrics')(m), 'both servers detected');
      await chat(a.url, 'm', 3, 3, { 'x-api-key': 'key-a' });
      await chat(b.url, 'm', 5, 3, { authorization: 'Bearer key-b' });
      const m = await e.metrics();
      expect(m.value('silentwatch_llamaswap_requests_total', { server: 'gpu-a', model: 'm', code: '200' })).toBe(3);
      expect(m.value('silentwatch_llamaswap_requests_total', { server: 'gpu-b', model: 'm', code: '200' })).toBe(5);
      expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
      expect(e.daemon.output()).not.toMatch(/key-a|key-b/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('llamaswap collector, v209–v235 (/api/metrics, ring buffer from id 0)', () => {
  it('v235: 500 with error_msg counts as a load failure; a restart re-baselines', async () => {
    const s = await standIn({ mode: 'v235', models: ['qwen3-8b', 'small'], failing: ['qwen3-8b'] });
    const e = await exporter([`--collector.llamaswap.servers=old=${s.url}`, '--collector.llamaswap.poll-interval=1h']);
    await scrapeUntil(e, ready('old', 'metrics'), 'llama-swap detected');
    await chat(s.url, 'qwen3-8b', 9);
    await chat(s.url, 'small', 4);
    let m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'old', model: 'qwen3-8b', code: '500' })).toBe(9);
    expect(m.value('silentwatch_llamaswap_model_load_failures_total', { server: 'old', model: 'qwen3-8b' })).toBe(9);
    expect(m.value('silentwatch_llamaswap_info', { server: 'old', version: 'v235', source: 'metrics' })).toBe(1);
    s.restart();
    await chat(s.url, 'small', 20);
    m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'old', model: 'small', code: '200' })).toBe(24);
    expect(m.value('silentwatch_llamaswap_restarts_detected_total', { server: 'old' })).toBe(1);
  });

  it('v217: every request 502 (no error_msg yet): counted per code, not as load failures', async () => {
    const s = await standIn({ mode: 'v217', models: ['qwen3-8b'], failing: ['qwen3-8b'] });
    const e = await exporter([`--collector.llamaswap.servers=old=${s.url}`, '--collector.llamaswap.poll-interval=1h']);
    await scrapeUntil(e, ready('old', 'metrics'), 'llama-swap detected');
    expect((await chat(s.url, 'qwen3-8b', 11)).get(502)).toBe(11);
    const m = await e.metrics();
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'old', model: 'qwen3-8b', code: '502' })).toBe(11);
    expect(m.get('silentwatch_llamaswap_model_load_failures_total')).toEqual([]);
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
  });
});

describe('llamaswap collector, before v209 (request log stream)', () => {
  it('counts 502s from the log as model "unknown", survives a stream cut mid-line and reconnects', async () => {
    const s = await standIn({ mode: 'v150', models: ['qwen3-8b', 'small'], failing: ['qwen3-8b'] });
    const e = await exporter([`--collector.llamaswap.servers=ancient=${s.url}`, '--collector.llamaswap.poll-interval=200ms']);
    await scrapeUntil(e, ready('ancient', 'log'), 'llama-swap detected');
    await waitFor(() => s.logStreamClients === 1, 'log stream connected');
    await chat(s.url, 'qwen3-8b', 6);
    await chat(s.url, 'small', 3);
    await scrapeUntil(e, (m) => m.value('silentwatch_llamaswap_requests_total', { server: 'ancient', model: 'unknown', code: '502' }) === 6 && m.value('silentwatch_llamaswap_requests_total', { server: 'ancient', model: 'unknown', code: '200' }) === 3, 'log counts');

    s.cutLogStreams('[INFO] Request 127.0.0.1 "POST /v1/chat/comp');
    await waitFor(() => s.logStreamClients === 1, 'log stream reconnected', 20_000);
    await chat(s.url, 'qwen3-8b', 4);
    const m = await scrapeUntil(e, (x) => x.value('silentwatch_llamaswap_requests_total', { server: 'ancient', model: 'unknown', code: '502' }) === 10, 'log counts after reconnect');
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'ancient', model: 'unknown', code: '200' })).toBe(3);
    expect(m.value('silentwatch_llamaswap_activity_rows_missed_total', { server: 'ancient' })).toBe(1);
    expect(m.value('silentwatch_llamaswap_info', { server: 'ancient', version: '', source: 'log' })).toBe(1);
    // llama-swap swaps: loading qwen3-8b again stopped small, and qwen3-8b never became ready.
    expect(m.value('silentwatch_llamaswap_model_state', { server: 'ancient', model: 'small', state: 'stopped' })).toBe(1);
    expect(m.value('silentwatch_llamaswap_model_state', { server: 'ancient', model: 'qwen3-8b', state: 'stopped' })).toBe(1);
    // The exporter's own GETs (/running, /health…) appear in the log but are not inference requests.
    expect(total(m, 'silentwatch_llamaswap_requests_total')).toBe(13);
    expect(s.received.filter((r) => r.startsWith('GET /logs/stream')).length).toBeGreaterThanOrEqual(2);
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
  });
});

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

describe('llamaswap event stream under a flood and cut mid-message', () => {
  it('8 MiB of replayed history, a 96 MiB flood with a 32 MiB line, a cut mid-message: one connection, bounded memory, live state intact', async () => {
    const s = await standIn({ mode: 'v250', models: ['m', 'stuck'], hanging: ['stuck'], historyBytes: 8 * 1024 * 1024 });
    const e = await exporter([`--collector.llamaswap.servers=a=${s.url}`, '--collector.llamaswap.poll-interval=500ms']);
    await scrapeUntil(e, (m) => m.value('silentwatch_llamaswap_info', { server: 'a', live: 'events' }) === 1, 'event stream connected');
    const pid = e.daemon.child.pid as number;
    for (let i = 0; i < 5; i++) await e.scrape();
    const before = memory(pid);
    const hung = chat(s.url, 'stuck', 1);
    await scrapeUntil(e, (m) => m.value('silentwatch_llamaswap_requests_in_flight', { server: 'a', model: 'stuck' }) === 1, 'hung request in flight');
    await s.floodEvents(96 * 1024 * 1024, 32 * 1024 * 1024);
    expect(s.eventStreamClients).toBe(1);
    s.cutEventStreams('event:message\ndata:{"type":"inflight","data":"{\\"operation\\":\\"remo');
    await waitFor(() => s.eventStreamClients === 1, 'event stream reconnected', 20_000);
    // After the reconnect the snapshot brings the hung request back, with its original start time.
    const m = await scrapeUntil(e, (x) => x.value('silentwatch_llamaswap_requests_in_flight', { server: 'a', model: 'stuck' }) === 1 && x.value('silentwatch_llamaswap_info', { server: 'a', live: 'events' }) === 1, 'live state after reconnect');
    expect(m.value('silentwatch_llamaswap_oldest_request_in_flight_seconds', { server: 'a', model: 'stuck' })).toBeGreaterThan(0.5);
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
    const after = memory(pid);
    const peakGrowth = after.peak - before.peak;
    const rssGrowth = after.rss - before.rss;
    console.log(`event stream flood: 8 MiB history + 96 MiB flood + 32 MiB line streamed; exporter RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MiB, peak +${peakGrowth.toFixed(0)} MiB (anchor: RSS before the flood)`);
    // Nothing streamed is kept: the peak stays far below what was streamed (136 MiB), the line cap is 512 KiB.
    expect(peakGrowth).toBeLessThan(64);
    expect(rssGrowth).toBeLessThan(48);
    expect(s.received.filter((r) => r.startsWith('GET /api/events'))).toHaveLength(2);
    s.releaseHung();
    await hung;
  }, 120_000);
});

describe('llamaswap without an event stream (before v140)', () => {
  it('falls back to polling and says so on the landing page and in silentwatch_llamaswap_info; not a collector failure', async () => {
    const s = await standIn({ mode: 'v150', models: ['m'], events: false });
    const e = await exporter([`--collector.llamaswap.servers=ancient=${s.url}`, '--collector.llamaswap.poll-interval=200ms']);
    const m = await scrapeUntil(e, (x) => x.value('silentwatch_llamaswap_info', { server: 'ancient', live: 'polling' }) === 1 && s.received.includes('GET /api/events'), 'detected, event stream tried');
    expect(m.value('silentwatch_collector_success', { collector: 'llamaswap' })).toBe(1);
    expect(m.get('silentwatch_llamaswap_requests_in_flight')).toEqual([]);
    // The landing page shows what the last scrape described.
    await waitFor(async () => {
      await e.scrape();
      return (await (await fetch(e.url + '/')).text()).includes('no GET /api/events in this version');
    }, 'landing page says there is no event stream', 10_000);
    // 404: retried every 5 minutes, not in a loop.
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.received.filter((r) => r === 'GET /api/events')).toHaveLength(1);
  });
});

describe('llamaswap against a server that accepts connections and never answers', () => {
  it('scrapes stay within the request time-out: up 0, the exporter keeps answering', async () => {
    const sockets = new Set<Socket>();
    const hung = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const e = await exporter([`--collector.llamaswap.servers=hung=${url}`, '--collector.llamaswap.request-timeout=1s', '--collector.llamaswap.poll-interval=300ms']);
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const m = await e.metrics();
        expect(performance.now() - t0).toBeLessThan(4500);
        expect(m.value('silentwatch_llamaswap_up', { server: 'hung' })).toBe(0);
        expect(m.get('silentwatch_llamaswap_requests_total')).toEqual([]);
      }
      expect(await e.stop()).toBe(0);
      exporters.pop();
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });
});

describe('llamaswap background poller and log stream over many scrapes', () => {
  it('100 scrapes of three servers (activity, log stream, down): no fd, child or timer leak; counts stay exact', async () => {
    const cur = await standIn({ mode: 'v250', models: ['m'] });
    const old = await standIn({ mode: 'v150', models: ['m'] });
    const e = await exporter([`--collector.llamaswap.servers=cur=${cur.url},old=${old.url},gone=http://127.0.0.1:9`, '--collector.llamaswap.poll-interval=100ms']);
    await scrapeUntil(e, (m) => ready('cur', 'activity')(m) && ready('old', 'log')(m), 'servers detected');
    await waitFor(() => old.logStreamClients === 1, 'log stream connected');
    for (let i = 0; i < 10; i++) await e.scrape(); // let keep-alive sockets settle
    const before = await snapshot(e);
    for (let i = 0; i < 100; i++) {
      if (i % 10 === 0) await Promise.all([chat(cur.url, 'm', 5, 5), chat(old.url, 'm', 5, 5)]);
      await e.scrape();
    }
    const d = leakDelta(before, await snapshot(e));
    expect(d.children).toBe(0);
    expect(d.fds).toBeLessThanOrEqual(3);
    expect(d.timers).toBeLessThanOrEqual(2);
    const m = await scrapeUntil(e, (x) => x.value('silentwatch_llamaswap_requests_total', { server: 'old', model: 'unknown', code: '200' }) === 50, 'log counts');
    expect(m.value('silentwatch_llamaswap_requests_total', { server: 'cur', model: 'm', code: '200' })).toBe(50);
    expect(m.value('silentwatch_llamaswap_up', { server: 'gone' })).toBe(0);
    expect(old.logStreamClients).toBe(1); // one stream, not one per poll
  }, 180_000);
});

describe('llamaswap auto-detection', () => {
  it('is on when a llama-swap answers at default_url, off (and quiet) when nothing does', async () => {
    const s = await standIn({ mode: 'v250', models: ['m'] });
    const on = await exporter([], { SILENTWATCH_COLLECTOR_LLAMASWAP_DEFAULT_URL: s.url });
    const m = await scrapeUntil(on, ready('local', 'activity'), 'auto-detected llama-swap');
    expect(m.value('silentwatch_collector_enabled', { collector: 'llamaswap' })).toBe(1);
    await on.stop();
    exporters.pop();

    const off = await exporter([], { SILENTWATCH_COLLECTOR_LLAMASWAP_DEFAULT_URL: 'http://127.0.0.1:9' });
    const m2 = await off.metrics();
    expect(m2.value('silentwatch_collector_enabled', { collector: 'llamaswap' })).toBe(0);
    expect(m2.get('silentwatch_llamaswap_up')).toEqual([]);
  });

  it('rejects bad server entries at start (exit 2) with a message that names the key', async () => {
    const r = await run(process.execPath, [CLI, '--collector.llamaswap.servers=a=ftp://x,b=http://u:pw-secret@h:1'], { env: cleanEnv() }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/collectors\.llamaswap\.servers \(from flag --collector\.llamaswap\.servers\).*http/);
    expect(r.stderr).not.toContain('pw-secret');
  });
});
