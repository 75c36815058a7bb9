import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { oomKillsFromVmstat, parseVmstat } from '../../../src/collectors/host/parse-vmstat.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/host/${name}`, import.meta.url), 'latin1');

describe('parseVmstat', () => {
  it('reads a real /proc/vmstat (Linux 6.18, recorded on this machine)', () => {
    const m = parseVmstat(fixture('vmstat-linux-6.18.txt'));
    expect(m.size).toBeGreaterThan(100);
    expect(m.get('oom_kill')).toBe(Number(/^oom_kill (\d+)$/m.exec(fixture('vmstat-linux-6.18.txt'))?.[1]));
    expect(m.get('nr_free_pages')).toBeGreaterThan(0);
  });

  it('a kernel without the oom_kill line (< 4.13) gives undefined, not 0', () => {
    expect(oomKillsFromVmstat(fixture('vmstat-no-oom-kill-line.txt'))).toBeUndefined();
  });

  it('empty and truncated files give undefined for a missing line', () => {
    expect(oomKillsFromVmstat(fixture('vmstat-empty.txt'))).toBeUndefined();
    // the truncated capture ends long before oom_kill (late in the file)
    expect(oomKillsFromVmstat(fixture('vmstat-truncated.txt'))).toBeUndefined();
    expect(parseVmstat(fixture('vmstat-truncated.txt')).size).toBeGreaterThan(10);
  });

  it('garbage lines are skipped, never guessed', () => {
    const m = parseVmstat(fixture('vmstat-garbage.txt'));
    expect(m.size).toBe(0);
    expect(oomKillsFromVmstat(fixture('vmstat-garbage.txt'))).toBeUndefined();
  });
});
