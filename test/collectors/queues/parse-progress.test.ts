/** The pure event-stream reader, shape checks and label de-duplication on recorded real replies (test/fixtures/queues). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeShape } from '../../../src/collectors/queues/discovery.js';
import { eventCommand, newStreamState, readEvents, settleGap } from '../../../src/collectors/queues/events.js';
import { queueLabels } from '../../../src/collectors/queues/labels.js';
import type { Reply } from '../../../src/collectors/queues/parse-counts.js';
import { sanitizeLabelValue } from '../../../src/metrics.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/queues/${name}`, import.meta.url), 'utf8'));
const xinfo = fixture('events-bullmq6-xinfo.json') as unknown[];
const xrange = fixture('events-bullmq6-xrange.json') as Array<[string, string[]]>;
const ok = (v: unknown): Reply => [null, v];
const KEY = 'bull:media:events';

describe('event stream reader', () => {
  it('starts at the end of the stream (XINFO STREAM), counting nothing; then counts every new event from the last id on', () => {
    const s = newStreamState();
    expect(eventCommand(KEY, s, 100)).toEqual(['xinfo', 'stream', KEY]);
    readEvents(KEY, s, ok(xinfo), 100);
    expect(s.lastId).toBe(xrange.at(-1)?.[0]);
    expect(s.index).toBe(50);
    expect([...s.counts.values()].every((n) => n === 0)).toBe(true);
    expect(eventCommand(KEY, s, 100)).toEqual(['xrange', KEY, s.lastId, '+', 'COUNT', '101']);
    // Nothing new: XRANGE from the last id returns that entry only.
    const r0 = readEvents(KEY, s, ok(xrange.slice(-1)), 100);
    expect(r0).toMatchObject({ gap: false, fresh: 0, more: false });
    expect(s.counts.get('completed')).toBe(0);
  });

  it('a stream read from its start counts what the library did: completed 3, failed 2, retries-exhausted 2 (recorded queue)', () => {
    const s = newStreamState();
    readEvents(KEY, s, [new Error('ERR no such key'), null], 100); // the queue had no stream yet at the first scrape
    expect(s).toMatchObject({ lastId: '0-0', index: 0 });
    const r = readEvents(KEY, s, ok(xrange), 100);
    expect(r).toMatchObject({ gap: false, fresh: 50, more: false });
    expect(Object.fromEntries(s.counts)).toEqual({ added: 16, active: 8, completed: 3, failed: 2, stalled: 0, 'retries-exhausted': 2 });
    expect(s.index).toBe(50);
  });

  it('bounded per scrape: the rest is read by the next scrapes, nothing counted twice', () => {
    const s = newStreamState();
    readEvents(KEY, s, [new Error('ERR no such key'), null], 20);
    let from = 0;
    let reads = 0;
    for (;;) {
      // What XRANGE <lastId> + COUNT 21 returns on the recorded stream.
      const startAt = s.lastId === '0-0' ? 0 : xrange.findIndex(([id]) => id === s.lastId);
      const page = xrange.slice(startAt, startAt + 21);
      const r = readEvents(KEY, s, ok(page), 20);
      reads += 1;
      from += r.fresh;
      if (!r.more) break;
    }
    expect(from).toBe(50);
    expect(reads).toBe(3);
    expect(s.counts.get('completed')).toBe(3);
    expect(s.counts.get('added')).toBe(16);
  });

  it('trimmed past the last id: a gap, and the lost entries counted from entries-added', () => {
    const s = newStreamState();
    readEvents(KEY, s, [new Error('ERR no such key'), null], 100);
    readEvents(KEY, s, ok(xrange.slice(0, 10)), 100); // read 10, index 10
    expect(s.index).toBe(10);
    // The stream is trimmed to its last 30 entries: entries 11..20 were never read.
    const r = readEvents(KEY, s, ok(xrange.slice(20)), 100);
    expect(r).toMatchObject({ gap: true, fresh: 30, previousIndex: 10 });
    const info = [...xinfo];
    info[info.indexOf('length') + 1] = 30;
    settleGap(s, r.previousIndex, ok(info), r.fresh);
    expect(s.lost).toBe(10);
    expect(s.index).toBe(50);
    // Without entries-added (Redis < 7): at least one lost, index unknown from then on.
    const t = newStreamState();
    readEvents(KEY, t, ok(xinfo.slice(0, 10)), 100);
    expect(t.index).toBeUndefined();
  });

  it('a key of another type or garbage: an error naming the key, never a count', () => {
    const s = newStreamState();
    expect(() => readEvents(KEY, s, [new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), null], 100)).toThrow(/bull:media:events XINFO STREAM: WRONGTYPE/);
    readEvents(KEY, s, [new Error('ERR no such key'), null], 100);
    expect(() => readEvents(KEY, s, ok('garbage'), 100)).toThrow(/XRANGE: unexpected reply/);
    // Entries without an event field, or with an unknown event, are stepped over.
    readEvents(KEY, s, ok([['1-0', ['foo', 'bar']], ['2-0', ['event', 'progress', 'data', '1']], ['3-0', 'truncated']]), 100);
    expect([...s.counts.values()].every((n) => n === 0)).toBe(true);
    expect(s.lastId).toBe('3-0');
  });
});

describe('discovery shape checks', () => {
  const err = (m: string): Reply => [new Error(m), null];
  it('BullMQ (meta hash with a version or maxLenEvents, or an events stream) and Bull 4 (decimal id and a state key)', () => {
    expect(judgeShape([ok(['bullmq:6.7.0', '10000']), ok('stream'), ok(null), ok(0)])).toEqual({ library: 'bullmq', version: '6.7.0' });
    expect(judgeShape([ok([null, '10000']), ok('none'), ok(null), ok(0)])).toEqual({ library: 'bullmq', version: '' });
    expect(judgeShape([ok([null, null]), ok('stream'), ok('12'), ok(1)])).toEqual({ library: 'bullmq', version: '' });
    expect(judgeShape([ok([null, null]), ok('none'), ok('42'), ok(2)])).toEqual({ library: 'bull', version: '' });
  });
  it('foreign keys are not queues: app:thing:id counters, a string named <x>:<y>:meta, an id that is not a number', () => {
    expect(judgeShape([ok([null, null]), ok('none'), ok('17'), ok(0)])).toBeUndefined();
    expect(judgeShape([err('WRONGTYPE Operation against a key holding the wrong kind of value'), ok('none'), ok(null), ok(0)])).toBeUndefined();
    expect(judgeShape([ok([null, null]), ok('none'), ok('user-17'), ok(3)])).toBeUndefined();
    expect(judgeShape([ok([null, null]), ok('none'), err('WRONGTYPE'), ok(3)])).toBeUndefined();
    expect(judgeShape([])).toBeUndefined();
  });
});

describe('queue labels', () => {
  it('names that collide once cleaned stay distinct, with a stable suffix; others are unchanged', () => {
    const refs = [
      { prefix: 'p', queue: 'a\tb' },
      { prefix: 'p', queue: 'a b' },
      { prefix: 'p', queue: 'plain' },
      { prefix: 'q', queue: 'a b' },
      { prefix: 'p', queue: 'x'.repeat(300) + '1' },
      { prefix: 'p', queue: 'x'.repeat(300) + '2' },
    ];
    const l = queueLabels(refs);
    expect(new Set(l.slice(0, 3).concat(l.slice(4)).map((x) => sanitizeLabelValue(x.label))).size).toBe(5);
    expect(l[2]).toEqual({ label: 'plain', renamed: false });
    expect(l[3]).toEqual({ label: 'a b', renamed: false });
    expect(l[0]?.label).toMatch(/^a b~[0-9a-f]{8}$/);
    expect(l[0]?.renamed).toBe(true);
    expect(queueLabels(refs)[0]).toEqual(l[0]);
    for (const x of l) expect(sanitizeLabelValue(x.label)).toBe(x.label);
  });
});
