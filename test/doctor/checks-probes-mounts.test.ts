/**
 * The doctor's probe and mount checks as pure functions: a failing balancer is as critical as every backend
 * down, one backend a warning; a symlinked mount path shows where it leads, whether it works or not.
 */
import { describe, expect, it } from 'vitest';
import { info, present, responsive } from '../../src/collectors/mounts/metrics.js';
import { statusCode, success } from '../../src/collectors/probes/metrics.js';
import { diagnose, exitCodeFor, type DoctorInput } from '../../src/doctor/findings.js';
import type { MetricDef, Sample } from '../../src/metrics.js';

const s = (def: MetricDef, labels: Record<string, string>, value: number): Sample => ({ def, labels, value });
const input = (samples: Sample[]): DoctorInput => ({ samples, containers: undefined, mounts: [], hostPidNamespace: true, collectors: [] });
const probe = (target: string, role: string, ok: number, code: number): Sample[] => [
  s(success, { group: 'immich-ml', target, role }, ok),
  s(statusCode, { group: 'immich-ml', target, role }, code),
];

describe('doctor: ML backends by role', () => {
  it('the balancer down while both backends answer: critical, pointing at MlBalancerDown', () => {
    const r = diagnose(input([...probe('lb:80', 'balancer', 0, 0), ...probe('ml1:3003', 'backend', 1, 200), ...probe('ml2:3003', 'backend', 1, 200)]));
    const f = r.findings.filter((x) => x.check === 'ml-backend');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'critical', runbook: 'docs/runbooks/MlBalancerDown.md' });
    expect(f[0]?.evidence[0]).toBe('no answer (no status line arrived)');
    expect(exitCodeFor(r)).toBe(2);
  });
  it('one backend down behind an answering balancer: a warning with the status that arrived', () => {
    const r = diagnose(input([...probe('lb:80', 'balancer', 1, 200), ...probe('ml1:3003', 'backend', 0, 200), ...probe('ml2:3003', 'backend', 1, 200)]));
    const f = r.findings.filter((x) => x.check === 'ml-backend');
    expect(f.map((x) => [x.severity, x.runbook])).toEqual([['warning', 'docs/runbooks/MlBackendDown.md']]);
    expect(f[0]?.evidence[0]).toBe('status 200 arrived');
    expect(exitCodeFor(r)).toBe(1);
  });
  it('everything down: critical, all-down', () => {
    const r = diagnose(input([...probe('lb:80', 'balancer', 0, 502), ...probe('ml1:3003', 'backend', 0, 0)]));
    expect(new Set(r.findings.map((x) => `${x.severity} ${x.runbook}`))).toEqual(new Set(['critical docs/runbooks/MlBackendsAllDown.md']));
  });
});

describe('doctor: mount paths through symlinks', () => {
  it('a working symlinked path: an info line naming the real mount point, nothing above info', () => {
    const r = diagnose(input([s(present, { path: '/srv/photos' }, 1), s(responsive, { path: '/srv/photos' }, 1), s(info, { path: '/srv/photos', mount_point: '/mnt/nas', fstype: 'nfs4', mode: 'soft' }, 1)]));
    expect(r.findings.map((x) => [x.check, x.severity, x.evidence[0]])).toEqual([['mount-resolution', 'info', '/srv/photos is a symlink to /mnt/nas: that is the mount point checked']]);
    expect(exitCodeFor(r)).toBe(0);
  });
  it('a symlink to a directory that is not a mount point: missing, with the real path in the evidence', () => {
    const r = diagnose(input([s(present, { path: '/srv/photos' }, 0), s(info, { path: '/srv/photos', mount_point: '/mnt/nas', fstype: '', mode: '' }, 1)]));
    const f = r.findings.find((x) => x.check === 'mount-missing');
    expect(f?.evidence).toEqual(['/srv/photos is a symlink to /mnt/nas: that is the mount point checked', 'nothing (of an expected type) is mounted at /mnt/nas (df -h does not list it)']);
  });
  it('a path that does not resolve: missing, saying so', () => {
    const r = diagnose(input([s(present, { path: '/srv/gone' }, 0)]));
    expect(r.findings.find((x) => x.check === 'mount-missing')?.evidence).toEqual(['the path does not exist or could not be resolved']);
  });
});
