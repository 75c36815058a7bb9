/** Where the host's /proc, /sys and root file system are mounted inside the exporter's view (`--path.*`). */
export interface HostPaths {
  readonly procfs: string;
  readonly sysfs: string;
  readonly rootfs: string;
}
