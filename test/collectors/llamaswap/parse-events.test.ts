/**
 * The pure /api/events handling: bounded line splitting (a flood and a line longer than the cap never
 * held), the JSON-inside-JSON envelope, the three in-flight shapes (v192–v217 total, v218–v239 list,
 * v240+ operations), transitions, failed loads and swaps from modelStatus, and the replayed history
 * dropped. Message texts follow internal/server/apigroup.go handleAPIEvents at v250 and
 * proxy/proxymanager_api.go apiSendEvents at v217.
 */
import { describe, expect, it } from 'vitest';
import { BoundedLines, LiveState, MAX_IN_FLIGHT, MAX_SSE_LINE, parseEventLine, type Envelope } from '../../../src/collectors/llamaswap/parse-events.js';

const line = (type: string, data: unknown): string => `data:${JSON.stringify({ type, data: typeof data === 'string' ? data : JSON.stringify(data) })}`;
const msg = (type: string, data: unknown): Envelope => parseEventLine(line(type, data)) as Envelope;
const models = (states: Record<string, string>): Array<Record<string, unknown>> => Object.entries(states).map(([id, state]) => ({ id, name: '', description: '', state, unlisted: false, peerID: '' }));

describe('SSE lines', () => {
  it('splits across chunks, drops the event: lines and a trailing \\r', () => {
    const b = new BoundedLines(100);
    expect(b.push('event:message\r\ndata:{"a"')).toEqual(['event:message']);
    expect(b.push(':1}\n\n')).toEqual(['data:{"a":1}', '']);
  });

  it('a line longer than the cap is skipped while it streams, never held; the next line is intact', () => {
    const b = new BoundedLines(1000);
    const out: string[] = [];
    for (let i = 0; i < 500; i++) out.push(...b.push('x'.repeat(4096)));
    out.push(...b.push('tail of the huge line\ndata:ok\n'));
    expect(out).toEqual(['data:ok']);
    expect(b.dropped).toBe(1);
    expect(b.highWater).toBeLessThanOrEqual(1000);
  });

  it('a flood of 64 MiB in 64 KiB chunks with one 16 MiB line keeps at most one capped line buffered', () => {
    const b = new BoundedLines();
    const chunk = `${line('logData', { source: 'upstream', data: 'y'.repeat(2000) })}\n\n`.repeat(30).slice(0, 64 * 1024);
    const heap0 = process.memoryUsage().heapUsed;
    let lines = 0;
    for (let sent = 0; sent < 64 * 1024 * 1024; sent += chunk.length) lines += b.push(chunk).length;
    for (let sent = 0; sent < 16 * 1024 * 1024; sent += 65536) lines += b.push('z'.repeat(65536)).length;
    b.push('\n');
    const grown = process.memoryUsage().heapUsed - heap0;
    expect(lines).toBeGreaterThan(1000);
    expect(b.highWater).toBeLessThanOrEqual(MAX_SSE_LINE);
    // Garbage collection is not forced: the bound is on what the splitter holds, the heap figure is reported.
    console.log(`BoundedLines: 80 MiB streamed, longest text held ${(b.highWater / 1024).toFixed(0)} KiB (cap ${MAX_SSE_LINE / 1024} KiB), heap delta ${(grown / 1048576).toFixed(1)} MiB`);
  });

  it('a message cut mid-way and reset is forgotten, the next connection parses cleanly', () => {
    const b = new BoundedLines();
    expect(b.push('data:{"type":"modelStatus","data":"[{\\"id\\":')).toEqual([]);
    b.reset();
    expect(b.push(`${line('inflight', { total: 2 })}\n`)).toHaveLength(1);
  });
});

describe('event envelope', () => {
  it('decodes JSON inside JSON; logData stays a string; anything else is not a message', () => {
    expect(msg('inflight', { total: 3 })).toEqual({ type: 'inflight', data: { total: 3 } });
    expect(parseEventLine(line('logData', { source: 'proxy', data: 'x' }))?.data).toBe('{"source":"proxy","data":"x"}');
    expect(parseEventLine('event:message')).toBeUndefined();
    expect(parseEventLine('data:{"type":"inflight","data":"{not json"}')).toBeUndefined();
    expect(parseEventLine('data:{"type":"inflight","data":{"total":1}}')).toBeUndefined();
    expect(parseEventLine('data:[1,2]')).toBeUndefined();
  });
});

describe('live state', () => {
  it('v192–v217: a total only, as model "unknown" without an age', () => {
    const s = new LiveState(100);
    s.apply(msg('inflight', { total: 4 }));
    expect(s.inFlightByModel().get('unknown')).toEqual({ count: 4, oldestSeconds: undefined });
  });

  it('v218–v239: the whole list; v240+: snapshot, upsert, remove; ages from the request timestamps and the clock skew', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    const s = new LiveState(100);
    s.connected(5000); // llama-swap's clock is 5 s ahead
    const req = (id: string, model: string, at: string): Record<string, unknown> => ({ id, model, timestamp: at, req_path: '/v1/chat/completions', method: 'POST' });
    s.apply(msg('inflight', { requests: [req('1', 'a', '2026-11-30T12:00:05Z'), req('2', 'a', '2026-11-30T11:58:05Z')] }), now);
    expect(s.inFlightByModel(now).get('a')).toEqual({ count: 2, oldestSeconds: 120 });
    s.apply(msg('inflight', { operation: 'snapshot', requests: [req('3', 'b', '2026-11-30T12:00:05Z')] }), now);
    s.apply(msg('inflight', { operation: 'upsert', request: req('4', 'b', '2026-11-30T11:59:05Z') }), now);
    // An upsert of a known request (response headers, bytes) keeps its start.
    s.apply(msg('inflight', { operation: 'upsert', request: req('4', 'b', '2026-11-30T12:00:05Z') }), now);
    expect(s.inFlightByModel(now + 10_000).get('b')).toEqual({ count: 2, oldestSeconds: 70 });
    s.apply(msg('inflight', { operation: 'remove', id: '4' }), now);
    expect(s.inFlightByModel(now).get('b')?.count).toBe(1);
    s.apply(msg('inflight', { operation: 'bogus' }), now);
    expect(s.malformed).toBe(1);
    s.disconnected();
    expect(s.trackedInFlight).toBe(0);
  });

  it('in-flight entries are capped', () => {
    const s = new LiveState(100);
    for (let i = 0; i < MAX_IN_FLIGHT + 50; i++) s.apply(msg('inflight', { operation: 'upsert', request: { id: String(i), model: 'm', timestamp: new Date().toISOString() } }));
    expect(s.trackedInFlight).toBe(MAX_IN_FLIGHT);
  });

  it('transitions after the first modelStatus of a connection: failed loads, swaps; peers ignored; a reconnect is a new baseline', () => {
    const s = new LiveState(100);
    s.apply(msg('modelStatus', models({ a: 'ready', b: 'stopped' })));
    expect(s.transitions.size).toBe(0);
    for (const st of [{ a: 'stopping', b: 'stopped' }, { a: 'stopped', b: 'stopped' }, { a: 'stopped', b: 'starting' }, { a: 'stopped', b: 'stopped' }, { a: 'starting', b: 'stopped' }, { a: 'ready', b: 'stopped' }]) {
      s.apply(msg('modelStatus', models(st)));
    }
    s.apply(msg('modelStatus', [...models({ a: 'ready', b: 'stopped' }), { id: 'peer/x', state: 'starting', peerID: 'peer' }]));
    expect(s.failedLoads).toEqual(new Map([['b', 1]]));
    // b's load evicted a (a swap); a's reload after b failed evicted nothing (a load, not a swap).
    expect(s.swaps).toBe(1);
    expect(s.transitions.get('a')).toEqual(new Map([['stopping', 1], ['stopped', 1], ['starting', 1], ['ready', 1]]));
    s.disconnected();
    s.apply(msg('modelStatus', models({ a: 'stopped', b: 'stopped' })));
    expect(s.swaps).toBe(1);
    // shutdown (llama-swap stopping for good) counts as stopping.
    s.apply(msg('modelStatus', models({ a: 'starting', b: 'stopped' })));
    s.apply(msg('modelStatus', models({ a: 'shutdown', b: 'stopped' })));
    expect(s.failedLoads.get('a')).toBe(1);
  });

  it('the request log after the replayed history, per status class; the history itself is dropped', () => {
    const s = new LiveState(100);
    const log = (data: string): Envelope => msg('logData', { source: 'proxy', data });
    const req = (status: number, path = '/v1/chat/completions', method = 'POST'): string => `[INFO] Request 10.0.0.7 "${method} ${path} HTTP/1.1" ${status} 52 "curl/8" 1.2ms\n`;
    s.apply(log(req(404).repeat(50))); // history: before the first modelStatus
    s.apply(msg('modelStatus', models({ a: 'stopped' })));
    s.apply(log(req(404) + req(200) + req(200, '/running', 'GET') + req(503).slice(0, 30)));
    s.apply(log(req(503).slice(30)));
    s.apply(msg('logData', { source: 'upstream', data: req(500) }));
    expect(s.logClasses).toEqual(new Map([['4xx', 1], ['2xx', 1], ['5xx', 1]]));
  });
});
