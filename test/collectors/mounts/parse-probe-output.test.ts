import { describe, expect, it } from 'vitest';
import { parseProbeOutput, parseResolution } from '../../../src/collectors/mounts/parse-probe-result.js';
import { PROBE_MARKER, probeArgs } from '../../../src/collectors/mounts/probe-child.js';
import { probePathFromCmdline, startedMsFromStat } from '../../../src/collectors/mounts/stuck-probes.js';

describe('the probe child output: resolution, then result', () => {
  it('both lines, the resolution alone (killed while hanging), nothing at all', () => {
    expect(parseProbeOutput('{"real":"/mnt/nas"}\n{"ok":true,"seconds":0.004}\n')).toEqual({ resolution: { real: '/mnt/nas' }, result: { ok: true, seconds: 0.004 } });
    expect(parseProbeOutput('{"real":"/mnt/nas"}\n')).toEqual({ resolution: { real: '/mnt/nas' } });
    expect(parseProbeOutput('{"real":null,"code":"ENOENT"}\n')).toEqual({ resolution: { real: null, code: 'ENOENT' } });
    expect(parseProbeOutput('')).toEqual({});
  });
  it('paths with spaces and non-ASCII survive', () => {
    expect(parseResolution(JSON.stringify({ real: '/mnt/photo library/Fotos 2024 ü' }))).toEqual({ real: '/mnt/photo library/Fotos 2024 ü' });
  });
  it('truncated, relative, extra lines and garbage are errors, never a guess', () => {
    for (const bad of ['{"real":"/mnt', '{"real":"mnt/nas"}', '{"real":42}', '[]', 'null', '{"real":"/a"}\n{"ok":true,"seconds":1}\n{"ok":true,"seconds":1}', '{"real":"/a"}\n{"ok":true}']) {
      expect(() => parseProbeOutput(bad), bad).toThrow();
    }
    expect(parseResolution('{"real":null,"code":"<x>"}')).toEqual({ real: null, code: 'UNKNOWN' });
  });
});

describe('finding a probe left by an earlier exporter process', () => {
  const opts = { mountinfo: '/proc/self/mountinfo', rootfs: '/' };
  const cmdline = (args: string[]): string => ['/usr/bin/node', ...args].join('\0') + '\0';
  it('reads the path from a probe child argv, and only from a probe child', () => {
    expect(probePathFromCmdline(cmdline(probeArgs('probe', opts, '/mnt/photo library')))).toBe('/mnt/photo library');
    // A resolve-only child does not hold the mount: not a stuck probe.
    expect(probePathFromCmdline(cmdline(probeArgs('resolve', opts, '/mnt/a')))).toBeUndefined();
    expect(probePathFromCmdline(cmdline(['-e', 'x', '--', PROBE_MARKER, 'probe', '/proc/self/mountinfo', '/']))).toBeUndefined();
    expect(probePathFromCmdline('nginx: worker process\0')).toBeUndefined();
    expect(probePathFromCmdline('')).toBeUndefined();
  });
  it('start time from /proc/<pid>/stat (a comm with spaces and parentheses), in wall-clock ms', () => {
    // Field 22 (starttime) = 12345 ticks = 123.45 s after boot; uptime 200 s → started 76.55 s ago.
    const stat = '4242 (sw mount (x)) D 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 10 18446744073709551615';
    expect(startedMsFromStat(stat, 200, 1_000_000)).toBeCloseTo(1_000_000 - 76_550, 3);
    expect(startedMsFromStat('garbage', 200, 1_000_000)).toBeUndefined();
  });
});
