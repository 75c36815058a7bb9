/** The pure parsers of the queues collector on recorded real outputs (see test/fixtures/queues/README.md). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientNames, countWorkers } from '../../../src/collectors/queues/parse-client-list.js';
import { classify, compilePatterns, majorVersion, queueFromKey, queuesFromKeys, scanPattern, selectQueue } from '../../../src/collectors/queues/parse-keys.js';
import { FIXED_COMMANDS, interpretCounts, oldestAgeSeconds, parseTimestamp, QueueGone, queueCommands, type QueuePlan, type Reply } from '../../../src/collectors/queues/parse-counts.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/queues/${name}`, import.meta.url), 'latin1');

interface Recorded {
  plan: QueuePlan;
  counts: Record<string, number>;
  replies: unknown[];
}
const recorded = (name: string): Recorded => JSON.parse(fixture(name)) as Recorded;
const asReplies = (raw: unknown[]): Reply[] =>
  raw.map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && 'error' in v ? [new Error(String((v as { error: string }).error)), null] : [null, v]));

describe('queue keys', () => {
  it('finds every queue of a real keyspace, and only those', () => {
    const refs = queuesFromKeys(fixture('keys-redis7-bullmq5-bullmq6-bull4.txt').split('\n'));
    expect(refs).toEqual([
      { prefix: 'bull', queue: 'media' },
      { prefix: 'bull3', queue: 'media' },
      { prefix: 'immich_bull', queue: 'faceDetection' },
      { prefix: 'immich_bull', queue: 'ocr' },
      { prefix: 'immich_bull', queue: 'smartSearch' },
    ]);
  });

  it('a truncated listing yields what it holds, garbage yields nothing wrong', () => {
    expect(queuesFromKeys(fixture('keys-truncated.txt').split('\n'))).toEqual([{ prefix: 'bull3', queue: 'media' }]);
    expect(queuesFromKeys(fixture('keys-garbage.txt').split('\n'))).toEqual([{ prefix: 'weird:prefix:with:colons', queue: 'queue' }]);
    expect(queueFromKey('bull:q:123')).toBeUndefined();
    expect(queueFromKey('bull:q:123:lock')).toBeUndefined();
    expect(queueFromKey('immich_bull:smartSearch:meta-paused')).toEqual({ prefix: 'immich_bull', queue: 'smartSearch' });
  });

  it('SCAN patterns escape glob characters of a prefix', () => {
    expect(scanPattern()).toBe('*:*:[im][de]*');
    expect(scanPattern('{bull}')).toBe('{bull}:*:[im][de]*');
    expect(scanPattern('a*b[c]')).toBe('a\\*b\\[c\\]:*:[im][de]*');
  });

  it('tells BullMQ from Bull', () => {
    expect(classify('bullmq:5.81.5', 'stream')).toEqual({ library: 'bullmq', version: '5.81.5' });
    expect(majorVersion(classify('bullmq:6.7.0', 'stream'))).toBe(6);
    expect(classify(null, 'stream')).toEqual({ library: 'bullmq', version: '' });
    expect(classify(null, 'none')).toEqual({ library: 'bull', version: '' });
    expect(classify('bullmq:<script>', 'stream').version).toBe('');
    expect(majorVersion(classify(null, 'none'))).toBeUndefined();
  });

  it('selects by prefix and anchored patterns; rejects a bad pattern clearly', () => {
    const f = { prefixes: ['immich_bull'], include: compilePatterns(['face.*', 'ocr']), exclude: compilePatterns(['facialRecognition']) };
    expect(selectQueue({ prefix: 'immich_bull', queue: 'faceDetection' }, f)).toBe(true);
    expect(selectQueue({ prefix: 'immich_bull', queue: 'ocrX' }, f)).toBe(false);
    expect(selectQueue({ prefix: 'bull', queue: 'ocr' }, f)).toBe(false);
    expect(() => compilePatterns(['(unclosed'])).toThrow(/invalid queue pattern "\(unclosed"/);
  });
});

describe('CLIENT LIST', () => {
  const refs = [
    { ref: { prefix: 'bull', queue: 'media' }, library: 'bullmq' as const },
    { ref: { prefix: 'immich_bull', queue: 'smartSearch' }, library: 'bullmq' as const },
    { ref: { prefix: 'immich_bull', queue: 'ocr' }, library: 'bullmq' as const },
    { ref: { prefix: 'bull3', queue: 'media' }, library: 'bull' as const },
    { ref: { prefix: 'immich_bull', queue: 'faceDetection' }, library: 'bullmq' as const },
  ];

  it('counts workers as the libraries do (named workers yes, QueueEvents no)', () => {
    const names = clientNames(fixture('client-list-redis7-bullmq-bull.txt'));
    // 15 connections, 5 of them named (the others are the libraries' command connections).
    expect(fixture('client-list-redis7-bullmq-bull.txt').trim().split('\n')).toHaveLength(15);
    expect(names).toHaveLength(5);
    expect(countWorkers(names, refs)).toEqual([1, 1, 1, 1, 0]);
  });

  it('empty, truncated and garbage replies give counts, never a crash', () => {
    expect(countWorkers(clientNames(fixture('client-list-empty.txt')), refs)).toEqual([0, 0, 0, 0, 0]);
    const truncated = clientNames(fixture('client-list-truncated.txt'));
    // Cut inside the line of the named ocr worker, after its name: that name is still whole.
    expect(truncated).toEqual(['bull3:bWVkaWE=', 'immich_bull:b2Ny:w:ocr-worker-1']);
    expect(countWorkers(truncated, refs)).toEqual([0, 0, 1, 1, 0]);
    // Only the `id=` lines count; "bull:bWVkaWE=extra" is not a BullMQ worker of "media".
    const garbage = clientNames(fixture('client-list-garbage.txt'));
    expect(garbage).toEqual(['bull:bWVkaWE=extra']);
    expect(countWorkers(garbage, refs)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('pipeline replies', () => {
  const fixedPlusDue = (r: Recorded): number => queueCommands(r.plan).length + 1;
  it.each(['replies-bullmq6-every-state.json', 'replies-bullmq5-every-state.json', 'replies-bull4-every-state.json'])('%s equals the library getJobCounts()', (file) => {
    const r = recorded(file);
    expect(fixedPlusDue(r)).toBe(r.replies.length);
    const c = interpretCounts(r.plan, asReplies(r.replies));
    for (const [state, n] of Object.entries(r.counts)) expect(c.states.get(state), state).toBe(n);
    expect(c.paused).toBe(false);
    // next of wait, and of prioritized (BullMQ); the job active longest
    expect(c.waitingCandidates).toHaveLength(r.plan.library === 'bullmq' ? 2 : 1);
    expect(c.activeCandidate).toMatch(/^\d+$/);
    // backlog: waiting + paused + prioritized + due delayed (none due: they wait an hour)
    expect(c.backlog).toBe((r.counts.waiting ?? 0) + (r.counts.paused ?? 0) + (r.counts.prioritized ?? 0));
  });

  it('BullMQ 5 paused: backlog in paused, flag set', () => {
    const r = recorded('replies-bullmq5-paused.json');
    const c = interpretCounts(r.plan, asReplies(r.replies));
    expect(c.paused).toBe(true);
    expect(c.states.get('paused')).toBe(3);
    expect(c.states.get('waiting')).toBe(0);
    expect(c.backlog).toBe(3);
    expect(c.waitingCandidates).toEqual(['1']);
    expect(c.activeCandidate).toBeUndefined();
  });

  it('due delayed jobs count in the backlog', () => {
    const r = recorded('replies-bullmq6-every-state.json');
    const replies = asReplies(r.replies);
    replies[replies.length - 1] = [null, 2];
    expect(interpretCounts(r.plan, replies).backlog).toBe(interpretCounts(r.plan, asReplies(r.replies)).backlog + 2);
  });

  it('steps over a BullMQ v5 "0:" marker at the tail like getCounts does', () => {
    const r = recorded('replies-bullmq6-every-state.json');
    const replies = asReplies(r.replies);
    replies[1] = [null, 3];
    replies[10] = [null, ['7', '0:1000']];
    const c = interpretCounts(r.plan, replies);
    expect(c.states.get('waiting')).toBe(2);
    expect(c.waitingCandidates[0]).toBe('7');
    replies[1] = [null, 1];
    replies[10] = [null, ['0:1000']];
    expect(interpretCounts(r.plan, replies).states.get('waiting')).toBe(0);
  });

  it('a vanished queue, a wrong-type key, a short or malformed reply: a clear error, never a number', () => {
    const r = recorded('replies-bull4-every-state.json');
    const gone = asReplies(r.replies);
    gone[0] = [null, 0];
    expect(() => interpretCounts(r.plan, gone)).toThrow(QueueGone);
    const wrong = asReplies(r.replies);
    wrong[5] = [new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), null];
    expect(() => interpretCounts(r.plan, wrong)).toThrow(/bull3:media:completed ZCARD: WRONGTYPE/);
    expect(() => interpretCounts(r.plan, asReplies(r.replies).slice(0, FIXED_COMMANDS.bull - 2))).toThrow(/expected 12 replies, got 9/);
    const nan = asReplies(r.replies);
    nan[1] = [null, 'NaN'];
    expect(() => interpretCounts(r.plan, nan)).toThrow(/wait LLEN: unexpected reply "NaN"/);
    const neg = asReplies(r.replies);
    neg[3] = [null, -1];
    expect(() => interpretCounts(r.plan, neg)).toThrow(/unexpected reply -1/);
    const badActive = asReplies(r.replies);
    badActive[10] = [null, 7];
    expect(() => interpretCounts(r.plan, badActive)).toThrow(/active LINDEX: unexpected reply 7/);
  });

  it('timestamps: malformed ones are skipped, the oldest candidate wins, never negative', () => {
    for (const bad of [null, '', 'abc', '12.5', '-5', '0', '99999999999999999', 42]) expect(parseTimestamp(bad), String(bad)).toBeUndefined();
    expect(parseTimestamp('1795467506879')).toBe(1795467506879);
    const ts = new Map([
      ['a', 10_000],
      ['b', 5_000],
    ]);
    expect(oldestAgeSeconds(['a', 'b', 'c'], ts, 15_000)).toBe(10);
    expect(oldestAgeSeconds(['c'], ts, 15_000)).toBeUndefined();
    expect(oldestAgeSeconds(['a'], ts, 9_000)).toBe(0);
  });
});
