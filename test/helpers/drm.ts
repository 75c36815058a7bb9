/**
 * A fake procfs/sysfs tree for the drm collector (moved here from test/collectors/drm/drm.test.ts so the incident
 * lab can give the DRM panels data): fd symlinks to /dev/dri nodes that need not exist, fdinfo files in the
 * kernel's format, PCI devices with vendor and driver.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function fdinfo(driver: string, pdev: string, client: number, mem: Record<string, string>, engines: Record<string, number>): string {
  const lines = ['pos:\t0', 'flags:\t02100002', 'mnt_id:\t26', 'ino:\t284', `drm-driver:\t${driver}`, `drm-client-id:\t${client}`, `drm-pdev:\t${pdev}`];
  for (const [k, v] of Object.entries(mem)) lines.push(`${k}:\t${v}`);
  for (const [e, ns] of Object.entries(engines)) lines.push(`drm-engine-${e}:\t${ns} ns`);
  return lines.join('\n') + '\n';
}

export class FakeHost {
  readonly proc: string;
  readonly sys: string;
  constructor(readonly root: string) {
    this.proc = join(root, 'proc');
    this.sys = join(root, 'sys');
    mkdirSync(this.proc);
    mkdirSync(this.sys);
    mkdirSync(join(this.proc, 'self'));
    writeFileSync(join(this.proc, 'vmstat'), 'oom_kill 0\n');
  }
  process(pid: number, comm: string, cgroup = '0::/user.slice\n'): void {
    const d = join(this.proc, String(pid));
    mkdirSync(join(d, 'fd'), { recursive: true });
    mkdirSync(join(d, 'fdinfo'), { recursive: true });
    writeFileSync(join(d, 'comm'), `${comm}\n`);
    writeFileSync(join(d, 'cgroup'), cgroup);
  }
  fd(pid: number, fd: number, target: string, info?: string): void {
    symlinkSync(target, join(this.proc, String(pid), 'fd', String(fd)));
    if (info !== undefined) writeFileSync(join(this.proc, String(pid), 'fdinfo', String(fd)), info);
  }
  closeFd(pid: number, fd: number): void {
    rmSync(join(this.proc, String(pid), 'fd', String(fd)));
    rmSync(join(this.proc, String(pid), 'fdinfo', String(fd)));
  }
  card(n: number, pdev: string, vendor: string, driver: string): void {
    const dev = join(this.sys, 'bus', 'pci', 'devices', pdev);
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'vendor'), `${vendor}\n`);
    symlinkSync(`../../../bus/pci/drivers/${driver}`, join(dev, 'driver'));
    mkdirSync(join(this.sys, 'class', 'drm', `card${n}`), { recursive: true });
    symlinkSync(`../../../bus/pci/devices/${pdev}`, join(this.sys, 'class', 'drm', `card${n}`, 'device'));
  }
}

