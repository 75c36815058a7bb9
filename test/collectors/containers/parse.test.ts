/** Pure parsers of the containers collector on recorded v1 files, documented v2 files, and broken ones. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTAINER_STATES, containerState, healthStatus, inspectFacts, maxUptimeSeconds, parseDockerTime, statusWithoutTime } from '../../../src/collectors/containers/parse-docker.js';
import { memoryFromV1, memoryFromV2, parseFlatKeyed, parseMemoryLimit, parsePressure, parseSingleValue, podOomKills } from '../../../src/collectors/containers/parse-memory.js';
import { containerOf } from '../../../src/lib/identity/process-identity.js';
import { containerFromCgroupPath, memoryCgroupOf, parseProcCgroup } from '../../../src/lib/identity/parse-proc-cgroup.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/containers/${name}`, import.meta.url), 'latin1');
const identityFixture = (name: string): string => readFileSync(new URL(`../../fixtures/identity/${name}`, import.meta.url), 'utf8');
const v1 = (tag: string) => ({
  usage: fixture(`v1-docker-${tag}.memory.usage_in_bytes`),
  limit: fixture(`v1-docker-${tag}.memory.limit_in_bytes`),
  stat: fixture(`v1-docker-${tag}.memory.stat`),
  events: fixture(`v1-docker-${tag}.memory.oom_control`),
});

describe('cgroup v1 (recorded under dockerd 20.10, Linux 6.18, cgroupfs driver)', () => {
  it('a -m 64m container after an OOM kill inside it: limit 64 MiB, oom_kill 1', () => {
    const m = memoryFromV1(v1('limited-after-oom'));
    expect(m.limit).toEqual({ limited: true, bytes: 64 * 1024 * 1024 });
    expect(m.oomKills).toBe(1);
    expect(m.oomEvents).toBeUndefined(); // v1 has no OOM event counter
    expect(m.usage).toBe(700416);
    expect(m.rss).toBe(57344); // total_rss
    expect(m.cache).toBe(0);
    expect(m.workingSet).toBe(700416); // total_inactive_file is 0
  });

  it('a container without -m is unlimited, never limit 0 or 2^63', () => {
    const m = memoryFromV1(v1('unlimited'));
    expect(m.limit).toEqual({ limited: false });
    expect(m.oomKills).toBe(0);
    expect(m.usage).toBeGreaterThan(0);
  });

  it('working set = usage - total_inactive_file, floored at 0', () => {
    const stat = 'total_inactive_file 4096\ninactive_file 1\ntotal_rss 10\ntotal_cache 20\n';
    expect(memoryFromV1({ usage: '10000\n', stat }).workingSet).toBe(10000 - 4096);
    expect(memoryFromV1({ usage: '1000\n', stat }).workingSet).toBe(0);
    // the local key is the fallback when the hierarchical one is absent
    expect(memoryFromV1({ usage: '10000\n', stat: 'inactive_file 100\n' }).workingSet).toBe(9900);
  });

  it('unlimited with 64 KiB pages (PAGE_COUNTER_MAX * 65536) is still unlimited', () => {
    expect(parseMemoryLimit(fixture('v1-unlimited-64k-pages.memory.limit_in_bytes'))).toEqual({ limited: false });
  });

  it('v1 equivalents: peak from memory.max_usage_in_bytes, `max` events from memory.failcnt (recorded after an OOM kill)', () => {
    const m = memoryFromV1({ peak: fixture('v1-docker-limited-after-oom.memory.max_usage_in_bytes'), failcnt: fixture('v1-docker-limited-after-oom.memory.failcnt') });
    expect(m.peak).toBe(64 * 1024 * 1024);
    expect(m.events).toEqual({ max: 50 });
    expect(m.pressure).toBeUndefined();
    expect(memoryFromV1({ failcnt: fixture('v1-truncated.memory.usage_in_bytes') }).events).toBeUndefined();
  });

  it('a kernel before 4.13 (no oom_kill line) gives no OOM value rather than 0', () => {
    expect(memoryFromV1({ events: fixture('v1-kernel-4.9.memory.oom_control') }).oomKills).toBeUndefined();
  });
});

describe('cgroup v2 (files in the kernel cgroup-v2 documentation format)', () => {
  it('systemd-driver Docker container with a 6 GiB limit and OOM kills', () => {
    const m = memoryFromV2({
      usage: fixture('v2-systemd-docker.memory.current'),
      limit: fixture('v2-systemd-docker.memory.max'),
      stat: fixture('v2-systemd-docker.memory.stat'),
      events: fixture('v2-systemd-docker.memory.events'),
    });
    expect(m).toEqual({
      usage: 1513844736,
      workingSet: 1513844736 - 1104355328,
      rss: 215760896,
      cache: 1287651328,
      limit: { limited: true, bytes: 6442450944 },
      oomKills: 4,
      oomEvents: 7,
      oomGroupKills: 0,
      events: { low: 0, high: 0, max: 1843 },
    });
  });

  it('memory.peak, memory.pressure (recorded PSI format), memory.oom.group', () => {
    const m = memoryFromV2({
      events: fixture('v2-systemd-docker.memory.events'),
      peak: fixture('v2-systemd-docker.memory.peak'),
      pressure: fixture('psi-kernel-6.18.memory.pressure'),
      oomGroup: fixture('v2-kubelet-1.28.memory.oom.group'),
    });
    expect(m.peak).toBe(1613844736);
    expect(m.pressure).toEqual({ some: 0.049637, full: 0.001971 });
    expect(m.oomGroup).toBe(true);
    expect(memoryFromV2({ oomGroup: '0\n' }).oomGroup).toBe(false);
    expect(memoryFromV2({ oomGroup: '2\n' }).oomGroup).toBeUndefined();
  });

  it('a malformed, truncated or empty memory.pressure gives no pressure, never 0', () => {
    expect(parsePressure('')).toBeUndefined();
    expect(parsePressure(fixture('garbage.txt'))).toBeUndefined();
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=49637\nfull avg10=0.00 avg60=0.00 avg3')).toEqual({ some: 0.049637 });
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=-5\n')).toBeUndefined();
    expect(parsePressure(undefined)).toBeUndefined();
  });

  it('the pod cgroup counter', () => {
    expect(podOomKills(2, fixture('v2-systemd-docker.memory.events'))).toBe(4);
    expect(podOomKills(1, fixture('v1-docker-limited-after-oom.memory.oom_control'))).toBe(1);
    expect(podOomKills(1, fixture('v1-kernel-4.9.memory.oom_control'))).toBeUndefined();
    expect(podOomKills(2, undefined)).toBeUndefined();
  });

  it('memory.max "max" is unlimited', () => {
    expect(parseMemoryLimit(fixture('v2-unlimited.memory.max'))).toEqual({ limited: false });
    expect(memoryFromV2({ limit: fixture('v2-unlimited.memory.max') }).limit).toEqual({ limited: false });
  });

  it('memory.events without oom_group_kill (older kernels) still reads', () => {
    const m = memoryFromV2({ events: fixture('v2-kernel-5.10.memory.events') });
    expect(m.oomKills).toBe(0);
    expect(m.oomEvents).toBe(0);
  });
});

describe('empty, truncated and garbage files skip values, never crash or guess', () => {
  it('empty files', () => {
    const e = fixture('empty.txt');
    expect(memoryFromV1({ usage: e, limit: e, stat: e, events: e })).toEqual({});
    expect(memoryFromV2({ usage: e, limit: e, stat: e, events: e })).toEqual({});
    expect(parseMemoryLimit(e)).toBeUndefined();
  });

  it('missing files (undefined) give an empty record', () => {
    expect(memoryFromV1({})).toEqual({});
    expect(memoryFromV2({})).toEqual({});
  });

  it('a truncated memory.stat keeps its complete lines and drops the cut one', () => {
    const m = parseFlatKeyed(fixture('v2-truncated.memory.stat'));
    expect(m.get('anon')).toBe(2157);
    expect(m.get('kernel')).toBe(1043);
    expect(m.has('kernel_sta')).toBe(false);
    expect(m.has('kernel_stack')).toBe(false);
  });

  it('a truncated memory.events misses oom_kill: undefined, not 0', () => {
    const m = memoryFromV2({ events: fixture('v2-truncated.memory.events') });
    expect(m.oomKills).toBeUndefined();
    expect(m.oomEvents).toBeUndefined();
  });

  it('a single value cut before its newline is not read as a smaller number', () => {
    expect(parseSingleValue(fixture('v1-truncated.memory.usage_in_bytes'))).toBeUndefined();
    expect(parseMemoryLimit('6442\n')).toEqual({ limited: true, bytes: 6442 });
    expect(parseMemoryLimit('6442')).toBeUndefined();
    expect(parseMemoryLimit('ma')).toBeUndefined();
  });

  it('parsing only some keys gives what the full parse gives for those keys (recorded files and 5,000 random texts)', () => {
    const wanted = new Set(['anon', 'file', 'inactive_file', 'oom_kill']);
    const only = (m: Map<string, number>): Map<string, number> => new Map([...m].filter(([k]) => wanted.has(k)));
    for (const f of ['v2-systemd-docker.memory.stat', 'v2-truncated.memory.stat', 'garbage.txt']) expect(parseFlatKeyed(fixture(f), wanted)).toEqual(only(parseFlatKeyed(fixture(f))));
    expect(parseFlatKeyed(fixture('v2-systemd-docker.memory.stat'), wanted).get('anon')).toBeGreaterThan(0);
    const line = fc.oneof(
      fc.constantFrom('anon 1', 'file 22', ' anon 3', 'anon  4', 'anon\t5', 'inactive_file 6 ', 'anonx 7', 'file -8', 'oom_kill 9\r', 'anon 99999999999999999999', 'fil 1', ''),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), (lines, cut) => {
        const text = lines.join('\n') + (cut ? '' : '\n');
        expect(parseFlatKeyed(text, wanted)).toEqual(only(parseFlatKeyed(text)));
      }),
      { numRuns: 5000 },
    );
  });

  it('garbage lines are skipped; no NaN, negative or exponent values', () => {
    const g = fixture('garbage.txt');
    expect(parseFlatKeyed(g).size).toBe(0);
    const m = memoryFromV1({ usage: g, limit: g, stat: g, events: g });
    expect(m).toEqual({});
    expect(parseSingleValue('-5\n')).toBeUndefined();
    expect(parseSingleValue('1e9\n')).toBeUndefined();
    expect(parseSingleValue('12\n34\n')).toBeUndefined();
  });
});

describe('container cgroup paths from /proc/<pid>/cgroup (shared identity fixtures)', () => {
  const cases: Array<[file: string, runtime: string, pod: boolean, memoryVersion: 1 | 2]> = [
    ['proc-cgroup-docker-cgroupfs-v1-hybrid.txt', 'docker', false, 1],
    ['proc-cgroup-docker-systemd-v2.txt', 'docker', false, 2],
    ['proc-cgroup-k8s-burstable-containerd-systemd-v2.txt', 'containerd', true, 2],
    ['proc-cgroup-k8s-besteffort-cgroupfs-v1.txt', 'cri', true, 1],
    ['proc-cgroup-podman-rootful-v2.txt', 'podman', false, 2],
  ];
  for (const [file, runtime, pod, version] of cases) {
    it(`${file}: the memory cgroup path names a ${runtime} container`, () => {
      const mem = memoryCgroupOf(parseProcCgroup(identityFixture(file)));
      expect(mem?.version).toBe(version);
      // the collector walks the memory hierarchy and recognises exactly these paths
      const ref = containerFromCgroupPath(mem?.path ?? '');
      expect(ref?.runtime).toBe(runtime);
      expect(ref?.id).toBe(containerOf(identityFixture(file))?.id);
      expect(ref?.podUid !== undefined).toBe(pod);
    });
  }
  it('host processes and garbage are no container', () => {
    for (const f of ['proc-cgroup-host-process-v1-hybrid.txt', 'proc-cgroup-garbage.txt', 'proc-cgroup-empty.txt']) {
      const mem = memoryCgroupOf(parseProcCgroup(identityFixture(f)));
      expect(mem === undefined || containerFromCgroupPath(mem.path) === undefined).toBe(true);
    }
  });
});

describe('Docker API fields', () => {
  it('inspect of a running container after an OOM kill inside it: OOMKilled false, 0 restarts (recorded)', () => {
    const [body] = JSON.parse(fixture('docker-inspect-running-after-oom.json')) as unknown[];
    const f = inspectFacts(body);
    expect(f?.restartCount).toBe(0);
    expect(f?.oomKilled).toBe(false);
    const started = (body as { State: { StartedAt: string } }).State.StartedAt;
    expect(f?.startedAt).toBeCloseTo(Date.parse(started) / 1000, 0);
  });

  it('an exited and a never-started container (recorded)', () => {
    const [exited] = JSON.parse(fixture('docker-inspect-exited.json')) as unknown[];
    expect(inspectFacts(exited)?.startedAt).toBeGreaterThan(1.7e9);
    const [created] = JSON.parse(fixture('docker-inspect-created.json')) as unknown[];
    const f = inspectFacts(created);
    expect(f).toBeDefined();
    expect(f?.startedAt).toBeUndefined(); // 0001-01-01T00:00:00Z
  });

  it('malformed inspect bodies are rejected', () => {
    expect(inspectFacts(null)).toBeUndefined();
    expect(inspectFacts('x')).toBeUndefined();
    expect(inspectFacts({ RestartCount: 1 })).toBeUndefined();
    expect(inspectFacts({ RestartCount: -1, State: { OOMKilled: false } })).toBeUndefined();
    expect(inspectFacts({ RestartCount: 2, State: { OOMKilled: 'no' } })).toBeUndefined();
    expect(inspectFacts({ RestartCount: 2, State: { OOMKilled: true, StartedAt: 'yesterday', Health: { Status: 'unhealthy' } } })).toEqual({
      restartCount: 2,
      oomKilled: true,
      health: 'unhealthy',
    });
  });

  it('timestamps with nanoseconds, offsets and the zero time', () => {
    expect(parseDockerTime('2026-11-23T20:49:43.123456789Z')).toBeCloseTo(1795466983.123457, 5);
    expect(parseDockerTime('2026-11-23T21:49:43+01:00')).toBe(1795466983);
    expect(parseDockerTime('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(parseDockerTime('')).toBeUndefined();
    expect(parseDockerTime('garbage')).toBeUndefined();
  });

  it('health from the list Status, inspect health preferred', () => {
    expect(healthStatus('Up 5 minutes (unhealthy)')).toBe('unhealthy');
    expect(healthStatus('Up 5 minutes (healthy)')).toBe('healthy');
    expect(healthStatus('Up 2 seconds (health: starting)')).toBe('starting');
    expect(healthStatus('Up 5 minutes')).toBe('none');
    expect(healthStatus('Exited (137) 2 minutes ago')).toBe('none');
    expect(healthStatus('Up 5 minutes (healthy)', 'unhealthy')).toBe('unhealthy');
  });

  it('states', () => {
    for (const s of CONTAINER_STATES) expect(containerState(s)).toBe(s);
    expect(containerState('Running')).toBe('running');
    expect(containerState('zombie')).toBeUndefined();
  });
});

describe('Docker Status: what changes, and how long a container can have been up', () => {
  it('drops the relative time only', () => {
    expect(statusWithoutTime('Up 5 minutes (healthy)')).toBe('Up (healthy)');
    expect(statusWithoutTime('Up Less than a second')).toBe('Up');
    expect(statusWithoutTime('Up About an hour (Paused)')).toBe('Up (Paused)');
    expect(statusWithoutTime('Up 3 days (health: starting)')).toBe('Up (health: starting)');
    expect(statusWithoutTime('Exited (137) 3 minutes ago')).toBe('Exited (137)');
    expect(statusWithoutTime('Restarting (1) 2 seconds ago')).toBe('Restarting (1)');
    expect(statusWithoutTime('Created')).toBe('Created');
    expect(statusWithoutTime('Removal In Progress')).toBe('Removal In Progress');
  });

  it('upper bound of the uptime behind a rounded human duration', () => {
    expect(maxUptimeSeconds('Up Less than a second')).toBe(1);
    expect(maxUptimeSeconds('Up 1 second')).toBe(2);
    expect(maxUptimeSeconds('Up 59 seconds (healthy)')).toBe(60);
    expect(maxUptimeSeconds('Up About a minute')).toBe(120);
    expect(maxUptimeSeconds('Up 5 minutes')).toBe(360);
    expect(maxUptimeSeconds('Up About an hour')).toBe(7200);
    expect(maxUptimeSeconds('Up 3 hours (unhealthy)')).toBe(4 * 3600);
    expect(maxUptimeSeconds('Up 2 weeks')).toBe(3 * 7 * 86400);
    expect(maxUptimeSeconds('Exited (0) 5 minutes ago')).toBeUndefined();
    expect(maxUptimeSeconds('Up')).toBeUndefined();
    expect(maxUptimeSeconds('')).toBeUndefined();
  });
});
