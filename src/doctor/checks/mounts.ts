/** doctor checks about mounts. */
import { info, present, responsive } from '../../collectors/mounts/metrics.js';
import { nfsMode } from '../../collectors/mounts/parse-mountinfo.js';
import { type Check, RUNBOOK, values } from '../check-helpers.js';

/** NFS/CIFS media mounted hard freezes every reader when the NAS reboots. */
export const networkMounts: Check = (input, out) => {
  /** Where a watched path leads after symlinks, as the collector saw it ("" when it could not resolve it). */
  const realOf = (path: string | undefined): string => values(input.samples, info).find((v) => v.labels.path === path)?.labels.mount_point ?? '';
  const resolution = (path: string | undefined): string[] => {
    const real = realOf(path);
    return real !== '' && real !== path ? [`${path} is a symlink to ${real}: that is the mount point checked`] : [];
  };
  if (!input.mounts) return out.skip('mount table not readable');
  for (const m of input.mounts) {
    if (nfsMode(m) === 'hard') {
      out.add({
        check: 'nfs-hard-mount',
        severity: 'warning',
        title: `${m.mountPoint} (${m.source}) is an NFS mount without 'soft'`,
        evidence: [`fstype ${m.fstype}`, `options ${m.superOptions.join(',')}`, 'a hard mount blocks every reader forever while the server is away'],
        fix: `In /etc/fstab use: ${m.source} ${m.mountPoint} ${m.fstype} _netdev,soft,timeo=150,retrans=3,nofail 0 0`,
        runbook: `${RUNBOOK}MountUnresponsive.md`,
      });
    }
  }
  // A symlinked path that works: say which mount point stands behind it, so nobody wonders what was checked.
  for (const p of values(input.samples, present).filter((v) => v.value === 1)) {
    const [line] = resolution(p.labels.path);
    if (line === undefined) continue;
    out.add({ check: 'mount-resolution', severity: 'info', title: `watched path ${p.labels.path} resolves to a mount point`, evidence: [line], fix: 'nothing to do' });
  }
  for (const p of values(input.samples, present).filter((v) => v.value === 0)) {
    const real = realOf(p.labels.path);
    out.add({
      check: 'mount-missing',
      severity: 'critical',
      title: `watched mount ${p.labels.path} is not mounted`,
      evidence: [
        ...resolution(p.labels.path),
        real === '' ? 'the path does not exist or could not be resolved' : `nothing (of an expected type) is mounted at ${real} (df -h does not list it)`,
      ],
      fix: 'mount -a (check the NAS and /etc/fstab); with nofail the host boots without it, silently.',
      runbook: `${RUNBOOK}MountMissing.md`,
    });
  }
  for (const p of values(input.samples, responsive).filter((v) => v.value === 0)) {
    out.add({
      check: 'mount-unresponsive',
      severity: 'critical',
      title: `watched mount ${p.labels.path} does not answer`,
      evidence: [...resolution(p.labels.path), 'stat/readdir did not return within the probe time-out'],
      fix: 'Check the NAS; remount soft (see above) so readers get an error instead of hanging.',
      runbook: `${RUNBOOK}MountUnresponsive.md`,
    });
  }
};
