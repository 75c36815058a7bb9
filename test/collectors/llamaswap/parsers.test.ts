/** The pure llama-swap parsers and the watermark accounting, on the fixtures in test/fixtures/llamaswap/. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMPTY_WATERMARK, reconcile, Tally } from '../../../src/collectors/llamaswap/accounting.js';
import { ActivityFormatError, isLoadFailure, parseActivityPage, parseLegacyMetrics, type ActivityRow } from '../../../src/collectors/llamaswap/parse-activity.js';
import { parseModelList, parseRunning, parseVersion } from '../../../src/collectors/llamaswap/parse-api.js';
import { isInferenceRequest, LineSplitter, parseGoDuration, parseRequestLogLine } from '../../../src/collectors/llamaswap/parse-log.js';
import { parseServerEntry, validateServers } from '../../../src/collectors/llamaswap/parse-servers.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/llamaswap/${name}`, import.meta.url), 'utf8');

describe('activity page (v236+)', () => {
  it('parses rows, status codes, durations and error messages', () => {
    const p = parseActivityPage(fixture('activity-page-v250.json'));
    expect(p.malformed).toBe(0);
    expect(p.total).toBe(4);
    expect(p.rows.map((r) => [r.id, r.model, r.status])).toEqual([
      [41, 'qwen3-8b', 200],
      [42, 'qwen3-8b', 500],
      [43, 'qwen3vl-4b', 502],
      [44, 'bge-m3', 503],
    ]);
    expect(p.rows[0]?.durationSeconds).toBe(2.63);
    expect(p.rows[0]?.timestamp).toBe('2026-06-02T17:40:58.112233445+03:00');
    expect(p.rows.map((r) => isLoadFailure(r.status, r.errorMsg))).toEqual([false, true, false, true]);
  });

  it('an empty store is an empty page', () => {
    expect(parseActivityPage(fixture('activity-page-empty.json'))).toEqual({ rows: [], malformed: 0, malformedIds: [], total: 0 });
  });

  it('skips malformed rows and counts them, keeping the valid ones exact', () => {
    const p = parseActivityPage(fixture('activity-page-malformed-rows.json'));
    expect(p.rows.map((r) => r.id)).toEqual([7, 12]);
    expect(p.rows[1]?.durationSeconds).toBeUndefined();
    expect(p.malformed).toBe(12);
    // The ids of skipped rows that had a usable one (so a re-read page does not report them twice).
    expect(p.malformedIds).toEqual([9, 10, 11, 14, 7]);
  });

  it('a truncated, non-JSON or wrongly shaped body is a clear error', () => {
    expect(() => parseActivityPage(fixture('activity-page-truncated.json'))).toThrow(ActivityFormatError);
    expect(() => parseActivityPage(fixture('activity-not-json.html'))).toThrow(/not JSON/);
    expect(() => parseActivityPage('')).toThrow(/empty body/);
    expect(() => parseActivityPage('[]')).toThrow(/data array/);
  });
});

describe('legacy /api/metrics (v209–v235)', () => {
  it('v230 rows carry error_msg: a load failure is recognised', () => {
    const p = parseLegacyMetrics(fixture('metrics-v230.json'));
    expect(p.rows.map((r) => [r.id, r.status, isLoadFailure(r.status, r.errorMsg)])).toEqual([
      [0, 200, false],
      [1, 500, true],
    ]);
  });
  it('v215 rows have 502 without error_msg: counted as 502, not as load failures', () => {
    const p = parseLegacyMetrics(fixture('metrics-v215.json'));
    expect(p.rows.map((r) => [r.status, r.errorMsg])).toEqual([
      [502, ''],
      [502, ''],
    ]);
    expect(p.rows.some((r) => isLoadFailure(r.status, r.errorMsg))).toBe(false);
  });
  it('pre-v209 rows have no status; the ring buffer numbers rows from 0 (id 0 is a row)', () => {
    const p = parseLegacyMetrics(fixture('metrics-v200-no-status.json'));
    expect(p.rows.map((r) => r.id)).toEqual([0, 1]);
    expect(p.rows[0]?.status).toBeUndefined();
    expect(p.malformed).toBe(0);
  });
  it('null is an empty store; an object is an error', () => {
    expect(parseLegacyMetrics(fixture('metrics-null.json'))).toEqual({ rows: [], malformed: 0, malformedIds: [] });
    expect(() => parseLegacyMetrics('{"data":[]}')).toThrow(/JSON array/);
  });
});

describe('/running, /v1/models, /api/version', () => {
  it('maps process states and skips unknown ones', () => {
    expect(parseRunning(fixture('running-v250.json'))).toEqual([
      { model: 'bge-m3', state: 'starting' },
      { model: 'qwen3-8b', state: 'ready' },
      { model: 'whisper', state: 'stopping' },
      { model: 'old', state: 'stopping' },
    ]);
    expect(parseRunning(fixture('running-empty.json'))).toEqual([]);
    expect(parseRunning(fixture('running-not-found.txt'))).toBeUndefined();
  });
  it('lists configured models without aliases and peers', () => {
    expect(parseModelList(fixture('models-v250.json'))).toEqual(['bge-m3', 'qwen3-8b', 'qwen3vl-4b']);
    expect(parseModelList('garbage')).toBeUndefined();
    expect(parseModelList('{"data":null}')).toBeUndefined();
  });
  it('reads release numbers; dev builds have none', () => {
    expect(parseVersion(fixture('version-v250.json'))).toEqual({ raw: 'v250', number: 250 });
    expect(parseVersion(fixture('version-dev.json'))).toEqual({ raw: '0', number: undefined });
    expect(parseVersion('404 page not found')).toBeUndefined();
    expect(parseVersion('{"version":"abc123"}')).toEqual({ raw: 'abc123', number: undefined });
  });
});

describe('request log lines (all versions)', () => {
  const lines = fixture('log-stream-v150.txt').split('\n');
  it('parses the request lines, with or without timestamp and prefix', () => {
    const parsed = lines.map(parseRequestLogLine);
    expect(parsed[0]).toEqual({ method: 'POST', path: '/v1/chat/completions', status: 502, durationSeconds: 4.118339772 });
    expect(parsed[1]).toMatchObject({ status: 200, durationSeconds: 2.5 });
    expect(parsed[2]?.durationSeconds).toBeCloseTo(85.1e-6, 12);
    expect(parsed[3]).toBeUndefined();
    expect(parsed[4]).toMatchObject({ path: '/v1/embeddings', durationSeconds: 62.5 });
    expect(parsed[6]).toBeUndefined(); // status 999
    expect(parsed[9]).toMatchObject({ status: 500, durationSeconds: 0.012 });
    expect(parsed[10]).toMatchObject({ status: 200, durationSeconds: undefined }); // "banana"
    expect(parsed[11]).toBeUndefined(); // cut mid-line
    const inference = parsed.filter((p) => p !== undefined && isInferenceRequest(p));
    expect(inference.map((p) => p?.status)).toEqual([502, 200, 200, 500, 200]);
  });
  it('Go durations', () => {
    expect(parseGoDuration('0s')).toBe(0);
    expect(parseGoDuration('1h2m3.5s')).toBe(3723.5);
    expect(parseGoDuration('750ns')).toBeCloseTo(7.5e-7, 15);
    expect(parseGoDuration('12us')).toBeCloseTo(1.2e-5, 15);
    expect(parseGoDuration('')).toBeUndefined();
    expect(parseGoDuration('5 s')).toBeUndefined();
    expect(parseGoDuration('-1s')).toBeUndefined();
  });
  it('splits a stream into lines across chunk borders and keeps the cut tail', () => {
    const s = new LineSplitter(100);
    expect(s.push('ab')).toEqual([]);
    expect(s.push('c\r\nde')).toEqual(['abc']);
    expect(s.push('f\ng')).toEqual(['def']);
    expect(s.takeTail()).toBe('g');
    expect(s.push('x'.repeat(200))).toEqual([]);
    expect(s.takeTail()).toBe(''); // an endless line is dropped, not buffered
  });
});

describe('watermark accounting', () => {
  const row = (id: number, ts = `t${id}`, status = 200): ActivityRow => ({ id, timestamp: ts, model: 'm', status, durationSeconds: 0.2, errorMsg: '' });
  it('counts only rows after the watermark, whatever order the rows arrived in', () => {
    const plan = reconcile({ id: 5, timestamp: 't5' }, [row(7), row(5), row(6), row(6)], 1);
    expect(plan).toEqual({ restart: false, fresh: [row(6), row(7)], missed: 0, next: { id: 7, timestamp: 't7' } });
    // Older rows read on the same page (newest first, past the watermark) are not new.
    expect(reconcile({ id: 5, timestamp: 't5' }, [row(8), row(7), row(6), row(5), row(4), row(3)], 1).fresh.map((r) => r.id)).toEqual([6, 7, 8]);
  });
  it('nothing new is nothing, however many polls', () => {
    let wm = { id: 5, timestamp: 't5' };
    for (let i = 0; i < 60; i++) {
      const plan = reconcile(wm, [row(5), row(4), row(3)], 1);
      expect([plan.restart, plan.fresh.length, plan.missed]).toEqual([false, 0, 0]);
      wm = plan.next;
    }
  });
  it('rows evicted before they were read (or beyond the per-poll bound) are missed, not invented', () => {
    const plan = reconcile({ id: 5, timestamp: 't5' }, [row(1006), row(1007)], 1);
    expect([plan.restart, plan.fresh.length, plan.missed]).toEqual([false, 2, 1000]);
  });
  it('sparse ids of a file-backed store: the watermark row gone but older rows there is the same store', () => {
    const plan = reconcile({ id: 5, timestamp: 't5' }, [row(3), row(4), row(9)], 1);
    expect([plan.restart, plan.fresh.length, plan.missed]).toEqual([false, 1, 0]);
  });
  it('ids going backwards, an emptied store or the watermark row changing means a restart', () => {
    expect(reconcile({ id: 5, timestamp: 't5' }, [], 1)).toEqual({ restart: true, fresh: [], missed: 0, next: EMPTY_WATERMARK });
    const changed = reconcile({ id: 5, timestamp: 't5' }, [row(5, 'other'), row(6), row(1), row(2), row(3), row(4)], 1);
    expect([changed.restart, changed.fresh.length, changed.missed]).toEqual([true, 6, 0]);
    expect(reconcile({ id: 5, timestamp: 't5' }, [row(3)], 1).restart).toBe(true);
    // Ring buffer (v140–v235): ids from 0, so after a restart the rows below the oldest read are missed from 0.
    const ring = reconcile({ id: 900, timestamp: 't900' }, [row(0), row(1)], 0);
    expect([ring.restart, ring.fresh.length, ring.missed]).toEqual([true, 2, 0]);
    expect(reconcile({ id: 900, timestamp: 't900' }, [row(5), row(6)], 0).missed).toBe(5);
    // After a restart everything from the first id is new; rows already evicted are missed.
    const after = reconcile(EMPTY_WATERMARK, [row(3), row(4)], 1);
    expect([after.restart, after.fresh.length, after.missed]).toEqual([false, 2, 2]);
    // Row 0 is a row (the old parser dropped it).
    expect(reconcile(EMPTY_WATERMARK, [row(0), row(1)], 0).fresh).toHaveLength(2);
  });
  it('tallies codes, histogram and load failures, bounding model labels', () => {
    const t = new Tally(2);
    t.count('a', 200, 0.05);
    t.count('a', 500, 3, 'unspecific error: upstream command exited prematurely');
    t.count('b', 502, undefined, '502 Bad Gateway');
    t.count('c', 200, 1);
    expect([...t.requests.keys()]).toEqual(['a', 'b', 'other']);
    expect(t.requests.get('a')).toEqual(new Map([['200', 1], ['500', 1]]));
    expect(t.loadFailures).toEqual(new Map([['a', 1]]));
    const h = t.durations.get('a');
    expect([h?.count, h?.sum, h?.counts[0], h?.counts.at(-1)]).toEqual([2, 3.05, 1, 2]);
    expect(t.totalRequests()).toBe(4);
    expect(t.folded).toBe(1);
  });
});

describe('servers option', () => {
  it('name=url entries, bare URLs, and clear errors without secrets', () => {
    expect(parseServerEntry('gpu1=http://10.0.0.5:8080/')).toEqual({ name: 'gpu1', url: 'http://10.0.0.5:8080' });
    expect(parseServerEntry('http://llama:8080')).toEqual({ name: 'llama:8080', url: 'http://llama:8080' });
    expect(parseServerEntry('x=ftp://a')).toMatch(/expected an http/);
    const withCreds = parseServerEntry('x=http://u:s3cret@h:1/?k=s3cret');
    expect(String(withCreds)).not.toContain('s3cret');
    expect(validateServers([{ name: 'a', url: 'http://a' }, { name: 'a', url: 'http://b' }])).toMatch(/used twice/);
  });
});
