import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { duration, enablement, integer, parseDuration, parseListenAddress, stringList } from '../../src/lib/config-values.js';

describe('parseDuration', () => {
  it.each([
    ['5s', 5],
    ['500ms', 0.5],
    ['1m30s', 90],
    ['2h', 7200],
    ['1.5s', 1.5],
    ['10', 10],
  ])('%s -> %s seconds', (input, secs) => {
    expect(parseDuration(input)).toBe(secs);
  });
  it.each(['', 's', '5x', '5s garbage', '-5s', '5 s'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
  it('zod helper names what it expected', () => {
    const r = duration().safeParse('soon');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/expected a positive duration such as 5s/);
    expect(duration().parse(3)).toBe(3);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':10290', { host: '', port: 10290 }],
    ['127.0.0.1:80', { host: '127.0.0.1', port: 80 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
  ])('%s', (input, expected) => {
    expect(parseListenAddress(input)).toEqual(expected);
  });
  it.each(['10290', 'host:', ':65536', ':-1', ':abc', 'a:b:c', ''])('rejects %j', (input) => {
    expect(parseListenAddress(input)).toBeUndefined();
  });
});

describe('other value helpers', () => {
  it('stringList accepts YAML lists and comma-separated strings', () => {
    expect(stringList().parse('a, b,,c')).toEqual(['a', 'b', 'c']);
    expect(stringList().parse(['x'])).toEqual(['x']);
  });
  it('enablement accepts booleans, their string forms and auto', () => {
    expect(enablement().parse('auto')).toBe('auto');
    expect(enablement().parse('false')).toBe(false);
    expect(enablement().parse(true)).toBe(true);
    expect(enablement().safeParse('maybe').error?.issues[0]?.message).toMatch(/true, false or auto/);
  });
  it('integer enforces bounds', () => {
    const s = z.object({ n: integer(1, 10) });
    expect(s.parse({ n: '7' }).n).toBe(7);
    expect(s.safeParse({ n: '11' }).success).toBe(false);
    expect(s.safeParse({ n: '1.5' }).success).toBe(false);
  });
});
