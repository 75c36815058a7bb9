/** doctor checks about mounts. */
import { nfsMode } from '../../collectors/mounts/parse-mountinfo.js';
import { type Check, RUNBOOK, values } from '../check-helpers.js';

/** Seed 001: NFS/CIFS media mounted hard freezes every reader when the NAS reboots. */
export const networkMounts: Check = (input, out) => {
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
  for (const p of values(input.samples, 'silentwatch_mount_present').filter((v) => v.value === 0)) {
    out.add({
      check: 'mount-missing',
      severity: 'critical',
      title: `watched mount ${p.labels.path} is not mounted`,
      evidence: ['not in the mount table (df -h does not list it)'],
      fix: 'mount -a (check the NAS and /etc/fstab); with nofail the host boots without it, silently.',
      runbook: `${RUNBOOK}MountMissing.md`,
    });
  }
  for (const p of values(input.samples, 'silentwatch_mount_responsive').filter((v) => v.value === 0)) {
    out.add({
      check: 'mount-unresponsive',
      severity: 'critical',
      title: `watched mount ${p.labels.path} does not answer`,
      evidence: ['stat/readdir did not return within the probe time-out'],
      fix: 'Check the NAS; remount soft (see above) so readers get an error instead of hanging.',
      runbook: `${RUNBOOK}MountUnresponsive.md`,
    });
  }
};
